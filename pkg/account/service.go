package account

import (
	"crypto/rand"
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
	// AppURL, when set, makes verification mails carry a link APP_URL/verify-email?token=.
	AppURL string

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
	// AuditTTL is how long stored audit events are kept (audit.go).
	AuditTTL time.Duration // 90 days
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
	// Observer sees every audit event (audit.go); NopObserver unless WithObserver.
	Observer EventObserver
	Config

	cacheOnce sync.Once
	cache     *authCache
}

// NewService returns a Service with the real clock and crypto/rand, filling in defaults.
func NewService(store Store, hasher Hasher, mailer Mailer, cfg Config, log *slog.Logger, opts ...Option) *Service {
	positiveOr(&cfg.SessionTTL, DefaultSessionTTL)
	positiveOr(&cfg.OTPTTL, DefaultOTPTTL)
	positiveOr(&cfg.ResetTTL, DefaultResetTTL)
	positiveOr(&cfg.MaxOTPAttempts, DefaultMaxOTPAttempts)
	positiveOr(&cfg.MailTimeout, DefaultMailTimeout)
	positiveOr(&cfg.MailInterval, DefaultMailInterval)
	positiveOr(&cfg.MailPerHour, DefaultMailPerHour)
	positiveOr(&cfg.RecipientMailsPerHour, DefaultRecipientMailsPerHour)
	positiveOr(&cfg.MailBudgetPerHour, DefaultMailBudgetPerHour)
	positiveOr(&cfg.OTPFailuresPerDay, DefaultOTPFailuresPerDay)
	positiveOr(&cfg.AuditTTL, DefaultAuditTTL)
	if cfg.AdminAuthTTL == 0 { // negative: nothing remembered
		cfg.AdminAuthTTL = DefaultAdminAuthTTL
	}
	if cfg.IPFailedChecksPerHour == 0 { // negative: no per-source limit
		cfg.IPFailedChecksPerHour = DefaultIPFailedChecksPerHour
	}
	if cfg.GeneratedPassword < 16 {
		cfg.GeneratedPassword = DefaultGeneratedPassword
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{Store: store, Hasher: hasher, Mailer: mailer, Now: time.Now, Rand: rand.Reader, Log: log, Observer: NopObserver{}, Config: cfg}
	for _, o := range opts {
		o(s)
	}
	return s
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

// positiveOr sets *v to d unless it is positive: an unset (or nonsensical) setting takes
// its default.
func positiveOr[T int | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}
