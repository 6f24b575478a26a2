package account_test

import (
	"errors"
	"testing"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// ResetPasswordAuthorized: the account's own user_secret (which keeps working) or an
// admin's credentials reset the password; everything else is one ErrNotAuthenticated.
func TestResetPasswordAuthorized(t *testing.T) {
	e := newEnv(t)
	c, err := e.svc.Register(ctx, account.NewAccount{Username: "jane@example.com", Email: "jane@example.com",
		Password: "jane-password", SelfService: true, WithUserSecret: true})
	if err != nil {
		t.Fatal(err)
	}
	e.register(t, "plain", "plain@example.com", "plain-password")
	if _, _, err := e.svc.EnsureAdmin(ctx, "root", "root-password"); err != nil {
		t.Fatal(err)
	}
	bySecret := account.ResetCredentials{UserSecret: c.UserSecret, HasUserSecret: true}
	for _, tc := range []struct {
		name  string
		email string
		c     account.ResetCredentials
	}{
		{"no credentials", "jane@example.com", account.ResetCredentials{}},
		{"wrong secret", "jane@example.com", account.ResetCredentials{UserSecret: "wrong", HasUserSecret: true}},
		{"another account's secret", "plain@example.com", bySecret},
		{"unknown email", "nobody@example.com", bySecret},
		{"non-admin", "jane@example.com", account.ResetCredentials{AdminName: "plain", AdminSecret: "plain-password", HasAdmin: true}},
		{"admin, wrong password", "jane@example.com", account.ResetCredentials{AdminName: "root", AdminSecret: "wrong-password", HasAdmin: true}},
		{"admin, unknown email", "nobody@example.com", account.ResetCredentials{AdminName: "root", AdminSecret: "root-password", HasAdmin: true}},
	} {
		if _, _, err := e.svc.ResetPasswordAuthorized(ctx, tc.email, tc.c); !errors.Is(err, account.ErrNotAuthenticated) {
			t.Errorf("%s: %v, want ErrNotAuthenticated", tc.name, err)
		}
	}

	a, pw, err := e.svc.ResetPasswordAuthorized(ctx, "jane@example.com", bySecret)
	if err != nil || a.Email != "jane@example.com" {
		t.Fatalf("by secret: %v %v", a, err)
	}
	if _, err := e.svc.AuthenticateEmail(ctx, "jane@example.com", pw); err != nil {
		t.Fatalf("new password: %v", err)
	}
	if _, _, err := e.svc.ResetPasswordAuthorized(ctx, "jane@example.com", bySecret); err != nil {
		t.Fatalf("secret after a reset by secret: %v", err)
	}
	if _, pw, err = e.svc.ResetPasswordAuthorized(ctx, "jane@example.com",
		account.ResetCredentials{AdminName: "root", AdminSecret: "root-password", HasAdmin: true}); err != nil {
		t.Fatalf("by admin: %v", err)
	}
	if _, err := e.svc.AuthenticateEmail(ctx, "jane@example.com", pw); err != nil {
		t.Fatalf("new password: %v", err)
	}
}
