package account_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
)

func (e *env) withConfig(t *testing.T, cfg account.Config) {
	t.Helper()
	cfg.AllowRegistration = true
	if cfg.TokenIndexKey == nil {
		cfg.TokenIndexKey = testIndexKey
	}
	// These tests are about other limits; the per-recipient mail limit has its own.
	if cfg.RecipientMailsPerHour == 0 {
		cfg.RecipientMailsPerHour = 1000
	}
	svc := account.NewService(e.store, e.hasher, e.mailer, cfg, nil)
	svc.Now = e.svc.Now
	e.svc = svc
}

func (e *env) otp(t *testing.T, username string) (reqID, code string) {
	t.Helper()
	_, reqID, err := e.svc.RequestOTP(ctx, username)
	if err != nil {
		t.Fatalf("request OTP: %v", err)
	}
	m, _ := e.mailer.LastOTP()
	return reqID, m.Code
}

func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

// Item 3 of issue 12: wrong codes are budgeted per account, not per code. Ten wrong codes
// spread over two OTPs spend the day's budget; a third OTP's right code is then refused
// until the oldest wrong guess is a day old, and a new password starts afresh.
func TestOTPGuessBudget(t *testing.T) {
	e := newEnv(t)
	e.svc.RecipientMailsPerHour = 100 // one address gets many codes; its own limit is tested in maillimits_test.go
	a := e.register(t, "olga", "olga@example.com", "right-password")
	start := e.svc.Now()
	for range 2 {
		reqID, code := e.otp(t, "olga")
		for range account.DefaultMaxOTPAttempts {
			is(t, e.svc.ChangePasswordWithOTP(ctx, a.UserHash(), reqID, wrongCode(code), "new-password"), account.ErrInvalidOTP)
		}
		e.advance(time.Minute) // the mail interval
	}
	reqID, code := e.otp(t, "olga")
	throttled(t, e.svc.ChangePasswordWithOTP(ctx, a.UserHash(), reqID, code, "new-password"), account.GuessWindow-2*time.Minute)
	// Made-up request ids of the account spend nothing (and are refused as before).
	is(t, e.svc.ChangePasswordWithOTP(ctx, a.UserHash(), "AAAAAAAAAAEAAAAAAAAAAAAAAAAAAAAA", code, "new-password"), account.ErrInvalidRequest)
	// A day after the first wrong guesses, the budget is back (for a fresh code).
	e.advance(account.GuessWindow - 2*time.Minute)
	if e.svc.Now().Sub(start) != account.GuessWindow {
		t.Fatal("clock")
	}
	reqID, code = e.otp(t, "olga")
	if err := e.svc.ChangePasswordWithOTP(ctx, a.UserHash(), reqID, code, "new-password"); err != nil {
		t.Fatalf("right code after a day: %v", err)
	}
	// The success (a new password) emptied the budget: ten fresh wrong guesses are allowed.
	e.advance(time.Minute)
	for range 2 {
		reqID, code := e.otp(t, "olga")
		for range account.DefaultMaxOTPAttempts {
			is(t, e.svc.ChangePasswordWithOTP(ctx, a.UserHash(), reqID, wrongCode(code), "newer-password"), account.ErrInvalidOTP)
		}
		e.advance(time.Minute)
	}
	reqID, code = e.otp(t, "olga")
	throttled(t, e.svc.ChangePasswordWithOTP(ctx, a.UserHash(), reqID, wrongCode(code), "newer-password"), account.GuessWindow-2*time.Minute)
}

// 50 racing wrong codes get at most the budget of checks (3 here, below one code's 5).
func TestOTPGuessBudgetRace(t *testing.T) {
	e := newEnv(t)
	e.withConfig(t, account.Config{OTPFailuresPerDay: 3})
	a := e.register(t, "pavel", "pavel@example.com", "right-password")
	reqID, code := e.otp(t, "pavel")
	var mu sync.Mutex
	codes := map[account.Code]int{}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			err := e.svc.ChangePasswordWithOTP(ctx, a.UserHash(), reqID, wrongCode(code), "new-password")
			mu.Lock()
			codes[account.ErrorCode(err)]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if codes[account.CodeInvalidOTP] != 3 || codes[account.CodeTooManyAttempts] != 2 || codes[account.CodeOTPExpired] != 45 {
		t.Fatalf("answers %v; want 3 checks, 2 refused by the budget, 45 by the code's tries", codes)
	}
}

// An expired reset token is a guess at its account and spends the account's budget; a
// valid token is never refused by it.
func TestResetTokenGuesses(t *testing.T) {
	e := newEnv(t)
	e.withConfig(t, account.Config{OTPFailuresPerDay: 2})
	e.register(t, "quinn", "quinn@example.com", "right-password")
	if err := e.svc.RequestPasswordReset(ctx, "quinn@example.com"); err != nil {
		t.Fatal(err)
	}
	old, _ := e.mailer.LastReset()
	e.advance(e.svc.ResetTTL)
	for range 2 {
		is(t, e.svc.ResetPasswordWithToken(ctx, old.Token, "new-password"), account.ErrTokenExpired)
	}
	throttled(t, e.svc.ResetPasswordWithToken(ctx, old.Token, "new-password"), account.GuessWindow)
	if err := e.svc.RequestPasswordReset(ctx, "quinn@example.com"); err != nil {
		t.Fatal(err)
	}
	fresh, _ := e.mailer.LastReset()
	if err := e.svc.ResetPasswordWithToken(ctx, fresh.Token, "new-password"); err != nil {
		t.Fatalf("a valid token with the budget spent: %v", err)
	}
}

func fromIP(ip string) context.Context { return account.WithSourceIP(context.Background(), ip) }

// Item 4 of issue 12: one source cannot lock out many accounts. Past
// IPFailedChecksPerHour failed checks in the hour, its checks are refused before they
// count against any account, on every route that checks a secret; other sources are not
// affected, and the next hour starts afresh.
func TestSourceLimit(t *testing.T) {
	e := newEnv(t)
	e.withConfig(t, account.Config{IPFailedChecksPerHour: 4})
	attacker := fromIP("198.51.100.7")
	names := []string{"rosa", "sven", "tara", "ugo", "vera"}
	for _, n := range names {
		e.register(t, n, n+"@example.com", "right-password")
	}
	// Four failed checks on four accounts (and unknown ones count too).
	for _, n := range names[:3] {
		_, _, err := e.svc.Login(attacker, n, "wrong-password")
		is(t, err, account.ErrInvalidCredentials)
	}
	_, _, err := e.svc.Login(attacker, "nobody-at-all", "wrong-password")
	is(t, err, account.ErrInvalidCredentials)
	wait := e.svc.Now().Truncate(time.Hour).Add(time.Hour).Sub(e.svc.Now())
	before := e.checks()
	// Now every check from there is refused, the right password too, without counting.
	_, _, err = e.svc.Login(attacker, "vera", "right-password")
	throttled(t, err, wait)
	throttled(t, e.svc.ChangePasswordByEmail(attacker, "vera@example.com", "wrong-password", "next-password"), wait)
	_, err = e.svc.AuthenticateAdmin(attacker, "vera", "wrong-password")
	throttled(t, err, wait)
	// Names without an account answer alike.
	_, _, err = e.svc.Login(attacker, "nobody-else", "wrong-password")
	throttled(t, err, wait)
	_, err = e.svc.AuthenticateAdmin(attacker, "nobody-else", "wrong-password")
	throttled(t, err, wait)
	reqID, code := e.otp(t, "vera")
	vera, _ := e.store.AccountByUsername(ctx, "vera")
	throttled(t, e.svc.ChangePasswordWithOTP(attacker, vera.UserHash(), reqID, code, "next-password"), wait)
	throttled(t, e.svc.ResetPasswordWithToken(attacker, "6f1c3c1e-8f7a-4b53-9d1e-2a3b4c5d6e7f", "next-password"), wait)
	if e.checks() != before {
		t.Fatal("a refused source's password was checked")
	}
	if a, _ := e.store.AccountByUsername(ctx, "vera"); a.FailedLogins != 0 {
		t.Fatalf("refused checks counted against the account: %d", a.FailedLogins)
	}
	// A valid reset token is not a guess: it works from there too.
	if err := e.svc.RequestPasswordReset(ctx, "ugo@example.com"); err != nil {
		t.Fatal(err)
	}
	m, _ := e.mailer.LastReset()
	if err := e.svc.ResetPasswordWithToken(attacker, m.Token, "next-password"); err != nil {
		t.Fatalf("valid reset token from a refused source: %v", err)
	}
	// Other sources are not affected; calls without a source (tools) neither.
	if _, _, err := e.svc.Login(fromIP("198.51.100.8"), "vera", "right-password"); err != nil {
		t.Fatal(err)
	}
	e.login(t, "vera", "right-password")
	// The code is still good from elsewhere.
	if err := e.svc.ChangePasswordWithOTP(fromIP("192.0.2.1"), vera.UserHash(), reqID, code, "next-password"); err != nil {
		t.Fatal(err)
	}
	e.advance(wait)
	if _, _, err := e.svc.Login(attacker, "rosa", "right-password"); err != nil {
		t.Fatalf("the next hour: %v", err)
	}
}

// IPv6 clients are counted by /64, since one subscriber holds a whole /64.
func TestSourceLimitIPv6(t *testing.T) {
	e := newEnv(t)
	e.withConfig(t, account.Config{IPFailedChecksPerHour: 2})
	e.register(t, "wim", "", "right-password")
	for _, ip := range []string{"2001:db8:1:2::1", "2001:db8:1:2:ffff::9"} {
		_, _, err := e.svc.Login(fromIP(ip), "wim", "wrong-password")
		is(t, err, account.ErrInvalidCredentials)
	}
	_, _, err := e.svc.Login(fromIP("2001:db8:1:2::3"), "wim", "right-password")
	throttled(t, err, time.Hour-e.svc.Now().Sub(e.svc.Now().Truncate(time.Hour)))
	if _, _, err := e.svc.Login(fromIP("2001:db8:1:3::1"), "wim", "right-password"); err != nil {
		t.Fatalf("another /64: %v", err)
	}
}

func TestSourceNet(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.7": "203.0.113.7", "::ffff:203.0.113.7": "203.0.113.7",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64", "fe80::1%eth0": "fe80::/64",
		"": "", "not-an-ip": "", "203.0.113.7:443": "",
	} {
		if got := account.SourceNet(in); got != want {
			t.Errorf("SourceNet(%q) = %q, want %q", in, got, want)
		}
	}
}

// A limit of -1 (IP_FAILED_CHECKS_PER_HOUR=0) switches the per-source limit off.
func TestSourceLimitOff(t *testing.T) {
	e := newEnv(t)
	e.withConfig(t, account.Config{IPFailedChecksPerHour: -1})
	for i := range 120 {
		_, _, err := e.svc.Login(fromIP("198.51.100.7"), "nobody-"+string(rune('a'+i%26))+string(rune('a'+i/26)), "wrong-password")
		is(t, err, account.ErrInvalidCredentials)
	}
}

// Item 4 of issue 12: a generated API token is checked before the lockout, so wrong
// passwords cannot lock its owner out (nor can a refused source); a chosen token keeps
// the lockout.
func TestGeneratedTokenIgnoresLockout(t *testing.T) {
	e := newEnv(t)
	e.withConfig(t, account.Config{IPFailedChecksPerHour: 5})
	if _, _, err := e.svc.EnsureAdmin(ctx, "ops", "ops-password"); err != nil {
		t.Fatal(err)
	}
	token, err := e.svc.RefreshToken(ctx, "ops")
	if err != nil {
		t.Fatal(err)
	}
	attacker := fromIP("198.51.100.7")
	for range 5 {
		_, err := e.svc.AuthenticateAdmin(attacker, "ops", "wrong-password")
		is(t, err, account.ErrInvalidCredentials)
	}
	_, err = e.svc.AuthenticateAdmin(ctx, "ops", "ops-password")
	throttled(t, err, time.Second)
	for _, from := range []context.Context{ctx, attacker} {
		if _, err := e.svc.AuthenticateAdmin(from, "ops", token); err != nil {
			t.Fatalf("generated token while locked: %v", err)
		}
	}
	// A chosen token is a slow hash like a password: the lockout applies.
	chosen := "a-chosen-token-1"
	if _, err := e.svc.UpdateCredentials(ctx, "ops", nil, &chosen); err != nil {
		t.Fatal(err)
	}
	e.advance(time.Second)
	_, err = e.svc.AuthenticateAdmin(ctx, "ops", "wrong-password") // the 6th failure: 2 s
	is(t, err, account.ErrInvalidCredentials)
	_, err = e.svc.AuthenticateAdmin(ctx, "ops", chosen)
	throttled(t, err, 2*time.Second)
}

// Item 8 of issue 12: an email or username without an account is counted and locked
// like one with, so the answers to wrong passwords are the same sequence.
func TestUnknownIdentifiersThrottled(t *testing.T) {
	e := newEnv(t)
	e.register(t, "xia", "xia@example.com", "right-password")
	seq := func(try func() error) []account.Code {
		var out []account.Code
		for range 8 {
			out = append(out, account.ErrorCode(try()))
		}
		e.advance(account.Lockout(5)) // past the first lock: one more check, then 2 s
		out = append(out, account.ErrorCode(try()), account.ErrorCode(try()))
		return out
	}
	for _, tc := range []struct {
		name           string
		known, unknown func() error
	}{
		{"changepassword",
			func() error {
				return e.svc.ChangePasswordByEmail(ctx, "xia@example.com", "wrong-password", "next-password")
			},
			func() error {
				return e.svc.ChangePasswordByEmail(ctx, "nobody@example.com", "wrong-password", "next-password")
			}},
		{"login",
			func() error { _, _, err := e.svc.Login(ctx, "xia", "wrong-password"); return err },
			func() error { _, _, err := e.svc.Login(ctx, "NoBody", "wrong-password"); return err }},
	} {
		known, unknown := seq(tc.known), seq(tc.unknown)
		if len(known) != len(unknown) || known[5] != account.CodeTooManyAttempts {
			t.Fatalf("%s: %v", tc.name, known)
		}
		for i := range known {
			if known[i] != unknown[i] {
				t.Fatalf("%s: known %v, unknown %v", tc.name, known, unknown)
			}
		}
		e.advance(account.FailureMemory) // the account's count is shared by the routes
	}
	// The same spelling by username and by email shares one count, as an account
	// registered by email has (its username is its email).
	for range 5 {
		_, _, err := e.svc.Login(ctx, "ghost@example.com", "wrong-password")
		is(t, err, account.ErrInvalidCredentials)
	}
	throttled(t, e.svc.ChangePasswordByEmail(ctx, "Ghost@example.com", "wrong-password", "next-password"), time.Second)
}
