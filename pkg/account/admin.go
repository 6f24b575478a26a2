package account

import (
	"context"
	"encoding/base64"
	"errors"
	"maps"
	"strings"
	"time"
)

// Admin use cases (the Admin v2 family and the bootstrap command).

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

// DeleteUserOf is DeleteUser of the account the admin call names, already read.
func (s *Service) DeleteUserOf(ctx context.Context, r *AdminRequest) error {
	a, err := r.Named()
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
	if err := s.Store.DeleteAccount(wctx, a); err != nil {
		return err
	}
	s.observe(ctx, ev)
	return nil
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
