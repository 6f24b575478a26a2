package config

import (
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/pkg/config/defaults"
	"github.com/gatehouse/gatehouse/pkg/password"
)

// Scope says which functions' environment carries a setting in template.yaml.
type Scope int

const (
	Every   Scope = iota // every function (the Globals' Environment)
	Mailing              // the functions that send mail
	Admins               // the admin functions
)

// Setting is one variable of the functions' environment: the one definition of its
// default, its template parameter and its meaning, from which Load reads it, and against
// which tests/project checks template.yaml (parameter, default, wiring) and the README's
// configuration table.
type Setting struct {
	Env         string
	Parameter   string // the template parameter that sets it per stage; "" when a resource does
	Resource    string // the template resource whose !Ref it is, if any
	Default     string // what an empty or unset variable means; "" for none
	Description string // the README's wording
	Scope       Scope
	set         func(c *Config, v string) error // parses a non-empty value into c
}

// Settings is every setting of the functions. TABLE_NAME, SENDER_EMAIL and the
// token-index key are required where they apply (Load), the others have a default.
var Settings = []Setting{
	{Env: "TABLE_NAME", Resource: "AccountsTable", Description: "the DynamoDB table (the template's `AccountsTable`)", set: func(c *Config, v string) error { c.TableName = v; return nil }},
	{Env: "SENDER_EMAIL", Parameter: "SenderEmail", Scope: Mailing, Description: "From address of mails (a verified SES identity)", set: sender},
	{Env: "ALLOW_REGISTRATION", Parameter: "AllowRegistration", Default: strconv.FormatBool(defaults.AllowRegistration),
		Description: "self-service sign-up on/off (`true`/`false`)", set: boolean(func(c *Config) *bool { return &c.AllowRegistration })},
	{Env: "SESSION_TTL", Parameter: "SessionTTL", Default: duration(defaults.SessionTTL),
		Description: "session lifetime, Go duration", set: ttl(func(c *Config) *time.Duration { return &c.SessionTTL })},
	{Env: "OTP_TTL", Parameter: "OtpTtl", Default: duration(defaults.OTPTTL),
		Description: "lifetime of a one-time password, Go duration", set: ttl(func(c *Config) *time.Duration { return &c.OTPTTL })},
	{Env: "RESET_TTL", Parameter: "ResetTtl", Default: duration(defaults.ResetTTL),
		Description: "lifetime of a reset token, Go duration", set: ttl(func(c *Config) *time.Duration { return &c.ResetTTL })},
	{Env: "AUDIT_TTL", Parameter: "AuditTtl", Default: duration(defaults.AuditTTL),
		Description: "how long an account's stored audit events are kept (DynamoDB TTL), Go duration", set: ttl(func(c *Config) *time.Duration { return &c.AuditTTL })},
	{Env: "MAIL_INTERVAL", Parameter: "MailInterval", Default: duration(defaults.MailInterval),
		Description: "least time between two mails to one account (OTPs and reset tokens together)", set: ttl(func(c *Config) *time.Duration { return &c.MailInterval })},
	{Env: "MAIL_PER_HOUR", Parameter: "MailPerHour", Default: strconv.Itoa(defaults.MailPerHour),
		Description: "most mails to one account in an hour", set: count(func(c *Config) *int { return &c.MailPerHour }, 1, 1000)},
	{Env: "RECIPIENT_MAILS_PER_HOUR", Parameter: "RecipientMailsPerHour", Default: strconv.Itoa(defaults.RecipientMailsPerHour), Scope: Mailing,
		Description: "most mails to one recipient mailbox in a clock hour, from any accounts", set: count(func(c *Config) *int { return &c.RecipientMailsPerHour }, 1, 1000)},
	{Env: "MAIL_BUDGET_PER_HOUR", Parameter: "MailBudgetPerHour", Default: strconv.Itoa(defaults.MailBudgetPerHour), Scope: Mailing,
		Description: "most mails of the whole installation in a clock hour (SES reputation)", set: count(func(c *Config) *int { return &c.MailBudgetPerHour }, 1, 1_000_000)},
	{Env: "APP_URL", Parameter: "AppUrl", Scope: Mailing, Description: "base URL of the front end; verification mails link to `APP_URL/verify-email?token=…` (empty: the mail carries the token only)", set: appURL},
	{Env: "SES_CONFIGURATION_SET", Resource: "MailConfigurationSet", Scope: Mailing, Description: "SES configuration set every mail goes through (the template's `MailConfigurationSet`); empty: none", set: configSet},
	{Env: "LOG_LEVEL", Parameter: "LogLevel", Default: defaults.LogLevel, Description: "`DEBUG`, `INFO`, `WARN`, `ERROR`", set: logLevel},
	{Env: "OTP_FAILURES_PER_DAY", Parameter: "OtpFailuresPerDay", Default: strconv.Itoa(defaults.OTPFailuresPerDay),
		Description: "wrong one-time codes and reset-token guesses per account in any 24 h", set: count(func(c *Config) *int { return &c.OTPFailuresPerDay }, 1, 1000)},
	{Env: "IP_FAILED_CHECKS_PER_HOUR", Parameter: "IpFailedChecksPerHour", Default: strconv.Itoa(defaults.IPFailedChecksPerHour),
		Description: "failed credential checks per source IP (IPv6: per /64) per clock hour, across accounts; `0` turns it off", set: count(func(c *Config) *int { return &c.IPFailedChecksPerHour }, 0, 1_000_000)},
	{Env: "ARGON2_MEMORY_KIB", Parameter: "Argon2MemoryKib", Default: strconv.Itoa(int(password.OWASP.MemoryKiB)),
		Description: "argon2id memory in KiB (the default is OWASP's minimum)", set: argon(func(p *password.Params, x uint64) { p.MemoryKiB = uint32(x) }, 4*1024*1024)},
	{Env: "ARGON2_TIME", Parameter: "Argon2Time", Default: strconv.Itoa(int(password.OWASP.Time)),
		Description: "argon2id passes", set: argon(func(p *password.Params, x uint64) { p.Time = uint32(x) }, 64)},
	{Env: "ARGON2_THREADS", Parameter: "Argon2Threads", Default: strconv.Itoa(int(password.OWASP.Threads)),
		Description: "argon2id lanes", set: argon(func(p *password.Params, x uint64) { p.Threads = uint8(x) }, 255)},
	{Env: "EVENT_BUS_NAME", Parameter: "EventBusName", Description: "Amazon EventBridge bus of this account and region the audit events are also put on (its name; README, \"Audit events and metrics\"); empty: none",
		set: func(c *Config, v string) error { c.EventBusName = v; return nil }},
	{Env: "TOKEN_INDEX_KEY_ARN", Resource: "TokenIndexKeySecret", Scope: Admins, Description: "admin functions: the Secrets Manager secret holding the token-index key (the template's `TokenIndexKeySecret`), read once per cold start; required there, unless `TOKEN_INDEX_KEY`"},
	{Env: "TOKEN_INDEX_KEY", Scope: Admins, Description: "the token-index key itself, at least 32 characters (the local stack generates it into `.local/dynamodb/token-index-key`); never both"},
}

// duration writes d as the template and the README do: 168h, 15m, 90s.
func duration(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}

func boolean(field func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("must be true or false")
		}
		*field(c) = b
		return nil
	}
}

func ttl(field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			return fmt.Errorf("must be a duration of at least 1s, such as 15m")
		}
		*field(c) = d
		return nil
	}
}

func count(field func(*Config) *int, lo, hi uint64) func(*Config, string) error {
	return func(c *Config, v string) error {
		x, err := strconv.ParseUint(v, 10, 32)
		if err != nil || x < lo || x > hi {
			return fmt.Errorf("must be an integer from %d to %d", lo, hi)
		}
		*field(c) = int(x)
		return nil
	}
}

func argon(field func(*password.Params, uint64), hi uint64) func(*Config, string) error {
	return func(c *Config, v string) error {
		x, err := strconv.ParseUint(v, 10, 32)
		if err != nil || x == 0 || x > hi {
			return fmt.Errorf("must be an integer from 1 to %d", hi)
		}
		field(&c.Argon2, x)
		return nil
	}
}

func sender(c *Config, v string) error {
	if a, err := mail.ParseAddress(v); err != nil || a.Name != "" || a.Address != v {
		return fmt.Errorf("is not a bare email address")
	}
	c.SenderEmail = v
	return nil
}

// sesName is what SES allows as a configuration set name.
var sesName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func configSet(c *Config, v string) error {
	if !sesName.MatchString(v) {
		return fmt.Errorf("must be 1 to 64 letters, digits, _ or -")
	}
	c.SESConfigurationSet = v
	return nil
}

func logLevel(c *Config, v string) error {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(v))); err != nil {
		return fmt.Errorf("must be DEBUG, INFO, WARN or ERROR")
	}
	c.LogLevel = l
	return nil
}

// appURL accepts an absolute http(s) URL: it goes into mails as a link.
func appURL(c *Config, v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("APP_URL %q: want an absolute http(s) URL without query or fragment", v)
	}
	c.AppURL = strings.TrimRight(v, "/")
	return nil
}
