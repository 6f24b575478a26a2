package account_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// pending holds an account's pending one-time code and reset token, as mailed.
type pending struct {
	userHash, reqID, code, token string
}

// requestBoth has an OTP and a reset token mailed for the account.
func (e *env) requestBoth(t *testing.T, a *account.Account) pending {
	t.Helper()
	_, reqID, err := e.svc.RequestOTP(ctx, a.Username)
	if err != nil {
		t.Fatal(err)
	}
	otp, _ := e.mailer.LastOTP()
	e.advance(time.Minute) // the per-account mail interval
	if err := e.svc.RequestPasswordReset(ctx, a.Email); err != nil {
		t.Fatal(err)
	}
	reset, _ := e.mailer.LastReset()
	e.advance(time.Minute)
	return pending{userHash: a.UserHash(), reqID: reqID, code: otp.Code, token: reset.Token}
}

// wantVoided checks that neither the code nor the token sets a password any more.
func (e *env) wantVoided(t *testing.T, what string, p pending, skipOTP, skipReset bool) {
	t.Helper()
	if !skipOTP {
		err := e.svc.ChangePasswordWithOTP(ctx, p.userHash, p.reqID, p.code, "attacker-password")
		if !errors.Is(err, account.ErrInvalidRequest) {
			t.Fatalf("%s: the pending OTP still answers %v", what, err)
		}
	}
	if !skipReset {
		err := e.svc.ResetPasswordWithToken(ctx, p.token, "attacker-password")
		if !errors.Is(err, account.ErrTokenNotFound) {
			t.Fatalf("%s: the pending reset token still answers %v", what, err)
		}
	}
}

// TestPasswordChangeVoidsPending: whichever route sets a new password, the account's other
// pending OTP and reset token die in the same write (issue 12, item 9).
func TestPasswordChangeVoidsPending(t *testing.T) {
	for _, tc := range []struct {
		name               string
		change             func(e *env, a *account.Account, p pending) error
		usesOTP, usesReset bool
	}{
		{"v1 changepassword", func(e *env, a *account.Account, _ pending) error {
			return e.svc.ChangePasswordByEmail(ctx, a.Email, "old-password", "new-password-1")
		}, false, false},
		{"admin update", func(e *env, a *account.Account, _ pending) error {
			_, err := e.svc.UpdateCredentials(ctx, a.Username, str("new-password-1"), nil)
			return err
		}, false, false},
		{"v1 resetpassword", func(e *env, a *account.Account, _ pending) error {
			cur, _ := e.store.AccountByID(ctx, a.UserID)
			_, err := e.svc.ResetPasswordGenerated(ctx, cur)
			return err
		}, false, false},
		{"OTP", func(e *env, a *account.Account, p pending) error {
			return e.svc.ChangePasswordWithOTP(ctx, p.userHash, p.reqID, p.code, "new-password-1")
		}, true, false},
		{"reset token", func(e *env, a *account.Account, p pending) error {
			return e.svc.ResetPasswordWithToken(ctx, p.token, "new-password-1")
		}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			a := e.register(t, "victim", "victim@example.com", "old-password")
			p := e.requestBoth(t, a)
			if err := tc.change(e, a, p); err != nil {
				t.Fatal(err)
			}
			e.wantVoided(t, tc.name, p, tc.usesOTP, tc.usesReset)
			if _, err := e.svc.AuthenticateUsername(ctx, "victim", "new-password-1"); tc.name != "v1 resetpassword" && err != nil {
				t.Fatalf("new password: %v", err)
			}
		})
	}
	// A token-only change is no password change: the pending records stay.
	e := newEnv(t)
	a := e.register(t, "keeper", "keeper@example.com", "old-password")
	p := e.requestBoth(t, a)
	if _, err := e.svc.UpdateCredentials(ctx, "keeper", nil, str("a-chosen-token")); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.ResetPasswordWithToken(ctx, p.token, "new-password-1"); err != nil {
		t.Fatalf("reset token after a token change: %v", err)
	}
}

// TestUserSecretDiesOnOtherRoutes: the v1 user_secret works only until a password is set
// by any other route (issue 12, item 2); resetting with the secret itself keeps it.
func TestUserSecretDiesOnOtherRoutes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(e *env, a *account.Account, pw string) error
	}{
		{"OTP", func(e *env, a *account.Account, pw string) error {
			p := e.requestBoth(t, a)
			return e.svc.ChangePasswordWithOTP(ctx, p.userHash, p.reqID, p.code, "owner-password")
		}},
		{"reset token", func(e *env, a *account.Account, pw string) error {
			p := e.requestBoth(t, a)
			return e.svc.ResetPasswordWithToken(ctx, p.token, "owner-password")
		}},
		{"v1 changepassword", func(e *env, a *account.Account, pw string) error {
			return e.svc.ChangePasswordByEmail(ctx, a.Email, pw, "owner-password")
		}},
		{"admin update", func(e *env, a *account.Account, pw string) error {
			_, err := e.svc.UpdateCredentials(ctx, a.Username, str("owner-password"), nil)
			return err
		}},
		{"v1 resetpassword by an admin", func(e *env, a *account.Account, pw string) error {
			_, err := e.svc.ResetPasswordGenerated(ctx, a)
			return err
		}},
		{"admin promotion", func(e *env, a *account.Account, pw string) error {
			_, _, err := e.svc.PromoteAdmin(ctx, a.Username, "owner-password")
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			c, err := e.svc.Register(ctx, account.NewAccount{Username: "squat@example.com", Email: "squat@example.com",
				Password: "first-password", WithUserSecret: true, SelfService: true})
			if err != nil {
				t.Fatal(err)
			}
			// The secret's own route keeps it, however often.
			var pw string
			for range 2 {
				cur, _ := e.store.AccountByID(ctx, c.Account.UserID)
				if pw, err = e.svc.ResetPasswordWithSecret(ctx, cur); err != nil {
					t.Fatalf("reset with the secret: %v", err)
				}
			}
			cur, _ := e.store.AccountByID(ctx, c.Account.UserID)
			if !account.SecretMatches(cur.SecretHash, c.UserSecret) {
				t.Fatal("the secret's own route dropped it")
			}
			cur, _ = e.store.AccountByID(ctx, c.Account.UserID)
			if err := tc.change(e, cur, pw); err != nil {
				t.Fatal(err)
			}
			after, _ := e.store.AccountByID(ctx, c.Account.UserID)
			if after.SecretHash != "" {
				t.Fatalf("user_secret still stored after %s", tc.name)
			}
			// What the handler would try with the stale account it read before.
			_, err = e.svc.ResetPasswordWithSecret(ctx, cur)
			is(t, err, account.ErrNotAuthenticated)
		})
	}
}

// TestPromoteAdmin: the bootstrap does not promote an existing account unless asked, and
// a promotion takes away everything its previous holder could use (issue 12, item 1).
func TestPromoteAdmin(t *testing.T) {
	e := newEnv(t)
	c, err := e.svc.Register(ctx, account.NewAccount{Username: "ops", Email: "attacker@example.com", Password: "attacker-pw",
		Token: "attacker-token", WithUserSecret: true, SelfService: true})
	if err != nil {
		t.Fatal(err)
	}
	a := c.Account
	session := e.login(t, "ops", "attacker-pw")
	p := e.requestBoth(t, a)

	_, _, err = e.svc.EnsureAdmin(ctx, "ops", "operator-password")
	is(t, err, account.ErrUsernameTaken)
	if cur, _ := e.store.AccountByID(ctx, a.UserID); cur.Role != account.RoleUser || cur.PasswordHash != a.PasswordHash {
		t.Fatalf("a refused promotion changed the account: %+v", cur)
	}

	got, created, err := e.svc.PromoteAdmin(ctx, "ops", "operator-password")
	if err != nil || created {
		t.Fatal(created, err)
	}
	cur, _ := e.store.AccountByID(ctx, a.UserID)
	if cur.Role != account.RoleAdmin || cur.Email != "" || cur.EmailKey != "" || cur.TokenHash != "" || cur.SecretHash != "" || cur.ResetHash != "" {
		t.Fatalf("promoted account keeps what its holder had: %+v", cur)
	}
	if got.Email != "" || got.TokenHash != "" || got.Role != account.RoleAdmin {
		t.Fatalf("returned account: %+v", got)
	}
	e.wantVoided(t, "promotion", p, false, false)
	_, _, err = e.svc.Authorize(ctx, session)
	is(t, err, account.ErrNotAuthenticated)
	for _, secret := range []string{"attacker-pw", "attacker-token"} {
		_, err = e.svc.AuthenticateAdmin(ctx, "ops", secret)
		is(t, err, account.ErrInvalidCredentials)
	}
	if _, err := e.svc.AuthenticateAdmin(ctx, "ops", "operator-password"); err != nil {
		t.Fatal(err)
	}
	// The address is free again, and no longer reaches the admin.
	_, err = e.svc.AccountByEmail(ctx, "attacker@example.com")
	is(t, err, account.ErrNotFound)
	e.register(t, "someone", "attacker@example.com", "someone-password")
	// An admin again: a new password, nothing else to take.
	if _, created, err := e.svc.EnsureAdmin(ctx, "ops", "operator-password-2"); err != nil || created {
		t.Fatal(created, err)
	}
}

// TestLastAdmin: two admins deleting each other at once cannot both succeed, and the
// last admin cannot be demoted (issue 12, item 10).
func TestLastAdmin(t *testing.T) {
	e := newEnv(t)
	a, _, _ := e.svc.EnsureAdmin(ctx, "admin-a", "admin-a-password")
	b, _, _ := e.svc.EnsureAdmin(ctx, "admin-b", "admin-b-password")
	errs := make([]error, 2)
	var wg sync.WaitGroup
	wg.Go(func() { errs[0] = e.svc.DeleteUser(ctx, a, "admin-b") })
	wg.Go(func() { errs[1] = e.svc.DeleteUser(ctx, b, "admin-a") })
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) || !errors.Is(errs[0], account.ErrLastAdmin) && !errors.Is(errs[1], account.ErrLastAdmin) {
		t.Fatalf("mutual deletes: %v, %v; want one success and one last admin", errs[0], errs[1])
	}
	names, _, _ := e.svc.ListUsers(ctx, "", 10)
	if len(names) != 1 {
		t.Fatalf("accounts left: %v", names)
	}
	left, _ := e.store.AccountByUsername(ctx, names[0])
	role := account.RoleUser
	err := e.store.ChangeCredentials(ctx, account.CredentialChange{UserID: left.UserID, Role: &role, KeepSessions: true, Now: e.now})
	is(t, err, account.ErrLastAdmin)
}
