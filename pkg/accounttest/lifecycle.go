package accounttest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// UpdateProfile writes only the fields c gives, while the account's CredVersion is
// c.CredVersion, with the audit records ctx carries.
func (s *Store) UpdateProfile(ctx context.Context, c account.ProfileChange) (_ *account.Account, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() { s.keepAudit(ctx, err, 0) }()
	a, ok := s.accounts[c.UserID]
	if !ok || a.CredVersion != c.CredVersion {
		return nil, account.ErrNotFound
	}
	updated := c.Apply(&a)
	s.accounts[c.UserID] = *updated
	return updated, nil
}

// testUpdateProfile: UpdateProfile sets the given fields, removes those given as "",
// leaves the others, returns the account as stored; refuses a gone account and a stale
// credential version; concurrent updates of different fields all stay.
func testUpdateProfile(t *testing.T, s account.Store) {
	ctx := context.Background()
	a := newAccount("penny", "penny@example.com")
	a.Name, a.Bio, a.Website = "Penny Lane", "old bio", "https://old.example"
	mustCreate(t, s, a)
	t1 := t0.Add(time.Hour)
	got, err := s.UpdateProfile(ctx, account.ProfileChange{UserID: a.UserID, CredVersion: a.CredVersion, Now: t1,
		Profile: account.Profile{Bio: ptr("new bio"), Website: ptr(""), Pronounce: ptr("PEN-ee")}})
	if err != nil {
		t.Fatal(err)
	}
	want := *a
	want.Bio, want.Website, want.Pronounce, want.UpdatedAt = "new bio", "", "PEN-ee", t1
	sameAccount(t, "returned", got, &want)
	stored, err := s.AccountByID(ctx, a.UserID)
	if err != nil {
		t.Fatal(err)
	}
	sameAccount(t, "stored", stored, &want)

	stale := account.ProfileChange{UserID: a.UserID, CredVersion: a.CredVersion + 1, Now: t1, Profile: account.Profile{Name: ptr("Mallory")}}
	_, err = s.UpdateProfile(ctx, stale)
	wantCode(t, "stale credential version", err, account.ErrNotFound)
	_, err = s.UpdateProfile(ctx, account.ProfileChange{UserID: a.UserID + 1000, CredVersion: 1, Now: t1, Profile: account.Profile{Name: ptr("Nobody")}})
	wantCode(t, "no such account", err, account.ErrNotFound)
	if _, err := s.AccountByID(ctx, a.UserID+1000); err == nil {
		t.Fatal("an update of a missing account created it")
	}

	// Concurrent updates, each of its own field, lose none.
	fields := []func(v string) account.Profile{
		func(v string) account.Profile { return account.Profile{Name: &v} },
		func(v string) account.Profile { return account.Profile{Bio: &v} },
		func(v string) account.Profile { return account.Profile{Website: &v} },
		func(v string) account.Profile { return account.Profile{Pronounce: &v} },
	}
	var wg sync.WaitGroup
	for i, f := range fields {
		wg.Go(func() {
			if _, err := s.UpdateProfile(ctx, account.ProfileChange{UserID: a.UserID, CredVersion: a.CredVersion, Now: t1, Profile: f(fmt.Sprint("value ", i))}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	stored, err = s.AccountByID(ctx, a.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Name != "value 0" || stored.Bio != "value 1" || stored.Website != "value 2" || stored.Pronounce != "value 3" {
		t.Fatalf("after concurrent updates: %q %q %q %q", stored.Name, stored.Bio, stored.Website, stored.Pronounce)
	}
}
