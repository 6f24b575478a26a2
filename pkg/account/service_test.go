package account_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/accounttest"
)

type env struct {
	svc    *account.Service
	store  *accounttest.Store
	mailer *accounttest.Mailer
	hasher *accounttest.Hasher
	mu     sync.Mutex
	now    time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{store: accounttest.NewStore(), mailer: &accounttest.Mailer{}, hasher: accounttest.NewHasher(),
		now: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
	e.svc = account.NewService(e.store, e.hasher, e.mailer, account.Config{AllowRegistration: true, TokenIndexKey: testIndexKey}, nil)
	e.svc.Now = func() time.Time {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.now
	}
	return e
}

func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = e.now.Add(d)
}

var ctx = context.Background()

// testIndexKey is the token-index key of the tests' services (the admin functions always
// have one).
var testIndexKey = []byte("test-token-index-key-0123456789abcdef")

// register is the fixture "an account exists": it sends no verification mail, so the
// tests of the other mails count only theirs (verify_test.go tests the verification mail).
func (e *env) register(t *testing.T, username, email, pw string) *account.Account {
	t.Helper()
	mailer := e.svc.Mailer
	e.svc.Mailer = nil
	c, err := e.svc.Register(ctx, account.NewAccount{Username: username, Email: email, Password: pw, SelfService: true})
	e.svc.Mailer = mailer
	if err != nil {
		t.Fatalf("register %s: %v", username, err)
	}
	return c.Account
}

func (e *env) login(t *testing.T, username, pw string) string {
	t.Helper()
	_, token, err := e.svc.Login(ctx, username, pw)
	if err != nil {
		t.Fatalf("login %s: %v", username, err)
	}
	return token
}

func is(t *testing.T, err error, want *account.Error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got %v, want %s", err, want.Code)
	}
}

func str(v string) *string { return &v }

func TestRegister(t *testing.T) {
	e := newEnv(t)
	c, err := e.svc.Register(ctx, account.NewAccount{
		Username: "Alice", Email: "Alice@Example.com", Password: "correct horse",
		Profile:     account.Profile{Name: str("Alice A."), Website: str("https://alice.example")},
		SelfService: true, WithUserSecret: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	a := c.Account
	if a.UserID != 1 || a.Username != "Alice" || a.UsernameKey != "alice" || a.Email != "Alice@Example.com" ||
		a.EmailKey != "alice@example.com" || a.Name != "Alice A." || a.Website != "https://alice.example" ||
		a.Role != account.RoleUser || a.CredVersion != 1 || !a.CreatedAt.Equal(e.now) {
		t.Fatalf("account %+v", a)
	}
	if !strings.HasPrefix(a.PasswordHash, "$argon2id$") || strings.Contains(a.PasswordHash, "correct horse") {
		t.Fatalf("password stored as %q", a.PasswordHash)
	}
	if len(c.UserSecret) != 44 || a.SecretHash == "" || a.SecretHash == c.UserSecret || !account.SecretMatches(a.SecretHash, c.UserSecret) {
		t.Fatalf("user secret %q stored as %q", c.UserSecret, a.SecretHash)
	}

	_, err = e.svc.Register(ctx, account.NewAccount{Username: "ALICE", Password: "whatever1", SelfService: true})
	is(t, err, account.ErrUsernameTaken)
	_, err = e.svc.Register(ctx, account.NewAccount{Username: "alice2", Email: "ALICE@example.COM", Password: "whatever1", SelfService: true})
	is(t, err, account.ErrEmailTaken)

	// The switch governs sign-up only.
	e.svc.AllowRegistration = false
	_, err = e.svc.Register(ctx, account.NewAccount{Username: "bob", Password: "whatever1", SelfService: true})
	is(t, err, account.ErrRegistrationDisabled)
	if _, err := e.svc.Register(ctx, account.NewAccount{Username: "bob", Password: "whatever1"}); err != nil {
		t.Fatalf("admin creation with registration off: %v", err)
	}
	// A token-only account has no password.
	c, err = e.svc.Register(ctx, account.NewAccount{Username: "robot", Token: "a-long-api-token", Role: account.RoleAdmin})
	if err != nil || c.Account.PasswordHash != "" || c.Account.TokenHash == "" || c.Account.Role != account.RoleAdmin {
		t.Fatalf("token account %+v, %v", c, err)
	}
}

func TestRegisterValidationOrder(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		n      account.NewAccount
		field  string
		reason account.Reason
	}{
		{account.NewAccount{Username: "", Email: "bad", Password: "x"}, account.FieldUsername, account.ReasonEmpty},
		{account.NewAccount{Username: "a b", Email: "bad", Password: "x"}, account.FieldUsername, account.ReasonWhitespace},
		{account.NewAccount{Username: "ab", Email: "bad", Password: "x"}, account.FieldUsername, account.ReasonLength},
		{account.NewAccount{Username: "abc", Email: "bad", Password: "x"}, account.FieldEmail, account.ReasonFormat},
		{account.NewAccount{Username: "abc", Email: "a@b.co", Password: "x"}, account.FieldPassword, account.ReasonLength},
		{account.NewAccount{Username: "abc", Password: ""}, account.FieldPassword, account.ReasonEmpty},
		{account.NewAccount{Username: "abc", Password: "12345678", Profile: account.Profile{Name: str("")}}, account.FieldName, account.ReasonEmpty},
		{account.NewAccount{Username: "abc", Password: "12345678", Token: "short"}, account.FieldToken, account.ReasonLength},
	}
	for _, tc := range tests {
		_, err := e.svc.Register(ctx, tc.n)
		if !errors.Is(err, account.Invalid(tc.field, tc.reason)) {
			t.Errorf("Register(%+v) = %v, want %s %s", tc.n, err, tc.field, tc.reason)
		}
	}
	if n := e.hasher.Hashes.Load(); n != 0 {
		t.Fatalf("invalid input was hashed %d times", n)
	}
}

func TestLogin(t *testing.T) {
	e := newEnv(t)
	a := e.register(t, "carol", "", "carol-password")

	got, token, err := e.svc.Login(ctx, "CAROL", "carol-password")
	if err != nil || got.UserID != a.UserID || token == "" {
		t.Fatalf("login: %+v %q %v", got, token, err)
	}
	if auth, _, err := e.svc.Authorize(ctx, token); err != nil || auth.UserID != a.UserID {
		t.Fatalf("authorize: %v", err)
	}

	before := e.hasher.Verifies.Load()
	_, _, err = e.svc.Login(ctx, "carol", "wrong-password")
	is(t, err, account.ErrInvalidCredentials)
	_, _, err = e.svc.Login(ctx, "nobody", "wrong-password")
	is(t, err, account.ErrInvalidCredentials)
	_, _, err = e.svc.Login(ctx, "no body!", "wrong-password")
	is(t, err, account.ErrInvalidCredentials)
	// Unknown and invalid usernames cost a (dummy) verification like a wrong password.
	if n := e.hasher.Verifies.Load() - before; n != 3 || e.hasher.Dummies.Load() != 2 {
		t.Fatalf("verifications %d, dummies %d; want 3 and 2", n, e.hasher.Dummies.Load())
	}
	_, _, err = e.svc.Login(ctx, "carol", strings.Repeat("x", 201))
	is(t, err, account.ErrInvalidCredentials)

	if _, err := e.svc.Register(ctx, account.NewAccount{Username: "tokenonly", Token: "token-token-token"}); err != nil {
		t.Fatal(err)
	}
	_, _, err = e.svc.Login(ctx, "tokenonly", "token-token-token")
	is(t, err, account.ErrNoPassword)
}

func TestLoginRehashesBcrypt(t *testing.T) {
	e := newEnv(t)
	a := e.register(t, "dave", "", "placeholder")
	legacy, err := bcrypt.GenerateFromPassword([]byte("legacy-password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	h := string(legacy)
	if err := e.store.ChangeCredentials(ctx, account.CredentialChange{UserID: a.UserID, PasswordHash: &h, Now: e.now}); err != nil {
		t.Fatal(err)
	}
	session := e.login(t, "dave", "legacy-password")
	cur, _ := e.store.AccountByID(ctx, a.UserID)
	if !strings.HasPrefix(cur.PasswordHash, "$argon2id$") {
		t.Fatalf("hash not upgraded: %q", cur.PasswordHash)
	}
	// The upgrade keeps sessions (same password), and the password still works.
	if _, _, err := e.svc.Authorize(ctx, session); err != nil {
		t.Fatalf("session after rehash: %v", err)
	}
	e.login(t, "dave", "legacy-password")
}

func TestSessions(t *testing.T) {
	e := newEnv(t)
	e.register(t, "erin", "", "erin-password")
	token := e.login(t, "erin", "erin-password")
	other := e.login(t, "erin", "erin-password")

	for _, bad := range []string{"", "garbage", token + "x", token[:len(token)-1] + "A", strings.ToUpper(token)} {
		if _, _, err := e.svc.Authorize(ctx, bad); !errors.Is(err, account.ErrNotAuthenticated) && bad != token {
			t.Errorf("Authorize(%q) = %v", bad, err)
		}
	}
	if err := e.svc.Logout(ctx, token); err != nil {
		t.Fatal(err)
	}
	_, _, err := e.svc.Authorize(ctx, token)
	is(t, err, account.ErrNotAuthenticated)
	is(t, e.svc.Logout(ctx, token), account.ErrNotAuthenticated)
	if _, _, err := e.svc.Authorize(ctx, other); err != nil {
		t.Fatalf("logout ended another session: %v", err)
	}
	// Expiry is checked on read: the fake never deletes anything.
	e.advance(account.DefaultSessionTTL - time.Second)
	if _, _, err := e.svc.Authorize(ctx, other); err != nil {
		t.Fatalf("session before expiry: %v", err)
	}
	e.advance(time.Second)
	_, _, err = e.svc.Authorize(ctx, other)
	is(t, err, account.ErrNotAuthenticated)
}

var sixDigits = regexp.MustCompile(`^[0-9]{6}$`)

func TestOTPFlow(t *testing.T) {
	e := newEnv(t)
	a := e.register(t, "Frank", "frank@example.com", "old-password")
	session := e.login(t, "frank", "old-password")

	got, reqID, err := e.svc.RequestOTP(ctx, "FRANK")
	if err != nil || got.UserID != a.UserID {
		t.Fatal(err)
	}
	mail, _ := e.mailer.LastOTP()
	if mail.To != "frank@example.com" || !sixDigits.MatchString(mail.Code) || mail.ValidFor != 15*time.Minute {
		t.Fatalf("mail %+v", mail)
	}
	uh := a.UserHash()

	// An invalid new password is refused before the code is looked at, and spends nothing.
	is(t, e.svc.ChangePasswordWithOTP(ctx, uh, reqID, mail.Code, "short"), account.Invalid(account.FieldPassword, account.ReasonLength))
	is(t, e.svc.ChangePasswordWithOTP(ctx, strings.Repeat("0", 64), reqID, mail.Code, "new-password"), account.ErrInvalidRequest)
	is(t, e.svc.ChangePasswordWithOTP(ctx, uh, "not-a-reqid", mail.Code, "new-password"), account.ErrInvalidRequest)
	wrong := "000000"
	if mail.Code == wrong {
		wrong = "111111"
	}
	is(t, e.svc.ChangePasswordWithOTP(ctx, uh, reqID, wrong, "new-password"), account.ErrInvalidOTP)
	is(t, e.svc.ChangePasswordWithOTP(ctx, uh, reqID, "12345", "new-password"), account.ErrInvalidOTP)

	if err := e.svc.ChangePasswordWithOTP(ctx, uh, reqID, mail.Code, "new-password"); err != nil {
		t.Fatal(err)
	}
	e.login(t, "frank", "new-password")
	_, _, err = e.svc.Login(ctx, "frank", "old-password")
	is(t, err, account.ErrInvalidCredentials)
	_, _, err = e.svc.Authorize(ctx, session)
	is(t, err, account.ErrNotAuthenticated)
	// Single use: a used code is expired.
	is(t, e.svc.ChangePasswordWithOTP(ctx, uh, reqID, mail.Code, "newer-password"), account.ErrOTPExpired)
}

func TestOTPDiesAfterFiveWrongTries(t *testing.T) {
	e := newEnv(t)
	a := e.register(t, "grace", "grace@example.com", "old-password")
	_, reqID, err := e.svc.RequestOTP(ctx, "grace")
	if err != nil {
		t.Fatal(err)
	}
	mail, _ := e.mailer.LastOTP()
	wrong := "000000"
	if mail.Code == wrong {
		wrong = "111111"
	}
	for range 5 {
		is(t, e.svc.ChangePasswordWithOTP(ctx, a.UserHash(), reqID, wrong, "new-password"), account.ErrInvalidOTP)
	}
	is(t, e.svc.ChangePasswordWithOTP(ctx, a.UserHash(), reqID, mail.Code, "new-password"), account.ErrOTPExpired)
}

func TestOTPExpiresAndIsReplaced(t *testing.T) {
	e := newEnv(t)
	a := e.register(t, "heidi", "heidi@example.com", "old-password")
	_, first, _ := e.svc.RequestOTP(ctx, "heidi")
	firstMail, _ := e.mailer.LastOTP()
	e.advance(account.DefaultMailInterval)
	_, second, _ := e.svc.RequestOTP(ctx, "heidi")
	secondMail, _ := e.mailer.LastOTP()
	is(t, e.svc.ChangePasswordWithOTP(ctx, a.UserHash(), first, firstMail.Code, "new-password"), account.ErrInvalidRequest)
	e.advance(15 * time.Minute)
	is(t, e.svc.ChangePasswordWithOTP(ctx, a.UserHash(), second, secondMail.Code, "new-password"), account.ErrOTPExpired)
}

func TestRequestOTPErrors(t *testing.T) {
	e := newEnv(t)
	e.register(t, "ivan", "", "ivan-password")
	e.register(t, "judy", "judy@example.com", "judy-password")
	_, _, err := e.svc.RequestOTP(ctx, "ivan")
	is(t, err, account.ErrNoEmail)
	_, _, err = e.svc.RequestOTP(ctx, "nobody")
	is(t, err, account.ErrNotFound)

	e.mailer.Fail = errors.New("ses unreachable")
	_, reqID, err := e.svc.RequestOTP(ctx, "judy")
	is(t, err, account.ErrMailFailed)
	if reqID != "" {
		t.Fatal("request id returned for a failed send")
	}
	if len(e.mailer.OTPs) != 0 {
		t.Fatal("mail recorded")
	}
}

func TestMailFailureLeavesNoOTP(t *testing.T) {
	e := newEnv(t)
	a := e.register(t, "kate", "kate@example.com", "kate-password")
	// Capture what would have been mailed by failing after recording.
	rec := &failingRecorder{}
	e.svc.Mailer = rec
	_, _, err := e.svc.RequestOTP(ctx, "kate")
	is(t, err, account.ErrMailFailed)
	// The code that did not go out must not work: there is no OTP for the account at all.
	_, err = e.store.SpendOTPAttempt(ctx, a.UserID, "any", a.UserHash(), e.now, 5)
	is(t, err, account.ErrInvalidRequest)
}

// failingRecorder sees the mail and then reports failure, like SES timing out after
// accepting the request.
type failingRecorder struct{ otp account.OTPMail }

func (f *failingRecorder) SendOTP(_ context.Context, m account.OTPMail) error {
	f.otp = m
	return errors.New("timeout")
}
func (f *failingRecorder) SendResetToken(context.Context, account.ResetMail) error {
	return errors.New("timeout")
}
func (f *failingRecorder) SendVerification(context.Context, account.VerifyMail) error {
	return errors.New("timeout")
}
func (f *failingRecorder) SendEmailChangeNotice(context.Context, account.EmailChangeNotice) error {
	return errors.New("timeout")
}

func TestResetTokenFlow(t *testing.T) {
	e := newEnv(t)
	e.register(t, "leo", "Leo@Example.com", "old-password")
	session := e.login(t, "leo", "old-password")

	if err := e.svc.RequestPasswordReset(ctx, "leo@example.com"); err != nil {
		t.Fatal(err)
	}
	mail, _ := e.mailer.LastReset()
	// Sent to the address as given, its domain in IDNA ASCII form (lowercase).
	if mail.To != "Leo@example.com" || mail.ValidFor != 30*time.Minute {
		t.Fatalf("mail %+v", mail)
	}
	if canon, ok := account.CanonicalUUID(mail.Token); !ok || canon != mail.Token || mail.Token[14] != '4' {
		t.Fatalf("token %q is not a canonical v4 UUID", mail.Token)
	}
	is(t, e.svc.ResetPasswordWithToken(ctx, mail.Token, "short"), account.Invalid(account.FieldPassword, account.ReasonLength))
	is(t, e.svc.ResetPasswordWithToken(ctx, "not-a-uuid", "new-password"), account.ErrTokenNotFound)
	if err := e.svc.ResetPasswordWithToken(ctx, strings.ToUpper(mail.Token), "new-password"); err != nil {
		t.Fatalf("upper-case token: %v", err)
	}
	e.login(t, "leo", "new-password")
	_, _, err := e.svc.Authorize(ctx, session)
	is(t, err, account.ErrNotAuthenticated)
	is(t, e.svc.ResetPasswordWithToken(ctx, mail.Token, "newer-password"), account.ErrTokenNotFound)

	is(t, e.svc.RequestPasswordReset(ctx, "nobody@example.com"), account.ErrNotFound)
}

func TestResetTokenExpiryAndReplacement(t *testing.T) {
	e := newEnv(t)
	e.register(t, "mia", "mia@example.com", "old-password")
	if err := e.svc.RequestPasswordReset(ctx, "mia@example.com"); err != nil {
		t.Fatal(err)
	}
	first, _ := e.mailer.LastReset()
	e.advance(account.DefaultMailInterval)
	if err := e.svc.RequestPasswordReset(ctx, "mia@example.com"); err != nil {
		t.Fatal(err)
	}
	second, _ := e.mailer.LastReset()
	is(t, e.svc.ResetPasswordWithToken(ctx, first.Token, "new-password"), account.ErrTokenNotFound)
	e.advance(30 * time.Minute)
	is(t, e.svc.ResetPasswordWithToken(ctx, second.Token, "new-password"), account.ErrTokenExpired)

	e.mailer.Fail = errors.New("down")
	is(t, e.svc.RequestPasswordReset(ctx, "mia@example.com"), account.ErrMailFailed)
}

func TestChangePasswordByEmail(t *testing.T) {
	e := newEnv(t)
	e.register(t, "nina", "nina@example.com", "old-password")
	session := e.login(t, "nina", "old-password")
	is(t, e.svc.ChangePasswordByEmail(ctx, "nina@example.com", "wrong-password", "new-password"), account.ErrInvalidCredentials)
	is(t, e.svc.ChangePasswordByEmail(ctx, "nobody@example.com", "old-password", "new-password"), account.ErrInvalidCredentials)
	is(t, e.svc.ChangePasswordByEmail(ctx, "nina@example.com", "old-password", "short"), account.Invalid(account.FieldPassword, account.ReasonLength))
	if err := e.svc.ChangePasswordByEmail(ctx, "NINA@example.com", "old-password", "new-password"); err != nil {
		t.Fatal(err)
	}
	e.login(t, "nina", "new-password")
	_, _, err := e.svc.Authorize(ctx, session)
	is(t, err, account.ErrNotAuthenticated)
}

func TestResetPasswordGenerated(t *testing.T) {
	e := newEnv(t)
	a := e.register(t, "oscar", "oscar@example.com", "old-password")
	session := e.login(t, "oscar", "old-password")
	pw, err := e.svc.ResetPasswordGenerated(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[A-Za-z0-9]{20}$`).MatchString(pw) {
		t.Fatalf("generated password %q", pw)
	}
	e.login(t, "oscar", pw)
	_, _, err = e.svc.Authorize(ctx, session)
	is(t, err, account.ErrNotAuthenticated)
}

func TestSecrets(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok, hash, err := account.NewSessionToken(cryptoRand, 42)
		if err != nil {
			t.Fatal(err)
		}
		if seen[tok] || len(tok) != 54 {
			t.Fatalf("token %q (len %d) repeated or wrong length", tok, len(tok))
		}
		seen[tok] = true
		id, h, ok := account.ParseSessionToken(tok)
		if !ok || id != 42 || h != hash || strings.Contains(hash, tok) {
			t.Fatalf("parse %q: %d %q %v", tok, id, h, ok)
		}
	}
	for _, bad := range []string{"", "AAAA", strings.Repeat("A", 54), strings.Repeat("!", 54)} {
		if _, _, ok := account.ParseSessionToken(bad); ok {
			t.Errorf("ParseSessionToken(%q) accepted", bad)
		}
	}
	pw, _ := account.NewPassword(cryptoRand, 16)
	if len(pw) != 16 {
		t.Fatal(pw)
	}
	tok, _ := account.NewAPIToken(cryptoRand)
	if len(tok) != 43 {
		t.Fatalf("api token %q", tok)
	}
}

func TestEnsureAdmin(t *testing.T) {
	e := newEnv(t)
	a, created, err := e.svc.EnsureAdmin(ctx, "admin", "first-password")
	if err != nil || !created || a.Role != account.RoleAdmin {
		t.Fatalf("%+v %v %v", a, created, err)
	}
	session := e.login(t, "admin", "first-password")
	a, created, err = e.svc.EnsureAdmin(ctx, "Admin", "second-password")
	if err != nil || created || a.Role != account.RoleAdmin {
		t.Fatalf("second: %+v %v %v", a, created, err)
	}
	e.login(t, "admin", "second-password")
	_, _, err = e.svc.Authorize(ctx, session)
	is(t, err, account.ErrNotAuthenticated)
	// An ordinary user is not promoted without asking (PromoteAdmin).
	e.register(t, "paul", "", "paul-password")
	_, _, err = e.svc.EnsureAdmin(ctx, "paul", "paul-admin-pw")
	is(t, err, account.ErrUsernameTaken)
	if cur, _ := e.store.AccountByUsername(ctx, "paul"); cur.Role != account.RoleUser {
		t.Fatal("EnsureAdmin promoted an existing user")
	}
	p, created, err := e.svc.PromoteAdmin(ctx, "paul", "paul-admin-pw")
	if err != nil || created || p.Role != account.RoleAdmin {
		t.Fatalf("promote: %+v %v %v", p, created, err)
	}
	if cur, _ := e.store.AccountByID(ctx, p.UserID); cur.Role != account.RoleAdmin {
		t.Fatal("role not stored")
	}
	_, _, err = e.svc.EnsureAdmin(ctx, "x", "short")
	is(t, err, account.Invalid(account.FieldUsername, account.ReasonLength))
	_, _, err = e.svc.EnsureAdmin(ctx, "paul", "short")
	is(t, err, account.Invalid(account.FieldPassword, account.ReasonLength))
	if cur, _ := e.store.AccountByID(ctx, p.UserID); !strings.HasPrefix(cur.PasswordHash, "$argon2id$") || cur.PasswordHash != p.PasswordHash {
		t.Fatal("a refused promotion changed the password")
	}
	_, _, err = e.svc.EnsureAdmin(ctx, "ad:min", "long-enough-pw")
	is(t, err, account.Invalid(account.FieldUsername, account.ReasonFormat))
}
