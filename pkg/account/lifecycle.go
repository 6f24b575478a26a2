package account

import (
	"context"
	"errors"
	"time"
)

// Account lifecycle by its own session (API.md, "Account lifecycle"): a profile update and
// self-service deletion.

// CodeUsernameFixed: a profile update naming another username (usernames never change).
const CodeUsernameFixed Code = "username_fixed"

// ErrUsernameFixed is the error of CodeUsernameFixed.
var ErrUsernameFixed = &Error{Code: CodeUsernameFixed}

// ProfileChange is a change of an account's public profile fields (Store.UpdateProfile).
// In Profile a nil field is left alone and "" removes it.
type ProfileChange struct {
	UserID  int64
	Profile Profile
	// CredVersion is the account's credential version as the session check read it: the
	// change applies only while it is still current, so a session that a password change
	// ended meanwhile cannot write.
	CredVersion int64
	Now         time.Time
	// Base is the account as the session check read it. A write that carries audit
	// records (WithAudit) is a transaction, which returns no item: the store then answers
	// Base with the change applied (Apply), and needs it.
	Base *Account
}

// Apply returns a copy of a with the change's fields written, as the store writes them.
func (c ProfileChange) Apply(a *Account) *Account {
	out := *a
	for _, f := range []struct {
		dst *string
		v   *string
	}{{&out.Name, c.Profile.Name}, {&out.Bio, c.Profile.Bio}, {&out.Website, c.Profile.Website}, {&out.Pronounce, c.Profile.Pronounce}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	out.UpdatedAt = c.Now
	return &out
}

// Empty reports whether c changes no field.
func (c ProfileChange) Empty() bool {
	p := c.Profile
	return p.Name == nil && p.Bio == nil && p.Website == nil && p.Pronounce == nil
}

// ProfileUpdate is the input of UpdateOwnProfile. Username, when given, must name the
// account itself (any spelling of it): a client may send back the profile document it
// read, but a username cannot be changed (ErrUsernameFixed).
type ProfileUpdate struct {
	Profile  Profile
	Username *string
}

// validate checks the fields in the documented order (name, bio, website, pronounce);
// "" clears a field and is not validated.
func (u ProfileUpdate) validate() error {
	nonEmpty := func(p *string) *string {
		if p == nil || *p == "" {
			return nil
		}
		return p
	}
	p := u.Profile
	return Profile{Name: nonEmpty(p.Name), Bio: nonEmpty(p.Bio), Website: nonEmpty(p.Website), Pronounce: nonEmpty(p.Pronounce)}.Validate()
}

// UpdateOwnProfile changes the profile of the session's account and returns the account
// as stored after the change. Round trips: the session check and one conditional update
// (none when nothing changes). Only the given fields are written, so concurrent updates
// of different fields both stay.
func (s *Service) UpdateOwnProfile(ctx context.Context, token string, u ProfileUpdate) (*Account, error) {
	// Fields first, as at registration: bad input costs no round trip.
	if err := u.validate(); err != nil {
		return nil, err
	}
	a, _, err := s.Authorize(ctx, token)
	if err != nil {
		return nil, err
	}
	if u.Username != nil {
		if n, err := ParseUsername(*u.Username); err != nil || n.Key != a.UsernameKey {
			return nil, ErrUsernameFixed
		}
	}
	c := ProfileChange{UserID: a.UserID, Profile: u.Profile, CredVersion: a.CredVersion, Now: s.now(), Base: a}
	if c.Empty() {
		return a, nil
	}
	ev := s.event(ctx, EventProfileUpdated, a, ActorSelf, OutcomeSuccess)
	updated, err := s.Store.UpdateProfile(s.carry(ctx, ev), c)
	if errors.Is(err, ErrNotFound) { // deleted, or its sessions ended, since the check
		return nil, ErrNotAuthenticated
	}
	if err != nil {
		return nil, err
	}
	s.observe(ctx, ev)
	return updated, nil
}

// DeleteOwnAccount deletes the session's account with everything that belongs to it, as
// the admin delete does, after checking its password under the failed-login policy (a
// wrong one counts toward the account's lock, as a login's). Its sessions end at once:
// a session check needs the account. The last admin cannot delete itself
// (ErrLastAdmin, decided by the store's admin count).
//
// The per-source limit is not applied: the caller already holds a session of this very
// account, so its guesses can only lock that account.
func (s *Service) DeleteOwnAccount(ctx context.Context, token, password string) error {
	if err := ValidatePassword(password); err != nil {
		return err
	}
	a, _, err := s.Authorize(ctx, token)
	if err != nil {
		return err
	}
	// Should the account vanish before the check, the check is counted as an unknown
	// name's, as a login's would be.
	cur, err := s.checkPassword(ctx, lookup{id: a.UserID, ident: IdentifierHash(a.UsernameKey)}, nil, password)
	if err != nil {
		return err
	}
	err = s.Store.DeleteAccount(ctx, cur)
	switch {
	case errors.Is(err, ErrLastAdmin):
		s.clearFailures(ctx, cur) // the password was right: the account stays, without its failures
	case errors.Is(err, ErrNotFound):
		return ErrNotAuthenticated
	}
	if err != nil {
		return err
	}
	// The account's events go with it and there is no other account to keep this one
	// under (the admin delete keeps it under the admin): observed only, so it reaches the
	// metrics, the bus and the log (events.Unstored), not the table.
	s.observe(WithNotStored(ctx), s.event(ctx, EventAccountDeleted, cur, ActorSelf, OutcomeSuccess))
	return nil
}
