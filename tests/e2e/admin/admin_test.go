package admin_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/infra/local/samtemplate"
	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/accounttest"
	"github.com/gatehouse/gatehouse/tests/e2e"
)

const (
	unauthorized = `{"error":"unauthorized"}`
	forbidden    = `{"access_allowed":false,"error":"forbidden"}`
	notExists    = `{"user_exists":false}`
	exists       = `{"user_exists":true}`
	challenge    = `Basic realm="admin"`
	notAuth      = `{"success":false,"data":{"message":"PLEASE_LOGIN"}}`
)

func TestMain(m *testing.M) {
	// Fixed secrets the tests send; none may reach a log.
	e2e.Secret("admin-set-password", "admin-set-token", "paging-token", "robot-admin-token", "robot-chosen-token",
		"unicode-password", "target-password", "valid-password", "never-set-password", "reset-after-delete")
	e2e.Main(m)
}

var ctx = context.Background()

// service is the domain on the stack's own table, with a recording mailer.
func service(t *testing.T, table string) (*account.Service, *accounttest.Mailer) {
	t.Helper()
	mailer := &accounttest.Mailer{}
	return e2e.Service(table, mailer, account.Config{TokenIndexKey: []byte(e2e.Stack.TokenIndexKey)}), mailer
}

// newAdmin creates an admin account in table and returns its Basic credentials.
func newAdmin(t *testing.T, table string) (name, password, auth string) {
	t.Helper()
	name, password = e2e.Unique("adm"), e2e.Unique("admin-pw-")
	e2e.Secret(password)
	svc, _ := service(t, table)
	if _, _, err := svc.EnsureAdmin(ctx, name, password); err != nil {
		t.Fatal(err)
	}
	return name, password, e2e.Basic(name, password)
}

// call sends an admin request as the seed document does (Content-Type: application/json).
func call(t *testing.T, base, method, path, body, auth string) e2e.Response {
	t.Helper()
	var headers []string
	if auth != "" {
		headers = []string{"Authorization", auth}
	}
	r := e2e.Do(t, base, method, path, "application/json", body, headers...)
	if (r.Status == 401) != (r.Header.Get("WWW-Authenticate") == challenge) {
		t.Fatalf("%s %s: status %d with WWW-Authenticate %q", method, path, r.Status, r.Header.Get("WWW-Authenticate"))
	}
	return r
}

// badBody is the 400 of a missing or unusable body.
// createUser creates an account named prefix plus digits with the password
// "valid-password" through the API as the admin auth (setup: the answer is not checked)
// and returns its name.
func createUser(t *testing.T, auth, prefix string) string {
	t.Helper()
	name := e2e.Unique(prefix)
	call(t, e2e.Stack.URL, http.MethodPost, userPath(name), `{"password":"valid-password"}`, auth)
	return name
}

func badBody(msg string) string { return fmt.Sprintf(`{"missing_parameters":true,"error":%q}`, msg) }

func userPath(name string) string { return "/api/v2/users/" + url.PathEscape(name) }

// stored returns the account as the table holds it.
func stored(t *testing.T, name string) *account.Account {
	t.Helper()
	svc, _ := service(t, e2e.Stack.TableName)
	a, err := svc.AccountByUsername(ctx, name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return a
}

func userObject(a *account.Account) string {
	return fmt.Sprintf(`{"user_id":%d,"user_name":%q,"password":%q,"token":%q,"email_verified":%t}`, a.UserID, a.Username, a.PasswordHash, a.TokenHash, a.EmailVerified)
}

// TestAdminSeedFlow follows the seed document: create, create again, update, refresh,
// get, list, delete, delete again; every answer exact.
func TestAdminSeedFlow(t *testing.T) {
	t.Parallel()
	_, _, auth := newAdmin(t, e2e.Stack.TableName)
	name := e2e.Unique("Test")
	pw, token := e2e.Unique("seed-pass-"), e2e.Unique("seed-token-")
	e2e.Secret(pw, token)

	r := call(t, e2e.Stack.URL, http.MethodPost, userPath(name), fmt.Sprintf("{\n    \"password\": %q,\n    \"token\": %q\n}", pw, token), auth)
	created := stored(t, name)
	e2e.Expect(t, "create", r, 200, userObject(created))
	if !strings.HasPrefix(created.PasswordHash, "$argon2id$") || !strings.HasPrefix(created.TokenHash, "$argon2id$") || created.Role != account.RoleUser ||
		strings.Contains(r.Body, pw) || strings.Contains(r.Body, token) {
		t.Fatalf("created: %+v %s", created, r.Body)
	}
	e2e.Expect(t, "create existing", call(t, e2e.Stack.URL, http.MethodPost, userPath(name), `{"password":"another-password"}`, auth), 403, exists)
	e2e.Expect(t, "create existing, other case", call(t, e2e.Stack.URL, http.MethodPost, userPath(strings.ToUpper(name)), `{"token":"another-token"}`, auth), 403, exists)

	newPW, newToken := e2e.Unique("seed-new-pass-"), e2e.Unique("seed-new-token-")
	e2e.Secret(newPW, newToken)
	r = call(t, e2e.Stack.URL, http.MethodPut, userPath(name)+"/update", fmt.Sprintf(`{"password":%q,"token":%q}`, newPW, newToken), auth)
	updated := stored(t, name)
	e2e.Expect(t, "update", r, 200, userObject(updated))
	if updated.PasswordHash == created.PasswordHash || updated.TokenHash == created.TokenHash || updated.UserID != created.UserID {
		t.Fatalf("update changed nothing: %+v", updated)
	}

	r = call(t, e2e.Stack.URL, http.MethodPost, userPath(name)+"/refresh", `{}`, auth)
	fresh := r.Str(t, "token")
	e2e.Secret(fresh)
	e2e.Expect(t, "refresh", r, 200, fmt.Sprintf(`{"token":%q}`, fresh))
	if raw, err := base64.RawURLEncoding.DecodeString(fresh); len(fresh) != 43 || err != nil || len(raw) != 32 {
		t.Fatalf("refreshed token %q", fresh)
	}
	refreshed := stored(t, name)
	if refreshed.TokenHash != "$sha256$"+account.HashSecret(fresh) || refreshed.PasswordHash != updated.PasswordHash {
		t.Fatalf("stored after refresh: %+v", refreshed)
	}

	e2e.Expect(t, "get", call(t, e2e.Stack.URL, http.MethodGet, userPath(name), "", auth), 200, userObject(refreshed))
	e2e.Expect(t, "get, other case", call(t, e2e.Stack.URL, http.MethodGet, userPath(strings.ToLower(name)), "", auth), 200, userObject(refreshed))
	r = call(t, e2e.Stack.URL, http.MethodGet, "/api/v2/users", "", auth)
	var users []string
	for _, u := range r.JSON(t)["users"].([]any) {
		users = append(users, u.(string))
	}
	if r.Status != 200 || !slices.Contains(users, name) || len(r.JSON(t)) != 1 {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}

	e2e.Expect(t, "delete", call(t, e2e.Stack.URL, http.MethodDelete, userPath(name), "", auth), 200, `{}`)
	e2e.Expect(t, "delete again", call(t, e2e.Stack.URL, http.MethodDelete, userPath(name), "", auth), 403, notExists)
	e2e.Expect(t, "get deleted", call(t, e2e.Stack.URL, http.MethodGet, userPath(name), "", auth), 403, notExists)
	e2e.Expect(t, "update deleted", call(t, e2e.Stack.URL, http.MethodPut, userPath(name)+"/update", `{"password":"whatever-password"}`, auth), 403, notExists)
	e2e.Expect(t, "refresh deleted", call(t, e2e.Stack.URL, http.MethodPost, userPath(name)+"/refresh", `{}`, auth), 403, notExists)
}

// Accounts with a password only, a token only, and a Unicode name sent percent-encoded.
func TestAdminCreateVariants(t *testing.T) {
	t.Parallel()
	_, _, auth := newAdmin(t, e2e.Stack.TableName)

	tokenOnly, robotToken := e2e.Unique("robot"), e2e.Unique("robot-chosen-token-")
	e2e.Secret(robotToken)
	r := call(t, e2e.Stack.URL, http.MethodPost, userPath(tokenOnly), fmt.Sprintf(`{"token":%q}`, robotToken), auth)
	e2e.Expect(t, "token only", r, 200, userObject(stored(t, tokenOnly)))
	if stored(t, tokenOnly).PasswordHash != "" {
		t.Fatal("token-only account has a password")
	}
	// Such an account cannot log in with a password (the Users family says so).
	e2e.Expect(t, "login of a token-only account", e2e.PostJSON(t, "/users/login", fmt.Sprintf(`{"username":%q,"password":%q}`, tokenOnly, robotToken)), 401,
		`{"success":"false","data":{"message":"REGISTER_FOR_A_PASSWORD"}}`)

	pwOnly := e2e.Unique("Human")
	pw := e2e.NewSecret("human-pw-")
	r = call(t, e2e.Stack.URL, http.MethodPost, userPath(pwOnly), fmt.Sprintf(`{"password":%q}`, pw), auth)
	e2e.Expect(t, "password only", r, 200, userObject(stored(t, pwOnly)))
	if !strings.Contains(r.Body, `"token":""`) {
		t.Fatalf("no token: %s", r.Body)
	}
	e2e.Login(t, strings.ToLower(pwOnly), pw) // the account works in the other families

	uni := e2e.Unique("Ünïcødé-")
	r = call(t, e2e.Stack.URL, http.MethodPost, userPath(uni), `{"password":"unicode-password"}`, auth)
	e2e.Expect(t, "unicode name", r, 200, userObject(stored(t, uni)))
	e2e.Expect(t, "unicode name, other case", call(t, e2e.Stack.URL, http.MethodGet, userPath(strings.ToUpper(uni)), "", auth), 200, userObject(stored(t, uni)))
}

func TestAdminCredentials(t *testing.T) {
	t.Parallel()
	name, pw, auth := newAdmin(t, e2e.Stack.TableName)
	target := e2e.Unique("target")
	e2e.Expect(t, "create target", call(t, e2e.Stack.URL, http.MethodPost, userPath(target), `{"password":"target-password"}`, auth), 200, userObject(stored(t, target)))

	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	bad := []struct{ what, header string }{
		{"no header", ""},
		{"bearer scheme", "Bearer " + b64(name+":"+pw)},
		{"digest scheme", `Digest username="` + name + `", realm="admin"`},
		{"scheme only", "Basic"},
		{"bad base64", "Basic %%%not-base64%%%"},
		{"truncated base64", "Basic " + b64(name + ":" + pw)[:5]},
		{"no colon", "Basic " + b64(name+pw)},
		{"empty username", "Basic " + b64(":"+pw)},
		{"empty secret", "Basic " + b64(name+":")},
		{"empty both", "Basic " + b64(":")},
		{"invalid UTF-8", "Basic " + b64(name+":\xff\xfe\xfd")},
		{"invalid username", e2e.Basic("no body", pw)},
	}
	routes := []struct{ method, path, body string }{
		{http.MethodGet, "/api/v2/users", ""},
		{http.MethodGet, userPath(target), ""},
		{http.MethodPost, userPath(e2e.Unique("never")), `{"password":"never-created"}`},
		{http.MethodPut, userPath(target) + "/update", `{"password":"never-set-password"}`},
		{http.MethodPost, userPath(target) + "/refresh", `{}`},
		{http.MethodDelete, userPath(target), ""},
	}
	for _, rt := range routes {
		for _, b := range bad {
			e2e.Expect(t, rt.method+" "+rt.path+", "+b.what, call(t, e2e.Stack.URL, rt.method, rt.path, rt.body, b.header), 401, unauthorized)
		}
		// Wrong passwords, each route on an admin of its own: failed checks count per
		// account, and these must stay under the limit.
		other, _, _ := newAdmin(t, e2e.Stack.TableName)
		e2e.Expect(t, rt.method+" "+rt.path+", wrong password", call(t, e2e.Stack.URL, rt.method, rt.path, rt.body, e2e.Basic(other, "wrong-password")), 401, unauthorized)
		e2e.Expect(t, rt.method+" "+rt.path+", password of another account", call(t, e2e.Stack.URL, rt.method, rt.path, rt.body, e2e.Basic(other, "target-password")), 401, unauthorized)
		// Unknown usernames are counted like accounts: one each as well.
		e2e.Expect(t, rt.method+" "+rt.path+", unknown user", call(t, e2e.Stack.URL, rt.method, rt.path, rt.body, e2e.Basic(e2e.Unique("nobody"), pw)), 401, unauthorized)
	}
	// Nothing happened to the target.
	if a := stored(t, target); a.TokenHash != "" {
		t.Fatalf("a refused refresh changed the token: %+v", a)
	}

	// A user that is not an admin, with its right password: 403 on every route.
	user, userPW, _ := e2e.RegisterUser(t, false)
	for _, rt := range routes {
		e2e.Expect(t, rt.method+" "+rt.path+", non-admin", call(t, e2e.Stack.URL, rt.method, rt.path, rt.body, e2e.Basic(user, userPW)), 403, forbidden)
	}

	// Credentials come before the body: a bad or huge body is not looked at without them.
	e2e.Expect(t, "bad body, no credentials", call(t, e2e.Stack.URL, http.MethodPost, userPath(e2e.Unique("x")), `{"password":`, ""), 401, unauthorized)
	e2e.Expect(t, "huge body, no credentials", call(t, e2e.Stack.URL, http.MethodPost, userPath(e2e.Unique("x")), strings.Repeat("a", 70<<10), e2e.Basic(e2e.Unique("nobody"), "wrong-password")), 401, unauthorized)

	// The scheme and the username in any case.
	e2e.Expect(t, "lower-case scheme, upper-case name", call(t, e2e.Stack.URL, http.MethodGet, userPath(target), "", "basic "+b64(strings.ToUpper(name)+":"+pw)), 200, userObject(stored(t, target)))
}

// Basic credentials with the password, a chosen token and a refreshed one; a changed
// secret is refused at once although warm functions remember verified credentials.
func TestAdminTokenCredentials(t *testing.T) {
	t.Parallel()
	name, pw, auth := newAdmin(t, e2e.Stack.TableName)
	list := func(auth string) e2e.Response {
		return call(t, e2e.Stack.URL, http.MethodGet, "/api/v2/users?limit=1", "", auth)
	}
	if r := list(auth); r.Status != 200 {
		t.Fatalf("password: %d %s", r.Status, r.Body)
	}

	chosen := e2e.NewSecret("chosen-admin-token-")
	e2e.Expect(t, "set own token", call(t, e2e.Stack.URL, http.MethodPut, userPath(name)+"/update", fmt.Sprintf(`{"token":%q}`, chosen), auth), 200, userObject(stored(t, name)))
	if r := list(e2e.Basic(name, chosen)); r.Status != 200 {
		t.Fatalf("chosen token: %d %s", r.Status, r.Body)
	}
	if r := list(auth); r.Status != 200 {
		t.Fatalf("password after a token change: %d %s", r.Status, r.Body)
	}

	r := call(t, e2e.Stack.URL, http.MethodPost, userPath(name)+"/refresh", ``, e2e.Basic(name, chosen))
	fresh := r.Str(t, "token")
	e2e.Secret(fresh)
	if r.Status != 200 || len(fresh) != 43 {
		t.Fatalf("refresh: %d %s", r.Status, r.Body)
	}
	if r := list(e2e.Basic(name, fresh)); r.Status != 200 {
		t.Fatalf("refreshed token: %d %s", r.Status, r.Body)
	}
	e2e.Expect(t, "chosen token after refresh", list(e2e.Basic(name, chosen)), 401, unauthorized)

	newPW := e2e.NewSecret("new-admin-pw-")
	e2e.Expect(t, "change own password", call(t, e2e.Stack.URL, http.MethodPut, userPath(name)+"/update", fmt.Sprintf(`{"password":%q}`, newPW), e2e.Basic(name, fresh)), 200, userObject(stored(t, name)))
	e2e.Expect(t, "old password", list(e2e.Basic(name, pw)), 401, unauthorized)
	if r := list(e2e.Basic(name, newPW)); r.Status != 200 {
		t.Fatalf("new password: %d %s", r.Status, r.Body)
	}
	// A token-only admin (created through the API, then promoted in the store).
	robot, robotToken := e2e.Unique("robot-admin"), e2e.Unique("robot-admin-token-")
	e2e.Secret(robotToken)
	e2e.Expect(t, "create robot", call(t, e2e.Stack.URL, http.MethodPost, userPath(robot), fmt.Sprintf(`{"token":%q}`, robotToken), e2e.Basic(name, newPW)), 200, userObject(stored(t, robot)))
	e2e.Expect(t, "robot, not yet admin", list(e2e.Basic(robot, robotToken)), 403, forbidden)
	role := account.RoleAdmin
	svc, _ := service(t, e2e.Stack.TableName)
	if err := svc.Store.ChangeCredentials(ctx, account.CredentialChange{UserID: stored(t, robot).UserID, Role: &role, KeepSessions: true, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if r := list(e2e.Basic(robot, robotToken)); r.Status != 200 {
		t.Fatalf("token-only admin: %d %s", r.Status, r.Body)
	}
}

func TestAdminValidation(t *testing.T) {
	t.Parallel()
	_, _, auth := newAdmin(t, e2e.Stack.TableName)
	existing := createUser(t, auth, "valid")
	fresh := e2e.Unique("fresh")
	for _, tc := range []struct{ name, body, msg string }{
		{"ab", `{"password":"12345678"}`, "username must be 3 to 100 characters"},
		{strings.Repeat("x", 101), `{"password":"12345678"}`, "username must be 3 to 100 characters"},
		{"white space", `{"password":"12345678"}`, "username contains white space"},
		{"bad\u00a0space", `{"password":"12345678"}`, "username contains white space"},
		{"bell\u0007name", `{"password":"12345678"}`, "username is invalid"},
		{fresh, `{"password":"1234567"}`, "password must be 8 to 200 characters"},
		{fresh, `{"password":"` + strings.Repeat("p", 201) + `"}`, "password must be 8 to 200 characters"},
		{fresh, `{"password":""}`, "password is empty"},
		{fresh, `{"password":"","token":"valid-token"}`, "password is empty"},
		{fresh, `{"token":"short"}`, "token must be 8 to 200 characters"},
		{fresh, `{"token":""}`, "token is empty"},
		{fresh, `{"password":12345678}`, "password must be a string"},
		{fresh, `{"password":"12345678\u0000"}`, "password is invalid"},
		{fresh, `{}`, "password or token required"},
		{fresh, ``, "password or token required"},
		{fresh, `{"password":null}`, "password or token required"},
		{fresh, `{"password":`, "invalid request body"},
		{fresh, `["password"]`, "invalid request body"},
		{fresh, `{"password":"12345678","password":"87654321"}`, "invalid request body"},
	} {
		want := badBody(tc.msg)
		if strings.HasPrefix(tc.msg, "username ") {
			want = fmt.Sprintf(`{"error":%q}`, tc.msg) // the path, not the body
		}
		e2e.Expect(t, "create "+tc.name+" "+tc.body, call(t, e2e.Stack.URL, http.MethodPost, userPath(tc.name), tc.body, auth), 400, want)
	}
	e2e.Expect(t, "create, body over 64 KiB", call(t, e2e.Stack.URL, http.MethodPost, userPath(fresh), `{"password":"`+strings.Repeat("a", 70<<10)+`"}`, auth), 413, `{"error":"request body too large"}`)
	e2e.Expect(t, "nothing was created", call(t, e2e.Stack.URL, http.MethodGet, userPath(fresh), "", auth), 403, notExists)

	for _, tc := range []struct{ name, body, msg string }{
		{existing, `{}`, "password or token required"},
		{existing, `{"password":"short"}`, "password must be 8 to 200 characters"},
		{existing, `{"token":["x"]}`, "token must be a string"},
		{existing, `{"token"`, "invalid request body"},
		{"nobody-here-at-all", `{"password":"short"}`, "password must be 8 to 200 characters"},
	} {
		e2e.Expect(t, "update "+tc.name+" "+tc.body, call(t, e2e.Stack.URL, http.MethodPut, userPath(tc.name)+"/update", tc.body, auth), 400, badBody(tc.msg))
	}
	// On the other routes an invalid name cannot exist: it answers like an unknown one.
	for _, n := range []string{"ab", "white space", strings.Repeat("x", 101)} {
		e2e.Expect(t, "get "+n, call(t, e2e.Stack.URL, http.MethodGet, userPath(n), "", auth), 403, notExists)
		e2e.Expect(t, "update "+n, call(t, e2e.Stack.URL, http.MethodPut, userPath(n)+"/update", `{"password":"valid-password"}`, auth), 403, notExists)
		e2e.Expect(t, "refresh "+n, call(t, e2e.Stack.URL, http.MethodPost, userPath(n)+"/refresh", `{}`, auth), 403, notExists)
		e2e.Expect(t, "delete "+n, call(t, e2e.Stack.URL, http.MethodDelete, userPath(n), "", auth), 403, notExists)
	}
	// Refresh does not read its body: the seed's {} or anything else.
	for _, body := range []string{``, `{}`, `not json`, strings.Repeat("x", 70<<10)} {
		if r := call(t, e2e.Stack.URL, http.MethodPost, userPath(existing)+"/refresh", body, auth); r.Status != 200 || len(r.Str(t, "token")) != 43 {
			t.Fatalf("refresh with a %d-byte body: %d %s", len(body), r.Status, r.Body)
		} else {
			e2e.Secret(r.Str(t, "token"))
		}
	}
	// Query parameters of the list.
	for _, q := range []string{"limit=0", "limit=1001", "limit=-1", "limit=abc", "limit=1.5", "limit=1&limit=2"} {
		e2e.Expect(t, "list "+q, call(t, e2e.Stack.URL, http.MethodGet, "/api/v2/users?"+q, "", auth), 400, `{"error":"invalid limit"}`)
	}
	for _, q := range []string{"cursor=!!!", "cursor=YQ==", "cursor=YQ&cursor=Yg"} {
		e2e.Expect(t, "list "+q, call(t, e2e.Stack.URL, http.MethodGet, "/api/v2/users?"+q, "", auth), 400, `{"error":"invalid cursor"}`)
	}
	e2e.Expect(t, "list, malformed query", call(t, e2e.Stack.URL, http.MethodGet, "/api/v2/users?limit=%zz", "", auth), 400, `{"error":"invalid query string"}`)
	if r := call(t, e2e.Stack.URL, http.MethodGet, "/api/v2/users?limit=1000", "", auth); r.Status != 200 {
		t.Fatalf("limit=1000: %d %s", r.Status, r.Body)
	}

	// Routes and methods the family does not have.
	for _, tc := range []struct{ method, path string }{
		{http.MethodPatch, userPath(existing)}, {http.MethodGet, userPath(existing) + "/update"},
		{http.MethodPost, userPath(existing) + "/update"}, {http.MethodGet, userPath(existing) + "/refresh"},
		{http.MethodDelete, "/api/v2/users"}, {http.MethodGet, "/api/v2/users/a/b/c"},
	} {
		e2e.Expect(t, tc.method+" "+tc.path, call(t, e2e.Stack.URL, tc.method, tc.path, "", auth), 404, `{"message":"Not Found"}`)
	}
}

// TestAdminPaging lists 25 accounts (and the admin) of a table of their own through a
// gateway on it, with limit=10: three pages, every name once, sorted by canonical name.
func TestAdminPaging(t *testing.T) {
	t.Parallel()
	table := "admin-paging"
	if err := samtemplate.CreateTable(ctx, e2e.DB(), e2e.Stack.Template, "AccountsTable", table); err != nil {
		t.Fatal(err)
	}
	base := e2e.Gateway(t, map[string]string{"TABLE_NAME": table})
	admin, _, auth := newAdmin(t, table)
	want := []string{admin}
	prefix := e2e.Unique("pg")
	rs := e2e.Parallel(25, func(i int) e2e.Response {
		name := fmt.Sprintf("%s-%02d", prefix, 24-i)
		if i%3 == 0 {
			name = strings.ToUpper(name) // sorted without regard to case
		}
		// Tokens are unique across accounts: one each.
		return call(t, base, http.MethodPost, userPath(name), fmt.Sprintf(`{"token":"paging-token-%s"}`, name), auth)
	})
	for _, r := range rs {
		if r.Status != 200 {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		want = append(want, r.Str(t, "user_name"))
	}
	slices.SortFunc(want, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })

	var got []string
	var sizes []int
	query := "?limit=10"
	for page := 1; ; page++ {
		r := call(t, base, http.MethodGet, "/api/v2/users"+query, "", auth)
		m := r.JSON(t)
		if r.Status != 200 {
			t.Fatalf("page %d: %d %s", page, r.Status, r.Body)
		}
		users, _ := m["users"].([]any)
		for _, u := range users {
			got = append(got, u.(string))
		}
		sizes = append(sizes, len(users))
		next, more := m["next_cursor"].(string)
		if !more {
			if len(m) != 1 {
				t.Fatalf("last page: %s", r.Body)
			}
			break
		}
		if next == "" || len(m) != 2 || page > 5 {
			t.Fatalf("page %d: %s", page, r.Body)
		}
		query = "?limit=10&cursor=" + url.QueryEscape(next)
	}
	if !slices.Equal(sizes, []int{10, 10, 6}) || !slices.Equal(got, want) {
		t.Fatalf("pages of %v:\n got %v\nwant %v", sizes, got, want)
	}
	// The default limit takes them all at once; a limit of exactly all ends without a cursor.
	for _, q := range []string{"", "?limit=26", "?limit=1000", "?cursor=&limit="} {
		body := fmt.Sprintf(`{"users":[%s]}`, quoteAll(want))
		e2e.Expect(t, "list"+q, call(t, base, http.MethodGet, "/api/v2/users"+q, "", auth), 200, body)
	}
	r := call(t, base, http.MethodGet, "/api/v2/users?limit=25", "", auth)
	if m := r.JSON(t); len(m["users"].([]any)) != 25 || m["next_cursor"] == nil {
		t.Fatalf("limit=25 of 26: %s", r.Body)
	}
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ",")
}

// TestAdminDelete: the account, its keys, sessions, OTP and pending reset token are gone;
// the username and email can be registered again.
func TestAdminDelete(t *testing.T) {
	t.Parallel()
	adminName, _, auth := newAdmin(t, e2e.Stack.TableName)
	name, pw, email := e2e.RegisterUser(t, true)
	ssid := e2e.Login(t, name, pw)
	if r := e2e.Get(t, "/users/info", "Authorization", "Bearer "+ssid); r.Status != 200 {
		t.Fatalf("info: %d %s", r.Status, r.Body)
	}
	// A pending OTP (through the Users family) and a pending reset token (through the
	// domain on the same table, with a recording mailer).
	if r := e2e.PostJSON(t, "/users/requestotp", fmt.Sprintf(`{"username":%q}`, name)); r.Status != 200 {
		t.Fatalf("requestotp: %d %s", r.Status, r.Body)
	}
	svc, mailer := service(t, e2e.Stack.TableName)
	// One mail a minute per account: this second one is sent "a minute later".
	svc.Now = func() time.Time { return time.Now().Add(account.DefaultMailInterval) }
	if err := svc.RequestPasswordReset(ctx, email); err != nil {
		t.Fatal(err)
	}
	mail, err := mailer.LastReset()
	if err != nil {
		t.Fatal(err)
	}
	e2e.Secret(mail.Token)
	a := stored(t, name)
	if a.ResetHash == "" {
		t.Fatal("no reset token recorded")
	}

	e2e.Expect(t, "delete self", call(t, e2e.Stack.URL, http.MethodDelete, userPath(strings.ToUpper(adminName)), "", auth), 400, `{"error":"cannot delete your own account"}`)
	e2e.Expect(t, "delete", call(t, e2e.Stack.URL, http.MethodDelete, userPath(strings.ToUpper(name)), `{}`, auth), 200, `{}`)
	e2e.Expect(t, "delete again", call(t, e2e.Stack.URL, http.MethodDelete, userPath(name), "", auth), 403, notExists)

	e2e.Expect(t, "old session", e2e.Get(t, "/users/info", "Authorization", "Bearer "+ssid), 401, notAuth)
	e2e.Expect(t, "old login", e2e.PostJSON(t, "/users/login", fmt.Sprintf(`{"username":%q,"password":%q}`, name, pw)), 401, `{"success":"false","data":{"message":"INVALID_PASSWORD"}}`)
	if err := svc.ResetPasswordWithToken(ctx, mail.Token, "reset-after-delete"); !errors.Is(err, account.ErrTokenNotFound) {
		t.Fatalf("reset token after delete: %v", err)
	}
	// Nothing of the account is left: its partition, its keys, its reset record.
	if items := e2e.Partition(t, fmt.Sprintf("USER#%d", a.UserID)); len(items) != 0 {
		t.Fatalf("%d items left in the account's partition", len(items))
	}
	for _, k := range [][2]string{{"USERNAME#" + a.UsernameKey, "USERNAME"}, {"EMAIL#" + a.EmailKey, "EMAIL"}, {"RESET#" + a.ResetHash, "RESET"}} {
		if item := e2e.Item(t, k[0], k[1]); item != nil {
			t.Fatalf("%s left: %v", k[0], item)
		}
	}

	// The username and the email are free again (in other cases, too).
	e2e.Expect(t, "register again", e2e.PostJSON(t, "/users/register", fmt.Sprintf(`{"username":%q,"password":"a-new-password","email":%q}`, strings.ToUpper(name), strings.ToUpper(email))), 200,
		`{"success":true,"data":{"message":"USER_INSERT_OK"}}`)
	if stored(t, name).UserID == a.UserID {
		t.Fatal("the new account reused the old user_id")
	}
	e2e.Expect(t, "old session after re-registration", e2e.Get(t, "/users/info", "Authorization", "Bearer "+ssid), 401, notAuth)
}

// TestAdminEndsSessions: every change of a secret through the admin API ends the
// account's sessions; the new password works.
func TestAdminEndsSessions(t *testing.T) {
	t.Parallel()
	_, _, auth := newAdmin(t, e2e.Stack.TableName)
	name, pw, _ := e2e.RegisterUser(t, false)
	setToken := e2e.NewSecret("admin-set-token-")
	for _, step := range []struct{ what, method, path, body string }{
		{"password", http.MethodPut, "/update", `{"password":"admin-set-password"}`},
		{"token", http.MethodPut, "/update", fmt.Sprintf(`{"token":%q}`, setToken)},
		{"refresh", http.MethodPost, "/refresh", `{}`},
	} {
		ssid := e2e.Login(t, name, pw)
		r := call(t, e2e.Stack.URL, step.method, userPath(name)+step.path, step.body, auth)
		if r.Status != 200 {
			t.Fatalf("%s: %d %s", step.what, r.Status, r.Body)
		}
		if step.what == "refresh" {
			e2e.Secret(r.Str(t, "token"))
		}
		e2e.Expect(t, "session after "+step.what, e2e.Get(t, "/users/info", "Authorization", "Bearer "+ssid), 401, notAuth)
		if step.what == "password" {
			pw = "admin-set-password"
		}
	}
	e2e.Login(t, name, "admin-set-password")
	// GET of the user changes nothing.
	ssid := e2e.Login(t, name, pw)
	call(t, e2e.Stack.URL, http.MethodGet, userPath(name), "", auth)
	if r := e2e.Get(t, "/users/info", "Authorization", "Bearer "+ssid); r.Status != 200 {
		t.Fatalf("a read ended the session: %d %s", r.Status, r.Body)
	}
}
