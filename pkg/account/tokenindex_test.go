package account_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/gatehouse/gatehouse/pkg/account"
)

var indexKey = []byte("account-unit-test-token-index-key-0123456789")

// newAdminEnv is newEnv with a token-index key, as the admin functions have one.
func newAdminEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	e.svc.TokenIndexKey = indexKey
	return e
}

func TestTokenIndex(t *testing.T) {
	e := newAdminEnv(t)
	idx, err := e.svc.TokenIndex("some-api-token")
	m := hmac.New(sha256.New, indexKey)
	m.Write([]byte("some-api-token"))
	if err != nil || idx != hex.EncodeToString(m.Sum(nil)) {
		t.Fatalf("index %q, %v", idx, err)
	}
	// Another stack's key gives another index; the plain hash of the token is not it.
	other := newEnv(t)
	other.svc.TokenIndexKey = []byte("another-stacks-token-index-key-0123456789")
	if o, _ := other.svc.TokenIndex("some-api-token"); o == idx || idx == account.HashSecret("some-api-token") {
		t.Fatal("index does not depend on the key")
	}
	// No key, or a short one: refused.
	for _, key := range [][]byte{nil, []byte("short")} {
		e := newEnv(t)
		e.svc.TokenIndexKey = key
		if _, err := e.svc.TokenIndex("x"); account.ErrorCode(err) != account.CodeInternal {
			t.Fatalf("key %q: %v", key, err)
		}
	}
}

func TestAuthenticateAdminToken(t *testing.T) {
	e := newAdminEnv(t)
	if _, _, err := e.svc.EnsureAdmin(ctx, "root", "root-password"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateUser(ctx, "plain", str("plain-password"), str("plain-chosen-token")); err != nil {
		t.Fatal(err)
	}
	generated, err := e.svc.RefreshToken(ctx, "root")
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.svc.AuthenticateAdminToken(ctx, generated)
	if err != nil || a.Username != "root" {
		t.Fatalf("generated token: %+v %v", a, err)
	}
	// Unknown, the password (a Bearer credential is a token), empty.
	for _, token := range []string{"no-such-token", "root-password", ""} {
		_, err = e.svc.AuthenticateAdminToken(ctx, token)
		is(t, err, account.ErrInvalidCredentials)
	}
	_, err = e.svc.AuthenticateAdminToken(ctx, "plain-chosen-token")
	is(t, err, account.ErrForbidden)

	// A chosen token: the slow hash once, then remembered while nothing changes.
	if _, err := e.svc.UpdateCredentials(ctx, "root", nil, str("root-chosen-token")); err != nil {
		t.Fatal(err)
	}
	before := e.hasher.Verifies.Load()
	for range 3 {
		if _, err := e.svc.AuthenticateAdminToken(ctx, "root-chosen-token"); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.hasher.Verifies.Load() - before; n != 1 {
		t.Fatalf("%d slow hashes for three checks, want 1", n)
	}
	_, err = e.svc.AuthenticateAdminToken(ctx, generated)
	is(t, err, account.ErrInvalidCredentials) // replaced by the chosen one
	// The remembered token dies with a change, although the cache still holds it.
	if _, err := e.svc.RefreshToken(ctx, "root"); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.AuthenticateAdminToken(ctx, "root-chosen-token")
	is(t, err, account.ErrInvalidCredentials)

	// Without the key a Bearer check is an internal error, not a silent 401.
	e.svc.TokenIndexKey = nil
	_, err = e.svc.AuthenticateAdminToken(ctx, "root-chosen-token")
	if account.ErrorCode(err) != account.CodeInternal {
		t.Fatalf("no key: %v", err)
	}
}

// TestTokenNeedsKey: the admin use cases never set a token that Bearer could not find;
// Register without a key (a function that sets no tokens) stores the token unindexed.
func TestTokenNeedsKey(t *testing.T) {
	e := newEnv(t)
	e.svc.TokenIndexKey = nil
	if _, _, err := e.svc.EnsureAdmin(ctx, "root", "root-password"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateUser(ctx, "robot", nil, str("robot-chosen-token")); account.ErrorCode(err) != account.CodeInternal {
		t.Fatalf("create: %v", err)
	}
	if _, err := e.svc.AccountByUsername(ctx, "robot"); err == nil {
		t.Fatal("created without a key")
	}
	if _, err := e.svc.UpdateCredentials(ctx, "root", nil, str("root-chosen-token")); account.ErrorCode(err) != account.CodeInternal {
		t.Fatalf("update: %v", err)
	}
	if _, err := e.svc.RefreshToken(ctx, "root"); account.ErrorCode(err) != account.CodeInternal {
		t.Fatalf("refresh: %v", err)
	}
	if a, _ := e.svc.AccountByUsername(ctx, "root"); a.TokenHash != "" {
		t.Fatal("a token was set without a key")
	}
	c, err := e.svc.Register(ctx, account.NewAccount{Username: "legacy", Token: "legacy-chosen-token"})
	if err != nil || c.Account.TokenHash == "" || c.Account.TokenIndex != "" {
		t.Fatalf("register without key: %+v %v", c, err)
	}
}
