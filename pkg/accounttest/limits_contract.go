package accounttest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
)

func throttledBy(t *testing.T, what string, err error, retryAfter time.Duration) {
	t.Helper()
	var e *account.Error
	if !errors.As(err, &e) || e.Code != account.CodeTooManyAttempts || e.RetryAfter != retryAfter {
		t.Fatalf("%s: got %v, want too_many_attempts after %v", what, err, retryAfter)
	}
}

func testSourceFailures(t *testing.T, s account.Store) {
	ctx := context.Background()
	a := mustCreate(t, s, newAccount("ulrich", "ulrich@example.com"))
	hour := t0.Truncate(time.Hour)
	src := account.Source{Net: "192.0.2.7", Window: hour}
	if n, err := s.SourceFailures(ctx, src); err != nil || n != 0 {
		t.Fatalf("no failures yet: %d %v", n, err)
	}
	for range 3 {
		if err := s.AddSourceFailure(ctx, src, hour.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	// Counts are per network and per window.
	if err := s.AddSourceFailure(ctx, account.Source{Net: "2001:db8::/64", Window: hour}, hour.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.AddSourceFailure(ctx, account.Source{Net: src.Net, Window: hour.Add(time.Hour)}, hour.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n, err := s.SourceFailures(ctx, src); err != nil || n != 3 {
		t.Fatalf("SourceFailures = %d %v, want 3", n, err)
	}
	// The key lookups read the count in the same call, found or not.
	id, n, err := s.UserIDByUsernameFrom(ctx, "ulrich", src)
	if err != nil || id != a.UserID || n != 3 {
		t.Fatalf("UserIDByUsernameFrom = %d %d %v", id, n, err)
	}
	id, n, err = s.UserIDByEmailFrom(ctx, "ulrich@example.com", src)
	if err != nil || id != a.UserID || n != 3 {
		t.Fatalf("UserIDByEmailFrom = %d %d %v", id, n, err)
	}
	_, n, err = s.UserIDByUsernameFrom(ctx, "nobody", src)
	if wantCode(t, "unknown username", err, account.ErrNotFound); n != 3 {
		t.Fatalf("unknown username: count %d", n)
	}
	_, n, err = s.UserIDByEmailFrom(ctx, "nobody@example.com", account.Source{Net: "198.51.100.1", Window: hour})
	if wantCode(t, "unknown email", err, account.ErrNotFound); n != 0 {
		t.Fatalf("unknown email, other source: count %d", n)
	}
	// Racing failures are all counted.
	concurrently(t, 20, func(int) error { return s.AddSourceFailure(ctx, src, hour.Add(time.Hour)) }, nil)
	if n, _ := s.SourceFailures(ctx, src); n != 23 {
		t.Fatalf("after 20 racing failures: %d, want 23", n)
	}
}

// An identifier without an account follows ReserveLoginAttempt's policy exactly.
func testUnknownAttempts(t *testing.T, s account.Store) {
	ctx := context.Background()
	t0 := t0.Truncate(time.Millisecond)
	for i := 1; i <= account.FreeLoginAttempts; i++ {
		f, err := s.ReserveUnknownAttempt(ctx, "h-victor", t0)
		if err != nil || f.FailedLogins != i || !f.LockedUntil.IsZero() || !f.LastAttempt.Equal(t0) {
			t.Fatalf("free check %d: %+v %v", i, f, err)
		}
	}
	// Another identifier has its own count.
	if f, err := s.ReserveUnknownAttempt(ctx, "h-wanda", t0); err != nil || f.FailedLogins != 1 {
		t.Fatalf("other identifier: %+v %v", f, err)
	}
	_, err := s.ReserveUnknownAttempt(ctx, "h-victor", t0.Add(time.Second))
	throttledBy(t, "in flight", err, 0)
	lock := t0.Add(2 * time.Second)
	// Only the free-th failure with no lock yet sets one (as LockAccount).
	for _, l := range []struct {
		n     int
		until time.Time
	}{{4, lock.Add(time.Hour)}, {account.FreeLoginAttempts, lock}, {account.FreeLoginAttempts, lock.Add(time.Hour)}} {
		if err := s.LockUnknown(ctx, "h-victor", l.n, l.until); err != nil {
			t.Fatal(err)
		}
	}
	_, err = s.ReserveUnknownAttempt(ctx, "h-victor", t0.Add(1500*time.Millisecond))
	throttledBy(t, "locked", err, 500*time.Millisecond)
	f, err := s.ReserveUnknownAttempt(ctx, "h-victor", lock)
	if err != nil || f.FailedLogins != 6 || !f.LockedUntil.Equal(lock.Add(account.Lockout(6))) {
		t.Fatalf("after the lock: %+v %v", f, err)
	}
	_, err = s.ReserveUnknownAttempt(ctx, "h-victor", lock)
	throttledBy(t, "second check after the lock", err, account.Lockout(6))
	// Locking an identifier never seen makes no record.
	if err := s.LockUnknown(ctx, "h-never", account.FreeLoginAttempts, lock); err != nil {
		t.Fatal(err)
	}
	if f, err := s.ReserveUnknownAttempt(ctx, "h-never", t0); err != nil || f.FailedLogins != 1 {
		t.Fatalf("never seen: %+v %v", f, err)
	}
}

func testUnknownAttemptsRace(t *testing.T, s account.Store) {
	onlyFreeAttempts(t, 50, func() error {
		_, err := s.ReserveUnknownAttempt(context.Background(), "h-race", t0)
		return err
	})
}

// A run of failures whose last counted check is FailureMemory old is forgotten, for an
// account and an unknown identifier alike (so the two cannot be told apart by waiting).
func testFailuresForgotten(t *testing.T, s account.Store) {
	ctx := context.Background()
	t0 := t0.Truncate(time.Millisecond)
	a := mustCreate(t, s, newAccount("xena", ""))
	reserve := map[string]func(now time.Time) (*account.Account, error){
		"account": func(now time.Time) (*account.Account, error) { return s.ReserveLoginAttempt(ctx, a.UserID, now) },
		"unknown": func(now time.Time) (*account.Account, error) { return s.ReserveUnknownAttempt(ctx, "h-xena", now) },
	}
	for what, try := range reserve {
		// Three failures, then a day without: the next is the first again.
		for range 3 {
			if _, err := try(t0); err != nil {
				t.Fatal(err)
			}
		}
		just := t0.Add(account.FailureMemory - time.Millisecond)
		if f, err := try(just); err != nil || f.FailedLogins != 4 {
			t.Fatalf("%s: within the memory: %+v %v", what, f, err)
		}
		later := just.Add(account.FailureMemory)
		if f, err := try(later); err != nil || f.FailedLogins != 1 || !f.LockedUntil.IsZero() {
			t.Fatalf("%s: after a day: %+v %v", what, f, err)
		}
		// Also a locked run: five failures and a lock, then a day without.
		for range account.FreeLoginAttempts - 1 {
			if _, err := try(later); err != nil {
				t.Fatal(err)
			}
		}
		if f, err := try(later.Add(account.StaleAttempt)); err != nil || f.FailedLogins != 6 || f.LockedUntil.IsZero() {
			t.Fatalf("%s: locked run: %+v %v", what, f, err)
		}
		muchLater := later.Add(account.StaleAttempt + account.FailureMemory)
		if f, err := try(muchLater); err != nil || f.FailedLogins != 1 || !f.LockedUntil.IsZero() {
			t.Fatalf("%s: locked run after a day: %+v %v", what, f, err)
		}
		if f, err := try(muchLater); err != nil || f.FailedLogins != 2 {
			t.Fatalf("%s: next after the forgotten run: %+v %v", what, f, err)
		}
	}
}

func testGuesses(t *testing.T, s account.Store) {
	ctx := context.Background()
	a := mustCreate(t, s, newAccount("yusuf", "yusuf@example.com"))
	day := 24 * time.Hour
	base := t0.Truncate(time.Second)
	for i := range 3 {
		if err := s.ReserveGuess(ctx, a.UserID, base.Add(time.Duration(i)*time.Hour), 3, day); err != nil {
			t.Fatalf("guess %d: %v", i+1, err)
		}
	}
	// Spent until the oldest leaves the window (rolling, not a fixed day).
	throttledBy(t, "fourth guess", s.ReserveGuess(ctx, a.UserID, base.Add(3*time.Hour), 3, day), 21*time.Hour)
	throttledBy(t, "just before", s.ReserveGuess(ctx, a.UserID, base.Add(day-time.Second), 3, day), time.Second)
	if err := s.ReserveGuess(ctx, a.UserID, base.Add(day), 3, day); err != nil {
		t.Fatalf("after the first left the window: %v", err)
	}
	throttledBy(t, "full again", s.ReserveGuess(ctx, a.UserID, base.Add(day), 3, day), time.Hour)
	// Per account.
	b := mustCreate(t, s, newAccount("yara", ""))
	if err := s.ReserveGuess(ctx, b.UserID, base.Add(day), 3, day); err != nil {
		t.Fatal(err)
	}
	// A new password empties the budget (a successful use sets one); other changes do not.
	if err := s.ChangeCredentials(ctx, account.CredentialChange{UserID: a.UserID, TokenHash: ptr("tok"), Now: base}); err != nil {
		t.Fatal(err)
	}
	throttledBy(t, "after a token change", s.ReserveGuess(ctx, a.UserID, base.Add(day), 3, day), time.Hour)
	if err := s.ChangeCredentials(ctx, account.CredentialChange{UserID: a.UserID, PasswordHash: ptr("new"), Now: base}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := s.ReserveGuess(ctx, a.UserID, base.Add(day), 3, day); err != nil {
			t.Fatalf("after a new password, guess %d: %v", i+1, err)
		}
	}
	wantCode(t, "unknown account", s.ReserveGuess(ctx, 1<<40, base, 3, day), account.ErrNotFound)
}

// 50 racing guesses get exactly the budget, also when the budget is spent by older
// guesses that are leaving the window.
func testGuessesRace(t *testing.T, s account.Store) {
	ctx := context.Background()
	a := mustCreate(t, s, newAccount("zelda", ""))
	base := t0.Truncate(time.Second)
	race := func(now time.Time) int {
		won, _ := concurrently(t, 50, func(int) error { return s.ReserveGuess(ctx, a.UserID, now, 10, 24*time.Hour) }, tooMany)
		return won
	}
	if n := race(base); n != 10 {
		t.Fatalf("%d of 50 racing guesses counted; want 10", n)
	}
	// A day later the old ones have left the window: again at most 10.
	if n := race(base.Add(24 * time.Hour)); n < 1 || n > 10 {
		t.Fatalf("%d of 50 racing guesses counted after a day; want 1 to 10", n)
	}
}
