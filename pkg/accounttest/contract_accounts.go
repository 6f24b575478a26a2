package accounttest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
)

func testUnique(t *testing.T, s account.Store) {
	ctx := context.Background()
	mustCreate(t, s, newAccount("carol", "carol@example.com"))
	err := s.CreateAccount(ctx, newAccount("carol", "other@example.com"))
	wantCode(t, "same username", err, account.ErrUsernameTaken)
	err = s.CreateAccount(ctx, newAccount("carol2", "carol@example.com"))
	wantCode(t, "same email", err, account.ErrEmailTaken)
	err = s.CreateAccount(ctx, newAccount("carol", "carol@example.com"))
	wantCode(t, "both taken reports the username", err, account.ErrUsernameTaken)
	// Failed creations wrote nothing: their other key is still free.
	mustCreate(t, s, newAccount("dave", "other@example.com"))
	if _, err := s.AccountByUsername(ctx, "carol2"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("failed creation left username carol2 behind: %v", err)
	}
	// Accounts without email do not collide on the missing email.
	mustCreate(t, s, newAccount("erin", ""))
	mustCreate(t, s, newAccount("frank", ""))
}

func testConcurrentCreate(t *testing.T, s account.Store) {
	const n = 20
	wins, taken := concurrently(t, n, func(i int) error {
		return s.CreateAccount(context.Background(), newAccount("racer", fmt.Sprintf("racer%d@example.com", i)))
	}, is(account.ErrUsernameTaken))
	if wins != 1 || taken != n-1 {
		t.Fatalf("wins=%d taken=%d, want 1 and %d", wins, taken, n-1)
	}
}

func testIDs(t *testing.T, s account.Store) {
	const n = 30
	ids := make([]int64, n)
	concurrently(t, n, func(i int) error {
		a := newAccount(fmt.Sprintf("user%02d", i), fmt.Sprintf("user%02d@example.com", i))
		err := s.CreateAccount(context.Background(), a)
		ids[i] = a.UserID
		return err
	}, nil)
	slices.Sort(ids)
	if len(slices.Compact(slices.Clone(ids))) != n || ids[0] <= 0 {
		t.Fatalf("ids not unique and positive: %v", ids)
	}
	a := mustCreate(t, s, newAccount("later", ""))
	if a.UserID <= ids[n-1] {
		t.Fatalf("later id %d not above %d", a.UserID, ids[n-1])
	}
}

func testList(t *testing.T, s account.Store) {
	ctx := context.Background()
	names, next, err := s.ListUsernames(ctx, "", 10)
	if err != nil || len(names) != 0 || next != "" {
		t.Fatalf("empty store: %v %q %v", names, next, err)
	}
	var want []string
	for i := 24; i >= 0; i-- {
		a := newAccount(fmt.Sprintf("U%02d", i), "")
		a.UsernameKey = fmt.Sprintf("u%02d", i)
		mustCreate(t, s, a)
		want = append([]string{a.Username}, want...)
	}
	var got []string
	after, pages := "", 0
	for {
		names, next, err := s.ListUsernames(ctx, after, 10)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		got = append(got, names...)
		if next == "" {
			break
		}
		after = next
		if pages > 5 {
			t.Fatal("paging does not end")
		}
	}
	if pages != 3 || !slices.Equal(got, want) {
		t.Fatalf("pages=%d got %v, want %v", pages, got, want)
	}
	// The whole list in one page has no continuation.
	names, next, _ = s.ListUsernames(ctx, "", 25)
	if len(names) != 25 || next != "" {
		t.Fatalf("exact page: %d names, next %q", len(names), next)
	}
}

func testLoginAttempts(t *testing.T, s account.Store) {
	ctx := context.Background()
	t0 := t0.Truncate(time.Millisecond) // lock times are kept to the millisecond
	a := mustCreate(t, s, newAccount("rachel", "rachel@example.com"))
	got, err := s.ReserveLoginAttempt(ctx, a.UserID, t0)
	if err != nil {
		t.Fatal(err)
	}
	want := *a
	want.FailedLogins, want.LastAttempt = 1, t0
	sameAccount(t, "reservation returns the account", got, &want)
	if !got.LastAttempt.Equal(want.LastAttempt) {
		t.Fatalf("LastAttempt %v", got.LastAttempt)
	}
	for i := 2; i <= account.FreeLoginAttempts; i++ {
		if got, err = s.ReserveLoginAttempt(ctx, a.UserID, t0); err != nil || got.FailedLogins != i || !got.LockedUntil.IsZero() {
			t.Fatalf("free check %d: %+v %v", i, got, err)
		}
	}
	var e *account.Error
	// The free-th check is in flight: "try again soon".
	_, err = s.ReserveLoginAttempt(ctx, a.UserID, t0.Add(time.Second))
	if !errors.As(err, &e) || e.Code != account.CodeTooManyAttempts || e.RetryAfter != 0 {
		t.Fatalf("in flight: %v", err)
	}
	// It failed: the lock starts; only a stale count (n != 5) or an existing lock is left alone.
	lock := t0.Add(2 * time.Second)
	if err := s.LockAccount(ctx, a.UserID, 4, lock.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.LockAccount(ctx, a.UserID, account.FreeLoginAttempts, lock); err != nil {
		t.Fatal(err)
	}
	if err := s.LockAccount(ctx, a.UserID, account.FreeLoginAttempts, lock.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	_, err = s.ReserveLoginAttempt(ctx, a.UserID, t0.Add(1500*time.Millisecond))
	if !errors.As(err, &e) || e.Code != account.CodeTooManyAttempts || e.RetryAfter != 500*time.Millisecond {
		t.Fatalf("locked: %v", err)
	}
	// After the lock, one check, with the next lock set at once.
	got, err = s.ReserveLoginAttempt(ctx, a.UserID, lock)
	if err != nil || got.FailedLogins != 6 || !got.LockedUntil.Equal(lock.Add(account.Lockout(6))) {
		t.Fatalf("after the lock: %+v %v", got, err)
	}
	_, err = s.ReserveLoginAttempt(ctx, a.UserID, lock)
	if !errors.As(err, &e) || e.Code != account.CodeTooManyAttempts || e.RetryAfter != account.Lockout(6) {
		t.Fatalf("second check after the lock: %v", err)
	}
	if err := s.ClearLoginFailures(ctx, a.UserID); err != nil {
		t.Fatal(err)
	}
	if cur, _ := s.AccountByID(ctx, a.UserID); cur.FailedLogins != 0 || !cur.LockedUntil.IsZero() {
		t.Fatalf("after clear: %+v", cur)
	}
	// A check that never reported back stops blocking after StaleAttempt.
	for range account.FreeLoginAttempts {
		if _, err := s.ReserveLoginAttempt(ctx, a.UserID, t0); err != nil {
			t.Fatal(err)
		}
	}
	later := t0.Add(account.StaleAttempt)
	if got, err = s.ReserveLoginAttempt(ctx, a.UserID, later); err != nil || got.FailedLogins != 6 || !got.LockedUntil.Equal(later.Add(account.Lockout(6))) {
		t.Fatalf("after a stale check: %+v %v", got, err)
	}
	// A successful login (session with clearFailures) and a new password clear the count.
	for _, clear := range []func() error{
		func() error {
			return s.CreateSession(ctx, &account.Session{UserID: a.UserID, TokenHash: "rs", CredVersion: 1, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}, true)
		},
		func() error {
			return s.ChangeCredentials(ctx, account.CredentialChange{UserID: a.UserID, PasswordHash: ptr("new"), Now: t0})
		},
	} {
		if err := clear(); err != nil {
			t.Fatal(err)
		}
		if cur, _ := s.AccountByID(ctx, a.UserID); cur.FailedLogins != 0 || !cur.LockedUntil.IsZero() {
			t.Fatalf("not cleared: %+v", cur)
		}
		if _, err := s.ReserveLoginAttempt(ctx, a.UserID, later); err != nil {
			t.Fatal(err)
		}
	}
	_, err = s.ReserveLoginAttempt(ctx, 1<<40, t0)
	wantCode(t, "unknown account", err, account.ErrNotFound)
	wantCode(t, "clear unknown", s.ClearLoginFailures(ctx, 1<<40), account.ErrNotFound)
}

func testLoginAttemptsRace(t *testing.T, s account.Store) {
	a := mustCreate(t, s, newAccount("sybil", ""))
	onlyFreeAttempts(t, 20, func() error {
		_, err := s.ReserveLoginAttempt(context.Background(), a.UserID, t0)
		return err
	})
}

// onlyFreeAttempts checks that of n racing failure checks (reserve) exactly the free
// attempts get through and every other is told to wait, not locked out.
func onlyFreeAttempts(t *testing.T, n int, reserve func() error) {
	t.Helper()
	won, busy := concurrently(t, n, func(int) error { return reserve() }, toldToWait)
	if won != account.FreeLoginAttempts || busy != n-account.FreeLoginAttempts {
		t.Fatalf("won %d, told to wait %d; want %d and %d", won, busy, account.FreeLoginAttempts, n-account.FreeLoginAttempts)
	}
}

func testMail(t *testing.T, s account.Store) {
	ctx := context.Background()
	a := mustCreate(t, s, newAccount("trent", "trent@example.com"))
	t1, t2 := t0.Truncate(time.Second), t0.Add(90*time.Second).Truncate(time.Second)
	if err := s.ReserveMail(ctx, a.UserID, nil, []time.Time{t1}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "stale list", s.ReserveMail(ctx, a.UserID, nil, []time.Time{t2}), account.ErrConflict)
	if err := s.ReserveMail(ctx, a.UserID, []time.Time{t1}, []time.Time{t1, t2}); err != nil {
		t.Fatal(err)
	}
	cur, _ := s.AccountByID(ctx, a.UserID)
	if !slices.EqualFunc(cur.MailSent, []time.Time{t1, t2}, time.Time.Equal) {
		t.Fatalf("MailSent %v", cur.MailSent)
	}
	wantCode(t, "unknown account", s.ReserveMail(ctx, 1<<40, nil, []time.Time{t1}), account.ErrNotFound)

	won, _ := concurrently(t, 20, func(i int) error {
		next := []time.Time{t1, t2, t2.Add(time.Duration(i+1) * time.Minute)}
		return s.ReserveMail(context.Background(), a.UserID, []time.Time{t1, t2}, next)
	}, anyError)
	if won != 1 {
		t.Fatalf("%d concurrent reservations won; want 1", won)
	}
}
