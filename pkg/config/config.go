// Package config reads a function's configuration from its environment once per cold
// start, failing fast with every missing or invalid variable named at once.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/password"
)

// Config is everything a Gatehouse function reads from its environment; Settings
// (settings.go) defines each variable, its default and its template parameter.
type Config struct {
	TableName         string
	SenderEmail       string // required with NeedMail
	AllowRegistration bool
	SessionTTL        time.Duration
	OTPTTL            time.Duration
	ResetTTL          time.Duration
	AppURL            string // the front end's base URL for links in mails; "" for none
	AuditTTL          time.Duration
	MailInterval      time.Duration
	MailPerHour       int
	LogLevel          slog.Level
	Argon2            password.Params

	// The token-index key of the admin functions (NeedTokenIndexKey), from exactly one of
	// TOKEN_INDEX_KEY_ARN, the Secrets Manager secret holding it (deployed stacks), and
	// TOKEN_INDEX_KEY, the key itself (the local stack and tests). Never logged.
	TokenIndexKeyARN string
	TokenIndexKey    string
	// Mail limits beyond the account's, and the SES configuration set mail goes through
	// ("" sends without one).
	RecipientMailsPerHour int
	MailBudgetPerHour     int
	SESConfigurationSet   string
	// Further limits (account/limits.go); IPFailedChecksPerHour 0 is off.
	OTPFailuresPerDay     int
	IPFailedChecksPerHour int
	// The EventBridge bus audit events are put on; "" publishes none.
	EventBusName string
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
	c := &Config{Argon2: password.OWASP}
	for _, st := range Settings {
		v := getenv(st.Env)
		if v == "" {
			v = st.Default
		}
		if v == "" || st.set == nil {
			continue // required ones are checked below; the token-index key too
		}
		if err := st.set(c, v); err != nil {
			errs = append(errs, fmt.Errorf("%s %q %w", st.Env, v, err))
		}
	}
	if c.TableName == "" {
		errs = append(errs, errors.New("TABLE_NAME is required"))
	}
	if c.SenderEmail == "" && getenv("SENDER_EMAIL") == "" && nd.mail {
		errs = append(errs, errors.New("SENDER_EMAIL is required"))
	}
	if err := c.Argon2.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("argon2 parameters: %v", err))
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
