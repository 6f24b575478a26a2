package accounttest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// withPending gives the account an OTP (request id reqHash) and a reset token (tokenHash).
func withPending(t *testing.T, s account.Store, a *account.Account, reqHash, tokenHash string) {
	t.Helper()
	putOTP(t, s, a, reqHash, t0.Add(time.Hour))
	cur, err := s.AccountByID(context.Background(), a.UserID)
	if err != nil {
		t.Fatal(err)
	}
	r := &account.ResetToken{TokenHash: tokenHash, UserID: a.UserID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if err := s.PutResetToken(context.Background(), r, cur.ResetHash); err != nil {
		t.Fatal(err)
	}
}

// pendingLeft reports whether the OTP and the reset token still exist.
func pendingLeft(t *testing.T, s account.Store, a *account.Account, reqHash, tokenHash string) (otp, reset bool) {
	t.Helper()
	ctx := context.Background()
	_, err := s.SpendOTPAttempt(ctx, a.UserID, reqHash, "uh-"+a.UsernameKey, t0, 100)
	switch {
	case err == nil, errors.Is(err, account.ErrOTPExpired):
		otp = true
	case !errors.Is(err, account.ErrInvalidRequest):
		t.Fatalf("spend OTP: %v", err)
	}
	_, err = s.ResetToken(ctx, tokenHash)
	switch {
	case err == nil:
		reset = true
	case !errors.Is(err, account.ErrTokenNotFound):
		t.Fatalf("reset token: %v", err)
	}
	return otp, reset
}

func testVoidPending(t *testing.T, s account.Store) {
	ctx := context.Background()
	a := newAccount("uma", "uma@example.com")
	a.SecretHash = "secret-1"
	mustCreate(t, s, a)
	stored := func() *account.Account {
		cur, err := s.AccountByID(ctx, a.UserID)
		if err != nil {
			t.Fatal(err)
		}
		return cur
	}

	// A rehash and a token change are no new password: everything stays.
	withPending(t, s, a, "u1", "ur1")
	for _, c := range []account.CredentialChange{
		{UserID: a.UserID, PasswordHash: ptr("rehashed"), KeepSessions: true, IfPasswordHash: ptr(a.PasswordHash), Now: t0},
		{UserID: a.UserID, TokenHash: ptr("tok"), Now: t0},
	} {
		if err := s.ChangeCredentials(ctx, c); err != nil {
			t.Fatal(err)
		}
		if otp, reset := pendingLeft(t, s, a, "u1", "ur1"); !otp || !reset || stored().SecretHash != "secret-1" || stored().ResetHash != "ur1" {
			t.Fatalf("voided without a new password: otp %v reset %v %+v", otp, reset, stored())
		}
	}

	// A new password voids both and the user_secret, even when the caller's reset hint is
	// stale ("" here).
	err := s.ChangeCredentials(ctx, account.CredentialChange{UserID: a.UserID, PasswordHash: ptr("p2"), Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	if otp, reset := pendingLeft(t, s, a, "u1", "ur1"); otp || reset {
		t.Fatalf("after a new password: otp %v reset %v", otp, reset)
	}
	if cur := stored(); cur.SecretHash != "" || cur.ResetHash != "" || cur.PasswordHash != "p2" {
		t.Fatalf("after a new password: %+v", cur)
	}

	// KeepSecret keeps the secret while it is the stored one, and otherwise changes nothing.
	if err := s.ChangeCredentials(ctx, account.CredentialChange{UserID: a.UserID, SecretHash: ptr("secret-2"), KeepSessions: true, Now: t0}); err != nil {
		t.Fatal(err)
	}
	withPending(t, s, a, "u2", "ur2")
	err = s.ChangeCredentials(ctx, account.CredentialChange{UserID: a.UserID, PasswordHash: ptr("p3"), KeepSecret: "secret-1", ResetHash: "ur2", Now: t0})
	wantCode(t, "stale KeepSecret", err, account.ErrConflict)
	if cur := stored(); cur.PasswordHash != "p2" || cur.SecretHash != "secret-2" || cur.ResetHash != "ur2" {
		t.Fatalf("failed change wrote: %+v", cur)
	}
	if err := s.ChangeCredentials(ctx, account.CredentialChange{UserID: a.UserID, PasswordHash: ptr("p3"), KeepSecret: "secret-2", ResetHash: "ur2", Now: t0}); err != nil {
		t.Fatal(err)
	}
	if otp, reset := pendingLeft(t, s, a, "u2", "ur2"); otp || reset || stored().SecretHash != "secret-2" {
		t.Fatalf("reset with the secret: otp %v reset %v %+v", otp, reset, stored())
	}

	// Consuming one kind voids the other kind.
	withPending(t, s, a, "u3", "ur3")
	if err := s.ChangeCredentials(ctx, account.CredentialChange{UserID: a.UserID, PasswordHash: ptr("p4"), ConsumeOTP: "u3", Now: t0}); err != nil {
		t.Fatal(err)
	}
	if _, reset := pendingLeft(t, s, a, "u3", "ur3"); reset {
		t.Fatal("the reset token survived a change by OTP")
	}
	_, err = s.SpendOTPAttempt(ctx, a.UserID, "u3", "uh-uma", t0, 5)
	wantCode(t, "consumed OTP", err, account.ErrOTPExpired)
	withPending(t, s, a, "u4", "ur4")
	if err := s.ChangeCredentials(ctx, account.CredentialChange{UserID: a.UserID, PasswordHash: ptr("p5"), ConsumeReset: "ur4", ResetHash: "ur4", Now: t0}); err != nil {
		t.Fatal(err)
	}
	if otp, reset := pendingLeft(t, s, a, "u4", "ur4"); otp || reset {
		t.Fatalf("after a reset by token: otp %v reset %v", otp, reset)
	}
	if cur := stored(); cur.PasswordHash != "p5" || cur.ResetHash != "" || cur.CredVersion != 6 {
		t.Fatalf("final: %+v", cur)
	}
}

func testReleaseEmail(t *testing.T, s account.Store) {
	ctx := context.Background()
	a := mustCreate(t, s, newAccount("victor", "victor@example.com"))
	role := account.RoleAdmin
	// A stale hint: the store releases the email the account has.
	err := s.ChangeCredentials(ctx, account.CredentialChange{UserID: a.UserID, PasswordHash: ptr("admin-pw"), TokenHash: ptr(""),
		SecretHash: ptr(""), Role: &role, ReleaseEmail: "old@example.com", Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	cur, _ := s.AccountByID(ctx, a.UserID)
	if cur.Email != "" || cur.EmailKey != "" || cur.Role != account.RoleAdmin || cur.PasswordHash != "admin-pw" {
		t.Fatalf("after promotion: %+v", cur)
	}
	if _, err := s.UserIDByEmail(ctx, "victor@example.com"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("email key kept: %v", err)
	}
	_, err = s.AccountByEmail(ctx, "victor@example.com")
	wantCode(t, "released email", err, account.ErrNotFound)
	mustCreate(t, s, newAccount("walter", "victor@example.com"))
	// Releasing when there is none is a no-op.
	if err := s.ChangeCredentials(ctx, account.CredentialChange{UserID: a.UserID, PasswordHash: ptr("admin-pw2"), ReleaseEmail: "victor@example.com", Now: t0}); err != nil {
		t.Fatal(err)
	}
	if id, err := s.UserIDByEmail(ctx, "victor@example.com"); err != nil || id == a.UserID {
		t.Fatalf("another account's email: %d %v", id, err)
	}
}

func newAdmin(t *testing.T, s account.Store, name string) *account.Account {
	a := newAccount(name, "")
	a.Role = account.RoleAdmin
	return mustCreate(t, s, a)
}

func testLastAdmin(t *testing.T, s account.Store) {
	ctx := context.Background()
	user := mustCreate(t, s, newAccount("xavier", ""))
	a, b := newAdmin(t, s, "yara"), newAdmin(t, s, "zed")
	admin, plain := account.RoleAdmin, account.RoleUser
	demote := func(x *account.Account) error {
		return s.ChangeCredentials(ctx, account.CredentialChange{UserID: x.UserID, Role: &plain, KeepSessions: true, Now: t0})
	}
	if err := demote(a); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "demote the last admin", demote(b), account.ErrLastAdmin)
	if cur, _ := s.AccountByID(ctx, b.UserID); cur.Role != account.RoleAdmin {
		t.Fatal("refused demotion wrote")
	}
	if err := s.ChangeCredentials(ctx, account.CredentialChange{UserID: user.UserID, Role: &admin, KeepSessions: true, Now: t0}); err != nil {
		t.Fatal(err)
	}
	// Demoting a user is no change of the count.
	if err := demote(a); err != nil {
		t.Fatal(err)
	}
	cur, _ := s.AccountByID(ctx, b.UserID)
	if err := s.DeleteAccount(ctx, cur); err != nil {
		t.Fatal(err)
	}
	cur, _ = s.AccountByID(ctx, user.UserID)
	wantCode(t, "delete the last admin", s.DeleteAccount(ctx, cur), account.ErrLastAdmin)
	if _, err := s.AccountByID(ctx, user.UserID); err != nil {
		t.Fatalf("refused deletion deleted: %v", err)
	}
	// An account read as a user but promoted since is an admin when deleted.
	stale, _ := s.AccountByID(ctx, a.UserID)
	if err := s.ChangeCredentials(ctx, account.CredentialChange{UserID: a.UserID, Role: &admin, KeepSessions: true, Now: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAccount(ctx, stale); err != nil {
		t.Fatal(err)
	}
	cur, _ = s.AccountByID(ctx, user.UserID)
	wantCode(t, "delete the last admin again", s.DeleteAccount(ctx, cur), account.ErrLastAdmin)
	// Plain accounts are deleted as before.
	if err := s.DeleteAccount(ctx, mustCreate(t, s, newAccount("yusuf", ""))); err != nil {
		t.Fatal(err)
	}
}

// testLastAdminRace deletes every admin at once: exactly one survives. The first round is
// two admins deleting each other; the second, the survivor and three new admins.
func testLastAdminRace(t *testing.T, s account.Store) {
	ctx := context.Background()
	var survivor *account.Account
	for round, fresh := range []int{2, 3} {
		var admins []*account.Account
		if survivor != nil {
			admins = append(admins, survivor)
		}
		for i := range fresh {
			admins = append(admins, newAdmin(t, s, fmt.Sprintf("race%d-admin%d", round, i)))
		}
		n := len(admins)
		won, last := concurrently(t, n, func(i int) error { return s.DeleteAccount(ctx, admins[i]) }, is(account.ErrLastAdmin))
		if won != n-1 || last != 1 {
			t.Fatalf("%d admins deleted at once: %d deleted, %d refused; want %d and 1", n, won, last, n-1)
		}
		survivor = nil
		for _, a := range admins {
			if cur, err := s.AccountByID(ctx, a.UserID); err == nil {
				survivor = cur
			}
		}
		if survivor == nil || survivor.Role != account.RoleAdmin {
			t.Fatalf("round %d: no admin left", round)
		}
	}
}
