package accounttest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
)

func (s *Store) ReadBatch(ctx context.Context, r account.BatchRead) (*account.BatchResult, error) {
	res := &account.BatchResult{Accounts: map[int64]*account.Account{}, UserIDs: map[string]int64{}, TokenIDs: map[string]int64{}}
	for _, id := range r.IDs {
		a, err := s.AccountByID(ctx, id)
		if err := keepFound(res.Accounts, id, a, err); err != nil {
			return nil, err
		}
	}
	for _, k := range r.UsernameKeys {
		id, err := s.UserIDByUsername(ctx, k)
		if err := keepFound(res.UserIDs, k, id, err); err != nil {
			return nil, err
		}
	}
	for _, idx := range r.TokenIndexes {
		var id int64
		a, err := s.AccountByTokenIndex(ctx, idx)
		if err == nil {
			id = a.UserID
		}
		if err := keepFound(res.TokenIDs, idx, id, err); err != nil {
			return nil, err
		}
	}
	if r.Source != nil {
		res.SourceFailures, _ = s.SourceFailures(ctx, *r.Source)
	}
	return res, nil
}

// keepFound puts a found value into m; not found is no error for a batch read.
func keepFound[K comparable, V any](m map[K]V, k K, v V, err error) error {
	if err == nil {
		m[k] = v
	}
	if errors.Is(err, account.ErrNotFound) {
		return nil
	}
	return err
}

// ChangeCredentialsFrom needs no hints here: the fake changes the account as it is.
func (s *Store) ChangeCredentialsFrom(ctx context.Context, _ *account.Account, c account.CredentialChange) error {
	return s.ChangeCredentials(ctx, c)
}

// The contract of ReadBatch and ChangeCredentialsFrom (StoreContract runs them).

// testReadBatch: one ReadBatch returns the accounts, username keys' ids and the source's
// count asked for; what does not exist is absent, and a key asked twice is one answer.
func testReadBatch(t *testing.T, s account.Store) {
	ctx := context.Background()
	a := mustCreate(t, s, newAccount("batch-a", ""))
	b := mustCreate(t, s, newAccount("batch-b", "batch-b@example.com"))
	src := account.Source{Net: "198.51.100.7", Window: t0.Truncate(account.SourceWindow)}
	for range 2 {
		if err := s.AddSourceFailure(ctx, src, t0.Add(account.SourceWindow)); err != nil {
			t.Fatal(err)
		}
	}
	r, err := s.ReadBatch(ctx, account.BatchRead{
		IDs:          []int64{a.UserID, b.UserID, a.UserID, b.UserID + 1000},
		UsernameKeys: []string{"batch-b", "nobody", "batch-b"},
		Source:       &src,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Accounts) != 2 || r.Accounts[a.UserID] == nil || r.Accounts[b.UserID] == nil {
		t.Fatalf("accounts = %v, want %d and %d", r.Accounts, a.UserID, b.UserID)
	}
	if got := r.Accounts[b.UserID]; got.UsernameKey != "batch-b" || got.EmailKey != "batch-b@example.com" || got.PasswordHash != b.PasswordHash {
		t.Errorf("account b = %+v", got)
	}
	if len(r.UserIDs) != 1 || r.UserIDs["batch-b"] != b.UserID {
		t.Errorf("user ids = %v, want batch-b: %d", r.UserIDs, b.UserID)
	}
	if r.SourceFailures != 2 {
		t.Errorf("source failures = %d, want 2", r.SourceFailures)
	}
	if r, err := s.ReadBatch(ctx, account.BatchRead{}); err != nil || len(r.Accounts)+len(r.UserIDs)+r.SourceFailures != 0 {
		t.Errorf("empty read = %+v, %v", r, err)
	}
}

// testChangeCredentialsFrom: a change from an account as read applies like
// ChangeCredentials, and a stale read (the token moved on meanwhile) still moves the
// token's index item right.
func testChangeCredentialsFrom(t *testing.T, s account.Store) {
	ctx := context.Background()
	a := mustCreate(t, s, newAccount("from-a", ""))
	stale, err := s.AccountByID(ctx, a.UserID)
	if err != nil {
		t.Fatal(err)
	}
	h1, i1 := "$sha256$first", "index-from-first"
	if err := s.ChangeCredentials(ctx, account.CredentialChange{UserID: a.UserID, TokenHash: &h1, TokenIndex: &i1, Now: t0}); err != nil {
		t.Fatal(err)
	}
	h2, i2 := "$sha256$second", "index-from-second"
	if err := s.ChangeCredentialsFrom(ctx, stale, account.CredentialChange{UserID: a.UserID, TokenHash: &h2, TokenIndex: &i2, Now: t0}); err != nil {
		t.Fatal(err)
	}
	got, err := s.AccountByID(ctx, a.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if got.TokenHash != h2 || got.TokenIndex != i2 || got.CredVersion != a.CredVersion+2 {
		t.Errorf("after the change: token %q index %q version %d", got.TokenHash, got.TokenIndex, got.CredVersion)
	}
	if _, err := s.AccountByTokenIndex(ctx, i1); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("old index: %v, want ErrNotFound", err)
	}
	if b, err := s.AccountByTokenIndex(ctx, i2); err != nil || b.UserID != a.UserID {
		t.Errorf("new index: %v, %v", b, err)
	}
	if err := s.ChangeCredentialsFrom(ctx, got, account.CredentialChange{UserID: a.UserID + 1000, PasswordHash: &h1, Now: t0}); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("change of a missing account: %v, want ErrNotFound", err)
	}
}

// testClearingCarried: a write carrying the clearing of an admin's failed checks
// (account.WithClearing) clears them with its own change and marks the clearing done; a
// write that fails leaves both as they were.
func testClearingCarried(t *testing.T, s account.Store) {
	ctx := context.Background()
	admin := mustCreate(t, s, newAccount("clearing-admin", ""))
	target := mustCreate(t, s, newAccount("clearing-target", ""))
	failures := func() int {
		a, err := s.AccountByID(ctx, admin.UserID)
		if err != nil {
			t.Fatal(err)
		}
		return a.FailedLogins
	}
	for range 2 {
		if _, err := s.ReserveLoginAttempt(ctx, admin.UserID, t0); err != nil {
			t.Fatal(err)
		}
	}
	// A failing write (the username is taken) carries nothing.
	c := &account.FailureClearing{UserID: admin.UserID}
	if err := s.CreateAccount(account.WithClearing(ctx, c), newAccount("clearing-target", "")); !errors.Is(err, account.ErrUsernameTaken) {
		t.Fatalf("CreateAccount of a taken name: %v", err)
	}
	if account.ClearingFrom(account.WithClearing(ctx, c)) == nil || failures() != 2 {
		t.Errorf("after a failed write: clearing done or failures %d, want 2 still", failures())
	}
	h := "$argon2id$new"
	cur, err := s.AccountByID(ctx, target.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ChangeCredentialsFrom(account.WithClearing(ctx, c), cur, account.CredentialChange{UserID: target.UserID, PasswordHash: &h, Now: t0}); err != nil {
		t.Fatal(err)
	}
	if account.ClearingFrom(account.WithClearing(ctx, c)) != nil || failures() != 0 {
		t.Errorf("after the carrying write: clearing not done or failures %d, want 0", failures())
	}
}

// DeleteAccountNamed reads the account by id, then deletes it as DeleteAccount does.
func (s *Store) DeleteAccountNamed(ctx context.Context, id int64, usernameKey string) (*account.Account, error) {
	a, err := s.AccountByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if a.UsernameKey != usernameKey {
		return nil, account.ErrNotFound
	}
	return a, s.DeleteAccount(account.WithAuditNamed(ctx, a), a)
}

// testDeleteAccountNamed: the delete by user id deletes the account of that username with
// everything DeleteAccount deletes, names the account in the records it carries, and
// refuses an id whose account is another name's or gone.
func testDeleteAccountNamed(t *testing.T, s account.Store) {
	ctx := context.Background()
	a := mustCreate(t, s, newAccount("named-del", "named-del@example.com"))
	other := mustCreate(t, s, newAccount("named-other", ""))
	wantCode(t, "another name's id", errOnly(s.DeleteAccountNamed(ctx, other.UserID, "named-del")), account.ErrNotFound)
	sess := &account.Session{TokenHash: "named-del-session", UserID: a.UserID, CredVersion: a.CredVersion, ExpiresAt: t0.Add(time.Hour)}
	if err := s.CreateSession(ctx, sess, false); err != nil {
		t.Fatal(err)
	}
	rec := account.AuditRecord{Under: other.UserID, ID: "000000000001", Event: account.Event{Time: t0, Type: account.EventAccountDeleted, UserID: a.UserID, Actor: "admin:named-other", Outcome: account.OutcomeSuccess}, Expires: t0.Add(time.Hour)}
	got, err := s.DeleteAccountNamed(account.WithAudit(ctx, rec), a.UserID, "named-del")
	if err != nil {
		t.Fatal(err)
	}
	if got.UserID != a.UserID || got.Username != "named-del" || got.EmailKey != "named-del@example.com" {
		t.Errorf("deleted account = %+v", got)
	}
	if _, err := s.AccountByID(ctx, a.UserID); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("account after the delete: %v", err)
	}
	if _, err := s.UserIDByUsername(ctx, "named-del"); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("username key after the delete: %v", err)
	}
	if _, _, err := s.SessionWithAccount(ctx, a.UserID, sess.TokenHash); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("session after the delete: %v", err)
	}
	evs, _, err := s.Events(ctx, other.UserID, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Username != "named-del" || evs[0].UserID != a.UserID {
		t.Errorf("the deletion's record = %+v, want it to name named-del", evs)
	}
	wantCode(t, "a deleted account", errOnly(s.DeleteAccountNamed(ctx, a.UserID, "named-del")), account.ErrNotFound)
}

func errOnly[T any](_ T, err error) error { return err }
