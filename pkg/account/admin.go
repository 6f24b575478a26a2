package account

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
)

// This file: the Admin v2 use cases (create, update, refresh, delete, list, the first
// admin); adminauth.go authenticates the acting admin.

// CreateUser creates an account with a password and/or a chosen API token (at least one).
func (s *Service) CreateUser(ctx context.Context, username string, password, token *string) (*Account, error) {
	if password == nil && token == nil {
		return nil, Invalid(FieldPassword, ReasonEmpty)
	}
	// Given means given: an explicit "" is an empty secret, not an absent one.
	if password != nil && *password == "" {
		if _, err := ParseUsername(username); err != nil {
			return nil, err
		}
		return nil, Invalid(FieldPassword, ReasonEmpty)
	}
	if token != nil && *token == "" {
		if _, err := ParseUsername(username); err != nil {
			return nil, err
		}
		return nil, Invalid(FieldToken, ReasonEmpty)
	}
	if token != nil {
		if _, err := s.TokenIndex(*token); err != nil {
			return nil, err // a token the admin API sets must be findable by Bearer
		}
	}
	c, err := s.Register(ctx, NewAccount{Username: username, Password: deref(password), Token: deref(token)})
	if err != nil {
		return nil, err
	}
	return c.Account, nil
}

// UpdateCredentials sets a new password and/or chosen API token (at least one) and ends
// the account's sessions.
func (s *Service) UpdateCredentials(ctx context.Context, username string, password, token *string) (*Account, error) {
	if err := validateSecrets(password, token); err != nil {
		return nil, err
	}
	a, err := s.AccountByUsername(ctx, username)
	return s.UpdateCredentialsOf(ctx, &AdminRequest{Target: a, TargetErr: err}, password, token)
}

// UpdateCredentialsOf is UpdateCredentials of the account the admin call names, already
// read: the write is the only round trip.
func (s *Service) UpdateCredentialsOf(ctx context.Context, r *AdminRequest, password, token *string) (*Account, error) {
	if err := validateSecrets(password, token); err != nil {
		return nil, err
	}
	named, err := r.Named()
	if err != nil {
		return nil, err
	}
	a := *named
	c := CredentialChange{UserID: a.UserID, ResetHash: a.ResetHash, Now: s.now()}
	if password != nil {
		h, err := s.Hasher.Hash(*password)
		if err != nil {
			return nil, Internal("hash password: %w", err)
		}
		c.PasswordHash, a.PasswordHash = &h, h
	}
	if token != nil {
		h, err := s.Hasher.Hash(*token)
		if err != nil {
			return nil, Internal("hash token: %w", err)
		}
		idx, err := s.TokenIndex(*token)
		if err != nil {
			return nil, err
		}
		c.TokenHash, a.TokenHash = &h, h
		c.TokenIndex, a.TokenIndex = &idx, idx
	}
	var evs []Event
	if password != nil {
		evs = append(evs, s.passwordChanged(ctx, named, r.actor(ctx), "admin"))
	}
	if token != nil {
		evs = append(evs, s.event(ctx, EventTokenSet, named, r.actor(ctx), OutcomeSuccess))
	}
	if err := s.Store.ChangeCredentialsFrom(s.carry(ctx, evs...), named, c); err != nil {
		return nil, err
	}
	s.observe(ctx, evs...)
	a.CredVersion++
	a.UpdatedAt = c.Now
	return &a, nil
}

// validateSecrets checks the secrets of UpdateCredentials: at least one, each valid.
func validateSecrets(password, token *string) error {
	if password == nil && token == nil {
		return Invalid(FieldPassword, ReasonEmpty)
	}
	if password != nil {
		if err := ValidatePassword(*password); err != nil {
			return err
		}
	}
	if token != nil {
		if err := ValidateToken(*token); err != nil {
			return err
		}
	}
	return nil
}

// RefreshToken replaces the account's API token with a generated one (43 characters of
// base64url) and returns it: the only time it is shown. The account's sessions end.
func (s *Service) RefreshToken(ctx context.Context, username string) (string, error) {
	a, err := s.AccountByUsername(ctx, username)
	return s.RefreshTokenOf(ctx, &AdminRequest{Target: a, TargetErr: err})
}

// RefreshTokenOf is RefreshToken of the account the admin call names, already read.
func (s *Service) RefreshTokenOf(ctx context.Context, r *AdminRequest) (string, error) {
	a, err := r.Named()
	if err != nil {
		return "", err
	}
	token, err := NewAPIToken(s.Rand)
	if err != nil {
		return "", Internal("api token: %w", err)
	}
	h := tokenSHA256 + HashSecret(token)
	idx, err := s.TokenIndex(token)
	if err != nil {
		return "", err
	}
	ev := s.event(ctx, EventTokenRefreshed, a, r.actor(ctx), OutcomeSuccess)
	if err := s.Store.ChangeCredentialsFrom(s.carry(ctx, ev), a, CredentialChange{UserID: a.UserID, TokenHash: &h, TokenIndex: &idx, Now: s.now()}); err != nil {
		return "", err
	}
	s.observe(ctx, ev)
	return token, nil
}

// DeleteUser deletes an account with everything that belongs to it. An admin cannot
// delete itself (ErrCannotDeleteSelf), and the store refuses to delete the last admin
// (ErrLastAdmin), which decides when two admins delete each other at once.
func (s *Service) DeleteUser(ctx context.Context, actor *Account, username string) error {
	a, err := s.AccountByUsername(ctx, username)
	return s.DeleteUserOf(ctx, &AdminRequest{Actor: actor, Target: a, TargetErr: err})
}

// DeleteUserOf is DeleteUser of the account the admin call names: already read, or known
// by its user id only (AdminTarget.IDOnly), when the store reads it with the sessions and
// events it deletes.
func (s *Service) DeleteUserOf(ctx context.Context, r *AdminRequest) error {
	a, err := r.Named()
	if errors.Is(err, ErrNotFound) && r.targetID != 0 {
		a, err = &Account{UserID: r.targetID, UsernameKey: r.targetKey}, nil
	}
	if err != nil {
		return err
	}
	if r.Actor != nil && r.Actor.UserID == a.UserID {
		return ErrCannotDeleteSelf
	}
	// The account's own events go with it; the deletion stays on record under the acting
	// admin's account (without one, the CLI, it is only observed).
	ev := s.event(ctx, EventAccountDeleted, a, r.actor(ctx), OutcomeSuccess)
	wctx := ctx
	if r.Actor != nil {
		recs := s.records(ev)
		recs[0].Under = r.Actor.UserID
		wctx = WithAudit(ctx, recs...)
	}
	if r.Target == nil {
		// Only the id is known: the store reads the account and names the event's account.
		got, err := s.Store.DeleteAccountNamed(wctx, a.UserID, a.UsernameKey)
		if err != nil {
			return err
		}
		ev.Username = got.Username
	} else if err := s.Store.DeleteAccount(wctx, a); err != nil {
		return err
	}
	s.observe(ctx, ev)
	return nil
}

// WithAuditNamed is ctx with the audit records it carries about a (by user id) that lack a
// username given a's: for a store that reads the account in the write that deletes it
// (Store.DeleteAccountNamed).
func WithAuditNamed(ctx context.Context, a *Account) context.Context {
	recs := AuditRecords(ctx, 0)
	for i := range recs {
		if recs[i].Event.UserID == a.UserID && recs[i].Event.Username == "" {
			recs[i].Event.Username = a.Username
		}
	}
	return WithAudit(ctx, recs...)
}

// Limits of ListUsers.
const (
	ListDefault = 1000
	ListMax     = 1000
)

// ListUsers returns display usernames sorted by canonical username, at most limit
// (1..ListMax; 0 means ListDefault), continuing after cursor ("" = from the start). next
// is the cursor of the following page, "" at the end. A cursor is opaque to clients.
func (s *Service) ListUsers(ctx context.Context, cursor string, limit int) (names []string, next string, err error) {
	if limit == 0 {
		limit = ListDefault
	}
	if limit < 1 || limit > ListMax {
		return nil, "", Invalid("limit", ReasonFormat)
	}
	after := ""
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || len(b) == 0 {
			return nil, "", Invalid("cursor", ReasonFormat)
		}
		after = string(b)
	}
	names, last, err := s.Store.ListUsernames(ctx, after, limit)
	if err != nil {
		return nil, "", err
	}
	if last != "" {
		next = base64.RawURLEncoding.EncodeToString([]byte(last))
	}
	return names, next, nil
}

// EnsureAdmin creates an admin account with this password, or sets a new password for an
// existing admin (ending its sessions). It serves the bootstrap command of a deployed
// stack. An existing account that is not an admin is ErrUsernameTaken: whoever registered
// it may still control it (its email, user_secret, API token, pending codes), so making
// it an admin is an explicit choice, PromoteAdmin.
//
// A username with a colon is refused: Basic credentials cannot carry one in the user-id
// (RFC 7617), so such an admin could never use the admin API.
func (s *Service) EnsureAdmin(ctx context.Context, username, password string) (a *Account, created bool, err error) {
	return s.ensureAdmin(ctx, username, password, false)
}

// PromoteAdmin is EnsureAdmin that also makes an existing account an admin. Promotion
// takes the account away from whoever held it: in the same write as the role and the new
// password, it removes the account's email (freeing the address), user_secret and API
// token, deletes its pending OTP and reset token, and ends its sessions.
func (s *Service) PromoteAdmin(ctx context.Context, username, password string) (a *Account, created bool, err error) {
	return s.ensureAdmin(ctx, username, password, true)
}

func (s *Service) ensureAdmin(ctx context.Context, username, password string, promote bool) (a *Account, created bool, err error) {
	if _, err := ParseUsername(username); err != nil {
		return nil, false, err
	}
	if strings.ContainsRune(username, ':') {
		return nil, false, Invalid(FieldUsername, ReasonFormat)
	}
	if err := ValidatePassword(password); err != nil {
		return nil, false, err
	}
	c, err := s.Register(withActor(ctx, actorOr(ctx, ActorCLI), ""), NewAccount{Username: username, Password: password, Role: RoleAdmin})
	if err == nil {
		return c.Account, true, nil
	}
	if !errors.Is(err, ErrUsernameTaken) {
		return nil, false, err
	}
	if a, err = s.AccountByUsername(ctx, username); err != nil {
		return nil, false, err
	}
	if a.Role != RoleAdmin && !promote {
		return nil, false, ErrUsernameTaken
	}
	hash, err := s.Hasher.Hash(password)
	if err != nil {
		return nil, false, Internal("hash password: %w", err)
	}
	change := CredentialChange{UserID: a.UserID, PasswordHash: &hash, ResetHash: a.ResetHash, Now: s.now()}
	if a.Role != RoleAdmin {
		role, none := RoleAdmin, ""
		change.Role, change.TokenHash, change.SecretHash, change.ReleaseEmail = &role, &none, &none, a.EmailKey
	}
	evs := []Event{s.passwordChanged(ctx, a, actorOr(ctx, ActorCLI), "admin")}
	if change.Role != nil {
		ev := s.event(ctx, EventRoleChanged, a, actorOr(ctx, ActorCLI), OutcomeSuccess)
		ev.Method = string(RoleAdmin)
		evs = append(evs, ev)
	}
	if err := s.Store.ChangeCredentials(s.carry(ctx, evs...), change); err != nil {
		return nil, false, err
	}
	s.observe(ctx, evs...)
	a.PasswordHash, a.Role, a.SecretHash, a.ResetHash = hash, RoleAdmin, "", ""
	if change.Role != nil {
		a.TokenHash, a.Email, a.EmailKey = "", "", ""
	}
	a.CredVersion++
	return a, false, nil
}
