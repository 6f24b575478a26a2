// End-to-end tests of the Account v1 family (/api/user/v1/*) through the local gateway
// and the real function binaries.
package account_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/tests/e2e"
)

const (
	formCT = "application/x-www-form-urlencoded"
	jsonCT = "application/json"

	registerPath = "/api/user/v1/register"
	changePath   = "/api/user/v1/changepassword"
	resetPath    = "/api/user/v1/resetpassword"

	authRequired = `{"status":"fail","data":{"message":"authorization required"}}`
	wrongOld     = `{"status":"fail","data":{"oldpassword":"wrong password"}}`
	taken        = `{"status":"fail","data":{"email":"already registered"}}`
	badBody      = `{"status":"fail","data":{"message":"invalid request body"}}`
	tooLarge     = `{"status":"fail","data":{"message":"request body too large"}}`
	changed      = `{"status":"success"}`
	notAuth      = `{"success":false,"data":{"message":"PLEASE_LOGIN"}}`
)

func do(t *testing.T, method, path, contentType, body string, headers ...string) e2e.Response {
	t.Helper()
	return e2e.Do(t, e2e.Stack.URL, method, path, contentType, body, headers...)
}

func patchForm(t *testing.T, path string, v url.Values, headers ...string) e2e.Response {
	t.Helper()
	return do(t, http.MethodPatch, path, formCT, v.Encode(), headers...)
}

type registration struct {
	email, password string
	id              int64
	secret          string
}

// register creates an account through POST /api/user/v1/register (as a form) and checks
// the exact answer.
func register(t *testing.T, base, name, email, password string) registration {
	t.Helper()
	e2e.Secret(password)
	r := e2e.Do(t, base, http.MethodPost, registerPath, formCT, url.Values{"name": {name}, "email": {email}, "password": {password}}.Encode())
	return checkRegistered(t, r, email, password)
}

func checkRegistered(t *testing.T, r e2e.Response, email, password string) registration {
	t.Helper()
	data, _ := r.JSON(t)["data"].(map[string]any)
	id, _ := data["user_id"].(float64)
	secret, _ := data["user_secret"].(string)
	e2e.Secret(secret)
	e2e.Expect(t, "register "+email, r, 201, fmt.Sprintf(`{"status":"success","data":{"user_id":%d,"user_secret":%q}}`, int64(id), secret))
	if raw, err := base64.StdEncoding.DecodeString(secret); err != nil || len(raw) != 32 || id < 1 {
		t.Fatalf("register %s: user_id %v, user_secret %q", email, id, secret)
	}
	return registration{email: email, password: password, id: int64(id), secret: secret}
}

func newAccount(t *testing.T) registration {
	t.Helper()
	email := e2e.Unique("v1-") + "@Example.com"
	return register(t, e2e.Stack.URL, "Test User", email, e2e.Unique("pw-v1-"))
}

func login(t *testing.T, username, password string) e2e.Response {
	t.Helper()
	return e2e.PostJSON(t, "/users/login", fmt.Sprintf(`{"username":%q,"password":%q}`, username, password))
}

func TestAccountRegister(t *testing.T) {
	t.Parallel()
	email := e2e.Unique("Jane.") + "@Example.COM"
	pw := e2e.Unique("jane-pw-")
	a := register(t, e2e.Stack.URL, "Jane Doe", email, pw)

	// The account is one of every family: its username is the lowercased email.
	ssid := e2e.Login(t, strings.ToLower(email), pw)
	r := e2e.Get(t, "/users/info", "Authorization", "Bearer "+ssid)
	u, _ := r.UsersMessage(t).(map[string]any)
	if r.Status != 200 || u["username"] != strings.ToLower(email) || u["email"] != email || u["name"] != "Jane Doe" || u["users_id"] != float64(a.id) {
		t.Fatalf("info of a v1 account: %d %s", r.Status, r.Body)
	}

	// A JSON body works as well.
	email2 := e2e.Unique("json.") + "@example.com"
	pw2 := e2e.NewSecret("json-pw-")
	b := checkRegistered(t, e2e.PostJSON(t, registerPath, fmt.Sprintf(`{"name":"JSON User","email":%q,"password":%q}`, email2, pw2)), email2, pw2)
	if b.id <= a.id || b.secret == a.secret {
		t.Fatalf("second registration: %+v after %+v", b, a)
	}

	e2e.Expect(t, "email taken (other case, form)", e2e.PostForm(t, registerPath, url.Values{"name": {"Jim"}, "email": {strings.ToUpper(email)}, "password": {"another-password"}}.Encode()), 409, taken)
	e2e.Expect(t, "email taken (JSON)", e2e.PostJSON(t, registerPath, fmt.Sprintf(`{"name":"Jim","email":%q,"password":"another-password"}`, email2)), 409, taken)
	// An account of the Users family whose username is the address.
	name := e2e.Unique("taken") + "@example.com"
	e2e.Expect(t, "users register", e2e.PostJSON(t, "/users/register", fmt.Sprintf(`{"username":%q,"password":"users-password"}`, name)), 200, `{"success":true,"data":{"message":"USER_INSERT_OK"}}`)
	e2e.Expect(t, "address taken as a username", e2e.PostForm(t, registerPath, url.Values{"name": {"Kim"}, "email": {name}, "password": {"kim-password"}}.Encode()), 409, taken)
}

func TestAccountRegisterValidation(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 89) + "@example.com" // 101 characters
	for _, tc := range []struct{ ct, body, data string }{
		{formCT, "", `{"name":"required","email":"required","password":"required"}`},
		{formCT, "name=&email=&password=", `{"name":"must not be empty","email":"must not be empty","password":"must not be empty"}`},
		{formCT, "name=Al&email=a%40example.com&password=1234567", `{"name":"too short","password":"too short"}`},
		{formCT, "name=" + strings.Repeat("n", 151) + "&email=a%40example.com&password=" + strings.Repeat("p", 201), `{"name":"too long","password":"too long"}`},
		{formCT, "name=Alice&email=not-an-email&password=12345678", `{"email":"invalid email address"}`},
		{formCT, "name=Alice&email=Alice+%3Ca%40example.com%3E&password=12345678", `{"email":"invalid email address"}`},
		{formCT, "name=Alice&email=" + long + "&password=12345678", `{"email":"too long"}`},
		{formCT, "name=Alice&email=%E2%98%83%40example.com&password=12345678", `{"email":"unsupported email address"}`},
		{formCT, "name=A%0Alice&email=a%40example.com&password=12345678", `{"name":"invalid characters"}`},
		{jsonCT, `{}`, `{"name":"required","email":"required","password":"required"}`},
		{jsonCT, `{"name":null,"email":"","password":12345678}`, `{"name":"required","email":"must not be empty","password":"must be a string"}`},
		{jsonCT, `{"name":"Alice","email":"a@example.com","password":"pass\u0000word"}`, `{"password":"invalid characters"}`},
	} {
		e2e.Expect(t, tc.ct+" "+tc.body, do(t, http.MethodPost, registerPath, tc.ct, tc.body), 400, `{"status":"fail","data":`+tc.data+`}`)
	}
	for _, tc := range []struct{ ct, body string }{
		{formCT, "name=%zz&email=a%40example.com&password=12345678"},    // malformed percent-encoding
		{formCT, "name=Al&name=Bo&email=a%40example.com&password=1234"}, // duplicate field
		{formCT, "name=%ff&email=a%40example.com&password=12345678"},    // not UTF-8
		{jsonCT, `{"name":"Alice","email":"a@example.com",`},            // truncated JSON
		{jsonCT, `["Alice","a@example.com","12345678"]`},                // JSON, not an object
		{"text/xml", `<user name="Alice"/>`},                            // neither form nor JSON
		{"multipart/form-data; boundary=x", "--x\r\n\r\n--x--"},
	} {
		e2e.Expect(t, "bad body "+tc.body, do(t, http.MethodPost, registerPath, tc.ct, tc.body), 400, badBody)
	}
	e2e.Expect(t, "body over 64 KiB", e2e.PostForm(t, registerPath, "name="+strings.Repeat("a", 70<<10)), 413, tooLarge)
	// 100 characters is the longest address (it is also the username).
	ok := e2e.Unique("") + "@example.com"
	ok = strings.Repeat("m", 100-len(ok)) + ok
	register(t, e2e.Stack.URL, "Max Length", ok, e2e.Unique("max-pw-"))
}

func TestAccountRegisterSwitchedOff(t *testing.T) {
	t.Parallel()
	closed := e2e.Gateway(t, map[string]string{"ALLOW_REGISTRATION": "false"})
	off := `{"status":"fail","data":{"message":"registration is disabled"}}`
	body := url.Values{"name": {"Closed"}, "email": {e2e.Unique("closed") + "@example.com"}, "password": {"closed-password"}}.Encode()
	e2e.Expect(t, "registration off", e2e.Do(t, closed, http.MethodPost, registerPath, formCT, body), 403, off)
	e2e.Expect(t, "registration off, bad body", e2e.Do(t, closed, http.MethodPost, registerPath, jsonCT, `{`), 403, off)
	// The other routes of the family still work on that gateway.
	a := newAccount(t)
	newPW := e2e.NewSecret("closed-new-")
	e2e.Expect(t, "change password with registration off",
		e2e.Do(t, closed, http.MethodPatch, changePath, formCT, url.Values{"email": {a.email}, "oldpassword": {a.password}, "newpassword": {newPW}}.Encode()), 200, changed)
}

// 30 concurrent registrations with distinct emails get 30 distinct user_ids, all above an
// id given out before and below one given out after.
func TestAccountRegisterRaceIDs(t *testing.T) {
	t.Parallel()
	before := newAccount(t)
	prefix := e2e.Unique("race-ids-")
	rs := e2e.Parallel(30, func(i int) e2e.Response {
		return e2e.PostForm(t, registerPath, url.Values{"name": {"Racer"}, "email": {fmt.Sprintf("%s-%d@example.com", prefix, i)}, "password": {"race-password"}}.Encode())
	})
	after := newAccount(t)
	ids := make([]int64, 0, len(rs))
	for i, r := range rs {
		reg := checkRegistered(t, r, fmt.Sprintf("%s-%d@example.com", prefix, i), "race-password")
		ids = append(ids, reg.id)
	}
	slices.Sort(ids)
	if len(slices.Compact(slices.Clone(ids))) != 30 {
		t.Fatalf("duplicate user_ids: %v", ids)
	}
	if ids[0] <= before.id || ids[29] >= after.id {
		t.Fatalf("user_ids %v not between %d and %d", ids, before.id, after.id)
	}
}

// 20 concurrent registrations of one address (in different cases): exactly one wins.
func TestAccountRegisterRaceOneEmail(t *testing.T) {
	t.Parallel()
	email := e2e.Unique("race-one-") + "@example.com"
	rs := e2e.Parallel(20, func(i int) e2e.Response {
		addr := email
		if i%2 == 1 {
			addr = strings.ToUpper(email)
		}
		return e2e.PostJSON(t, registerPath, fmt.Sprintf(`{"name":"Racer","email":%q,"password":"race-password-%02d"}`, addr, i))
	})
	created := 0
	for _, r := range rs {
		if r.Status == 201 {
			created++
			e2e.Secret(r.JSON(t)["data"].(map[string]any)["user_secret"].(string))
			continue
		}
		e2e.Expect(t, "losing registration", r, 409, taken)
	}
	if created != 1 {
		t.Fatalf("%d registrations of one email succeeded", created)
	}
}

func TestAccountChangePassword(t *testing.T) {
	t.Parallel()
	a := newAccount(t)
	user := strings.ToLower(a.email)
	session := e2e.Login(t, user, a.password)
	newPW := e2e.NewSecret("changed-pw-")
	change := func(email, old, new string) e2e.Response {
		return patchForm(t, changePath, url.Values{"email": {email}, "oldpassword": {old}, "newpassword": {new}})
	}

	e2e.Expect(t, "wrong old password", change(a.email, "wrong-password", newPW), 422, wrongOld)
	e2e.Expect(t, "unknown email", change(e2e.Unique("nobody")+"@example.com", a.password, newPW), 422, wrongOld)
	e2e.Expect(t, "old password outside the rule", change(a.email, "short", newPW), 422, wrongOld)
	e2e.Expect(t, "invalid new password", change(a.email, a.password, "short"), 400, `{"status":"fail","data":{"newpassword":"too short"}}`)
	e2e.Expect(t, "new password too long", change(a.email, a.password, strings.Repeat("x", 201)), 400, `{"status":"fail","data":{"newpassword":"too long"}}`)
	e2e.Expect(t, "invalid email", change("no-email", a.password, newPW), 400, `{"status":"fail","data":{"email":"invalid email address"}}`)
	e2e.Expect(t, "missing fields", do(t, http.MethodPatch, changePath, jsonCT, `{"email":null,"oldpassword":""}`), 400,
		`{"status":"fail","data":{"email":"required","oldpassword":"must not be empty","newpassword":"required"}}`)
	e2e.Expect(t, "malformed percent-encoding", do(t, http.MethodPatch, changePath, formCT, "email=%E2%98&oldpassword=x&newpassword=y"), 400, badBody)
	e2e.Expect(t, "neither form nor JSON", do(t, http.MethodPatch, changePath, "application/xml", "<x/>"), 400, badBody)
	e2e.Expect(t, "body over 64 KiB", do(t, http.MethodPatch, changePath, jsonCT, `{"email":"`+strings.Repeat("a", 70<<10)+`"}`), 413, tooLarge)
	if r := e2e.Get(t, "/users/info", "Authorization", "Bearer "+session); r.Status != 200 {
		t.Fatalf("a refused change ended the session: %s", r.Body)
	}

	e2e.Expect(t, "changed (form, email in another case)", change(strings.ToUpper(a.email), a.password, newPW), 200, changed)
	e2e.Expect(t, "old password", login(t, user, a.password), 401, `{"success":"false","data":{"message":"INVALID_PASSWORD"}}`)
	e2e.Login(t, user, newPW)
	e2e.Expect(t, "session from before the change", e2e.Get(t, "/users/info", "Authorization", "Bearer "+session), 401, notAuth)
	e2e.Expect(t, "the old password is now wrong", change(a.email, a.password, e2e.Unique("x-")), 422, wrongOld)

	third := e2e.NewSecret("third-pw-")
	e2e.Expect(t, "changed (JSON)", do(t, http.MethodPatch, changePath, jsonCT, fmt.Sprintf(`{"email":%q,"oldpassword":%q,"newpassword":%q}`, a.email, newPW, third)), 200, changed)
	e2e.Login(t, user, third)

	// An account of the Users family with an email changes its password here too.
	name, pw, email := e2e.RegisterUser(t, true)
	fourth := e2e.NewSecret("fourth-pw-")
	e2e.Expect(t, "users-family account", change(email, pw, fourth), 200, changed)
	e2e.Login(t, name, fourth)
}

var generated = regexp.MustCompile(`^[A-Za-z0-9]{16,}$`)

// reset resets through the route and checks the exact success answer; it returns the new
// password.
func reset(t *testing.T, r e2e.Response, email string) string {
	t.Helper()
	data, _ := r.JSON(t)["data"].(map[string]any)
	pw, _ := data["password"].(string)
	e2e.Secret(pw)
	e2e.Expect(t, "reset "+email, r, 200, fmt.Sprintf(`{"status":"success","data":{"email":%q,"password":%q}}`, email, pw))
	if !generated.MatchString(pw) {
		t.Fatalf("generated password %q", pw)
	}
	return pw
}

func TestAccountResetPasswordWithSecret(t *testing.T) {
	t.Parallel()
	a, other := newAccount(t), newAccount(t)
	user := strings.ToLower(a.email)
	session := e2e.Login(t, user, a.password)
	email := url.Values{"email": {a.email}}

	for what, r := range map[string]e2e.Response{
		"no credentials":               patchForm(t, resetPath, email),
		"secret of another account":    patchForm(t, resetPath, email, "Authorization", "Bearer "+other.secret),
		"wrong secret":                 patchForm(t, resetPath, email, "Authorization", "Bearer "+strings.Repeat("A", 43)+"="),
		"unknown email":                patchForm(t, resetPath, url.Values{"email": {e2e.Unique("nobody") + "@example.com"}}, "Authorization", "Bearer "+a.secret),
		"a session token is no secret": patchForm(t, resetPath, email, "Authorization", "Bearer "+session),
		"user's password as Basic":     patchForm(t, resetPath, email, "Authorization", e2e.Basic(user, a.password)),
	} {
		e2e.Expect(t, what, r, 401, authRequired)
	}
	e2e.Expect(t, "missing email", patchForm(t, resetPath, url.Values{}, "Authorization", "Bearer "+a.secret), 400, `{"status":"fail","data":{"email":"required"}}`)
	e2e.Expect(t, "invalid email", patchForm(t, resetPath, url.Values{"email": {"nope"}}, "Authorization", "Bearer "+a.secret), 400, `{"status":"fail","data":{"email":"invalid email address"}}`)
	e2e.Expect(t, "malformed percent-encoding", do(t, http.MethodPatch, resetPath, formCT, "email=%", "Authorization", "Bearer "+a.secret), 400, badBody)
	e2e.Expect(t, "neither form nor JSON", do(t, http.MethodPatch, resetPath, "image/png", "\x89PNG", "Authorization", "Bearer "+a.secret), 400, badBody)
	if r := e2e.Get(t, "/users/info", "Authorization", "Bearer "+session); r.Status != 200 {
		t.Fatalf("a refused reset ended the session: %s", r.Body)
	}

	// The answer carries the address as stored, whatever case the request used.
	pw := reset(t, patchForm(t, resetPath, url.Values{"email": {strings.ToLower(a.email)}}, "Authorization", "Bearer "+a.secret), a.email)
	e2e.Expect(t, "old password after the reset", login(t, user, a.password), 401, `{"success":"false","data":{"message":"INVALID_PASSWORD"}}`)
	e2e.Login(t, user, pw)
	e2e.Expect(t, "session from before the reset", e2e.Get(t, "/users/info", "Authorization", "Bearer "+session), 401, notAuth)

	// JSON body; the user_secret stays valid for the next reset.
	pw2 := reset(t, do(t, http.MethodPatch, resetPath, jsonCT, fmt.Sprintf(`{"email":%q}`, a.email), "Authorization", "Bearer "+a.secret), a.email)
	if pw2 == pw {
		t.Fatal("the same password twice")
	}
	e2e.Expect(t, "first generated password", login(t, user, pw), 401, `{"success":"false","data":{"message":"INVALID_PASSWORD"}}`)
	e2e.Login(t, user, pw2)
}

func TestAccountResetPasswordByAdmin(t *testing.T) {
	t.Parallel()
	svc := e2e.Service("", nil, account.Config{})
	admin, adminPW := e2e.Unique("admin"), e2e.Unique("admin-pw-")
	e2e.Secret(adminPW)
	if _, _, err := svc.EnsureAdmin(context.Background(), admin, adminPW); err != nil {
		t.Fatal(err)
	}
	a := newAccount(t)
	user := strings.ToLower(a.email)
	session := e2e.Login(t, user, a.password)
	email := url.Values{"email": {a.email}}

	nonAdmin, nonAdminPW, usersEmail := e2e.RegisterUser(t, true)
	for what, r := range map[string]e2e.Response{
		"admin, wrong password":            patchForm(t, resetPath, email, "Authorization", e2e.Basic(admin, "wrong-password")),
		"unknown admin":                    patchForm(t, resetPath, email, "Authorization", e2e.Basic(e2e.Unique("ghost"), adminPW)),
		"valid credentials of a non-admin": patchForm(t, resetPath, email, "Authorization", e2e.Basic(nonAdmin, nonAdminPW)),
		"admin, unknown email":             patchForm(t, resetPath, url.Values{"email": {e2e.Unique("nobody") + "@example.com"}}, "Authorization", e2e.Basic(admin, adminPW)),
	} {
		e2e.Expect(t, what, r, 401, authRequired)
	}

	pw := reset(t, patchForm(t, resetPath, email, "Authorization", e2e.Basic(strings.ToUpper(admin), adminPW)), a.email)
	e2e.Expect(t, "old password after the reset", login(t, user, a.password), 401, `{"success":"false","data":{"message":"INVALID_PASSWORD"}}`)
	e2e.Login(t, user, pw)
	e2e.Expect(t, "session from before the reset", e2e.Get(t, "/users/info", "Authorization", "Bearer "+session), 401, notAuth)

	// An admin also resets an account of another family, which has no user_secret.
	pw = reset(t, do(t, http.MethodPatch, resetPath, jsonCT, fmt.Sprintf(`{"email":%q}`, usersEmail), "Authorization", e2e.Basic(admin, adminPW)), usersEmail)
	e2e.Login(t, nonAdmin, pw)
}

// The user_secret is stored only as its SHA-256: no attribute of any item holds it.
func TestAccountSecretNotStoredInClear(t *testing.T) {
	t.Parallel()
	a := newAccount(t)
	found, hashFound := false, false
	var scanned int
	for _, item := range e2e.Scan(t) {
		scanned++
		for _, v := range item {
			e2e.Strings(v, func(s string) {
				if strings.Contains(s, a.secret) || strings.Contains(s, a.secret[:20]) || strings.Contains(s, a.password) {
					found = true
				}
				if s == account.HashSecret(a.secret) {
					hashFound = true
				}
			})
		}
	}
	if found || !hashFound || scanned == 0 {
		t.Fatalf("scanned %d items: secret in clear %v, its hash stored %v", scanned, found, hashFound)
	}
}

func TestAccountUnknownRoutes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ method, path string }{
		{http.MethodGet, registerPath}, {http.MethodPatch, registerPath}, {http.MethodPost, changePath},
		{http.MethodPut, resetPath}, {http.MethodGet, "/api/user/v1/"}, {http.MethodPost, "/api/user/v1/register/x"},
	} {
		e2e.Expect(t, tc.method+" "+tc.path, do(t, tc.method, tc.path, "", ""), 404, `{"message":"Not Found"}`)
	}
}
