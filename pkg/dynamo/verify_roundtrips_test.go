package dynamo_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/accounttest"
)

// Registration with its verification mail stays 2 round trips (the verification and the
// mail's counters ride in its transaction); verifying is the read and the write; an email
// change request is (after the session) the key read, the source count, the reserved check, clearing it, the quota and the verification.
func TestRoundTripsVerification(t *testing.T) {
	ctx := account.WithSourceIP(context.Background(), "203.0.113.9")
	api := newCounting()
	mailer := &accounttest.Mailer{}
	svc := newService(t, api, mailer, account.Config{AllowRegistration: true})
	var a *account.Account
	withinBudget(t, api, "register with verification mail", 2, func() error {
		c, err := svc.Register(ctx, account.NewAccount{Username: "verifier", Email: "verifier@example.com", Password: "v-password", SelfService: true})
		if c != nil {
			a = c.Account
		}
		return err
	})
	v, err := mailer.LastVerification()
	if err != nil || v.To != "verifier@example.com" {
		t.Fatalf("verification mail %+v, %v", v, err)
	}
	withinBudget(t, api, "verify email (POST /user/verify-email)", 2, func() error { return svc.VerifyEmail(ctx, v.Token) })
	if got, _ := svc.Store.AccountByID(ctx, a.UserID); !got.EmailVerified {
		t.Fatal("not verified")
	}
	later := time.Now().Add(account.DefaultMailInterval)
	svc.Now = func() time.Time { return later }
	withinBudget(t, api, "email change (PUT /user/email, after the session check)", 6, func() error {
		return svc.RequestEmailChange(ctx, a, "Verifier@New.example", "v-password")
	})
	v, _ = mailer.LastVerification()
	withinBudget(t, api, "verify email change", 3, func() error { return svc.VerifyEmail(ctx, v.Token) })
	got, _ := svc.Store.AccountByID(ctx, a.UserID)
	if !strings.EqualFold(got.Email, "verifier@new.example") || !got.EmailVerified {
		t.Fatalf("after the change: %+v", got)
	}
}
