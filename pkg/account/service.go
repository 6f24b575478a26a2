package account

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/pkg/config/defaults"
)

// Config holds the service's tunables. Zero values take the defaults below.
type Config struct {
	AllowRegistration bool
	SessionTTL        time.Duration // 7 days
	OTPTTL            time.Duration // 15 minutes
	ResetTTL          time.Duration // 30 minutes
	MaxOTPAttempts    int           // 5
	MailTimeout       time.Duration // how long a send may take before it counts as failed
	GeneratedPassword int           // length of server-generated passwords (>= 16)
	// AdminAuthTTL is how long a warm function remembers a verified admin credential
	// (negative: never).
	AdminAuthTTL time.Duration // 1 minute
	// Mail limits per account (API.md): one mail per MailInterval, MailPerHour an hour.
	MailInterval time.Duration // 60 s
	MailPerHour  int           // 5

	// TokenIndexKey keys the index of API tokens (see TokenIndex): per stack, never stored
	// in the table. The admin use cases (setting a token, a Bearer check) are internal
	// errors without it; Register without it stores a token unindexed (Basic only).
	TokenIndexKey []byte
	// Mail limits per recipient address and for the installation, per clock hour
	// (maillimits.go).
	RecipientMailsPerHour int // 3
	MailBudgetPerHour     int // 1000
	// Further limits (limits.go): wrong one-time codes and reset-token guesses per account
	// per GuessWindow, and failed credential checks per source network per clock hour
	// (negative: no per-source limit).
	OTPFailuresPerDay     int // 10
	IPFailedChecksPerHour int // 100
}

// Defaults of Config; those of settings are pkg/config/defaults's (defined once).
const (
	DefaultSessionTTL        = defaults.SessionTTL
	DefaultOTPTTL            = defaults.OTPTTL
	DefaultResetTTL          = defaults.ResetTTL
	DefaultMaxOTPAttempts    = 5
	DefaultMailTimeout       = 8 * time.Second
	DefaultGeneratedPassword = 20
	DefaultAdminAuthTTL      = time.Minute
	DefaultMailInterval      = defaults.MailInterval
	DefaultMailPerHour       = defaults.MailPerHour
)

// Failed-login policy (API.md, "Limits and sign-out"): FreeLoginAttempts failures are
// free; after the n-th consecutive failure (n >= 5) checks are refused for 2^(n-5)
// seconds, at most MaxLockout. It applies per account wherever a password or admin secret
// is checked.
const (
	FreeLoginAttempts = 5
	MaxLockout        = 15 * time.Minute
	// StaleAttempt is when a counted check that never reported back (its function died)
	// stops blocking the next one: longer than any function runs.
	StaleAttempt = 30 * time.Second
)

// Lockout is how long an account stays locked after its n-th consecutive failed check.
func Lockout(n int) time.Duration {
	if n < FreeLoginAttempts {
		return 0
	}
	if shift := n - FreeLoginAttempts; shift < 10 { // 2^10 s is past the cap already
		return min(time.Duration(1<<shift)*time.Second, MaxLockout)
	}
	return MaxLockout
}

func tooMany(wait time.Duration) *Error {
	return &Error{Code: CodeTooManyAttempts, RetryAfter: max(wait, time.Second)}
}

// Service implements every use case of the API families on top of a Store, a Hasher and a
// Mailer. It is safe for concurrent use.
type Service struct {
	Store  Store
	Hasher Hasher
	Mailer Mailer // nil in functions that send no mail
	Now    func() time.Time
	Rand   io.Reader
	Log    *slog.Logger
	Config

	cacheOnce sync.Once
	cache     *authCache
}

// NewService returns a Service with the real clock and crypto/rand, filling in defaults.
func NewService(store Store, hasher Hasher, mailer Mailer, cfg Config, log *slog.Logger) *Service {
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.OTPTTL <= 0 {
		cfg.OTPTTL = DefaultOTPTTL
	}
	if cfg.ResetTTL <= 0 {
		cfg.ResetTTL = DefaultResetTTL
	}
	if cfg.MaxOTPAttempts <= 0 {
		cfg.MaxOTPAttempts = DefaultMaxOTPAttempts
	}
	if cfg.MailTimeout <= 0 {
		cfg.MailTimeout = DefaultMailTimeout
	}
	if cfg.GeneratedPassword < 16 {
		cfg.GeneratedPassword = DefaultGeneratedPassword
	}
	if cfg.MailInterval <= 0 {
		cfg.MailInterval = DefaultMailInterval
	}
	if cfg.MailPerHour <= 0 {
		cfg.MailPerHour = DefaultMailPerHour
	}
	if cfg.RecipientMailsPerHour <= 0 {
		cfg.RecipientMailsPerHour = DefaultRecipientMailsPerHour
	}
	if cfg.MailBudgetPerHour <= 0 {
		cfg.MailBudgetPerHour = DefaultMailBudgetPerHour
	}
	if cfg.AdminAuthTTL == 0 {
		cfg.AdminAuthTTL = DefaultAdminAuthTTL
	}
	if cfg.OTPFailuresPerDay <= 0 {
		cfg.OTPFailuresPerDay = DefaultOTPFailuresPerDay
	}
	if cfg.IPFailedChecksPerHour == 0 {
		cfg.IPFailedChecksPerHour = DefaultIPFailedChecksPerHour
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{Store: store, Hasher: hasher, Mailer: mailer, Now: time.Now, Rand: rand.Reader, Log: log, Config: cfg}
}

func (s *Service) authCache() *authCache {
	s.cacheOnce.Do(func() { s.cache = newAuthCache(s.AdminAuthTTL) })
	return s.cache
}

// now is the service clock in UTC. Expiries are whole seconds because that is what the
// store's TTL attribute holds; truncating here keeps every Store implementation exact.
func (s *Service) now() time.Time { return s.Now().UTC() }

func expiry(now time.Time, ttl time.Duration) time.Time {
	return now.Add(ttl).Truncate(time.Second)
}

func expired(now, at time.Time) bool { return !now.Before(at) }

// ---------------------------------------------------------------------------- accounts

// NewAccount is the input of Register. Validation order: username, email, password,
// token, then the profile fields (name, bio, website, pronounce).
type NewAccount struct {
	Username string
	Email    string // "" = none
	Password string // "" = none; allowed only together with a Token
	Token    string // chosen admin API token; "" = none
	Profile  Profile
	Role     Role // "" = RoleUser
	// WithUserSecret generates the account v1 user_secret, returned once in Created.
	WithUserSecret bool
	// SelfService marks sign-up routes, which AllowRegistration governs.
	SelfService bool
}

// Created is the result of Register.
type Created struct {
	Account    *Account
	UserSecret string // only with WithUserSecret; shown once
}

// Validate checks n in the documented order without side effects.
func (n NewAccount) Validate() (Username, Email, error) {
	u, err := ParseUsername(n.Username)
	if err != nil {
		return Username{}, Email{}, err
	}
	var e Email
	if n.Email != "" {
		if e, err = ParseEmail(n.Email); err != nil {
			return Username{}, Email{}, err
		}
	}
	if n.Password != "" || n.Token == "" {
		if err := ValidatePassword(n.Password); err != nil {
			return Username{}, Email{}, err
		}
	}
	if n.Token != "" {
		if err := ValidateToken(n.Token); err != nil {
			return Username{}, Email{}, err
		}
	}
	if err := n.Profile.Validate(); err != nil {
		return Username{}, Email{}, err
	}
	return u, e, nil
}

// Register creates an account. Round trips: the counter and one transaction.
func (s *Service) Register(ctx context.Context, n NewAccount) (*Created, error) {
	if n.SelfService && !s.AllowRegistration {
		return nil, ErrRegistrationDisabled
	}
	u, e, err := n.Validate()
	if err != nil {
		return nil, err
	}
	role := n.Role
	if role == "" {
		role = RoleUser
	}
	if role != RoleUser && role != RoleAdmin {
		return nil, Internal("register: unknown role %q", role)
	}
	now := s.now()
	a := &Account{
		Username:    u.Display,
		UsernameKey: u.Key,
		Email:       e.Address,
		EmailKey:    e.Key,
		Name:        deref(n.Profile.Name),
		Bio:         deref(n.Profile.Bio),
		Website:     deref(n.Profile.Website),
		Pronounce:   deref(n.Profile.Pronounce),
		Role:        role,
		CredVersion: 1,
		CreatedAt:   now,
		UpdatedAt:   now,
	}
	if n.Password != "" {
		if a.PasswordHash, err = s.Hasher.Hash(n.Password); err != nil {
			return nil, Internal("hash password: %w", err)
		}
	}
	if n.Token != "" {
		if a.TokenHash, err = s.Hasher.Hash(n.Token); err != nil {
			return nil, Internal("hash token: %w", err)
		}
		// Without the token-index key (functions that never set tokens) the token gets no
		// index item, like a token from before the index: Basic finds it, Bearer does not,
		// until it is set again. The admin use cases insist on the key (CreateUser).
		if len(s.TokenIndexKey) > 0 {
			if a.TokenIndex, err = s.TokenIndex(n.Token); err != nil {
				return nil, err
			}
		}
	}
	out := &Created{Account: a}
	if n.WithUserSecret {
		if out.UserSecret, a.SecretHash, err = NewUserSecret(s.Rand); err != nil {
			return nil, Internal("user secret: %w", err)
		}
	}
	if err := s.Store.CreateAccount(ctx, a); err != nil {
		return nil, err
	}
	return out, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// AccountByUsername finds an account by any spelling of its username. An invalid username
// cannot exist, so it is ErrNotFound.
func (s *Service) AccountByUsername(ctx context.Context, username string) (*Account, error) {
	u, err := ParseUsername(username)
	if err != nil {
		return nil, ErrNotFound
	}
	return s.Store.AccountByUsername(ctx, u.Key)
}

// AccountByEmail finds an account by email, without regard to case.
func (s *Service) AccountByEmail(ctx context.Context, email string) (*Account, error) {
	e, err := ParseEmail(email)
	if err != nil {
		return nil, ErrNotFound
	}
	return s.Store.AccountByEmail(ctx, e.Key)
}

// ---------------------------------------------------------------------- authentication

// AuthenticateUsername checks a username and password. Unknown accounts and wrong
// passwords are one error and cost one hash verification each. Every check is counted
// against the account before it happens (the failed-login policy above), so racing
// guesses cannot get more checks than the policy allows. The caller clears the count on
// success: StartSession and password changes do.
func (s *Service) AuthenticateUsername(ctx context.Context, username, password string) (*Account, error) {
	u, err := ParseUsername(username)
	if err != nil {
		return s.unknown(password)
	}
	l, err := s.lookupID(ctx, u.Key, s.Store.UserIDByUsername, s.Store.UserIDByUsernameFrom)
	return s.checkPassword(ctx, l, err, password)
}

// AuthenticateEmail is AuthenticateUsername by email address.
func (s *Service) AuthenticateEmail(ctx context.Context, email, password string) (*Account, error) {
	e, err := ParseEmail(email)
	if err != nil {
		return s.unknown(password)
	}
	l, err := s.lookupID(ctx, e.Key, s.Store.UserIDByEmail, s.Store.UserIDByEmailFrom)
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
		return nil, gateErr
	}
	if l.err != nil {
		return s.unknownCheck(ctx, l, password)
	}
	a, err := s.reserveAttempt(ctx, l.id)
	if errors.Is(err, ErrNotFound) {
		return s.unknownCheck(ctx, l, password)
	}
	if err != nil {
		return nil, err
	}
	if a.PasswordHash == "" {
		s.failed(ctx, a)
		s.sourceFailed(ctx, l.src, l.gated)
		return nil, ErrNoPassword
	}
	ok, rehash, err := s.Hasher.Verify(a.PasswordHash, password)
	if err != nil {
		return nil, Internal("verify password of user %d: %w", a.UserID, err)
	}
	if !ok {
		s.failed(ctx, a)
		s.sourceFailed(ctx, l.src, l.gated)
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
	if err := s.Store.LockAccount(ctx, a.UserID, a.FailedLogins, s.now().Add(Lockout(a.FailedLogins))); err != nil {
		s.Log.WarnContext(ctx, "lock not stored", "user_id", a.UserID, "error", err)
	}
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

// ---------------------------------------------------------------------------- sessions

// Login authenticates by username and starts a session, returning its token.
func (s *Service) Login(ctx context.Context, username, password string) (*Account, string, error) {
	a, err := s.AuthenticateUsername(ctx, username, password)
	if err != nil {
		return nil, "", err
	}
	token, err := s.StartSession(ctx, a)
	if err != nil {
		return nil, "", err
	}
	return a, token, nil
}

// StartSession creates a session for an authenticated account.
func (s *Service) StartSession(ctx context.Context, a *Account) (string, error) {
	token, hash, err := NewSessionToken(s.Rand, a.UserID)
	if err != nil {
		return "", Internal("session token: %w", err)
	}
	now := s.now()
	sess := &Session{
		UserID:      a.UserID,
		TokenHash:   hash,
		CredVersion: a.CredVersion,
		CreatedAt:   now,
		ExpiresAt:   expiry(now, s.SessionTTL),
	}
	// A successful login ends the run of failures, in the same write as the session.
	if err := s.Store.CreateSession(ctx, sess, a.FailedLogins > 0); err != nil {
		return "", err
	}
	a.FailedLogins, a.LockedUntil = 0, time.Time{}
	return token, nil
}

// Authorize returns the account of a valid session token: the session exists, has not
// expired, and was made with the account's current credentials. One round trip.
func (s *Service) Authorize(ctx context.Context, token string) (*Account, *Session, error) {
	id, hash, ok := ParseSessionToken(token)
	if !ok {
		return nil, nil, ErrNotAuthenticated
	}
	sess, a, err := s.Store.SessionWithAccount(ctx, id, hash)
	if errors.Is(err, ErrNotFound) {
		return nil, nil, ErrNotAuthenticated
	}
	if err != nil {
		return nil, nil, err
	}
	if expired(s.now(), sess.ExpiresAt) || sess.CredVersion != a.CredVersion {
		return nil, nil, ErrNotAuthenticated
	}
	return a, sess, nil
}

// Logout ends the session of token. ErrNotAuthenticated when it is not a valid session.
func (s *Service) Logout(ctx context.Context, token string) error {
	_, sess, err := s.Authorize(ctx, token)
	if err != nil {
		return err
	}
	return s.Store.DeleteSession(ctx, sess.UserID, sess.TokenHash)
}

// ------------------------------------------------------------ one-time passwords (OTP)

// RequestOTP mails a 6-digit code to the account's address and returns the request id
// that must come back with it. The mail goes out before the code is stored, so a failed
// send leaves no usable code behind.
func (s *Service) RequestOTP(ctx context.Context, username string) (*Account, string, error) {
	a, err := s.AccountByUsername(ctx, username)
	if err != nil {
		return nil, "", err
	}
	if a.Email == "" {
		return nil, "", ErrNoEmail
	}
	if err := s.reserveMail(ctx, a); err != nil {
		return nil, "", err
	}
	reqID, reqHash, key, err := newReqID(s.Rand, a.UserID)
	if err != nil {
		return nil, "", Internal("otp request id: %w", err)
	}
	code, err := newOTPCode(s.Rand)
	if err != nil {
		return nil, "", Internal("otp code: %w", err)
	}
	if err := s.send(ctx, func(ctx context.Context) error {
		return s.Mailer.SendOTP(ctx, OTPMail{To: MailAddress(a.Email), Code: code, ValidFor: s.OTPTTL})
	}); err != nil {
		return nil, "", err
	}
	now := s.now()
	o := &OTP{
		UserID:    a.UserID,
		ReqIDHash: reqHash,
		UserHash:  a.UserHash(),
		CodeMAC:   otpMAC(key, code),
		CreatedAt: now,
		ExpiresAt: expiry(now, s.OTPTTL),
	}
	if err := s.Store.PutOTP(ctx, o); err != nil {
		return nil, "", err
	}
	return a, reqID, nil
}

// reserveMail applies the per-account mail limits (one per MailInterval, MailPerHour an
// hour) and records this mail before it is sent; a concurrent request for the same account
// loses the race and is refused, which is what the interval rule asks anyway. A mail that
// then fails to send still counts: the limit protects the mail service as much as the user.
// The recipient's and the installation's limits are counted in the same write, so a
// request any limit refuses costs no other.
func (s *Service) reserveMail(ctx context.Context, a *Account) error {
	now := s.now().Truncate(time.Second)
	var recent []time.Time
	for _, t := range a.MailSent {
		if now.Sub(t) < time.Hour {
			recent = append(recent, t)
		}
	}
	if n := len(recent); n > 0 {
		if wait := s.MailInterval - now.Sub(recent[n-1]); wait > 0 {
			return tooMany(wait)
		}
		if n >= s.MailPerHour {
			return tooMany(recent[n-s.MailPerHour].Add(time.Hour).Sub(now))
		}
	}
	next := append(recent[:len(recent):len(recent)], now)
	err := s.Store.ReserveMailQuota(ctx, a.UserID, a.MailSent, next, s.mailQuota(a, now))
	if errors.Is(err, ErrConflict) {
		return tooMany(s.MailInterval)
	}
	if errors.Is(err, ErrTooManyAttempts) {
		return s.quotaRefused(ctx, a, now, err)
	}
	if err != nil {
		return err
	}
	a.MailSent = next
	return nil
}

func (s *Service) send(ctx context.Context, fn func(context.Context) error) error {
	if s.Mailer == nil {
		return E(CodeMailFailed, errors.New("no mailer configured"))
	}
	ctx, cancel := context.WithTimeout(ctx, s.MailTimeout)
	defer cancel()
	if err := fn(ctx); err != nil {
		return E(CodeMailFailed, err)
	}
	return nil
}

// ChangePasswordWithOTP sets a new password with a mailed code. The new password is
// checked first so a valid code is never spent on an invalid password. Every check of a
// code is counted before it happens, against the code (MaxOTPAttempts) and against the
// account's budget (OTPFailuresPerDay), so racing guesses cannot exceed either; the
// request's source must be within its limit, and a wrong code or request id counts there.
func (s *Service) ChangePasswordWithOTP(ctx context.Context, userHash, reqID, code, newPassword string) error {
	if err := ValidatePassword(newPassword); err != nil {
		return err
	}
	userID, reqHash, key, ok := parseReqID(reqID)
	if !ok || !IsUserHash(userHash) {
		return ErrInvalidRequest
	}
	if !isOTPCode(code) {
		// Cannot be right; not worth an attempt. Whether the request exists is not
		// revealed by the answer either way.
		return ErrInvalidOTP
	}
	src, gated, err := s.sourceGate(ctx)
	if err != nil {
		return err
	}
	o, err := s.Store.SpendOTPAttempt(ctx, userID, reqHash, userHash, s.now(), s.MaxOTPAttempts)
	if errors.Is(err, ErrInvalidRequest) {
		s.sourceFailed(ctx, src, gated)
	}
	if err != nil {
		return err
	}
	// Only a request id of the account's pending code spends its budget, so made-up ones
	// cannot exhaust it. A successful change clears it.
	if err := s.spendGuess(ctx, userID); err != nil {
		if errors.Is(err, ErrNotFound) {
			return ErrInvalidRequest
		}
		return err
	}
	if !otpMatches(o.CodeMAC, key, code) {
		s.sourceFailed(ctx, src, gated)
		return ErrInvalidOTP
	}
	hash, err := s.Hasher.Hash(newPassword)
	if err != nil {
		return Internal("hash password: %w", err)
	}
	err = s.Store.ChangeCredentials(ctx, CredentialChange{
		UserID: userID, PasswordHash: &hash, ConsumeOTP: reqHash, Now: s.now(),
	})
	if errors.Is(err, ErrNotFound) {
		return ErrInvalidRequest // the account was deleted meanwhile
	}
	return err
}

// --------------------------------------------------------------------- reset tokens

// RequestPasswordReset mails a reset token (a random UUID) to the account with this
// email. A newer token replaces the older one. As with OTPs, the mail goes out first.
func (s *Service) RequestPasswordReset(ctx context.Context, email string) error {
	a, err := s.AccountByEmail(ctx, email)
	if err != nil {
		return err
	}
	if err := s.reserveMail(ctx, a); err != nil {
		return err
	}
	token, err := NewUUID(s.Rand)
	if err != nil {
		return Internal("reset token: %w", err)
	}
	if err := s.send(ctx, func(ctx context.Context) error {
		return s.Mailer.SendResetToken(ctx, ResetMail{To: MailAddress(a.Email), Token: token, ValidFor: s.ResetTTL})
	}); err != nil {
		return err
	}
	now := s.now()
	r := &ResetToken{TokenHash: HashSecret(token), UserID: a.UserID, CreatedAt: now, ExpiresAt: expiry(now, s.ResetTTL)}
	// A concurrent request may have moved the account's pointer; re-read and retry so the
	// token just mailed is the one that stays valid.
	for range 3 {
		err = s.Store.PutResetToken(ctx, r, a.ResetHash)
		if !errors.Is(err, ErrConflict) {
			return err
		}
		if a, err = s.Store.AccountByID(ctx, a.UserID); err != nil {
			return err
		}
	}
	return err
}

// ResetPasswordWithToken sets a new password with a mailed reset token. Validation of
// the token's shape and of the password comes before the lookup. A token that does not
// work is a failed guess (failedTokenGuess); a valid one (122 random bits, not guessable)
// is refused by no limit.
func (s *Service) ResetPasswordWithToken(ctx context.Context, token, newPassword string) error {
	canon, ok := CanonicalUUID(token)
	if err := ValidatePassword(newPassword); err != nil {
		return err
	}
	if !ok {
		return ErrTokenNotFound
	}
	hash := HashSecret(canon)
	r, err := s.Store.ResetToken(ctx, hash)
	if errors.Is(err, ErrTokenNotFound) {
		return s.failedTokenGuess(ctx, 0, err)
	}
	if err != nil {
		return err
	}
	if expired(s.now(), r.ExpiresAt) {
		return s.failedTokenGuess(ctx, r.UserID, ErrTokenExpired)
	}
	pw, err := s.Hasher.Hash(newPassword)
	if err != nil {
		return Internal("hash password: %w", err)
	}
	return s.Store.ChangeCredentials(ctx, CredentialChange{
		UserID: r.UserID, PasswordHash: &pw, ConsumeReset: hash, ResetHash: hash, Now: s.now(),
	})
}

// ------------------------------------------------------------------ password changes

// ChangePasswordByEmail sets a new password after checking the old one. Unknown email and
// wrong password are the same ErrInvalidCredentials.
func (s *Service) ChangePasswordByEmail(ctx context.Context, email, oldPassword, newPassword string) error {
	if err := ValidatePassword(newPassword); err != nil {
		return err
	}
	a, err := s.AuthenticateEmail(ctx, email, oldPassword)
	if err != nil {
		if errors.Is(err, ErrNoPassword) {
			return ErrInvalidCredentials
		}
		return err
	}
	hash, err := s.Hasher.Hash(newPassword)
	if err != nil {
		return Internal("hash password: %w", err)
	}
	old := a.PasswordHash
	err = s.Store.ChangeCredentials(ctx, CredentialChange{
		UserID: a.UserID, PasswordHash: &hash, IfPasswordHash: &old, ResetHash: a.ResetHash, Now: s.now(),
	})
	if errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) {
		// Someone changed the password (or deleted the account) between our check and
		// our write: the old password is no longer right.
		return ErrInvalidCredentials
	}
	return err
}

// ResetPasswordGenerated replaces the account's password with a generated one (at least
// 16 characters of [A-Za-z0-9]) and returns it. The caller has authorized the reset (an
// admin did); the account's user_secret stops working.
func (s *Service) ResetPasswordGenerated(ctx context.Context, a *Account) (string, error) {
	return s.resetGenerated(ctx, a, "")
}

// ResetPasswordWithSecret is ResetPasswordGenerated authorized by the account's own
// user_secret, the one route that keeps it. The write is conditional on the secret being
// still the one the caller verified: if another route set a password meanwhile (and so
// voided the secret), this is ErrNotAuthenticated.
func (s *Service) ResetPasswordWithSecret(ctx context.Context, a *Account) (string, error) {
	if a.SecretHash == "" {
		return "", ErrNotAuthenticated
	}
	pw, err := s.resetGenerated(ctx, a, a.SecretHash)
	if errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) {
		return "", ErrNotAuthenticated
	}
	return pw, err
}

func (s *Service) resetGenerated(ctx context.Context, a *Account, keepSecret string) (string, error) {
	pw, err := NewPassword(s.Rand, s.GeneratedPassword)
	if err != nil {
		return "", Internal("generate password: %w", err)
	}
	hash, err := s.Hasher.Hash(pw)
	if err != nil {
		return "", Internal("hash password: %w", err)
	}
	c := CredentialChange{UserID: a.UserID, PasswordHash: &hash, KeepSecret: keepSecret, ResetHash: a.ResetHash, Now: s.now()}
	if err := s.Store.ChangeCredentials(ctx, c); err != nil {
		return "", err
	}
	return pw, nil
}
