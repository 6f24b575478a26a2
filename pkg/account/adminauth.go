package account

import (
	"context"
	"crypto/subtle"
	"errors"
	"maps"
	"strings"
	"sync/atomic"
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
	r, err := s.AuthenticateAdminFor(ctx, username, secret, AdminTarget{})
	if err != nil {
		return nil, err
	}
	r.Settle(ctx) // no route write to carry the clearing
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

	// clearing is the end of the actor's run of failed checks still to be written after a
	// counted check succeeded (nil: none): it rides on the route's own write (Context) or
	// is written on its own (Settle).
	clearing *FailureClearing
	svc      *Service
	// targetID and targetKey name the target when only its user id was read
	// (AdminTarget.IDOnly); Target is then nil.
	targetID  int64
	targetKey string
}

// AdminTarget names the account an admin call is about: Username ("" = none); IDOnly when
// the route needs only its user id and reads the account itself (the delete, with the
// sessions and events it removes), so that a name the function has not seen costs no read
// of its own.
type AdminTarget struct {
	Username string
	IDOnly   bool
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

// Context is ctx for the route's use case: a write it makes carries the clearing of the
// actor's failed checks, so that a counted check costs no write of its own where the
// route writes anyway.
func (r *AdminRequest) Context(ctx context.Context) context.Context {
	if r.clearing == nil {
		return ctx
	}
	return WithClearing(ctx, r.clearing)
}

// Settle writes the clearing of the actor's failed checks unless a write of the route
// carried it. The route calls it before it answers (a Lambda function may be frozen after
// the answer).
func (r *AdminRequest) Settle(ctx context.Context) {
	if r.clearing == nil || r.clearing.done.Load() {
		return
	}
	r.svc.clearFailures(ctx, r.Actor)
	r.clearing.Done()
}

// FailureClearing is the end of an account's run of failed checks after a successful
// check: Store writes carrying it (WithClearing) clear the account's failed-login count
// and lock in the same atomic write, and mark it Done once that write succeeded.
type FailureClearing struct {
	UserID int64
	done   atomic.Bool
}

// Done records that a write carried the clearing.
func (c *FailureClearing) Done() { c.done.Store(true) }

type clearingKey struct{}

// WithClearing returns ctx carrying c for the Store writes it is passed to: the methods
// that carry audit records (WithAudit) also carry it, except a write of c's own account
// item (one transaction cannot hold two writes of an item), which leaves it to
// AdminRequest.Settle.
func WithClearing(ctx context.Context, c *FailureClearing) context.Context {
	return context.WithValue(ctx, clearingKey{}, c)
}

// ClearingFrom is the clearing ctx carries, or nil (already done, or none).
func ClearingFrom(ctx context.Context) *FailureClearing {
	c, _ := ctx.Value(clearingKey{}).(*FailureClearing)
	if c == nil || c.done.Load() {
		return nil
	}
	return c
}

// BatchRead is what one Store.ReadBatch reads: accounts by id, the user ids of username
// keys and of token index items, and a source's failure count (Source nil: not read).
type BatchRead struct {
	IDs          []int64
	UsernameKeys []string
	TokenIndexes []string
	Source       *Source
}

// BatchResult is what ReadBatch found; what does not exist is absent from the maps.
type BatchResult struct {
	Accounts       map[int64]*Account
	UserIDs        map[string]int64 // by username key
	TokenIDs       map[string]int64 // by token index
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
// the counted check adds its reservation, and its clearing unless the route's own write
// carries it (AdminRequest.Context, Settle).
func (s *Service) AuthenticateAdminFor(ctx context.Context, username, secret string, target AdminTarget) (*AdminRequest, error) {
	u, err := ParseUsername(username)
	if err != nil {
		_, err := s.unknown(secret)
		return nil, err
	}
	req, tref := s.adminRequest(target)
	l := lookup{ident: IdentifierHash(u.Key)}
	var src *Source
	if l.src, l.gated = s.source(ctx); l.gated {
		src = &l.src
	}
	rd, err := s.readAdminCall(ctx, byName(u.Key), tref, src)
	if err != nil {
		return nil, err
	}
	req.named(tref, rd)
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
		return req.clearedAs(ctx, a)
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
	s.authCache().add(s.authCache().key(a, secret), now)
	return req.clearedAs(ctx, a)
}

// as completes the request with its actor, which must be an admin.
func (r *AdminRequest) as(a *Account) (*AdminRequest, error) {
	if _, err := adminOnly(a); err != nil {
		return nil, err
	}
	r.Actor = a
	return r, nil
}

// clearedAs is as after a successful check of a, whose run of failures (if any) ends:
// with the route's write, or on its own (Context, Settle). A refused non-admin gets its
// clearing at once, since no route follows.
func (r *AdminRequest) clearedAs(ctx context.Context, a *Account) (*AdminRequest, error) {
	if a.FailedLogins == 0 && a.LockedUntil.IsZero() {
		return r.as(a)
	}
	if a.Role != RoleAdmin {
		r.svc.clearFailures(ctx, a)
		return r.as(a)
	}
	r.clearing = &FailureClearing{UserID: a.UserID}
	return r.as(a)
}

// adminRequest starts the request of a call naming target, and its ref.
func (s *Service) adminRequest(target AdminTarget) (*AdminRequest, ref) {
	req := &AdminRequest{svc: s}
	if target.Username == "" {
		return req, ref{}
	}
	t, err := ParseUsername(target.Username)
	if err != nil {
		req.TargetErr = ErrNotFound // as AccountByUsername
		return req, ref{}
	}
	return req, ref{usernameKey: t.Key, idOnly: target.IDOnly}
}

// named completes the request with the target the reads found.
func (r *AdminRequest) named(target ref, rd adminReads) {
	if !target.none() {
		r.Target, r.TargetErr = rd.target, rd.targetErr
		if rd.targetID != 0 {
			r.targetID, r.targetKey, r.TargetErr = rd.targetID, target.usernameKey, nil
		}
	}
}

// AuthenticateAdminTokenFor is AuthenticateAdminToken that also reads the account named
// target ("" = none), in the same round trips: 1 when the function remembers the user ids
// of the token's index and of the target, else 2 (the index and key items first).
func (s *Service) AuthenticateAdminTokenFor(ctx context.Context, token string, target AdminTarget) (*AdminRequest, error) {
	if token == "" || len(token) > 4*PasswordMax {
		return nil, ErrInvalidCredentials
	}
	idx, err := s.TokenIndex(token)
	if err != nil {
		return nil, err
	}
	req, tref := s.adminRequest(target)
	rd, err := s.readAdminCall(ctx, ref{tokenIndex: idx}, tref, nil)
	if err != nil {
		return nil, err
	}
	if rd.actor == nil {
		return nil, ErrInvalidCredentials
	}
	if err := s.bearerMatches(rd.actor, token); err != nil {
		return nil, err
	}
	req.named(tref, rd)
	return req.as(rd.actor)
}

// adminReads are the reads of one admin call; a nil account was not found.
type adminReads struct {
	actor, target *Account
	targetErr     error
	targetID      int64 // the target's id when only that was read (ref.idOnly)
	failures      int
}

// ref names an account of an admin call: by its username key, or by the index of its API
// token (a Bearer call's actor). The zero ref names none. idOnly: its account need not be
// read when only its key item was (AdminTarget.IDOnly).
type ref struct {
	usernameKey, tokenIndex string
	idOnly                  bool
}

func byName(key string) ref { return ref{usernameKey: key} }

func (r ref) none() bool { return r.usernameKey == "" && r.tokenIndex == "" }

// memo is the ref's key among the user ids the function remembers.
func (r ref) memo() string {
	if r.tokenIndex != "" {
		return "token\x00" + r.tokenIndex
	}
	return "name\x00" + r.usernameKey
}

// holds reports whether a is the account the ref names: a remembered id is only a hint,
// and an index or key item read meanwhile may belong to a write in flight.
func (r ref) holds(a *Account) bool {
	if a == nil {
		return false
	}
	if r.tokenIndex != "" {
		return subtle.ConstantTimeCompare([]byte(a.TokenIndex), []byte(r.tokenIndex)) == 1
	}
	return a.UsernameKey == r.usernameKey
}

// readAdminCall reads the accounts actor and target name (either may be none) and the
// source's count (src nil = not read). Round trips: 1 when their user ids are remembered,
// else 2 (the key or index items first); a remembered id whose account is gone (or is
// another's) is forgotten and the items are read again.
func (s *Service) readAdminCall(ctx context.Context, actor, target ref, src *Source) (adminReads, error) {
	c := s.authCache()
	var refs []ref
	for _, r := range []ref{actor, target} {
		if !r.none() {
			refs = append(refs, r)
		}
	}
	for memo := true; ; memo = false {
		ids := map[ref]int64{}
		fromMemo := map[ref]bool{}
		q := BatchRead{Source: src}
		for _, r := range refs {
			if id, ok := c.userID(r.memo()); ok && memo {
				ids[r], fromMemo[r] = id, true
				q.IDs = append(q.IDs, id)
			} else if r.tokenIndex != "" {
				q.TokenIndexes = append(q.TokenIndexes, r.tokenIndex)
			} else {
				q.UsernameKeys = append(q.UsernameKeys, r.usernameKey)
			}
		}
		res, err := s.Store.ReadBatch(ctx, q)
		if err != nil {
			return adminReads{}, err
		}
		rd := adminReads{failures: res.SourceFailures}
		accounts := res.Accounts
		var more []int64
		idOnly := int64(0)
		for _, r := range refs {
			if fromMemo[r] {
				continue
			}
			id, ok := res.UserIDs[r.usernameKey]
			if r.tokenIndex != "" {
				id, ok = res.TokenIDs[r.tokenIndex]
			}
			if !ok {
				continue
			}
			ids[r] = id
			if r.idOnly {
				idOnly = id
			} else {
				more = append(more, id)
			}
		}
		if len(more) > 0 && idOnly != 0 {
			more, idOnly = append(more, idOnly), 0 // read anyway: it costs nothing more
		}
		if len(more) > 0 {
			res2, err := s.Store.ReadBatch(ctx, BatchRead{IDs: more})
			if err != nil {
				return adminReads{}, err
			}
			maps.Copy(accounts, res2.Accounts)
		}
		stale := false
		get := func(r ref) *Account {
			id, ok := ids[r]
			if !ok {
				return nil
			}
			// A key item without its account is a deletion in progress: not found.
			if a := accounts[id]; r.holds(a) {
				c.rememberID(r.memo(), id)
				return a
			}
			if fromMemo[r] {
				c.forgetID(r.memo())
				stale = true
			}
			return nil
		}
		if !actor.none() {
			rd.actor = get(actor)
		}
		if !target.none() {
			if id := ids[target]; idOnly != 0 && id == idOnly {
				rd.targetID = id
			} else if rd.target = get(target); rd.target == nil {
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
