package account_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
)

func TestLockout(t *testing.T) {
	for n, want := range map[int]time.Duration{
		0: 0, 4: 0, 5: time.Second, 6: 2 * time.Second, 7: 4 * time.Second, 14: 512 * time.Second,
		15: account.MaxLockout, 16: account.MaxLockout, 1000: account.MaxLockout,
	} {
		if got := account.Lockout(n); got != want {
			t.Errorf("Lockout(%d) = %v, want %v", n, got, want)
		}
	}
}

// throttled asserts a 429-style refusal with the given wait.
func throttled(t *testing.T, err error, retryAfter time.Duration) {
	t.Helper()
	var e *account.Error
	if !errors.As(err, &e) || e.Code != account.CodeTooManyAttempts || e.RetryAfter != retryAfter {
		t.Fatalf("got %v, want too_many_attempts after %v", err, retryAfter)
	}
}

func (e *env) checks() int64 { return e.hasher.Verifies.Load() - e.hasher.Dummies.Load() }

func TestLoginThrottle(t *testing.T) {
	e := newEnv(t)
	e.register(t, "uma", "", "right-password")
	for i := 1; i <= 5; i++ {
		_, _, err := e.svc.Login(ctx, "uma", "wrong-password")
		is(t, err, account.ErrInvalidCredentials)
	}
	before := e.checks()
	_, _, err := e.svc.Login(ctx, "uma", "right-password")
	throttled(t, err, time.Second)
	if e.checks() != before {
		t.Fatal("a locked account's password was checked")
	}
	e.advance(time.Second)
	_, _, err = e.svc.Login(ctx, "uma", "wrong-password") // the 6th failure: 2 s
	is(t, err, account.ErrInvalidCredentials)
	e.advance(time.Second)
	_, _, err = e.svc.Login(ctx, "uma", "right-password")
	throttled(t, err, time.Second)
	e.advance(time.Second)
	e.login(t, "uma", "right-password")
	// The success reset the count: five more failures are free again.
	for i := 1; i <= 5; i++ {
		_, _, err := e.svc.Login(ctx, "uma", "wrong-password")
		is(t, err, account.ErrInvalidCredentials)
	}
	_, _, err = e.svc.Login(ctx, "UMA", "wrong-password")
	throttled(t, err, time.Second)
	// Impossible passwords are refused without counting (and without a real check).
	e.advance(time.Second)
	before = e.checks()
	_, _, err = e.svc.Login(ctx, "uma", "short")
	is(t, err, account.ErrInvalidCredentials)
	if e.checks() != before {
		t.Fatal("an impossible password was checked")
	}
	e.login(t, "uma", "right-password")
}

func TestLoginThrottleRace(t *testing.T) {
	e := newEnv(t)
	e.register(t, "victor", "", "right-password")
	var refused, wrong atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			_, _, err := e.svc.Login(ctx, "victor", "wrong-password")
			switch account.ErrorCode(err) {
			case account.CodeTooManyAttempts:
				refused.Add(1)
			case account.CodeInvalidCredentials:
				wrong.Add(1)
			default:
				t.Errorf("unexpected %v", err)
			}
		})
	}
	wg.Wait()
	if n := e.checks(); n > 5 || wrong.Load() > 5 || refused.Load() < 45 {
		t.Fatalf("%d password checks, %d wrong, %d refused; want at most 5 checks", n, wrong.Load(), refused.Load())
	}
	e.advance(account.Lockout(5))
	e.login(t, "victor", "right-password")
}

func TestOtherChecksAreThrottled(t *testing.T) {
	e := newEnv(t)
	e.register(t, "wendy", "wendy@example.com", "right-password")
	for range 5 {
		is(t, e.svc.ChangePasswordByEmail(ctx, "wendy@example.com", "wrong-password", "new-password"), account.ErrInvalidCredentials)
	}
	throttled(t, e.svc.ChangePasswordByEmail(ctx, "wendy@example.com", "right-password", "new-password"), time.Second)
	// The lock is per account and applies to every kind of check.
	_, _, err := e.svc.Login(ctx, "wendy", "right-password")
	throttled(t, err, time.Second)
	e.advance(time.Second)
	if err := e.svc.ChangePasswordByEmail(ctx, "wendy@example.com", "right-password", "new-password"); err != nil {
		t.Fatal(err)
	}

	if _, _, err := e.svc.EnsureAdmin(ctx, "root", "root-password"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AuthenticateAdmin(ctx, "root", "root-password"); err != nil { // now remembered
		t.Fatal(err)
	}
	for range 5 {
		_, err := e.svc.AuthenticateAdmin(ctx, "root", "wrong-password")
		is(t, err, account.ErrInvalidCredentials)
	}
	// Locked: even a remembered credential waits.
	_, err = e.svc.AuthenticateAdmin(ctx, "root", "root-password")
	throttled(t, err, time.Second)
	e.advance(time.Second)
	if _, err := e.svc.AuthenticateAdmin(ctx, "root", "root-password"); err != nil {
		t.Fatal(err)
	}
	if a, _ := e.store.AccountByUsername(ctx, "root"); a.FailedLogins != 0 {
		t.Fatalf("a remembered success did not clear %d failures", a.FailedLogins)
	}
}

func TestMailLimits(t *testing.T) {
	e := newEnv(t)
	e.svc.RecipientMailsPerHour = 100 // the account's own limits are under test here
	e.register(t, "xavier", "xavier@example.com", "right-password")
	if _, _, err := e.svc.RequestOTP(ctx, "xavier"); err != nil {
		t.Fatal(err)
	}
	_, _, err := e.svc.RequestOTP(ctx, "xavier")
	throttled(t, err, time.Minute)
	e.advance(20 * time.Second)
	// The limit is per account, across both mails.
	throttled(t, e.svc.RequestPasswordReset(ctx, "xavier@example.com"), 40*time.Second)
	if len(e.mailer.OTPs) != 1 || len(e.mailer.Reset) != 0 {
		t.Fatalf("%d OTP and %d reset mails sent", len(e.mailer.OTPs), len(e.mailer.Reset))
	}
	for range 4 {
		e.advance(time.Minute)
		if err := e.svc.RequestPasswordReset(ctx, "xavier@example.com"); err != nil {
			t.Fatal(err)
		}
	}
	// Five mails in the last 4 min 20 s: the sixth waits until the first is an hour old.
	e.advance(time.Minute)
	_, _, err = e.svc.RequestOTP(ctx, "xavier")
	throttled(t, err, time.Hour-5*time.Minute-20*time.Second)
	e.advance(time.Hour - 5*time.Minute - 20*time.Second)
	if _, _, err := e.svc.RequestOTP(ctx, "xavier"); err != nil {
		t.Fatalf("after an hour: %v", err)
	}

	// Racing requests: one mail.
	e.register(t, "yvonne", "yvonne@example.com", "right-password")
	var sent atomic.Int32
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if _, _, err := e.svc.RequestOTP(ctx, "yvonne"); err == nil {
				sent.Add(1)
			} else if account.ErrorCode(err) != account.CodeTooManyAttempts {
				t.Errorf("unexpected %v", err)
			}
		})
	}
	wg.Wait()
	if sent.Load() != 1 {
		t.Fatalf("%d of 10 racing requests sent a mail", sent.Load())
	}
}

// Concurrent checks with the right password are not punished: the ones past the free
// count wait for those in flight, whose success clears the count.
func TestConcurrentCorrectLogins(t *testing.T) {
	e := newEnv(t)
	e.register(t, "zoe", "", "right-password")
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 25 {
		wg.Go(func() {
			if _, _, err := e.svc.Login(ctx, "zoe", "right-password"); err != nil {
				t.Errorf("login: %v", err)
				return
			}
			ok.Add(1)
		})
	}
	wg.Wait()
	if ok.Load() != 25 {
		t.Fatalf("%d of 25 concurrent correct logins succeeded", ok.Load())
	}
}
