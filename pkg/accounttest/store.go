// Package accounttest holds test doubles for the account domain (an in-memory Store, a
// recording Mailer, a fast Hasher) and the Store contract test that every Store
// implementation, the fake included, must pass.
package accounttest

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// Store is an in-memory account.Store with the same semantics as the DynamoDB store. It is
// safe for concurrent use; every method is atomic under one lock.
type Store struct {
	mu         sync.Mutex
	counter    int64
	accounts   map[int64]account.Account
	byUsername map[string]int64
	byEmail    map[string]int64
	sessions   map[int64]map[string]account.Session
	otps       map[int64]account.OTP
	resets     map[string]account.ResetToken
	byToken    map[string]int64 // token index -> user_id

	quota mailQuota // ReserveMailQuota's counters

	verifications map[int64]account.EmailVerification // pending email verifications (verify.go)

	// Limits beyond the account's failed logins (limits.go); made on first use.
	sourceFails map[account.Source]int
	unknown     map[string]account.Account // failure state only
	guesses     map[int64][]time.Time

	events map[int64][]account.AuditRecord // audit records by account, oldest first (audit.go)
}

// NewStore returns an empty Store.
func NewStore() *Store {
	return &Store{
		accounts:   map[int64]account.Account{},
		byUsername: map[string]int64{},
		byEmail:    map[string]int64{},
		sessions:   map[int64]map[string]account.Session{},
		otps:       map[int64]account.OTP{},
		resets:     map[string]account.ResetToken{},
		byToken:    map[string]int64{},
	}
}

var _ account.Store = (*Store)(nil)

func (s *Store) CreateAccount(ctx context.Context, a *account.Account) (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() { s.keepAudit(ctx, err, a.UserID) }()
	// The real store takes the id from the counter before the transaction, so a failed
	// creation still uses up an id; mirror that.
	s.counter++
	id := s.counter
	if _, ok := s.byUsername[a.UsernameKey]; ok {
		return account.ErrUsernameTaken
	}
	if a.EmailKey != "" {
		if _, ok := s.byEmail[a.EmailKey]; ok {
			return account.ErrEmailTaken
		}
	}
	if a.TokenIndex != "" {
		if _, ok := s.byToken[a.TokenIndex]; ok {
			return account.ErrTokenInUse
		}
	}
	a.UserID = id
	stored := *a
	stored.MailSent = slices.Clone(a.MailSent)
	s.accounts[id] = stored
	s.byUsername[a.UsernameKey] = id
	if a.EmailKey != "" {
		s.byEmail[a.EmailKey] = id
	}
	if a.TokenIndex != "" {
		s.byToken[a.TokenIndex] = id
	}
	return nil
}

func (s *Store) AccountByID(_ context.Context, id int64) (*account.Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.account(id)
}

func (s *Store) account(id int64) (*account.Account, error) {
	a, ok := s.accounts[id]
	if !ok {
		return nil, account.ErrNotFound
	}
	a.MailSent = slices.Clone(a.MailSent)
	return &a, nil
}

func (s *Store) UserIDByUsername(_ context.Context, key string) (int64, error) {
	return s.userID(s.byUsername, key)
}

func (s *Store) UserIDByEmail(_ context.Context, key string) (int64, error) {
	return s.userID(s.byEmail, key)
}

// userID looks key up in index (one of the maps NewStore makes, never replaced).
func (s *Store) userID(index map[string]int64, key string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return lookup(index, key, account.ErrNotFound)
}

// accountBy returns the account index holds at key.
func (s *Store) accountBy(index map[string]int64, key string) (*account.Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := lookup(index, key, account.ErrNotFound)
	if err != nil {
		return nil, err
	}
	return s.account(id)
}

// lookup returns m[k], or notFound when m has no k.
func lookup[K comparable, V any](m map[K]V, k K, notFound error) (V, error) {
	v, ok := m[k]
	if !ok {
		return v, notFound
	}
	return v, nil
}

func (s *Store) AccountByUsername(_ context.Context, key string) (*account.Account, error) {
	return s.accountBy(s.byUsername, key)
}

func (s *Store) AccountByEmail(_ context.Context, key string) (*account.Account, error) {
	return s.accountBy(s.byEmail, key)
}

func (s *Store) ChangeCredentials(ctx context.Context, c account.CredentialChange) (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() { s.keepAudit(ctx, err, 0) }()
	// Check everything before changing anything: the real store does this in one
	// transaction.
	if c.ConsumeOTP != "" {
		o, ok := s.otps[c.UserID]
		if !ok || o.ReqIDHash != c.ConsumeOTP || o.Used {
			return account.ErrOTPExpired
		}
	}
	if c.ConsumeReset != "" {
		if _, ok := s.resets[c.ConsumeReset]; !ok {
			return account.ErrTokenNotFound
		}
	}
	a, ok := s.accounts[c.UserID]
	if !ok {
		return account.ErrNotFound
	}
	if c.IfPasswordHash != nil && a.PasswordHash != *c.IfPasswordHash {
		return account.ErrConflict
	}
	newPassword := c.PasswordHash != nil && !c.KeepSessions
	if newPassword && c.KeepSecret != "" && a.SecretHash != c.KeepSecret {
		return account.ErrConflict
	}
	if c.Role != nil && a.Role == account.RoleAdmin && *c.Role != account.RoleAdmin && s.admins() < 2 {
		return account.ErrLastAdmin
	}
	newIndex := ""
	if c.TokenHash != nil && c.TokenIndex != nil {
		newIndex = *c.TokenIndex
	}
	if holder, ok := s.byToken[newIndex]; ok && newIndex != "" && holder != c.UserID {
		return account.ErrTokenInUse
	}
	if newPassword {
		// The real store's hints (ResetHash) only save it a read; the outcome is this.
		if c.ConsumeOTP == "" {
			delete(s.otps, c.UserID)
		}
		if a.ResetHash != "" {
			delete(s.resets, a.ResetHash)
			a.ResetHash = ""
		}
		if c.KeepSecret == "" {
			a.SecretHash = ""
		}
	}
	if c.VerifyEmail && c.ReleaseEmail == "" {
		a.EmailVerified = true
	}
	if c.ReleaseEmail != "" && a.EmailKey != "" {
		delete(s.byEmail, a.EmailKey)
		a.Email, a.EmailKey, a.EmailVerified = "", "", false
	}
	if c.PasswordHash != nil {
		a.PasswordHash = *c.PasswordHash
		a.FailedLogins, a.LockedUntil = 0, time.Time{}
		delete(s.guesses, c.UserID)
	}
	if c.TokenHash != nil {
		a.TokenHash = *c.TokenHash
		if a.TokenIndex != "" {
			delete(s.byToken, a.TokenIndex)
		}
		a.TokenIndex = newIndex
		if newIndex != "" {
			s.byToken[newIndex] = c.UserID
		}
	}
	if c.SecretHash != nil {
		a.SecretHash = *c.SecretHash
	}
	if c.Role != nil {
		a.Role = *c.Role
	}
	if !c.KeepSessions {
		a.CredVersion++
	}
	a.UpdatedAt = c.Now
	if c.ConsumeOTP != "" {
		o := s.otps[c.UserID]
		o.Used = true
		s.otps[c.UserID] = o
	}
	if c.ConsumeReset != "" {
		delete(s.resets, c.ConsumeReset)
		a.ResetHash = ""
	}
	s.accounts[c.UserID] = a
	return nil
}

func (s *Store) DeleteAccount(ctx context.Context, a *account.Account) (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() { s.keepAudit(ctx, err, 0) }()
	cur, ok := s.accounts[a.UserID]
	if !ok {
		return account.ErrNotFound
	}
	if cur.Role == account.RoleAdmin && s.admins() < 2 {
		return account.ErrLastAdmin
	}
	delete(s.accounts, a.UserID)
	delete(s.byUsername, cur.UsernameKey)
	if cur.EmailKey != "" {
		delete(s.byEmail, cur.EmailKey)
	}
	delete(s.otps, a.UserID)
	delete(s.verifications, a.UserID)
	if cur.TokenIndex != "" {
		delete(s.byToken, cur.TokenIndex)
	}
	delete(s.guesses, a.UserID)
	if cur.ResetHash != "" {
		delete(s.resets, cur.ResetHash)
	}
	delete(s.sessions, a.UserID)
	delete(s.events, a.UserID) // its events go with it (the deletion's own are kept after)
	return nil
}

func (s *Store) ListUsernames(_ context.Context, after string, limit int) ([]string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.byUsername))
	for k := range s.byUsername {
		if k > after {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, strings.Compare)
	next := ""
	if limit > 0 && len(keys) > limit {
		keys = keys[:limit]
		next = keys[limit-1]
	}
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = s.accounts[s.byUsername[k]].Username
	}
	return names, next, nil
}

func (s *Store) CreateSession(ctx context.Context, sess *account.Session, clearFailures bool) (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() { s.keepAudit(ctx, err, 0) }()
	if clearFailures {
		a, ok := s.accounts[sess.UserID]
		if !ok {
			return account.ErrNotFound
		}
		a.FailedLogins, a.LockedUntil = 0, time.Time{}
		s.accounts[sess.UserID] = a
	}
	m := s.sessions[sess.UserID]
	if m == nil {
		m = map[string]account.Session{}
		s.sessions[sess.UserID] = m
	}
	m[sess.TokenHash] = *sess
	return nil
}

func (s *Store) SessionWithAccount(_ context.Context, userID int64, hash string) (*account.Session, *account.Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[userID][hash]
	if !ok {
		return nil, nil, account.ErrNotFound
	}
	a, err := s.account(userID)
	if err != nil {
		return nil, nil, err
	}
	return &sess, a, nil
}

func (s *Store) DeleteSession(ctx context.Context, userID int64, hash string) (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() { s.keepAudit(ctx, err, 0) }()
	delete(s.sessions[userID], hash)
	return nil
}

// SessionCount is the number of stored session records of an account (tests).
func (s *Store) SessionCount(userID int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions[userID])
}

func (s *Store) PutOTP(ctx context.Context, o *account.OTP) (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() { s.keepAudit(ctx, err, 0) }()
	s.otps[o.UserID] = *o
	return nil
}

func (s *Store) SpendOTPAttempt(_ context.Context, userID int64, reqHash, userHash string, now time.Time, max int) (*account.OTP, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.otps[userID]
	if !ok || o.ReqIDHash != reqHash || o.UserHash != userHash {
		return nil, account.ErrInvalidRequest
	}
	if o.Used || !now.Before(o.ExpiresAt) || o.Attempts >= max {
		return nil, account.ErrOTPExpired
	}
	o.Attempts++
	s.otps[userID] = o
	return &o, nil
}

func (s *Store) PutResetToken(ctx context.Context, r *account.ResetToken, replaces string) (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() { s.keepAudit(ctx, err, 0) }()
	a, ok := s.accounts[r.UserID]
	if !ok {
		return account.ErrNotFound
	}
	if a.ResetHash != replaces {
		return account.ErrConflict
	}
	if replaces != "" {
		delete(s.resets, replaces)
	}
	s.resets[r.TokenHash] = *r
	a.ResetHash = r.TokenHash
	s.accounts[r.UserID] = a
	return nil
}

func (s *Store) ResetToken(_ context.Context, hash string) (*account.ResetToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := lookup(s.resets, hash, account.ErrTokenNotFound)
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// admins is the number of admin accounts (the real store keeps it in an item).
func (s *Store) admins() int {
	n := 0
	for _, a := range s.accounts {
		if a.Role == account.RoleAdmin {
			n++
		}
	}
	return n
}

// AccountByTokenIndex finds the account holding a token index.
func (s *Store) AccountByTokenIndex(_ context.Context, index string) (*account.Account, error) {
	if index == "" {
		return nil, account.ErrNotFound
	}
	return s.accountBy(s.byToken, index)
}
