package admin

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/pkg/account"
)

func bearer(token string) string { return "Bearer " + token }

// refresh gives name a generated token through the API and returns it.
func (f *fixture) refresh(t *testing.T, name string) string {
	t.Helper()
	resp := f.h.Serve(f.h.RefreshToken)(ctx, as(name, `{}`))
	var tok struct{ Token string }
	if err := json.Unmarshal([]byte(resp.Body), &tok); err != nil || resp.StatusCode != 200 {
		t.Fatalf("refresh %s: %d %s", name, resp.StatusCode, resp.Body)
	}
	return tok.Token
}

// TestBearer: an admin's API token as "Authorization: Bearer <token>" (what Nebula's SDK
// and nebulactl send) works on every route, chosen or generated; anything else does not.
func TestBearer(t *testing.T) {
	f := newFixture(t)
	if _, err := f.svc.Register(ctx, account.NewAccount{Username: "plain-user", Password: "plain-password", Token: "plain-user-token"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Register(ctx, account.NewAccount{Username: "robot", Token: "chosen-robot-token", Role: account.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	generated := f.refresh(t, adminName)
	for _, r := range f.routes() {
		for what, auth := range map[string]string{
			"unknown token":          bearer("no-such-token-anywhere"),
			"the admin's password":   bearer(adminPW),
			"a name and the token":   bearer(adminName + ":" + generated),
			"Basic-encoded token":    bearer("cm9vdC1hZG1pbjpyb290LWFkbWluLXBhc3N3b3Jk"),
			"empty token":            "Bearer ",
			"huge token":             bearer(strings.Repeat("t", 5000)),
			"token in another case":  bearer(strings.ToUpper(generated)),
			"token with extra bytes": bearer(generated + "x"),
		} {
			expect(t, r.name+", "+what, r.fn(ctx, req("plain-user", auth, r.body)), 401, unauthorizedBody)
		}
		expect(t, r.name+", non-admin token", r.fn(ctx, req("plain-user", bearer("plain-user-token"), r.body)), 403, forbiddenJSON)
	}
	// Generated and chosen tokens, the scheme name in any case.
	expect(t, "generated token", f.h.Serve(f.h.GetUser)(ctx, req("robot", bearer(generated), "")), 200, userJSON(f.account(t, "robot")))
	expect(t, "chosen token", f.h.Serve(f.h.GetUser)(ctx, req("robot", bearer("chosen-robot-token"), "")), 200, userJSON(f.account(t, "robot")))
	expect(t, "lower-case scheme", f.h.Serve(f.h.Status)(ctx, req("", "bearer "+generated, "")), 200, `{"api_available":true}`)
	// Every route serves a Bearer admin.
	resp := f.h.Serve(f.h.CreateUser)(ctx, req("ivy", bearer(generated), `{"password":"ivy-password"}`))
	expect(t, "create", resp, 200, userJSON(f.account(t, "ivy")))
	expect(t, "update", f.h.Serve(f.h.UpdateUser)(ctx, req("ivy", bearer(generated), `{"token":"ivy-chosen-token"}`)), 200, userJSON(f.account(t, "ivy")))
	if r := f.h.Serve(f.h.RefreshToken)(ctx, req("ivy", bearer(generated), "")); r.StatusCode != 200 {
		t.Fatalf("refresh: %d %s", r.StatusCode, r.Body)
	}
	expect(t, "list", f.h.Serve(f.h.ListUsers)(ctx, list(bearer(generated), "limit=1")), 200, `{"users":["ivy"],"next_cursor":"aXZ5"}`)
	expect(t, "delete", f.h.Serve(f.h.DeleteUser)(ctx, req("ivy", bearer(generated), "")), 200, `{}`)
	expect(t, "delete self", f.h.Serve(f.h.DeleteUser)(ctx, req(adminName, bearer(generated), "")), 400, `{"error":"cannot delete your own account"}`)
}

// TestBearerDies: a Bearer token stops working at once when the account's token is
// changed or refreshed, and when the account is deleted, even in a warm function that
// remembers it.
func TestBearerDies(t *testing.T) {
	f := newFixture(t)
	if _, err := f.svc.Register(ctx, account.NewAccount{Username: "robot", Token: "first-robot-token", Role: account.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	status := func(token string) int { return f.h.Serve(f.h.Status)(ctx, req("", bearer(token), "")).StatusCode }
	if status("first-robot-token") != 200 {
		t.Fatal("chosen token refused")
	}
	// Changed through update.
	expect(t, "update", f.h.Serve(f.h.UpdateUser)(ctx, as("robot", `{"token":"second-robot-token"}`)), 200, userJSON(f.account(t, "robot")))
	if status("first-robot-token") != 401 || status("second-robot-token") != 200 {
		t.Fatal("update: the old token works or the new one does not")
	}
	// A password change leaves the token alone.
	expect(t, "password", f.h.Serve(f.h.UpdateUser)(ctx, as("robot", `{"password":"robot-password"}`)), 200, userJSON(f.account(t, "robot")))
	if status("second-robot-token") != 200 {
		t.Fatal("token refused after a password change")
	}
	// Refreshed.
	fresh := f.refresh(t, "robot")
	if status("second-robot-token") != 401 || status(fresh) != 200 {
		t.Fatal("refresh: the old token works or the new one does not")
	}
	newer := f.refresh(t, "robot")
	if status(fresh) != 401 || status(newer) != 200 {
		t.Fatal("second refresh: the old token works or the new one does not")
	}
	// Demoted: 403, then deleted: 401.
	role := account.RoleUser
	if err := f.store.ChangeCredentials(ctx, account.CredentialChange{UserID: f.account(t, "robot").UserID, Role: &role, KeepSessions: true}); err != nil {
		t.Fatal(err)
	}
	expect(t, "demoted", f.h.Serve(f.h.Status)(ctx, req("", bearer(newer), "")), 403, forbiddenJSON)
	expect(t, "delete", f.h.Serve(f.h.DeleteUser)(ctx, as("robot", "")), 200, `{}`)
	expect(t, "deleted", f.h.Serve(f.h.Status)(ctx, req("", bearer(newer), "")), 401, unauthorizedBody)
	// A new account of the same name does not inherit the token.
	if _, err := f.svc.Register(ctx, account.NewAccount{Username: "robot", Password: "robot-password", Role: account.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	expect(t, "same name again", f.h.Serve(f.h.Status)(ctx, req("", bearer(newer), "")), 401, unauthorizedBody)
}

// TestBearerIgnoresLockout: a password lockout never refuses the account's Bearer token.
func TestBearerIgnoresLockout(t *testing.T) {
	f := newFixture(t)
	token := f.refresh(t, adminName)
	for range account.FreeLoginAttempts + 1 {
		f.h.Serve(f.h.Status)(ctx, req("", basic(adminName, "wrong-password"), ""))
	}
	if r := f.h.Serve(f.h.Status)(ctx, req("", basic(adminName, adminPW), "")); r.StatusCode != 429 {
		t.Fatalf("Basic after the failures: %d %s, want the lockout", r.StatusCode, r.Body)
	}
	expect(t, "Bearer while locked", f.h.Serve(f.h.Status)(ctx, req("", bearer(token), "")), 200, `{"api_available":true}`)
}

// TestTokenInUse: tokens are unique across accounts.
func TestTokenInUse(t *testing.T) {
	f := newFixture(t)
	expect(t, "create", f.h.Serve(f.h.CreateUser)(ctx, as("jack", `{"token":"jacks-chosen-token"}`)), 200, userJSON(f.account(t, "jack")))
	inUse := `{"error":"token already in use"}`
	expect(t, "create with it", f.h.Serve(f.h.CreateUser)(ctx, as("kate", `{"password":"kate-password","token":"jacks-chosen-token"}`)), 400, inUse)
	if _, err := f.svc.AccountByUsername(ctx, "kate"); err == nil {
		t.Fatal("refused creation left the account")
	}
	expect(t, "create kate", f.h.Serve(f.h.CreateUser)(ctx, as("kate", `{"password":"kate-password"}`)), 200, userJSON(f.account(t, "kate")))
	before := f.account(t, "kate")
	expect(t, "update to it", f.h.Serve(f.h.UpdateUser)(ctx, as("kate", `{"password":"kate-new-password","token":"jacks-chosen-token"}`)), 400, inUse)
	if after := f.account(t, "kate"); after.PasswordHash != before.PasswordHash || after.TokenHash != "" || after.CredVersion != before.CredVersion {
		t.Fatalf("refused update wrote: %+v", after)
	}
	// Setting one's own token again is no conflict.
	expect(t, "same token again", f.h.Serve(f.h.UpdateUser)(ctx, as("jack", `{"token":"jacks-chosen-token"}`)), 200, userJSON(f.account(t, "jack")))
	// Once jack's token changes, kate may take the old one.
	f.refresh(t, "jack")
	expect(t, "freed", f.h.Serve(f.h.UpdateUser)(ctx, as("kate", `{"token":"jacks-chosen-token"}`)), 200, userJSON(f.account(t, "kate")))
}

func TestStatus(t *testing.T) {
	f := newFixture(t)
	expect(t, "Basic", f.h.Serve(f.h.Status)(ctx, as("", "")), 200, `{"api_available":true}`)
	expect(t, "no credentials", f.h.Serve(f.h.Status)(ctx, req("", "", "")), 401, unauthorizedBody)
	expect(t, "wrong password", f.h.Serve(f.h.Status)(ctx, req("", basic(adminName, "wrong-password"), "")), 401, unauthorizedBody)
}
