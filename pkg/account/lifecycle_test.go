package account_test

import (
	"errors"
	"testing"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// A profile update sets, clears and leaves fields as asked, validates like registration,
// refuses another username, and needs a current session.
func TestUpdateOwnProfile(t *testing.T) {
	e := newEnv(t)
	c, err := e.svc.Register(ctx, account.NewAccount{Username: "Paula", Password: "paula-password",
		Profile: account.Profile{Name: str("Paula P"), Bio: str("old"), Website: str("https://p.example")}})
	if err != nil {
		t.Fatal(err)
	}
	token := e.login(t, "paula", "paula-password")
	a, err := e.svc.UpdateOwnProfile(ctx, token, account.ProfileUpdate{Username: str("PAULA"),
		Profile: account.Profile{Bio: str("new"), Website: str("")}})
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != "Paula P" || a.Bio != "new" || a.Website != "" || a.Username != "Paula" {
		t.Fatalf("updated: %+v", a)
	}
	if got, _ := e.store.AccountByID(ctx, c.Account.UserID); got.Bio != "new" || got.Website != "" || got.Name != "Paula P" {
		t.Fatalf("stored: %+v", got)
	}
	for _, tc := range []struct {
		what string
		u    account.ProfileUpdate
		want *account.Error
	}{
		{"short name", account.ProfileUpdate{Profile: account.Profile{Name: str("ab")}}, account.Invalid(account.FieldName, account.ReasonLength)},
		{"control character", account.ProfileUpdate{Profile: account.Profile{Bio: str("a\nb")}}, account.Invalid(account.FieldBio, account.ReasonFormat)},
		{"another username", account.ProfileUpdate{Username: str("someone")}, account.ErrUsernameFixed},
		{"invalid username", account.ProfileUpdate{Username: str("a b")}, account.ErrUsernameFixed},
	} {
		_, err := e.svc.UpdateOwnProfile(ctx, token, tc.u)
		is(t, err, tc.want)
	}
	_, err = e.svc.UpdateOwnProfile(ctx, "no-such-token", account.ProfileUpdate{Profile: account.Profile{Bio: str("x")}})
	is(t, err, account.ErrNotAuthenticated)
	if got, _ := e.svc.UpdateOwnProfile(ctx, token, account.ProfileUpdate{}); got == nil || got.Bio != "new" {
		t.Fatalf("empty update: %+v", got)
	}
}

// Deleting one's own account checks the password under the failed-login policy, takes
// every record along and ends the sessions; the last admin stays.
func TestDeleteOwnAccount(t *testing.T) {
	e := newEnv(t)
	a := e.register(t, "dora", "dora@example.com", "dora-password")
	token := e.login(t, "dora", "dora-password")
	other := e.login(t, "dora", "dora-password")
	is(t, e.svc.DeleteOwnAccount(ctx, token, "wrong-password"), account.ErrInvalidCredentials)
	if got, _ := e.store.AccountByID(ctx, a.UserID); got.FailedLogins != 1 {
		t.Fatalf("failed logins after a wrong password: %d, want 1", got.FailedLogins)
	}
	is(t, e.svc.DeleteOwnAccount(ctx, token, "short"), account.Invalid(account.FieldPassword, account.ReasonLength))
	is(t, e.svc.DeleteOwnAccount(ctx, "nope", "dora-password"), account.ErrNotAuthenticated)
	if err := e.svc.DeleteOwnAccount(ctx, token, "dora-password"); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{token, other} {
		if _, _, err := e.svc.Authorize(ctx, tok); !errors.Is(err, account.ErrNotAuthenticated) {
			t.Fatalf("session after delete: %v", err)
		}
	}
	if e.store.SessionCount(a.UserID) != 0 {
		t.Fatal("sessions left behind")
	}
	e.register(t, "dora", "dora@example.com", "dora-password") // both free again

	// The lock: five free wrong passwords, then refused as a login is.
	e.register(t, "lena", "", "lena-password")
	lt := e.login(t, "lena", "lena-password")
	for i := range account.FreeLoginAttempts {
		if err := e.svc.DeleteOwnAccount(ctx, lt, "wrong-password"); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Fatalf("wrong password %d: %v", i+1, err)
		}
	}
	is(t, e.svc.DeleteOwnAccount(ctx, lt, "lena-password"), account.ErrTooManyAttempts)
	_, _, err := e.svc.Login(ctx, "lena", "lena-password")
	is(t, err, account.ErrTooManyAttempts)

	root, _, err := e.svc.EnsureAdmin(ctx, "root", "root-password")
	if err != nil {
		t.Fatal(err)
	}
	rt := e.login(t, "root", "root-password")
	is(t, e.svc.DeleteOwnAccount(ctx, rt, "root-password"), account.ErrLastAdmin)
	if got, err := e.store.AccountByID(ctx, root.UserID); err != nil || got.FailedLogins != 0 {
		t.Fatalf("last admin after refusal: %+v %v", got, err)
	}
	if _, _, err := e.svc.EnsureAdmin(ctx, "second", "second-password"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeleteOwnAccount(ctx, rt, "root-password"); err != nil {
		t.Fatalf("an admin with another admin left: %v", err)
	}
}
