package dynamo_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// TestSessionRoundTrips holds the session routes to their budgets (docs/DESIGN.md), with
// a clock the test moves: a session check is one read, and one write more only when its
// last-seen time is a minute old.
func TestSessionRoundTrips(t *testing.T) {
	ctx := account.WithUserAgent(account.WithSourceIP(context.Background(), "203.0.113.2"), "roundtrip/1.0")
	api := newCounting()
	svc := newService(t, api, nil, account.Config{AllowRegistration: true})
	var mu sync.Mutex
	now := time.Now().UTC()
	svc.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	if _, err := svc.Register(ctx, account.NewAccount{Username: "sessionrt", Password: "sessionrt-password", SelfService: true}); err != nil {
		t.Fatal(err)
	}
	var token, other string
	withinBudget(t, api, "login (POST /user/auth), with the session's metadata", 3, func() (err error) {
		_, token, err = svc.Login(ctx, "sessionrt", "sessionrt-password")
		return err
	})
	if _, other, _ = svc.Login(ctx, "sessionrt", "sessionrt-password"); other == "" {
		t.Fatal("second login")
	}
	check := func() error { _, _, err := svc.Authorize(ctx, token); return err }
	withinBudget(t, api, "session check, last seen fresh", 1, check)
	advance(time.Minute)
	if got := measure(t, api, "session check, last seen a minute old", check); got != 2 {
		t.Errorf("a check a minute on: %d round trips, want 2 (the read and the last-seen write)", got)
	}
	withinBudget(t, api, "session check right after", 1, check)
	var list []account.SessionInfo
	withinBudget(t, api, "GET /user/sessions (check + 1 query)", 2, func() (err error) {
		list, err = svc.Sessions(ctx, token)
		return err
	})
	if len(list) != 2 {
		t.Fatalf("%d sessions listed, want 2", len(list))
	}
	var otherID string
	for _, x := range list {
		if !x.Current {
			otherID = x.ID
		}
	}
	withinBudget(t, api, "DELETE /user/sessions/{id} (check + query + delete)", 3, func() error {
		_, err := svc.EndSession(ctx, token, otherID)
		return err
	})
	withinBudget(t, api, "POST /user/logout-all", 2, func() error { return svc.LogoutAll(ctx, token) })
	if err := check(); err == nil {
		t.Error("the session still works after logout-all")
	}
}
