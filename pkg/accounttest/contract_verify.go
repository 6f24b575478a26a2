package accounttest

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// The Store contract of email verification (account.Store, verify.go).

func verification(email string) *account.EmailVerification {
	return &account.EmailVerification{TokenHash: "vh-" + email, Email: email, EmailKey: email, CredVersion: 1, CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour).Truncate(time.Second)}
}

func quota(recipient string, per int) account.MailQuota {
	return account.MailQuota{Recipient: recipient, Hour: t0.Truncate(time.Hour), PerRecipient: per, Budget: 1000}
}

// Registration writes the verification and counts the mail in its transaction; a counter
// at its limit leaves both out but still creates the account; the keys are checked first.
func testCreateWithVerification(t *testing.T, s account.Store) {
	ctx := context.Background()
	a := newAccount("vera", "vera@example.com")
	v := verification("vera@example.com")
	mailed, err := s.CreateAccountWithVerification(ctx, a, v, quota("r-vera", 1))
	if err != nil || !mailed {
		t.Fatalf("create: mailed %v, %v", mailed, err)
	}
	if v.UserID != a.UserID || a.UserID == 0 {
		t.Fatalf("verification of %d, account %d", v.UserID, a.UserID)
	}
	got, acc, err := s.VerificationWithAccount(ctx, a.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if got.TokenHash != v.TokenHash || got.EmailKey != v.EmailKey || got.Email != v.Email || got.CredVersion != 1 || !got.ExpiresAt.Equal(v.ExpiresAt) || acc.Username != "vera" {
		t.Fatalf("read back %+v / %s", got, acc.Username)
	}
	// The recipient's counter (limit 1) is spent: the next account on it gets no mail.
	b := newAccount("vera2", "vera2@example.com")
	mailed, err = s.CreateAccountWithVerification(ctx, b, verification("vera2@example.com"), quota("r-vera", 1))
	if err != nil || mailed {
		t.Fatalf("past the limit: mailed %v, %v", mailed, err)
	}
	if _, err := s.AccountByID(ctx, b.UserID); err != nil {
		t.Fatalf("account past the mail limit: %v", err)
	}
	_, _, err = s.VerificationWithAccount(ctx, b.UserID)
	wantCode(t, "no verification past the limit", err, account.ErrNotFound)
	// A taken username is reported as such, whatever the counters say.
	_, err = s.CreateAccountWithVerification(ctx, newAccount("vera", "other@example.com"), verification("other@example.com"), quota("r-vera", 1))
	wantCode(t, "taken username", err, account.ErrUsernameTaken)
	if err := s.ReserveMailQuota(ctx, a.UserID, nil, []time.Time{t0}, quota("r-vera", 1)); account.ErrorCode(err) != account.CodeTooManyAttempts {
		t.Fatalf("the registration's mail was not counted: %v", err)
	}
}

// Confirming the registered address marks it verified and consumes the token.
func testConfirmEmail(t *testing.T, s account.Store) {
	ctx := context.Background()
	a := newAccount("otto", "otto@example.com")
	v := verification("otto@example.com")
	if _, err := s.CreateAccountWithVerification(ctx, a, v, quota("r-otto", 3)); err != nil {
		t.Fatal(err)
	}
	if err := s.ConfirmEmail(ctx, v, a, t0); err != nil {
		t.Fatal(err)
	}
	got, _ := s.AccountByID(ctx, a.UserID)
	if !got.EmailVerified || got.EmailKey != "otto@example.com" {
		t.Fatalf("after confirming: %+v", got)
	}
	_, _, err := s.VerificationWithAccount(ctx, a.UserID)
	wantCode(t, "used verification", err, account.ErrNotFound)
	wantCode(t, "second use", s.ConfirmEmail(ctx, v, a, t0), account.ErrTokenNotFound)
}

// An email change: the new key is reserved and the old released in one write; a key
// another account holds refuses it and changes nothing; a stale account read (a password
// changed since) refuses it too; deleting the account takes its verification along.
func testConfirmEmailChange(t *testing.T, s account.Store) {
	ctx := context.Background()
	a := mustCreate(t, s, newAccount("paula", "paula@example.com"))
	mustCreate(t, s, newAccount("quinn", "quinn@example.com"))
	taken := verification("quinn@example.com")
	taken.UserID = a.UserID
	if err := s.PutVerification(ctx, taken); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "address of another account", s.ConfirmEmail(ctx, taken, a, t0), account.ErrEmailTaken)
	if _, _, err := s.VerificationWithAccount(ctx, a.UserID); err != nil {
		t.Fatalf("a refused confirmation consumed the token: %v", err)
	}
	v := verification("paula@new.example")
	v.UserID = a.UserID
	if err := s.PutVerification(ctx, v); err != nil { // replaces the older one
		t.Fatal(err)
	}
	wantCode(t, "replaced token", s.ConfirmEmail(ctx, taken, a, t0), account.ErrTokenNotFound)
	stale := *a
	stale.CredVersion = 0
	wantCode(t, "stale credential version", s.ConfirmEmail(ctx, v, &stale, t0), account.ErrTokenNotFound)
	if err := s.ConfirmEmail(ctx, v, a, t0); err != nil {
		t.Fatal(err)
	}
	got, _ := s.AccountByID(ctx, a.UserID)
	if got.Email != "paula@new.example" || got.EmailKey != "paula@new.example" || !got.EmailVerified {
		t.Fatalf("after the change: %+v", got)
	}
	if id, err := s.UserIDByEmail(ctx, "paula@new.example"); err != nil || id != a.UserID {
		t.Fatalf("new key: %d, %v", id, err)
	}
	_, err := s.UserIDByEmail(ctx, "paula@example.com")
	wantCode(t, "old key", err, account.ErrNotFound)

	again := verification("paula@third.example")
	again.UserID = a.UserID
	if err := s.PutVerification(ctx, again); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAccount(ctx, got); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.VerificationWithAccount(ctx, a.UserID)
	wantCode(t, "verification of a deleted account", err, account.ErrNotFound)
	mustCreate(t, s, newAccount("paula", "paula@third.example")) // its keys are free again
}

// Using an emailed OTP or reset token marks the address verified in the same write.
func testChangeVerifiesEmail(t *testing.T, s account.Store) {
	ctx := context.Background()
	a := mustCreate(t, s, newAccount("rita", "rita@example.com"))
	putOTP(t, s, a, "req1", t0.Add(time.Hour))
	err := s.ChangeCredentials(ctx, account.CredentialChange{UserID: a.UserID, PasswordHash: ptr("new"), ConsumeOTP: "other", Now: t0, VerifyEmail: true})
	wantCode(t, "wrong reqid", err, account.ErrOTPExpired)
	if got, _ := s.AccountByID(ctx, a.UserID); got.EmailVerified {
		t.Fatal("verified although the OTP was not consumed")
	}
	if err := s.ChangeCredentials(ctx, account.CredentialChange{UserID: a.UserID, PasswordHash: ptr("new"), ConsumeOTP: "req1", Now: t0, VerifyEmail: true}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.AccountByID(ctx, a.UserID); !got.EmailVerified {
		t.Fatal("not verified after the OTP was used")
	}
}
