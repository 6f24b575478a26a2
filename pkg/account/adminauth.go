package account

import (
	"context"
	"errors"
	"maps"
	"strings"
	"time"
)

// The acting admin of the Admin v2 routes: credentials, remembered checks and the batched
// read of actor and target (admin.go has the use cases).

// tokenSHA256 marks a generated API token's hash: generated tokens carry 256 random bits,
// so a fast hash suffices, and the prefix tells Verify which check to use. Chosen tokens
// are slow hashes in PHC format, like passwords.
const tokenSHA256 = "$sha256$"

// AuthenticateAdmin checks Basic credentials of the admin API: secret is the account's
// password or its API token. Wrong or unknown credentials are ErrInvalidCredentials; right
// credentials of a non-admin are ErrForbidden; a locked account is ErrTooManyAttempts (the
// failed-login policy applies here too, and a check is counted before it happens).
//
// A generated API token (256 random bits, a fast hash) is checked first: it cannot be
// guessed, so neither the account's lockout nor the source's limit refuses it, and an
// attacker's wrong guesses cannot lock its owner out. Chosen secrets keep both limits, and
// unknown usernames are counted like accounts (limits.go).
//
// A successful check is remembered for a short time (see authCache), keyed by the stored
// hashes, so repeated calls of a warm function skip the slow hash while a changed password
// or token is never accepted from memory.
func (s *Service) AuthenticateAdmin(ctx context.Context, username, secret string) (*Account, error) {
	r, err := s.AuthenticateAdminFor(ctx, username, secret, "")
	if err != nil {
		return nil, err
	}
	return r.Actor, nil
}

// AdminRequest is an authenticated call of the admin API: the acting admin and the
// account the call names, both read in the same round trips.
type AdminRequest struct {
	Actor *Account
	// Target is the named account; TargetErr (ErrNotFound: an invalid username cannot
	// exist) says why it is nil when one was named.
	Target    *Account
	TargetErr error
}

// Named is the account the call names, or why there is none.
func (r *AdminRequest) Named() (*Account, error) {
	if r.Target == nil && r.TargetErr == nil { // none named: no such account
		return nil, ErrNotFound
	}
	if r.Target == nil {
		return nil, r.TargetErr
	}
	return r.Target, nil
}

// BatchRead is what one Store.ReadBatch reads: accounts by id, the user ids of username
// keys, and a source's failure count (Source nil: not read).
type BatchRead struct {
	IDs          []int64
	UsernameKeys []string
	Source       *Source
}

// BatchResult is what ReadBatch found; what does not exist is absent from the maps.
type BatchResult struct {
	Accounts       map[int64]*Account
	UserIDs        map[string]int64
	SourceFailures int
}

// AuthenticateAdminFor is AuthenticateAdmin that also reads the account named target (""
// = none), with the same reads: the acting admin's and the target's accounts come in one
// BatchGetItem, by the user ids the warm function remembers (else after one more that
// reads their username keys), with the source's count. The acting admin is thus read
// fresh on every call, and a remembered credential is only accepted against that read:
// a new password or token, a demotion or a deletion refuses the very next call.
//
// Round trips on a remembered credential: 1 (2 for a name not seen before); on a miss,
// the counted check adds its reservation and the clearing after it.
func (s *Service) AuthenticateAdminFor(ctx context.Context, username, secret, target string) (*AdminRequest, error) {
	u, err := ParseUsername(username)
	if err != nil {
		_, err := s.unknown(secret)
		return nil, err
	}
	req := &AdminRequest{}
	targetKey := ""
	if target != "" {
		if t, err := ParseUsername(target); err != nil {
			req.TargetErr = ErrNotFound // as AccountByUsername
		} else {
			targetKey = t.Key
		}
	}
	l := lookup{ident: IdentifierHash(u.Key)}
	var src *Source
	if l.src, l.gated = s.source(ctx); l.gated {
		src = &l.src
	}
	rd, err := s.readAdminCall(ctx, u.Key, targetKey, src)
	if err != nil {
		return nil, err
	}
	if targetKey != "" {
		req.Target, req.TargetErr = rd.target, rd.targetErr
	}
	var gateErr error
	if l.gated {
		gateErr = s.sourceRefused(l.src, rd.failures)
	}
	a, found := rd.actor, rd.actor != nil
	if found && generatedTokenMatches(a, secret) {
		return req.as(a)
	}
	// From here on a name without an account answers as one with: the source's limit,
	// then an impossible secret, then the lockout.
	if gateErr != nil {
		s.refused(ctx, EventLoginRefused, lookup{id: idOf(a)}, gateErr, "source_limit")
		return nil, gateErr
	}
	// No password or token is that long: refused without counting a check, and kept away
	// from the hash.
	if len(secret) > 4*PasswordMax {
		_, err := s.unknown("")
		return nil, err
	}
	if !found {
		_, err := s.unknownFailed(ctx, EventAdminAuthFailed, l, secret)
		return nil, err
	}
	now := s.now()
	if now.Before(a.LockedUntil) {
		return nil, tooMany(a.LockedUntil.Sub(now))
	}
	if key := s.authCache().key(a, secret); s.authCache().hit(key, now) {
		s.clearFailures(ctx, a)
		return req.as(a)
	}
	if a, err = s.reserveAttempt(ctx, a.UserID); err != nil {
		s.refused(ctx, EventLoginRefused, lookup{id: idOf(rd.actor)}, err, "lockout")
		if errors.Is(err, ErrNotFound) {
			_, err := s.unknown(secret)
			return nil, err
		}
		return nil, err
	}
	ok, err := s.secretMatches(a, secret)
	if err != nil {
		return nil, err
	}
	if !ok {
		s.failed(ctx, a)
		s.sourceFailed(ctx, l.src, l.gated, s.event(ctx, EventAdminAuthFailed, a, ActorAnonymous, OutcomeFailure))
		return nil, ErrInvalidCredentials
	}
	s.clearFailures(ctx, a)
	s.authCache().add(s.authCache().key(a, secret), now)
	return req.as(a)
}

// as completes the request with its actor, which must be an admin.
func (r *AdminRequest) as(a *Account) (*AdminRequest, error) {
	if _, err := adminOnly(a); err != nil {
		return nil, err
	}
	r.Actor = a
	return r, nil
}

// AuthenticateAdminTokenFor is AuthenticateAdminToken that also reads the account named
// target ("" = none). Round trips: those of AuthenticateAdminToken, and 1 or 2 more for
// the target (by its remembered id, else by its username key).
func (s *Service) AuthenticateAdminTokenFor(ctx context.Context, token, target string) (*AdminRequest, error) {
	a, err := s.AuthenticateAdminToken(ctx, token)
	if err != nil {
		return nil, err
	}
	req := &AdminRequest{Actor: a}
	if target == "" {
		return req, nil
	}
	t, err := ParseUsername(target)
	if err != nil {
		req.TargetErr = ErrNotFound // as AccountByUsername
		return req, nil
	}
	rd, err := s.readAdminCall(ctx, "", t.Key, nil)
	if err != nil {
		return nil, err
	}
	req.Target, req.TargetErr = rd.target, rd.targetErr
	return req, nil
}

// adminReads are the reads of one admin call; a nil account was not found.
type adminReads struct {
	actor, target *Account
	targetErr     error
	failures      int
}

// readAdminCall reads the accounts of the username keys actorKey and targetKey ("" =
// none) and the source's count (src nil = not read). Round trips: 1 when the user ids
// are remembered, else 2; a remembered id whose account is gone (or is another name's)
// is forgotten and the keys are read again.
func (s *Service) readAdminCall(ctx context.Context, actorKey, targetKey string, src *Source) (adminReads, error) {
	c := s.authCache()
	var names []string
	for _, k := range []string{actorKey, targetKey} {
		if k != "" {
			names = append(names, k)
		}
	}
	for memo := true; ; memo = false {
		ids := map[string]int64{}
		fromMemo := map[string]bool{}
		q := BatchRead{Source: src}
		for _, k := range names {
			if id, ok := c.userID(k); ok && memo {
				ids[k], fromMemo[k] = id, true
				q.IDs = append(q.IDs, id)
			} else {
				q.UsernameKeys = append(q.UsernameKeys, k)
			}
		}
		res, err := s.Store.ReadBatch(ctx, q)
		if err != nil {
			return adminReads{}, err
		}
		rd := adminReads{failures: res.SourceFailures}
		accounts := res.Accounts
		var more []int64
		for _, k := range q.UsernameKeys {
			if id, ok := res.UserIDs[k]; ok {
				ids[k] = id
				more = append(more, id)
			}
		}
		if len(more) > 0 {
			res2, err := s.Store.ReadBatch(ctx, BatchRead{IDs: more})
			if err != nil {
				return adminReads{}, err
			}
			maps.Copy(accounts, res2.Accounts)
		}
		stale := false
		get := func(k string) *Account {
			id, ok := ids[k]
			if !ok {
				return nil
			}
			// A key item without its account is a deletion in progress: not found.
			if a := accounts[id]; a != nil && a.UsernameKey == k {
				c.rememberID(k, id)
				return a
			}
			if fromMemo[k] {
				c.forgetID(k)
				stale = true
			}
			return nil
		}
		if actorKey != "" {
			rd.actor = get(actorKey)
		}
		if targetKey != "" {
			if rd.target = get(targetKey); rd.target == nil {
				rd.targetErr = ErrNotFound
			}
		}
		if !stale {
			return rd, nil
		}
	}
}

// generatedTokenMatches reports whether secret is the account's generated API token.
func generatedTokenMatches(a *Account, secret string) bool {
	h, ok := strings.CutPrefix(a.TokenHash, tokenSHA256)
	return ok && SecretMatches(h, secret)
}

func adminOnly(a *Account) (*Account, error) {
	if a.Role != RoleAdmin {
		return nil, ErrForbidden
	}
	return a, nil
}

// clearFailures ends a run of failures after a success. If the write fails the count
// stays until the next success, which only errs on the side of caution: logged, not
// returned.
func (s *Service) clearFailures(ctx context.Context, a *Account) {
	if a.FailedLogins == 0 && a.LockedUntil.IsZero() {
		return
	}
	if err := s.Store.ClearLoginFailures(ctx, a.UserID); err != nil {
		s.Log.WarnContext(ctx, "failed logins not cleared", "user_id", a.UserID, "error", err)
		return
	}
	a.FailedLogins, a.LockedUntil = 0, time.Time{}
}

// secretMatches tries the password, then the API token.
func (s *Service) secretMatches(a *Account, secret string) (bool, error) {
	if a.PasswordHash != "" {
		ok, _, err := s.Hasher.Verify(a.PasswordHash, secret)
		if err != nil {
			return false, Internal("verify password of user %d: %w", a.UserID, err)
		}
		if ok {
			return true, nil
		}
	}
	switch {
	case a.TokenHash == "":
		if a.PasswordHash == "" {
			s.Hasher.VerifyDummy(secret)
		}
		return false, nil
	case strings.HasPrefix(a.TokenHash, tokenSHA256):
		return SecretMatches(strings.TrimPrefix(a.TokenHash, tokenSHA256), secret), nil
	default:
		ok, _, err := s.Hasher.Verify(a.TokenHash, secret)
		if err != nil {
			return false, Internal("verify token of user %d: %w", a.UserID, err)
		}
		return ok, nil
	}
}
