package accounttest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// ListAccounts is ListUsernames with the accounts (copies).
func (s *Store) ListAccounts(_ context.Context, after string, limit int) ([]*account.Account, string, error) {
	if limit <= 0 || limit > account.MaxListAccounts {
		limit = account.MaxListAccounts
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*account.Account
	for _, a := range s.accounts {
		if a.UsernameKey > after {
			a.MailSent = slices.Clone(a.MailSent)
			out = append(out, &a)
		}
	}
	slices.SortFunc(out, func(a, b *account.Account) int { return strings.Compare(a.UsernameKey, b.UsernameKey) })
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].UsernameKey
	}
	return out, next, nil
}

// CheckHash is the real hasher's import check (account.HashChecker).
func (h *Hasher) CheckHash(hash string) error { return h.h.CheckHash(hash) }

// testListAccounts: ListAccounts pages every account, in canonical-key order, each as
// CreateAccount stored it (kept password hash, created_at and email_verified included).
func testListAccounts(t *testing.T, s account.Store) {
	ctx := context.Background()
	if got, next, err := s.ListAccounts(ctx, "", 10); err != nil || len(got) != 0 || next != "" {
		t.Fatalf("empty store: %v %q %v", got, next, err)
	}
	created := time.Date(2019, 3, 4, 5, 6, 7, 891011000, time.UTC)
	var want []*account.Account
	for _, name := range []string{"carol", "alice", "dave", "bob", "erin"} {
		a := newAccount(name, name+"@example.com")
		a.PasswordHash = "$2b$10$abcdefghijklmnopqrstuu" + name
		a.CreatedAt, a.EmailVerified, a.Name = created, name != "bob", "Name "+name
		want = append(want, mustCreate(t, s, a))
	}
	slices.SortFunc(want, func(a, b *account.Account) int { return strings.Compare(a.UsernameKey, b.UsernameKey) })
	var got []*account.Account
	after, pages := "", 0
	for {
		page, next, err := s.ListAccounts(ctx, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 2 {
			t.Fatalf("page of %d, limit 2", len(page))
		}
		got, pages = append(got, page...), pages+1
		if next == "" {
			break
		}
		after = next
	}
	if pages != 3 || len(got) != len(want) {
		t.Fatalf("%d pages, %d accounts: %v", pages, len(got), got)
	}
	for i := range want {
		sameAccount(t, "listed "+want[i].Username, got[i], want[i]) // EmailVerified included
	}
	// A deleted account is no longer listed.
	if err := s.DeleteAccount(ctx, want[0]); err != nil {
		t.Fatal(err)
	}
	page, _, err := s.ListAccounts(ctx, "", 10)
	if err != nil || len(page) != 4 || page[0].UsernameKey != "bob" {
		t.Fatalf("after delete: %v %v", page, err)
	}
}
