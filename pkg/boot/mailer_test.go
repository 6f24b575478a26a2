package boot_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/accounttest"
	"github.com/gatehouse/gatehouse/pkg/boot"
	"github.com/gatehouse/gatehouse/pkg/config"
)

// The mailer is built from the configuration and handed to the service at construction.
func TestNewWithMailer(t *testing.T) {
	env := map[string]string{
		"TABLE_NAME": "gatehouse-test", "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
		"SENDER_EMAIL": "no-reply@example.com", "LOG_LEVEL": "ERROR",
	}
	getenv := func(k string) string { return env[k] }
	mailer := &accounttest.Mailer{}
	var sender string
	rt, err := boot.NewWith(context.Background(), getenv, func(cfg *config.Config, _ aws.Config, _ func(string) string) account.Mailer {
		sender = cfg.SenderEmail
		return mailer
	}, config.NeedMail)
	if err != nil {
		t.Fatal(err)
	}
	if rt.Service.Mailer != account.Mailer(mailer) || sender != "no-reply@example.com" {
		t.Fatalf("mailer %v, sender %q", rt.Service.Mailer, sender)
	}
	plain, err := boot.New(context.Background(), getenv)
	if err != nil {
		t.Fatal(err)
	}
	if plain.Service.Mailer != nil {
		t.Fatalf("a function without mail has mailer %v", plain.Service.Mailer)
	}
}
