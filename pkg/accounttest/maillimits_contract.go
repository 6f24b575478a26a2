package accounttest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// testMailQuota: ReserveMailQuota counts per recipient and for the installation, per clock
// hour, together with the account's own list, all or nothing, and cannot be raced.
func testMailQuota(t *testing.T, s account.Store) {
	ctx := context.Background()
	h1 := t0.Truncate(time.Hour)
	sent := []time.Time{t0.Truncate(time.Second)}
	var accounts atomic.Int32
	fresh := func() *account.Account {
		n := accounts.Add(1)
		return mustCreate(t, s, newAccount(fmt.Sprintf("quota%d", n), fmt.Sprintf("quota%d@example.com", n)))
	}
	q := func(recipient string, hour time.Time, per, budget int) account.MailQuota {
		return account.MailQuota{Recipient: recipient, Hour: hour, PerRecipient: per, Budget: budget}
	}
	// One mail from a fresh account (whose own list is empty).
	reserve := func(q account.MailQuota) error {
		return s.ReserveMailQuota(ctx, fresh().UserID, nil, sent, q)
	}
	for i := range 3 {
		if err := reserve(q("r1", h1, 3, 5)); err != nil {
			t.Fatalf("mail %d to r1: %v", i+1, err)
		}
	}
	// Refused by the recipient's counter: the account's list stays as it was.
	a := fresh()
	wantCode(t, "fourth mail to r1", s.ReserveMailQuota(ctx, a.UserID, nil, sent, q("r1", h1, 3, 5)), account.ErrTooManyAttempts)
	if cur, _ := s.AccountByID(ctx, a.UserID); len(cur.MailSent) != 0 {
		t.Fatalf("refused mail recorded on the account: %v", cur.MailSent)
	}
	// Nor did it count on the budget: two more fit, to another recipient.
	for i := range 2 {
		if err := reserve(q("r2", h1, 3, 5)); err != nil {
			t.Fatalf("mail %d to r2: %v", i+1, err)
		}
	}
	wantCode(t, "budget spent", reserve(q("r2", h1, 3, 5)), account.ErrTooManyAttempts)
	// The mail the budget refused did not count on r2: with a larger budget it has one left.
	if err := reserve(q("r2", h1, 3, 10)); err != nil {
		t.Fatalf("third mail to r2: %v", err)
	}
	wantCode(t, "fourth mail to r2", reserve(q("r2", h1, 3, 10)), account.ErrTooManyAttempts)
	// A stale account list counts on neither counter; the mail is then taken by the
	// account with its current list.
	b := fresh()
	if err := s.ReserveMailQuota(ctx, b.UserID, nil, sent, q("r5", h1, 1, 100)); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "stale list", s.ReserveMailQuota(ctx, b.UserID, nil, sent, q("r6", h1, 1, 100)), account.ErrConflict)
	if err := s.ReserveMailQuota(ctx, b.UserID, sent, append(sent, t0.Add(time.Minute).Truncate(time.Second)), q("r6", h1, 1, 100)); err != nil {
		t.Fatalf("r6 after a conflict: %v", err)
	}
	wantCode(t, "unknown account", s.ReserveMailQuota(ctx, 1<<40, nil, sent, q("r7", h1, 1, 100)), account.ErrNotFound)
	if err := reserve(q("r7", h1, 1, 100)); err != nil {
		t.Fatalf("r7 after an unknown account: %v", err)
	}
	// A new hour starts both counters afresh.
	h2 := h1.Add(time.Hour)
	if err := reserve(q("r1", h2, 3, 1)); err != nil {
		t.Fatalf("r1 in the next hour: %v", err)
	}
	wantCode(t, "budget of 1 in the next hour", reserve(q("r2", h2, 3, 1)), account.ErrTooManyAttempts)

	race := func(hour time.Time, recipient func(i int) string, per, budget, want int) {
		t.Helper()
		ids := make([]int64, 20)
		for i := range ids {
			ids[i] = fresh().UserID
		}
		won, _ := concurrently(t, len(ids), func(i int) error {
			return s.ReserveMailQuota(context.Background(), ids[i], nil, sent, q(recipient(i), hour, per, budget))
		}, tooMany)
		if won != want {
			t.Fatalf("%d of 20 racing reservations won; want %d", won, want)
		}
	}
	race(h1.Add(2*time.Hour), func(int) string { return "r3" }, 3, 1000, 3)
	race(h1.Add(3*time.Hour), func(i int) string { return fmt.Sprintf("r4-%d", i) }, 3, 4, 4)
}
