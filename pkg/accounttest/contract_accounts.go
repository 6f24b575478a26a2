package accounttest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

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
