package admin_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/gatehouse/gatehouse/tests/e2e"
)

func bearer(token string) string { return "Bearer " + token }

// TestAdminBearer: Bearer API tokens through the real functions: refused unless known and
// an admin's, on every route; tokens unique across accounts.
func TestAdminBearer(t *testing.T) {
	t.Parallel()
	name, _, auth := newAdmin(t, e2e.Stack.TableName)
	r := call(t, e2e.Stack.URL, http.MethodPost, userPath(name)+"/refresh", "", auth)
	token := r.Str(t, "token")
	e2e.Secret(token)
	target := e2e.Unique("bearer-target")
	e2e.Expect(t, "create target", call(t, e2e.Stack.URL, http.MethodPost, userPath(target), `{"password":"target-password"}`, bearer(token)), 200, userObject(stored(t, target)))

	// A non-admin with a token of its own.
	user, userPW, _ := e2e.RegisterUser(t, false)
	userToken := e2e.NewSecret("plain-user-token-")
	e2e.Expect(t, "give the user a token", call(t, e2e.Stack.URL, http.MethodPut, userPath(user)+"/update", fmt.Sprintf(`{"token":%q}`, userToken), auth), 200, userObject(stored(t, user)))

	routes := []struct{ method, path, body string }{
		{http.MethodGet, "/api/v2/status", ""},
		{http.MethodGet, "/api/v2/users", ""},
		{http.MethodGet, userPath(target), ""},
		{http.MethodPost, userPath(e2e.Unique("never")), `{"password":"never-created"}`},
		{http.MethodPut, userPath(target) + "/update", `{"password":"never-set-password"}`},
		{http.MethodPatch, userPath(target) + "/update", `{"password":"never-set-password"}`},
		{http.MethodPost, userPath(target) + "/refresh", `{}`},
		{http.MethodDelete, userPath(target), ""},
	}
	for _, rt := range routes {
		for what, h := range map[string]string{
			"unknown token":     bearer(e2e.Unique("no-such-token-")),
			"a session token":   bearer(e2e.Login(t, user, userPW)),
			"name and token":    bearer(name + ":" + token),
			"token, other case": bearer(upper(token)),
		} {
			e2e.Expect(t, rt.method+" "+rt.path+", "+what, call(t, e2e.Stack.URL, rt.method, rt.path, rt.body, h), 401, unauthorized)
		}
		e2e.Expect(t, rt.method+" "+rt.path+", non-admin token", call(t, e2e.Stack.URL, rt.method, rt.path, rt.body, bearer(userToken)), 403, forbidden)
	}
	if a := stored(t, target); a.TokenHash != "" || a.CredVersion != 1 {
		t.Fatalf("a refused request changed the target: %+v", a)
	}
	e2e.Expect(t, "status", call(t, e2e.Stack.URL, http.MethodGet, "/api/v2/status", "", bearer(token)), 200, `{"api_available":true}`)
	e2e.Expect(t, "status, Basic", call(t, e2e.Stack.URL, http.MethodGet, "/api/v2/status", "", auth), 200, `{"api_available":true}`)
	e2e.Expect(t, "status, no credentials", call(t, e2e.Stack.URL, http.MethodGet, "/api/v2/status", "", ""), 401, unauthorized)

	// Tokens are unique: the user's token cannot be given to the target, at creation or
	// by an update; nothing is written.
	inUse := `{"error":"token already in use"}`
	other := e2e.Unique("bearer-other")
	e2e.Expect(t, "create with a token in use", call(t, e2e.Stack.URL, http.MethodPost, userPath(other), fmt.Sprintf(`{"password":"other-password","token":%q}`, userToken), bearer(token)), 400, inUse)
	e2e.Expect(t, "nothing created", call(t, e2e.Stack.URL, http.MethodGet, userPath(other), "", bearer(token)), 403, notExists)
	before := stored(t, target)
	e2e.Expect(t, "update to a token in use", call(t, e2e.Stack.URL, http.MethodPut, userPath(target)+"/update", fmt.Sprintf(`{"password":"target-new-password","token":%q}`, userToken), bearer(token)), 400, inUse)
	if after := stored(t, target); after.PasswordHash != before.PasswordHash || after.TokenHash != "" || after.CredVersion != before.CredVersion {
		t.Fatalf("refused update wrote: %+v", after)
	}
	// The admin's own (generated) token cannot be chosen by another account either.
	e2e.Expect(t, "update to the admin's token", call(t, e2e.Stack.URL, http.MethodPatch, userPath(target)+"/update", fmt.Sprintf(`{"token":%q}`, token), auth), 400, inUse)
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// TestAdminBearerDies: a Bearer token stops working at once when its account's token is
// changed (PUT or PATCH), refreshed, and when the account is deleted, although warm
// functions remember verified credentials.
func TestAdminBearerDies(t *testing.T) {
	t.Parallel()
	_, _, auth := newAdmin(t, e2e.Stack.TableName)
	robot, _, _ := newAdmin(t, e2e.Stack.TableName)
	status := func(token string) int {
		return call(t, e2e.Stack.URL, http.MethodGet, "/api/v2/status", "", bearer(token)).Status
	}
	list := func(token string) int {
		return call(t, e2e.Stack.URL, http.MethodGet, "/api/v2/users?limit=1", "", bearer(token)).Status
	}
	set := func(method, token string) {
		t.Helper()
		e2e.Expect(t, method+" token", call(t, e2e.Stack.URL, method, userPath(robot)+"/update", fmt.Sprintf(`{"token":%q}`, token), auth), 200, userObject(stored(t, robot)))
	}
	first, second := e2e.Unique("robot-first-token-"), e2e.Unique("robot-second-token-")
	e2e.Secret(first, second)
	set(http.MethodPut, first)
	if status(first) != 200 || list(first) != 200 || status(first) != 200 {
		t.Fatal("chosen token refused")
	}
	set(http.MethodPatch, second)
	if status(first) != 401 || list(first) != 401 || status(second) != 200 {
		t.Fatal("changed: the old token works or the new one does not")
	}
	r := call(t, e2e.Stack.URL, http.MethodPost, userPath(robot)+"/refresh", "", bearer(second)) // its own
	fresh := r.Str(t, "token")
	e2e.Secret(fresh)
	if r.Status != 200 || status(second) != 401 || list(second) != 401 || status(fresh) != 200 {
		t.Fatal("refreshed: the old token works or the new one does not")
	}
	e2e.Expect(t, "delete", call(t, e2e.Stack.URL, http.MethodDelete, userPath(robot), "", auth), 200, `{}`)
	if status(fresh) != 401 || list(fresh) != 401 {
		t.Fatal("the token of a deleted account works")
	}
}
