package account_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/pkg/account"
)

func TestAuthenticateAdmin(t *testing.T) {
	e := newAdminEnv(t)
	if _, _, err := e.svc.EnsureAdmin(ctx, "root", "root-password"); err != nil {
		t.Fatal(err)
	}
	e.register(t, "plain", "", "plain-password")

	a, err := e.svc.AuthenticateAdmin(ctx, "ROOT", "root-password")
	if err != nil || a.Username != "root" {
		t.Fatalf("%+v %v", a, err)
	}
	_, err = e.svc.AuthenticateAdmin(ctx, "root", "wrong-password")
	is(t, err, account.ErrInvalidCredentials)
	_, err = e.svc.AuthenticateAdmin(ctx, "nobody", "root-password")
	is(t, err, account.ErrInvalidCredentials)
	_, err = e.svc.AuthenticateAdmin(ctx, "plain", "plain-password")
	is(t, err, account.ErrForbidden)
	_, err = e.svc.AuthenticateAdmin(ctx, "plain", "wrong-password")
	is(t, err, account.ErrInvalidCredentials)

	// A generated token works as the secret, and so does a chosen one.
	token, err := e.svc.RefreshToken(ctx, "root")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AuthenticateAdmin(ctx, "root", token); err != nil {
		t.Fatalf("generated token: %v", err)
	}
	if _, err := e.svc.UpdateCredentials(ctx, "root", nil, str("chosen-token-123")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AuthenticateAdmin(ctx, "root", "chosen-token-123"); err != nil {
		t.Fatalf("chosen token: %v", err)
	}
	_, err = e.svc.AuthenticateAdmin(ctx, "root", token)
	is(t, err, account.ErrInvalidCredentials)
}

func TestAuthenticateAdminCache(t *testing.T) {
	e := newAdminEnv(t)
	if _, _, err := e.svc.EnsureAdmin(ctx, "root", "root-password"); err != nil {
		t.Fatal(err)
	}
	before := e.hasher.Verifies.Load()
	for range 5 {
		if _, err := e.svc.AuthenticateAdmin(ctx, "root", "root-password"); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.hasher.Verifies.Load() - before; n != 1 {
		t.Fatalf("%d verifications for 5 calls; want 1 (the rest from memory)", n)
	}
	// A wrong secret is never remembered.
	for range 2 {
		_, err := e.svc.AuthenticateAdmin(ctx, "root", "wrong-password")
		is(t, err, account.ErrInvalidCredentials)
	}
	// A changed password is not accepted from memory.
	if _, err := e.svc.UpdateCredentials(ctx, "root", str("second-password"), nil); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.AuthenticateAdmin(ctx, "root", "root-password")
	is(t, err, account.ErrInvalidCredentials)
	if _, err := e.svc.AuthenticateAdmin(ctx, "root", "second-password"); err != nil {
		t.Fatal(err)
	}
	// Entries expire.
	before = e.hasher.Verifies.Load()
	e.advance(account.DefaultAdminAuthTTL)
	if _, err := e.svc.AuthenticateAdmin(ctx, "root", "second-password"); err != nil {
		t.Fatal(err)
	}
	if n := e.hasher.Verifies.Load() - before; n != 1 {
		t.Fatalf("expired entry still used (%d verifications)", n)
	}
	// A demoted admin is refused even with a remembered credential (another admin stays).
	if _, _, err := e.svc.EnsureAdmin(ctx, "root2", "root2-password"); err != nil {
		t.Fatal(err)
	}
	cur, _ := e.store.AccountByUsername(ctx, "root")
	role := account.RoleUser
	if err := e.store.ChangeCredentials(ctx, account.CredentialChange{UserID: cur.UserID, Role: &role, KeepSessions: true, Now: e.now}); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.AuthenticateAdmin(ctx, "root", "second-password")
	is(t, err, account.ErrForbidden)
}

func TestAdminUserManagement(t *testing.T) {
	e := newAdminEnv(t)
	root, _, err := e.svc.EnsureAdmin(ctx, "root", "root-password")
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.svc.CreateUser(ctx, "Bot", nil, str("bot-token-1234"))
	if err != nil || a.PasswordHash != "" || !strings.HasPrefix(a.TokenHash, "$argon2id$") || a.Role != account.RoleUser {
		t.Fatalf("create: %+v %v", a, err)
	}
	_, err = e.svc.CreateUser(ctx, "bot", str("a-password"), nil)
	is(t, err, account.ErrUsernameTaken)
	_, err = e.svc.CreateUser(ctx, "nothing", nil, nil)
	is(t, err, account.Invalid(account.FieldPassword, account.ReasonEmpty))
	_, err = e.svc.CreateUser(ctx, "someone", str(""), str("a-good-token"))
	is(t, err, account.Invalid(account.FieldPassword, account.ReasonEmpty))
	_, err = e.svc.CreateUser(ctx, "someone", str("a-password"), str(""))
	is(t, err, account.Invalid(account.FieldToken, account.ReasonEmpty))
	_, err = e.svc.CreateUser(ctx, "x y", str("a-password"), nil)
	is(t, err, account.Invalid(account.FieldUsername, account.ReasonWhitespace))

	session := e.login(t, "root", "root-password")
	upd, err := e.svc.UpdateCredentials(ctx, "root", str("new-root-password"), nil)
	if err != nil || upd.PasswordHash == root.PasswordHash {
		t.Fatalf("update: %v", err)
	}
	_, _, err = e.svc.Authorize(ctx, session)
	is(t, err, account.ErrNotAuthenticated)
	_, err = e.svc.UpdateCredentials(ctx, "nobody", str("a-password"), nil)
	is(t, err, account.ErrNotFound)
	_, err = e.svc.UpdateCredentials(ctx, "bot", str("short"), nil)
	is(t, err, account.Invalid(account.FieldPassword, account.ReasonLength))

	tok, err := e.svc.RefreshToken(ctx, "bot")
	if err != nil || !regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`).MatchString(tok) {
		t.Fatalf("refresh: %q %v", tok, err)
	}
	cur, _ := e.store.AccountByUsername(ctx, "bot")
	if !strings.HasPrefix(cur.TokenHash, "$sha256$") || strings.Contains(cur.TokenHash, tok) {
		t.Fatalf("token stored as %q", cur.TokenHash)
	}

	is(t, e.svc.DeleteUser(ctx, root, "ROOT"), account.ErrCannotDeleteSelf)
	if err := e.svc.DeleteUser(ctx, root, "bot"); err != nil {
		t.Fatal(err)
	}
	is(t, e.svc.DeleteUser(ctx, root, "bot"), account.ErrNotFound)
	if _, err := e.svc.CreateUser(ctx, "bot", str("reborn-password"), nil); err != nil {
		t.Fatalf("name not free after delete: %v", err)
	}
}

func TestListUsers(t *testing.T) {
	e := newEnv(t)
	for _, n := range []string{"Charlie", "alice", "Bob", "dave", "eve"} {
		e.register(t, n, "", "some-password")
	}
	var all []string
	cursor, pages := "", 0
	for {
		names, next, err := e.svc.ListUsers(ctx, cursor, 2)
		if err != nil {
			t.Fatal(err)
		}
		all, pages = append(all, names...), pages+1
		if next == "" {
			break
		}
		cursor = next
	}
	if strings.Join(all, ",") != "alice,Bob,Charlie,dave,eve" || pages != 3 {
		t.Fatalf("%d pages: %v", pages, all)
	}
	for _, bad := range []struct {
		cursor string
		limit  int
	}{{"", -1}, {"", 1001}, {"!!!", 10}} {
		_, _, err := e.svc.ListUsers(ctx, bad.cursor, bad.limit)
		if account.ErrorCode(err) != account.CodeInvalidInput {
			t.Errorf("ListUsers(%q, %d) = %v", bad.cursor, bad.limit, err)
		}
	}
}
