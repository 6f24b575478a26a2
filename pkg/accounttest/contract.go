package accounttest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// StoreContract runs the specification of account.Store against a fresh store from
// newStore for every subtest. The in-memory fake and the DynamoDB store both run it, so
// the fake cannot drift from the real thing.
func StoreContract(t *testing.T, newStore func(t *testing.T) account.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s account.Store)
	}{
		{"CreateAndRead", testCreateAndRead},
		{"UniqueUsernameAndEmail", testUnique},
		{"ConcurrentCreateOneUsername", testConcurrentCreate},
		{"IDsUniqueAndIncreasing", testIDs},
		{"ChangeCredentials", testChangeCredentials},
		{"ChangeCredentialsConsumesOTP", testConsumeOTP},
		{"ChangeCredentialsConsumesReset", testConsumeReset},
		{"Sessions", testSessions},
		{"OTPAttempts", testOTPAttempts},
		{"OTPAttemptsRace", testOTPRace},
		{"ResetTokens", testResetTokens},
		{"DeleteAccount", testDelete},
		{"ListUsernames", testList},
		{"LoginAttempts", testLoginAttempts},
		{"LoginAttemptsRace", testLoginAttemptsRace},
		{"MailReservations", testMail},
		// Issue 12: what a new password voids, promotion's email release, the admin count.
		{"PasswordChangeVoidsPending", testVoidPending},
		{"ReleaseEmail", testReleaseEmail},
		{"LastAdmin", testLastAdmin},
		{"LastAdminRace", testLastAdminRace},
		// The token index of Admin v2 Bearer tokens (tokenindex.go).
		{"TokenIndex", testTokenIndex},
		{"TokenIndexDelete", testTokenIndexDelete},
		{"TokenIndexRace", testTokenIndexRace},
		{"MailQuota", testMailQuota},
		// Limits beyond the account's failed logins (limits_contract.go).
		{"SourceFailures", testSourceFailures},
		{"UnknownAttempts", testUnknownAttempts},
		{"UnknownAttemptsRace", testUnknownAttemptsRace},
		{"FailuresForgotten", testFailuresForgotten},
		{"Guesses", testGuesses},
		{"GuessesRace", testGuessesRace},
		// The admin routes' reads and writes (admins.go).
		{"ReadBatch", testReadBatch},
		{"ChangeCredentialsFrom", testChangeCredentialsFrom},
		{"ClearingCarried", testClearingCarried},
		{"DeleteAccountNamed", testDeleteAccountNamed},
		{"ListAccounts", testListAccounts}, // export.go
		// Sessions an account's owner sees (contract_sessions.go).
		{"SessionMetadata", testSessionMetadata},
		{"TouchSession", testTouchSession},
		{"EndEverySession", testEndEverySession},
		// Self-service profile update (lifecycle.go).
		{"UpdateProfile", testUpdateProfile},
		// Email verification (contract_verify.go).
		{"CreateAccountWithVerification", testCreateWithVerification},
		{"ConfirmEmail", testConfirmEmail},
		{"ConfirmEmailChange", testConfirmEmailChange},
		{"ChangeCredentialsVerifiesEmail", testChangeVerifiesEmail},
		// Audit events (audit_contract.go).
		{"AuditEvents", testAuditEvents},
		{"AuditCarried", testAuditCarried},
		{"AuditCarriedLifecycle", testAuditCarriedLifecycle},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 123456789, time.UTC)

func newAccount(name, email string) *account.Account {
	a := &account.Account{
		Username: name, UsernameKey: name, Email: email, PasswordHash: "$argon2id$hash-of-" + name,
		Role: account.RoleUser, CredVersion: 1, CreatedAt: t0, UpdatedAt: t0,
	}
	if email != "" {
		a.EmailKey = email
	}
	return a
}

func mustCreate(t *testing.T, s account.Store, a *account.Account) *account.Account {
	t.Helper()
	if err := s.CreateAccount(context.Background(), a); err != nil {
		t.Fatalf("CreateAccount(%s): %v", a.Username, err)
	}
	return a
}

func wantCode(t *testing.T, what string, err error, want *account.Error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %s", what, err, want.Code)
	}
}

func sameAccount(t *testing.T, what string, got, want *account.Account) {
	t.Helper()
	g, w := *got, *want
	if !g.CreatedAt.Equal(w.CreatedAt) || !g.UpdatedAt.Equal(w.UpdatedAt) || !g.LockedUntil.Equal(w.LockedUntil) {
		t.Fatalf("%s: times %v/%v/%v, want %v/%v/%v", what, g.CreatedAt, g.UpdatedAt, g.LockedUntil, w.CreatedAt, w.UpdatedAt, w.LockedUntil)
	}
	if !slices.EqualFunc(g.MailSent, w.MailSent, time.Time.Equal) {
		t.Fatalf("%s: MailSent %v, want %v", what, g.MailSent, w.MailSent)
	}
	g.CreatedAt, g.UpdatedAt, w.CreatedAt, w.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	g.LockedUntil, w.LockedUntil, g.MailSent, w.MailSent = time.Time{}, time.Time{}, nil, nil
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, g, w)
	}
}

func testCreateAndRead(t *testing.T, s account.Store) {
	ctx := context.Background()
	a := newAccount("Alice", "Alice@Example.com")
	a.UsernameKey, a.EmailKey = "alice", "alice@example.com"
	a.TokenHash, a.SecretHash = "tokenhash", "secrethash"
	a.Name, a.Bio, a.Website, a.Pronounce = "Alice A", "bio ✓", "https://a.example", "AL-iss"
	a.Role = account.RoleAdmin
	mustCreate(t, s, a)
	if a.UserID <= 0 {
		t.Fatalf("UserID = %d, want > 0", a.UserID)
	}
	for what, get := range map[string]func() (*account.Account, error){
		"AccountByID":       func() (*account.Account, error) { return s.AccountByID(ctx, a.UserID) },
		"AccountByUsername": func() (*account.Account, error) { return s.AccountByUsername(ctx, "alice") },
		"AccountByEmail":    func() (*account.Account, error) { return s.AccountByEmail(ctx, "alice@example.com") },
	} {
		got, err := get()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		sameAccount(t, what, got, a)
	}
	// An account without email or password.
	b := newAccount("bob", "")
	b.PasswordHash, b.TokenHash = "", "tok"
	mustCreate(t, s, b)
	got, err := s.AccountByUsername(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	sameAccount(t, "no email", got, b)

	if id, err := s.UserIDByUsername(ctx, "alice"); err != nil || id != a.UserID {
		t.Fatalf("UserIDByUsername = %d, %v", id, err)
	}
	if id, err := s.UserIDByEmail(ctx, "alice@example.com"); err != nil || id != a.UserID {
		t.Fatalf("UserIDByEmail = %d, %v", id, err)
	}
	_, err = s.UserIDByUsername(ctx, "nobody")
	wantCode(t, "unknown username id", err, account.ErrNotFound)
	_, err = s.UserIDByEmail(ctx, "nobody@example.com")
	wantCode(t, "unknown email id", err, account.ErrNotFound)
	_, err = s.AccountByUsername(ctx, "nobody")
	wantCode(t, "unknown username", err, account.ErrNotFound)
	_, err = s.AccountByEmail(ctx, "nobody@example.com")
	wantCode(t, "unknown email", err, account.ErrNotFound)
	_, err = s.AccountByID(ctx, 1<<40)
	wantCode(t, "unknown id", err, account.ErrNotFound)
}

func ptr[T any](v T) *T { return &v }

func testChangeCredentials(t *testing.T, s account.Store) {
	ctx := context.Background()
	a := mustCreate(t, s, newAccount("grace", "grace@example.com"))
	t1 := t0.Add(time.Hour)

	err := s.ChangeCredentials(ctx, account.CredentialChange{UserID: a.UserID, PasswordHash: ptr("h2"), Now: t1})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := s.AccountByID(ctx, a.UserID)
	if got.PasswordHash != "h2" || got.CredVersion != 2 || !got.UpdatedAt.Equal(t1) || !got.CreatedAt.Equal(t0) {
		t.Fatalf("after change: %+v", got)
	}
	// KeepSessions: same version.
	err = s.ChangeCredentials(ctx, account.CredentialChange{UserID: a.UserID, PasswordHash: ptr("h3"), KeepSessions: true, IfPasswordHash: ptr("h2"), Now: t1})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = s.AccountByID(ctx, a.UserID)
	if got.PasswordHash != "h3" || got.CredVersion != 2 {
		t.Fatalf("after rehash: %+v", got)
	}
	// Compare-and-swap fails on a stale hash and changes nothing.
	err = s.ChangeCredentials(ctx, account.CredentialChange{UserID: a.UserID, PasswordHash: ptr("h4"), IfPasswordHash: ptr("h2"), Now: t1})
	wantCode(t, "stale IfPasswordHash", err, account.ErrConflict)
	got, _ = s.AccountByID(ctx, a.UserID)
	if got.PasswordHash != "h3" || got.CredVersion != 2 {
		t.Fatalf("failed change wrote: %+v", got)
	}
	// Token, secret, role; removing the password.
	err = s.ChangeCredentials(ctx, account.CredentialChange{UserID: a.UserID, PasswordHash: ptr(""), TokenHash: ptr("t1"), SecretHash: ptr("s1"), Role: ptr(account.RoleAdmin), Now: t1})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = s.AccountByID(ctx, a.UserID)
	if got.PasswordHash != "" || got.TokenHash != "t1" || got.SecretHash != "s1" || got.Role != account.RoleAdmin || got.CredVersion != 3 {
		t.Fatalf("after token change: %+v", got)
	}
	err = s.ChangeCredentials(ctx, account.CredentialChange{UserID: 1 << 40, PasswordHash: ptr("x"), Now: t1})
	wantCode(t, "unknown account", err, account.ErrNotFound)
}

func putOTP(t *testing.T, s account.Store, a *account.Account, reqHash string, exp time.Time) {
	t.Helper()
	o := &account.OTP{UserID: a.UserID, ReqIDHash: reqHash, UserHash: "uh-" + a.UsernameKey, CodeMAC: "mac-" + reqHash, CreatedAt: t0, ExpiresAt: exp}
	if err := s.PutOTP(context.Background(), o); err != nil {
		t.Fatal(err)
	}
}

func testConsumeOTP(t *testing.T, s account.Store) {
	ctx := context.Background()
	a := mustCreate(t, s, newAccount("heidi", "heidi@example.com"))
	putOTP(t, s, a, "req1", t0.Add(time.Hour))
	// A different request id is not consumed, and the password stays.
	err := s.ChangeCredentials(ctx, account.CredentialChange{UserID: a.UserID, PasswordHash: ptr("new"), ConsumeOTP: "other", Now: t0})
	wantCode(t, "wrong reqid", err, account.ErrOTPExpired)
	if got, _ := s.AccountByID(ctx, a.UserID); got.PasswordHash == "new" {
		t.Fatal("password changed although the OTP was not consumed")
	}
	if err := s.ChangeCredentials(ctx, account.CredentialChange{UserID: a.UserID, PasswordHash: ptr("new"), ConsumeOTP: "req1", Now: t0}); err != nil {
		t.Fatal(err)
	}
	err = s.ChangeCredentials(ctx, account.CredentialChange{UserID: a.UserID, PasswordHash: ptr("newer"), ConsumeOTP: "req1", Now: t0})
	wantCode(t, "second use", err, account.ErrOTPExpired)
	if got, _ := s.AccountByID(ctx, a.UserID); got.PasswordHash != "new" {
		t.Fatalf("password %q after failed second use", got.PasswordHash)
	}
	_, err = s.SpendOTPAttempt(ctx, a.UserID, "req1", "uh-heidi", t0, 5)
	wantCode(t, "consumed OTP", err, account.ErrOTPExpired)
	// A newer OTP replaces the used one.
	putOTP(t, s, a, "req2", t0.Add(time.Hour))
	if _, err := s.SpendOTPAttempt(ctx, a.UserID, "req2", "uh-heidi", t0, 5); err != nil {
		t.Fatalf("new OTP after a used one: %v", err)
	}
}

func testConsumeReset(t *testing.T, s account.Store) {
	ctx := context.Background()
	a := mustCreate(t, s, newAccount("ivan", "ivan@example.com"))
	r := &account.ResetToken{TokenHash: "rh1", UserID: a.UserID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if err := s.PutResetToken(ctx, r, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.ChangeCredentials(ctx, account.CredentialChange{UserID: a.UserID, PasswordHash: ptr("p2"), ConsumeReset: "rh1", Now: t0}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.AccountByID(ctx, a.UserID)
	if got.PasswordHash != "p2" || got.ResetHash != "" || got.CredVersion != 2 {
		t.Fatalf("after reset: %+v", got)
	}
	_, err := s.ResetToken(ctx, "rh1")
	wantCode(t, "used token", err, account.ErrTokenNotFound)
	err = s.ChangeCredentials(ctx, account.CredentialChange{UserID: a.UserID, PasswordHash: ptr("p3"), ConsumeReset: "rh1", Now: t0})
	wantCode(t, "second use", err, account.ErrTokenNotFound)

	// A token whose account is gone: not found for the account, and the token stays.
	b := mustCreate(t, s, newAccount("judy", "judy@example.com"))
	if err := s.PutResetToken(ctx, &account.ResetToken{TokenHash: "rh2", UserID: b.UserID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}, ""); err != nil {
		t.Fatal(err)
	}
	err = s.ChangeCredentials(ctx, account.CredentialChange{UserID: 1 << 40, PasswordHash: ptr("p"), ConsumeReset: "rh2", Now: t0})
	wantCode(t, "account gone", err, account.ErrNotFound)
	if _, err := s.ResetToken(ctx, "rh2"); err != nil {
		t.Fatalf("failed transaction consumed the token: %v", err)
	}
}

func testSessions(t *testing.T, s account.Store) {
	ctx := context.Background()
	a := mustCreate(t, s, newAccount("mallory", ""))
	sess := &account.Session{UserID: a.UserID, TokenHash: "sh1", CredVersion: 1, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour).Truncate(time.Second)}
	if err := s.CreateSession(ctx, sess, false); err != nil {
		t.Fatal(err)
	}
	gs, ga, err := s.SessionWithAccount(ctx, a.UserID, "sh1")
	if err != nil {
		t.Fatal(err)
	}
	if gs.UserID != a.UserID || gs.TokenHash != "sh1" || gs.CredVersion != 1 || !gs.CreatedAt.Equal(t0) || !gs.ExpiresAt.Equal(sess.ExpiresAt) {
		t.Fatalf("session %+v, want %+v", gs, sess)
	}
	sameAccount(t, "session account", ga, a)
	_, _, err = s.SessionWithAccount(ctx, a.UserID, "nope")
	wantCode(t, "unknown session", err, account.ErrNotFound)
	_, _, err = s.SessionWithAccount(ctx, a.UserID+1000, "sh1")
	wantCode(t, "other account", err, account.ErrNotFound)
	if err := s.DeleteSession(ctx, a.UserID, "sh1"); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.SessionWithAccount(ctx, a.UserID, "sh1")
	wantCode(t, "deleted session", err, account.ErrNotFound)
	// Deleting twice is not an error.
	if err := s.DeleteSession(ctx, a.UserID, "sh1"); err != nil {
		t.Fatal(err)
	}
}

func testOTPAttempts(t *testing.T, s account.Store) {
	ctx := context.Background()
	a := mustCreate(t, s, newAccount("niaj", "niaj@example.com"))
	exp := t0.Add(15 * time.Minute).Truncate(time.Second)
	putOTP(t, s, a, "r1", exp)
	_, err := s.SpendOTPAttempt(ctx, a.UserID, "r2", "uh-niaj", t0, 5)
	wantCode(t, "wrong reqid", err, account.ErrInvalidRequest)
	_, err = s.SpendOTPAttempt(ctx, a.UserID, "r1", "uh-other", t0, 5)
	wantCode(t, "wrong userhash", err, account.ErrInvalidRequest)
	_, err = s.SpendOTPAttempt(ctx, a.UserID+1000, "r1", "uh-niaj", t0, 5)
	wantCode(t, "no OTP", err, account.ErrInvalidRequest)
	for i := 1; i <= 3; i++ {
		o, err := s.SpendOTPAttempt(ctx, a.UserID, "r1", "uh-niaj", t0, 3)
		if err != nil {
			t.Fatal(err)
		}
		if o.Attempts != i || o.CodeMAC != "mac-r1" || !o.ExpiresAt.Equal(exp) {
			t.Fatalf("attempt %d: %+v", i, o)
		}
	}
	_, err = s.SpendOTPAttempt(ctx, a.UserID, "r1", "uh-niaj", t0, 3)
	wantCode(t, "out of attempts", err, account.ErrOTPExpired)
	// A new OTP replaces the old one with fresh attempts.
	putOTP(t, s, a, "r3", exp)
	_, err = s.SpendOTPAttempt(ctx, a.UserID, "r1", "uh-niaj", t0, 5)
	wantCode(t, "replaced OTP", err, account.ErrInvalidRequest)
	if _, err := s.SpendOTPAttempt(ctx, a.UserID, "r3", "uh-niaj", t0, 5); err != nil {
		t.Fatal(err)
	}
	_, err = s.SpendOTPAttempt(ctx, a.UserID, "r3", "uh-niaj", exp, 5)
	wantCode(t, "expired", err, account.ErrOTPExpired)
}

func testOTPRace(t *testing.T, s account.Store) {
	a := mustCreate(t, s, newAccount("olivia", "olivia@example.com"))
	putOTP(t, s, a, "race", t0.Add(time.Hour))
	ok, dead := concurrently(t, 20, func(int) error {
		_, err := s.SpendOTPAttempt(context.Background(), a.UserID, "race", "uh-olivia", t0, 5)
		return err
	}, is(account.ErrOTPExpired))
	if ok != 5 || dead != 15 {
		t.Fatalf("spent %d, refused %d; want 5 and 15", ok, dead)
	}
}

func testResetTokens(t *testing.T, s account.Store) {
	ctx := context.Background()
	a := mustCreate(t, s, newAccount("peggy", "peggy@example.com"))
	r1 := &account.ResetToken{TokenHash: "t1", UserID: a.UserID, CreatedAt: t0, ExpiresAt: t0.Add(30 * time.Minute).Truncate(time.Second)}
	if err := s.PutResetToken(ctx, r1, ""); err != nil {
		t.Fatal(err)
	}
	got, err := s.ResetToken(ctx, "t1")
	if err != nil {
		t.Fatal(err)
	}
	if got.UserID != r1.UserID || got.TokenHash != r1.TokenHash || !got.CreatedAt.Equal(r1.CreatedAt) || !got.ExpiresAt.Equal(r1.ExpiresAt) {
		t.Fatalf("ResetToken = %+v, want %+v", got, r1)
	}
	if acc, _ := s.AccountByID(ctx, a.UserID); acc.ResetHash != "t1" {
		t.Fatalf("account points at %q", acc.ResetHash)
	}
	// Replacing with a stale pointer conflicts and writes nothing.
	err = s.PutResetToken(ctx, &account.ResetToken{TokenHash: "t2", UserID: a.UserID, CreatedAt: t0, ExpiresAt: r1.ExpiresAt}, "")
	wantCode(t, "stale pointer", err, account.ErrConflict)
	if _, err := s.ResetToken(ctx, "t2"); !errors.Is(err, account.ErrTokenNotFound) {
		t.Fatalf("conflicting put stored its token: %v", err)
	}
	// Replacing properly deletes the older token.
	if err := s.PutResetToken(ctx, &account.ResetToken{TokenHash: "t3", UserID: a.UserID, CreatedAt: t0, ExpiresAt: r1.ExpiresAt}, "t1"); err != nil {
		t.Fatal(err)
	}
	_, err = s.ResetToken(ctx, "t1")
	wantCode(t, "replaced token", err, account.ErrTokenNotFound)
	if _, err := s.ResetToken(ctx, "t3"); err != nil {
		t.Fatal(err)
	}
	err = s.PutResetToken(ctx, &account.ResetToken{TokenHash: "t4", UserID: 1 << 40, CreatedAt: t0, ExpiresAt: r1.ExpiresAt}, "")
	wantCode(t, "unknown account", err, account.ErrNotFound)
}

func testDelete(t *testing.T, s account.Store) {
	ctx := context.Background()
	a := mustCreate(t, s, newAccount("quentin", "quentin@example.com"))
	putOTP(t, s, a, "q1", t0.Add(time.Hour))
	if err := s.PutResetToken(ctx, &account.ResetToken{TokenHash: "qr", UserID: a.UserID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}, ""); err != nil {
		t.Fatal(err)
	}
	for i := range 30 { // more than one batch of deletes
		if err := s.CreateSession(ctx, &account.Session{UserID: a.UserID, TokenHash: fmt.Sprintf("qs%d", i), CredVersion: 1, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}, false); err != nil {
			t.Fatal(err)
		}
	}
	cur, _ := s.AccountByID(ctx, a.UserID)
	if err := s.DeleteAccount(ctx, cur); err != nil {
		t.Fatal(err)
	}
	_, err := s.AccountByID(ctx, a.UserID)
	wantCode(t, "deleted account", err, account.ErrNotFound)
	_, _, err = s.SessionWithAccount(ctx, a.UserID, "qs7")
	wantCode(t, "session of deleted account", err, account.ErrNotFound)
	_, err = s.ResetToken(ctx, "qr")
	wantCode(t, "reset of deleted account", err, account.ErrTokenNotFound)
	_, err = s.SpendOTPAttempt(ctx, a.UserID, "q1", "uh-quentin", t0, 5)
	wantCode(t, "OTP of deleted account", err, account.ErrInvalidRequest)
	err = s.DeleteAccount(ctx, cur)
	wantCode(t, "delete twice", err, account.ErrNotFound)
	// Username and email are free again, under a new id.
	b := mustCreate(t, s, newAccount("quentin", "quentin@example.com"))
	if b.UserID == a.UserID {
		t.Fatal("id reused")
	}
}
