package account_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// signUp registers through the service as a sign-up route does, verification mail included.
func (e *env) signUp(t *testing.T, username, email string) (*account.Account, account.VerifyMail) {
	t.Helper()
	c, err := e.svc.Register(ctx, account.NewAccount{Username: username, Email: email, Password: "right-password", SelfService: true})
	if err != nil {
		t.Fatalf("register %s: %v", username, err)
	}
	m, err := e.mailer.LastVerification()
	if err != nil {
		t.Fatal(err)
	}
	return c.Account, m
}

func (e *env) verified(t *testing.T, id int64) bool {
	t.Helper()
	a, err := e.store.AccountByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return a.EmailVerified
}

// Registering with an email mails a token (with a link under APP_URL, no username in it);
// the token verifies the address once; it expires after 24 h.
func TestVerifyEmail(t *testing.T) {
	e := newEnv(t)
	e.svc.AppURL = "https://app.example.com"
	a, m := e.signUp(t, "Vivian_Name", "Vivian@Example.com")
	if m.To != "Vivian@example.com" || m.ValidFor != 24*time.Hour || m.Token == "" ||
		m.Link != "https://app.example.com/verify-email?token="+m.Token || strings.Contains(m.Link+m.Token, "Vivian") {
		t.Fatalf("mail %+v", m)
	}
	if e.verified(t, a.UserID) {
		t.Fatal("verified before the token was used")
	}
	is(t, e.svc.VerifyEmail(ctx, "not-a-token"), account.ErrTokenNotFound)
	is(t, e.svc.VerifyEmail(ctx, ""), account.ErrTokenNotFound)
	if err := e.svc.VerifyEmail(ctx, m.Token); err != nil {
		t.Fatal(err)
	}
	if !e.verified(t, a.UserID) {
		t.Fatal("not verified")
	}
	is(t, e.svc.VerifyEmail(ctx, m.Token), account.ErrTokenNotFound) // single use

	_, m = e.signUp(t, "walter", "walter@example.com")
	e.advance(24 * time.Hour)
	is(t, e.svc.VerifyEmail(ctx, m.Token), account.ErrTokenExpired)
}

// A registration whose verification mail cannot go out still succeeds; so does one a mail
// limit refuses (then no mail is sent).
func TestRegisterWithoutVerificationMail(t *testing.T) {
	e := newEnv(t)
	e.mailer.Fail = errors.New("ses down")
	if _, err := e.svc.Register(ctx, account.NewAccount{Username: "xavier", Email: "x@example.com", Password: "right-password", SelfService: true}); err != nil {
		t.Fatalf("mail failure failed the registration: %v", err)
	}
	e.mailer.Fail = nil
	for i := range account.DefaultRecipientMailsPerHour + 1 {
		e.signUp(t, "yusuf"+string(rune('a'+i)), "yusuf+"+string(rune('a'+i))+"@example.com")
	}
	// The 3 before are the recipient's limit, the one past it gets none.
	if n := len(e.mailer.Verifications); n != account.DefaultRecipientMailsPerHour {
		t.Fatalf("%d verification mails to one mailbox, want %d", n, account.DefaultRecipientMailsPerHour)
	}
	if _, err := e.svc.AccountByUsername(ctx, "yusufd"); err != nil {
		t.Fatalf("the registration past the mail limit: %v", err)
	}
}

// A password change kills a pending token; so does deleting the account.
func TestVerifyTokenDies(t *testing.T) {
	e := newEnv(t)
	a, m := e.signUp(t, "zelda", "zelda@example.com")
	if err := e.svc.ChangePasswordByEmail(ctx, "zelda@example.com", "right-password", "other-password"); err != nil {
		t.Fatal(err)
	}
	is(t, e.svc.VerifyEmail(ctx, m.Token), account.ErrTokenNotFound)
	if e.verified(t, a.UserID) {
		t.Fatal("verified with a token from before the password change")
	}
	b, m := e.signUp(t, "yvonne", "yvonne@example.com")
	if err := e.store.DeleteAccount(ctx, b); err != nil {
		t.Fatal(err)
	}
	is(t, e.svc.VerifyEmail(ctx, m.Token), account.ErrTokenNotFound)
}

// An email change: password checked (a wrong one counts), the new address verified before
// it becomes the account's, a notice to the old one; 409 for a taken address, also when
// another account takes it meanwhile.
func TestEmailChange(t *testing.T) {
	e := newEnv(t)
	a, _ := e.signUp(t, "anna", "anna@example.com")
	e.register(t, "bert", "bert@example.com", "right-password")
	e.advance(time.Minute)
	is(t, e.svc.RequestEmailChange(ctx, a, "anna@new.example", "wrong-password"), account.ErrInvalidCredentials)
	if got, _ := e.store.AccountByID(ctx, a.UserID); got.FailedLogins != 1 {
		t.Fatalf("failed logins %d after a wrong password", got.FailedLogins)
	}
	is(t, e.svc.RequestEmailChange(ctx, a, "BERT@example.com", "right-password"), account.ErrEmailTaken)
	is(t, e.svc.RequestEmailChange(ctx, a, "Anna@Example.com", "right-password"), account.ErrEmailTaken)
	var invalid *account.Error
	if err := e.svc.RequestEmailChange(ctx, a, "not an email", "right-password"); !errors.As(err, &invalid) || invalid.Code != account.CodeInvalidInput {
		t.Fatalf("invalid email: %v", err)
	}
	if err := e.svc.RequestEmailChange(ctx, a, "Anna@New.example", "right-password"); err != nil {
		t.Fatal(err)
	}
	m, _ := e.mailer.LastVerification()
	if m.To != "Anna@new.example" || len(e.mailer.Notices) != 1 || e.mailer.Notices[0].To != "anna@example.com" {
		t.Fatalf("mails: %+v, notices %+v", m, e.mailer.Notices)
	}
	if got, _ := e.store.AccountByID(ctx, a.UserID); got.Email != "anna@example.com" || got.FailedLogins != 0 {
		t.Fatalf("before verifying: %+v", got)
	}
	if err := e.svc.VerifyEmail(ctx, m.Token); err != nil {
		t.Fatal(err)
	}
	got, _ := e.svc.AccountByEmail(ctx, "anna@new.example")
	if got == nil || got.UserID != a.UserID || !got.EmailVerified {
		t.Fatalf("after verifying: %+v", got)
	}
	if _, err := e.svc.AccountByEmail(ctx, "anna@example.com"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("old address still held: %v", err)
	}

	// Someone else takes the address between the request and the verification: 409.
	e.advance(time.Minute)
	if err := e.svc.RequestEmailChange(ctx, got, "anna@third.example", "right-password"); err != nil {
		t.Fatal(err)
	}
	m, _ = e.mailer.LastVerification()
	e.register(t, "carla", "anna@third.example", "right-password")
	is(t, e.svc.VerifyEmail(ctx, m.Token), account.ErrEmailTaken)
}

// Using an emailed reset token marks the address verified.
func TestResetVerifiesEmail(t *testing.T) {
	e := newEnv(t)
	a, _ := e.signUp(t, "doris", "doris@example.com")
	e.advance(time.Minute)
	if err := e.svc.RequestPasswordReset(ctx, "doris@example.com"); err != nil {
		t.Fatal(err)
	}
	r, _ := e.mailer.LastReset()
	if err := e.svc.ResetPasswordWithToken(ctx, r.Token, "new-password"); err != nil {
		t.Fatal(err)
	}
	if !e.verified(t, a.UserID) {
		t.Fatal("a used reset token did not verify the address")
	}
}
