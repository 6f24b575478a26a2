// Package config reads a function's configuration from its environment once per cold
// start, failing fast with every missing or invalid variable named at once.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/password"
)

// Config is everything a Gatehouse function reads from its environment.
type Config struct {
	TableName         string        // TABLE_NAME (required)
	SenderEmail       string        // SENDER_EMAIL (required with NeedMail)
	AllowRegistration bool          // ALLOW_REGISTRATION, default true
	SessionTTL        time.Duration // SESSION_TTL, Go duration, default 168h
	OTPTTL            time.Duration // OTP_TTL: lifetime of a one-time password, default 15m
	ResetTTL          time.Duration // RESET_TTL: lifetime of a reset token, default 30m
	MailInterval      time.Duration // MAIL_INTERVAL: least time between mails to one account, default 60s
	MailPerHour       int           // MAIL_PER_HOUR: most mails to one account an hour, default 5
	LogLevel          slog.Level    // LOG_LEVEL: DEBUG, INFO, WARN, ERROR; default INFO
	Argon2            password.Params

	// The token-index key of the admin functions (NeedTokenIndexKey), from exactly one of
	// TOKEN_INDEX_KEY_ARN, the Secrets Manager secret holding it (deployed stacks), and
	// TOKEN_INDEX_KEY, the key itself (the local stack and tests). Never logged.
	TokenIndexKeyARN string
	TokenIndexKey    string
	// Mail limits beyond the account's, and the SES configuration set mail goes through.
	RecipientMailsPerHour int    // RECIPIENT_MAILS_PER_HOUR: most mails to one address a clock hour, default 3
	MailBudgetPerHour     int    // MAIL_BUDGET_PER_HOUR: most mails of the installation a clock hour, default 1000
	SESConfigurationSet   string // SES_CONFIGURATION_SET: "" sends without one
	// Further limits (account/limits.go).
	OTPFailuresPerDay     int // OTP_FAILURES_PER_DAY: wrong codes/reset-token guesses per account per 24 h, default 10
	IPFailedChecksPerHour int // IP_FAILED_CHECKS_PER_HOUR: failed checks per source IP per hour, default 100, 0 = off
}

// Option adds a requirement to Load.
type Option func(*need)

type need struct{ mail, tokenIndexKey bool }

// NeedMail makes SENDER_EMAIL required (functions that send mail).
func NeedMail(n *need) { n.mail = true }

// NeedTokenIndexKey makes the token-index key required (the admin functions, which find
// Bearer tokens through it and set tokens).
func NeedTokenIndexKey(n *need) { n.tokenIndexKey = true }

// Load reads the configuration from getenv (os.Getenv when nil).
func Load(getenv func(string) string, opts ...Option) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var nd need
	for _, o := range opts {
		o(&nd)
	}
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	c := &Config{
		AllowRegistration: true, SessionTTL: 7 * 24 * time.Hour, OTPTTL: 15 * time.Minute, ResetTTL: 30 * time.Minute,
		MailInterval: time.Minute, MailPerHour: 5,
		LogLevel: slog.LevelInfo, Argon2: password.OWASP,
		RecipientMailsPerHour: 3, MailBudgetPerHour: 1000,
		OTPFailuresPerDay: 10, IPFailedChecksPerHour: 100,
	}

	if c.TableName = getenv("TABLE_NAME"); c.TableName == "" {
		fail("TABLE_NAME is required")
	}
	c.SenderEmail = getenv("SENDER_EMAIL")
	if c.SenderEmail == "" && nd.mail {
		fail("SENDER_EMAIL is required")
	} else if c.SenderEmail != "" {
		if a, err := mail.ParseAddress(c.SenderEmail); err != nil || a.Name != "" || a.Address != c.SenderEmail {
			fail("SENDER_EMAIL %q is not a bare email address", c.SenderEmail)
		}
	}
	if v := getenv("ALLOW_REGISTRATION"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			fail("ALLOW_REGISTRATION %q must be true or false", v)
		}
		c.AllowRegistration = b
	}
	duration := func(name string, dst *time.Duration, example string) {
		v := getenv(name)
		if v == "" {
			return
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			fail("%s %q must be a duration of at least 1s, such as %s", name, v, example)
			return
		}
		*dst = d
	}
	duration("SESSION_TTL", &c.SessionTTL, "168h")
	duration("OTP_TTL", &c.OTPTTL, "15m")
	duration("RESET_TTL", &c.ResetTTL, "30m")
	duration("MAIL_INTERVAL", &c.MailInterval, "60s")
	if v := getenv("LOG_LEVEL"); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(strings.ToUpper(v))); err != nil {
			fail("LOG_LEVEL %q must be DEBUG, INFO, WARN or ERROR", v)
		}
	}
	uintVar := func(name string, dst *uint32, max uint64) {
		v := getenv(name)
		if v == "" {
			return
		}
		x, err := strconv.ParseUint(v, 10, 32)
		if err != nil || x == 0 || x > max {
			fail("%s %q must be an integer from 1 to %d", name, v, max)
			return
		}
		*dst = uint32(x)
	}
	perHour := uint32(c.MailPerHour)
	uintVar("MAIL_PER_HOUR", &perHour, 1000)
	c.MailPerHour = int(perHour)
	mailLimits(getenv, c, uintVar, fail)
	otpFailures := uint32(c.OTPFailuresPerDay)
	uintVar("OTP_FAILURES_PER_DAY", &otpFailures, 1000)
	c.OTPFailuresPerDay = int(otpFailures)
	if v := getenv("IP_FAILED_CHECKS_PER_HOUR"); v != "" { // 0 is allowed: no per-IP limit
		x, err := strconv.ParseUint(v, 10, 32)
		if err != nil || x > 1_000_000 {
			fail("IP_FAILED_CHECKS_PER_HOUR %q must be an integer from 0 to 1000000", v)
		} else {
			c.IPFailedChecksPerHour = int(x)
		}
	}
	uintVar("ARGON2_MEMORY_KIB", &c.Argon2.MemoryKiB, 4*1024*1024)
	uintVar("ARGON2_TIME", &c.Argon2.Time, 64)
	var threads uint32 = uint32(c.Argon2.Threads)
	uintVar("ARGON2_THREADS", &threads, 255)
	c.Argon2.Threads = uint8(threads)
	if err := c.Argon2.Validate(); err != nil {
		fail("argon2 parameters: %v", err)
	}
	if nd.tokenIndexKey {
		if err := c.loadTokenIndexKey(getenv); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("configuration: %w", errors.Join(errs...))
	}
	return c, nil
}

func (c *Config) loadTokenIndexKey(getenv func(string) string) error {
	c.TokenIndexKeyARN, c.TokenIndexKey = getenv("TOKEN_INDEX_KEY_ARN"), getenv("TOKEN_INDEX_KEY")
	switch arn := c.TokenIndexKeyARN; {
	case arn == "" && c.TokenIndexKey == "":
		return errors.New("TOKEN_INDEX_KEY_ARN (the Secrets Manager secret of the token-index key) is required, or TOKEN_INDEX_KEY locally")
	case arn != "" && c.TokenIndexKey != "":
		return errors.New("TOKEN_INDEX_KEY_ARN and TOKEN_INDEX_KEY are both set: set only one")
	case arn != "" && (!strings.HasPrefix(arn, "arn:") || !strings.Contains(arn, ":secretsmanager:")):
		return fmt.Errorf("TOKEN_INDEX_KEY_ARN %q is not the ARN of a Secrets Manager secret", arn)
	case arn == "" && len(c.TokenIndexKey) < account.MinTokenIndexKey:
		return fmt.Errorf("TOKEN_INDEX_KEY must be at least %d characters", account.MinTokenIndexKey)
	}
	return nil
}
