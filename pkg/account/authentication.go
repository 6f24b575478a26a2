package account

import (
	"context"
	"errors"
	"time"
)

// Authentication: password checks under the failed-login policy (service.go), with rehashing of outdated hashes.

// AuthenticateUsername checks a username and password. Unknown accounts and wrong
// passwords are one error and cost one hash verification each. Every check is counted
// against the account before it happens (the failed-login policy above), so racing
// guesses cannot get more checks than the policy allows. The caller clears the count on
// success: StartSession and password changes do.
func (s *Service) AuthenticateUsername(ctx context.Context, username, password string) (*Account, error) {
	u, err := ParseUsername(username)
	return s.authenticateKey(ctx, u.Key, err, password, s.Store.UserIDByUsername, s.Store.UserIDByUsernameFrom)
}

// AuthenticateEmail is AuthenticateUsername by email address.
func (s *Service) AuthenticateEmail(ctx context.Context, email, password string) (*Account, error) {
	e, err := ParseEmail(email)
	return s.authenticateKey(ctx, e.Key, err, password, s.Store.UserIDByEmail, s.Store.UserIDByEmailFrom)
}

// authenticateKey checks password for the account under key (of a name that failed to
// parse when parseErr is set: then no account can match).
func (s *Service) authenticateKey(ctx context.Context, key string, parseErr error, password string,
	plain func(context.Context, string) (int64, error),
	from func(context.Context, string, Source) (int64, int, error),
) (*Account, error) {
	if parseErr != nil {
		return s.unknown(password)
	}
	l, err := s.lookupID(ctx, key, plain, from)
	return s.checkPassword(ctx, l, err, password)
}

// unknown spends a verification's time on an account that does not exist.
func (s *Service) unknown(password string) (*Account, error) {
	s.Hasher.VerifyDummy(password)
	return nil, ErrInvalidCredentials
}

// checkPassword reserves a check on the account, then checks. The reservation returns the
// account as it writes, so a login needs no separate read of the account. An identifier
// without an account is counted and answered the same way (unknownCheck), and every
// failure counts against the source (limits.go).
func (s *Service) checkPassword(ctx context.Context, l lookup, gateErr error, password string) (*Account, error) {
	if l.err != nil && !errors.Is(l.err, ErrNotFound) {
		return nil, l.err
	}
	// No stored password is outside the rule, so such input cannot match; it is refused
	// without counting a check, and huge inputs stay away from the hash.
	if ValidatePassword(password) != nil {
		return s.unknown("")
	}
	if gateErr != nil {
		s.refused(ctx, EventLoginRefused, l, gateErr, "source_limit")
		return nil, gateErr
	}
	if l.err != nil {
		return s.unknownFailed(ctx, EventLoginFailed, l, password)
	}
	a, err := s.reserveAttempt(ctx, l.id)
	if errors.Is(err, ErrNotFound) {
		return s.unknownFailed(ctx, EventLoginFailed, l, password)
	}
	if err != nil {
		s.refused(ctx, EventLoginRefused, l, err, "lockout")
		return nil, err
	}
	if a.PasswordHash == "" {
		s.failed(ctx, a)
		s.sourceFailed(ctx, l.src, l.gated, s.event(ctx, EventLoginFailed, a, ActorAnonymous, OutcomeFailure))
		return nil, ErrNoPassword
	}
	ok, rehash, err := s.Hasher.Verify(a.PasswordHash, password)
	if err != nil {
		return nil, Internal("verify password of user %d: %w", a.UserID, err)
	}
	if !ok {
		s.failed(ctx, a)
		s.sourceFailed(ctx, l.src, l.gated, s.event(ctx, EventLoginFailed, a, ActorAnonymous, OutcomeFailure))
		return nil, ErrInvalidCredentials
	}
	if rehash {
		s.rehash(ctx, a, password)
	}
	return a, nil
}

// reserveAttempt counts one check against the account before it happens. When the free
// checks are all taken by checks still in flight, it waits briefly for them: a correct
// password among them clears the count, a wrong fifth one locks the account.
func (s *Service) reserveAttempt(ctx context.Context, id int64) (*Account, error) {
	return s.reserve(ctx, func(now time.Time) (*Account, error) { return s.Store.ReserveLoginAttempt(ctx, id, now) })
}

// reserve runs a reservation under the waiting rule of reserveAttempt.
func (s *Service) reserve(ctx context.Context, try func(now time.Time) (*Account, error)) (*Account, error) {
	for i := 0; ; i++ {
		a, err := try(s.now())
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeTooManyAttempts || e.RetryAfter > 0 {
			return a, err
		}
		if i == inFlightPolls {
			return nil, tooMany(time.Second)
		}
		if err := sleep(ctx, inFlightPoll); err != nil {
			return nil, tooMany(time.Second)
		}
	}
}

const (
	inFlightPoll  = 50 * time.Millisecond
	inFlightPolls = 20
)

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// failed records that a reserved check failed: the FreeLoginAttempts-th failure starts
// the first lock (later locks are set when their check is reserved). A lost write only
// errs on the side of the account: logged, not returned.
func (s *Service) failed(ctx context.Context, a *Account) {
	if a.FailedLogins != FreeLoginAttempts {
		return
	}
	// The lockout is stored once, when it starts, in the lock's write; each check it then
	// refuses is only observed (refused), so that refusals of known and unknown names
	// cost the same round trips.
	ev := s.event(ctx, EventLoginRefused, a, ActorAnonymous, OutcomeRefused)
	ev.Method = "lockout"
	if err := s.Store.LockAccount(s.carry(ctx, ev), a.UserID, a.FailedLogins, s.now().Add(Lockout(a.FailedLogins))); err != nil {
		s.Log.WarnContext(ctx, "lock not stored", "user_id", a.UserID, "error", err)
		return
	}
	s.observe(ctx, ev)
}

// rehash upgrades a legacy or weaker hash after a successful login. Failure is harmless
// (the old hash still works), so it is logged, not returned.
func (s *Service) rehash(ctx context.Context, a *Account, password string) {
	h, err := s.Hasher.Hash(password)
	if err != nil {
		s.Log.WarnContext(ctx, "rehash failed", "user_id", a.UserID, "error", err)
		return
	}
	old := a.PasswordHash
	err = s.Store.ChangeCredentials(ctx, CredentialChange{
		UserID: a.UserID, PasswordHash: &h, KeepSessions: true, IfPasswordHash: &old, Now: s.now(),
	})
	if err != nil {
		s.Log.WarnContext(ctx, "rehash not stored", "user_id", a.UserID, "error", err)
		return
	}
	a.PasswordHash = h
}
