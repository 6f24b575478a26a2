package accounttest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// The token index part of the Store contract (Admin v2 Bearer tokens).

// holder returns the user_id AccountByTokenIndex finds for index, or 0 for none.
func holder(t *testing.T, s account.Store, index string) int64 {
	t.Helper()
	a, err := s.AccountByTokenIndex(context.Background(), index)
	if errors.Is(err, account.ErrNotFound) {
		return 0
	}
	if err != nil {
		t.Fatalf("AccountByTokenIndex(%s): %v", index, err)
	}
	if a.TokenIndex != index {
		t.Fatalf("AccountByTokenIndex(%s) found an account pointing at %q", index, a.TokenIndex)
	}
	return a.UserID
}

func wantHolder(t *testing.T, what string, s account.Store, index string, want int64) {
	t.Helper()
	if got := holder(t, s, index); got != want {
		t.Fatalf("%s: index %s held by %d, want %d", what, index, got, want)
	}
}

func setToken(s account.Store, id int64, hash, index string, now time.Time) error {
	return s.ChangeCredentials(context.Background(), account.CredentialChange{UserID: id, TokenHash: &hash, TokenIndex: &index, Now: now})
}

func testTokenIndex(t *testing.T, s account.Store) {
	ctx := context.Background()
	t1 := t0.Add(time.Hour)
	a := newAccount("tina", "tina@example.com")
	a.TokenHash, a.TokenIndex = "th-a1", "ix-a1"
	mustCreate(t, s, a)
	wantHolder(t, "created with a token", s, "ix-a1", a.UserID)
	wantHolder(t, "unknown index", s, "ix-none", 0)
	wantHolder(t, "empty index", s, "", 0)

	// Creating another account with the same token fails whole: its username stays free.
	b := newAccount("tom", "tom@example.com")
	b.TokenHash, b.TokenIndex = "th-b", "ix-a1"
	wantCode(t, "create with a token in use", s.CreateAccount(ctx, b), account.ErrTokenInUse)
	if _, err := s.AccountByUsername(ctx, "tom"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("failed creation left tom behind: %v", err)
	}
	if _, err := s.UserIDByEmail(ctx, "tom@example.com"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("failed creation left tom's email behind: %v", err)
	}
	// A taken username is still reported first.
	c := newAccount("tina", "")
	c.TokenIndex = "ix-a1"
	wantCode(t, "username and token taken", s.CreateAccount(ctx, c), account.ErrUsernameTaken)
	b.TokenIndex, b.TokenHash = "", ""
	mustCreate(t, s, b)

	// Setting a token another account holds changes nothing.
	wantCode(t, "set a token in use", setToken(s, b.UserID, "th-b2", "ix-a1", t1), account.ErrTokenInUse)
	got, _ := s.AccountByID(ctx, b.UserID)
	if got.TokenHash != "" || got.TokenIndex != "" || got.CredVersion != 1 {
		t.Fatalf("refused token change wrote: %+v", got)
	}
	wantHolder(t, "after the refused change", s, "ix-a1", a.UserID)

	// The index follows a change (or a refresh): the old token finds nothing.
	if err := setToken(s, a.UserID, "th-a2", "ix-a2", t1); err != nil {
		t.Fatal(err)
	}
	got, _ = s.AccountByID(ctx, a.UserID)
	if got.TokenHash != "th-a2" || got.TokenIndex != "ix-a2" || got.CredVersion != 2 {
		t.Fatalf("after token change: %+v", got)
	}
	wantHolder(t, "new token", s, "ix-a2", a.UserID)
	wantHolder(t, "old token", s, "ix-a1", 0)
	// Setting the same token again keeps its index.
	if err := setToken(s, a.UserID, "th-a2b", "ix-a2", t1); err != nil {
		t.Fatal(err)
	}
	wantHolder(t, "same token again", s, "ix-a2", a.UserID)
	// The old token is free for another account now.
	if err := setToken(s, b.UserID, "th-b3", "ix-a1", t1); err != nil {
		t.Fatal(err)
	}
	wantHolder(t, "freed token taken", s, "ix-a1", b.UserID)

	// A password-only change leaves the index alone.
	if err := s.ChangeCredentials(ctx, account.CredentialChange{UserID: a.UserID, PasswordHash: ptr("pw2"), Now: t1}); err != nil {
		t.Fatal(err)
	}
	wantHolder(t, "after a password change", s, "ix-a2", a.UserID)
	// A stale IfPasswordHash with a token change fails whole.
	err := s.ChangeCredentials(ctx, account.CredentialChange{UserID: a.UserID, PasswordHash: ptr("pw3"), IfPasswordHash: ptr("stale"), TokenHash: ptr("th-x"), TokenIndex: ptr("ix-x"), Now: t1})
	wantCode(t, "stale IfPasswordHash with a token", err, account.ErrConflict)
	wantHolder(t, "after the conflict", s, "ix-x", 0)
	wantHolder(t, "after the conflict", s, "ix-a2", a.UserID)

	// Clearing the token, or setting one without an index (code that knows nothing of the
	// index), removes the old index item all the same.
	if got := mustChange(t, s, account.CredentialChange{UserID: a.UserID, TokenHash: ptr(""), Now: t1}); got.TokenHash != "" || got.TokenIndex != "" {
		t.Fatalf("after clearing the token: %+v", got)
	}
	wantHolder(t, "cleared token", s, "ix-a2", 0)
	if got := mustChange(t, s, account.CredentialChange{UserID: b.UserID, TokenHash: ptr("th-b4"), Now: t1}); got.TokenHash != "th-b4" || got.TokenIndex != "" {
		t.Fatalf("after a token without index: %+v", got)
	}
	wantHolder(t, "token replaced without index", s, "ix-a1", 0)

	wantCode(t, "unknown account", setToken(s, 1<<40, "th", "ix-ghost", t1), account.ErrNotFound)
	wantHolder(t, "unknown account's token", s, "ix-ghost", 0)
}

// testTokenIndexDelete: deleting an account frees its token, even when the caller's copy
// of the account predates the token's last change.
func testTokenIndexDelete(t *testing.T, s account.Store) {
	ctx := context.Background()
	a := newAccount("uma", "")
	a.TokenHash, a.TokenIndex = "th-u1", "ix-u1"
	mustCreate(t, s, a)
	stale, _ := s.AccountByID(ctx, a.UserID)
	if err := setToken(s, a.UserID, "th-u2", "ix-u2", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAccount(ctx, stale); err != nil {
		t.Fatal(err)
	}
	wantHolder(t, "deleted account's token", s, "ix-u2", 0)
	wantHolder(t, "deleted account's old token", s, "ix-u1", 0)
	b := newAccount("uma2", "")
	b.TokenHash, b.TokenIndex = "th-u3", "ix-u2"
	mustCreate(t, s, b)
	wantHolder(t, "token of a deleted account reused", s, "ix-u2", b.UserID)
}

// testTokenIndexRace: accounts setting the same token at once, and accounts created with
// the same token at once: one wins each time.
func testTokenIndexRace(t *testing.T, s account.Store) {
	const n = 8
	ids := make([]int64, n)
	for i := range n {
		ids[i] = mustCreate(t, s, newAccount(fmt.Sprintf("vic%d", i), "")).UserID
	}
	race := func(what string, try func(i int) error) {
		wins, inUse := concurrently(t, n, try, is(account.ErrTokenInUse))
		if wins != 1 || inUse != n-1 {
			t.Fatalf("%s: wins=%d in use=%d, want 1 and %d", what, wins, inUse, n-1)
		}
	}
	race("set", func(i int) error { return setToken(s, ids[i], fmt.Sprintf("th-%d", i), "ix-shared", t0) })
	winner := holder(t, s, "ix-shared")
	for _, id := range ids {
		a, _ := s.AccountByID(context.Background(), id)
		if (id == winner) != (a.TokenIndex == "ix-shared") {
			t.Fatalf("account %d points at %q, winner %d", id, a.TokenIndex, winner)
		}
	}
	race("create", func(i int) error {
		a := newAccount(fmt.Sprintf("wes%d", i), "")
		a.TokenHash, a.TokenIndex = "th", "ix-created"
		return s.CreateAccount(context.Background(), a)
	})
	if holder(t, s, "ix-created") == 0 {
		t.Fatal("no account holds the raced token")
	}
}

// mustChange applies c, which must succeed, and returns the account as stored after it.
func mustChange(t *testing.T, s account.Store, c account.CredentialChange) *account.Account {
	t.Helper()
	if err := s.ChangeCredentials(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	a, err := s.AccountByID(context.Background(), c.UserID)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
