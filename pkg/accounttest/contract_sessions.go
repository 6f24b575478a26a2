package accounttest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// The sessions an account's owner sees (account/sessionlist.go): what a session records,
// ListSessions and TouchSession.

// seen is t0 as the store keeps a last-seen time (milliseconds).
var seen = t0.Truncate(time.Millisecond)

func metaSession(a *account.Account, hash string, created time.Time) *account.Session {
	return &account.Session{
		UserID: a.UserID, TokenHash: hash, CredVersion: a.CredVersion, CreatedAt: created,
		ExpiresAt: created.Add(time.Hour).Truncate(time.Second), LastSeenAt: created.Truncate(time.Millisecond),
		IP: "203.0.113.9", UserAgent: "agent/" + hash,
	}
}

func testSessionMetadata(t *testing.T, s account.Store) {
	ctx := context.Background()
	a := mustCreate(t, s, newAccount("sessmeta", "sessmeta@example.com"))
	other := mustCreate(t, s, newAccount("sessother", ""))
	want := map[string]*account.Session{}
	for i := range 3 {
		x := metaSession(a, fmt.Sprintf("mh%d", i), t0.Add(time.Duration(i)*time.Minute))
		if err := s.CreateSession(ctx, x, false); err != nil {
			t.Fatal(err)
		}
		want[x.TokenHash] = x
	}
	if err := s.CreateSession(ctx, metaSession(other, "oh", t0), false); err != nil {
		t.Fatal(err)
	}
	// A session without metadata (from before it was kept) reads back without it.
	bare := &account.Session{UserID: a.UserID, TokenHash: "mbare", CredVersion: 1, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour).Truncate(time.Second)}
	if err := s.CreateSession(ctx, bare, false); err != nil {
		t.Fatal(err)
	}
	want[bare.TokenHash] = bare
	got, _, err := s.SessionWithAccount(ctx, a.UserID, "mh1")
	if err != nil || !reflect.DeepEqual(got, want["mh1"]) {
		t.Fatalf("SessionWithAccount = %+v, %v; want %+v", got, err, want["mh1"])
	}
	list, err := s.ListSessions(ctx, a.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != len(want) {
		t.Fatalf("ListSessions: %d sessions, want %d (none of another account's)", len(list), len(want))
	}
	for _, x := range list {
		if !reflect.DeepEqual(x, want[x.TokenHash]) {
			t.Errorf("listed %+v, want %+v", x, want[x.TokenHash])
		}
	}
	if err := s.DeleteSession(ctx, a.UserID, "mh0"); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.ListSessions(ctx, a.UserID); len(list) != len(want)-1 {
		t.Errorf("after a logout: %d sessions listed, want %d", len(list), len(want)-1)
	}
	// The metadata dies with the account.
	cur, _ := s.AccountByID(ctx, a.UserID)
	if err := s.DeleteAccount(ctx, cur); err != nil {
		t.Fatal(err)
	}
	if list, err := s.ListSessions(ctx, a.UserID); err != nil || len(list) != 0 {
		t.Errorf("sessions of a deleted account: %d, %v", len(list), err)
	}
	if list, _ := s.ListSessions(ctx, other.UserID); len(list) != 1 {
		t.Errorf("another account's sessions: %d, want 1", len(list))
	}
}

func testTouchSession(t *testing.T, s account.Store) {
	ctx := context.Background()
	a := mustCreate(t, s, newAccount("sesstouch", ""))
	x := metaSession(a, "th", t0)
	bare := &account.Session{UserID: a.UserID, TokenHash: "tbare", CredVersion: 1, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour).Truncate(time.Second)}
	for _, y := range []*account.Session{x, bare} {
		if err := s.CreateSession(ctx, y, false); err != nil {
			t.Fatal(err)
		}
	}
	lastSeen := func(hash string) time.Time {
		t.Helper()
		got, _, err := s.SessionWithAccount(ctx, a.UserID, hash)
		if err != nil {
			t.Fatal(err)
		}
		return got.LastSeenAt
	}
	t1, t2 := seen.Add(90*time.Second), seen.Add(100*time.Second)
	// Not yet stale: no write.
	if err := s.TouchSession(ctx, a.UserID, "th", t1, seen.Add(-time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if got := lastSeen("th"); !got.Equal(seen) {
		t.Errorf("touched while fresh: last seen %v, want %v", got, seen)
	}
	if err := s.TouchSession(ctx, a.UserID, "th", t1, t1.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := lastSeen("th"); !got.Equal(t1) {
		t.Errorf("touched: last seen %v, want %v", got, t1)
	}
	// A racing second touch with the same cutoff finds it fresh and leaves it.
	if err := s.TouchSession(ctx, a.UserID, "th", t2, t1.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := lastSeen("th"); !got.Equal(t1) {
		t.Errorf("second touch: last seen %v, want %v", got, t1)
	}
	// A session without a last-seen time is touched.
	if err := s.TouchSession(ctx, a.UserID, "tbare", t1, t1.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := lastSeen("tbare"); !got.Equal(t1) {
		t.Errorf("bare session: last seen %v, want %v", got, t1)
	}
	// A deleted session is not brought back.
	if err := s.DeleteSession(ctx, a.UserID, "th"); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchSession(ctx, a.UserID, "th", t2, t2); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.SessionWithAccount(ctx, a.UserID, "th"); err == nil {
		t.Error("a touch brought a deleted session back")
	}
	if list, _ := s.ListSessions(ctx, a.UserID); len(list) != 1 {
		t.Errorf("%d sessions listed, want 1", len(list))
	}
}

// An empty credential change ends every session (logout-all) and changes nothing else.
func testEndEverySession(t *testing.T, s account.Store) {
	ctx := context.Background()
	a := mustCreate(t, s, newAccount("sessend", "sessend@example.com"))
	if err := s.CreateSession(ctx, metaSession(a, "eh", t0), false); err != nil {
		t.Fatal(err)
	}
	if err := s.ChangeCredentials(ctx, account.CredentialChange{UserID: a.UserID, Now: t0}); err != nil {
		t.Fatal(err)
	}
	got, err := s.AccountByID(ctx, a.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if got.CredVersion != a.CredVersion+1 || got.PasswordHash != a.PasswordHash || got.Email != a.Email || got.Role != a.Role {
		t.Errorf("after an empty change: %+v, want version %d and the rest as before", got, a.CredVersion+1)
	}
	x, _, err := s.SessionWithAccount(ctx, a.UserID, "eh")
	if err != nil || x.CredVersion == got.CredVersion {
		t.Errorf("the session (%+v, %v) still carries the account's version", x, err)
	}
	err = s.ChangeCredentials(ctx, account.CredentialChange{UserID: a.UserID + 1000, Now: t0})
	wantCode(t, "no such account", err, account.ErrNotFound)
}
