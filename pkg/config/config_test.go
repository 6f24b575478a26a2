package config

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/password"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := Load(env(map[string]string{"TABLE_NAME": "t"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.TableName != "t" || !c.AllowRegistration || c.SessionTTL != 168*time.Hour || c.OTPTTL != 15*time.Minute || c.ResetTTL != 30*time.Minute || c.MailInterval != time.Minute || c.MailPerHour != 5 || c.LogLevel != slog.LevelInfo || c.Argon2 != password.OWASP {
		t.Fatalf("%+v", c)
	}
}

func TestValues(t *testing.T) {
	c, err := Load(env(map[string]string{
		"TABLE_NAME": "t", "SENDER_EMAIL": "no-reply@example.com", "ALLOW_REGISTRATION": "false",
		"SESSION_TTL": "30m", "OTP_TTL": "2s", "RESET_TTL": "1h", "MAIL_INTERVAL": "5s", "MAIL_PER_HOUR": "20", "LOG_LEVEL": "debug", "ARGON2_MEMORY_KIB": "65536", "ARGON2_TIME": "3", "ARGON2_THREADS": "2",
	}), NeedMail)
	if err != nil {
		t.Fatal(err)
	}
	if c.SenderEmail != "no-reply@example.com" || c.AllowRegistration || c.SessionTTL != 30*time.Minute || c.OTPTTL != 2*time.Second || c.ResetTTL != time.Hour || c.MailInterval != 5*time.Second || c.MailPerHour != 20 ||
		c.LogLevel != slog.LevelDebug || c.Argon2.MemoryKiB != 65536 || c.Argon2.Time != 3 || c.Argon2.Threads != 2 {
		t.Fatalf("%+v", c)
	}
}

func TestEveryProblemNamed(t *testing.T) {
	_, err := Load(env(map[string]string{
		"ALLOW_REGISTRATION": "maybe", "SESSION_TTL": "forever", "LOG_LEVEL": "LOUD", "ARGON2_TIME": "0",
	}), NeedMail)
	if err == nil {
		t.Fatal("no error")
	}
	for _, name := range []string{"TABLE_NAME", "SENDER_EMAIL", "ALLOW_REGISTRATION", "SESSION_TTL", "LOG_LEVEL", "ARGON2_TIME"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
	if _, err := Load(env(map[string]string{"TABLE_NAME": "t", "SENDER_EMAIL": "Gatehouse <x@example.com>"})); err == nil {
		t.Error("display-name sender accepted")
	}
	if _, err := Load(env(map[string]string{"TABLE_NAME": "t"})); err != nil {
		t.Errorf("SENDER_EMAIL required without NeedMail: %v", err)
	}
}

func TestFailedCheckLimits(t *testing.T) {
	c, err := Load(env(map[string]string{"TABLE_NAME": "t"}))
	if err != nil || c.OTPFailuresPerDay != 10 || c.IPFailedChecksPerHour != 100 {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	c, err = Load(env(map[string]string{"TABLE_NAME": "t", "OTP_FAILURES_PER_DAY": "3", "IP_FAILED_CHECKS_PER_HOUR": "0"}))
	if err != nil || c.OTPFailuresPerDay != 3 || c.IPFailedChecksPerHour != 0 {
		t.Fatalf("set: %+v %v", c, err)
	}
	_, err = Load(env(map[string]string{"TABLE_NAME": "t", "OTP_FAILURES_PER_DAY": "0", "IP_FAILED_CHECKS_PER_HOUR": "-1"}))
	for _, name := range []string{"OTP_FAILURES_PER_DAY", "IP_FAILED_CHECKS_PER_HOUR"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
}
