// End-to-end tests of email verification and email change (docs/API.md, PUT /user/email and
// POST /user/verify-email) through the local gateway and the real function binaries, with
// the mails read from the SES emulator.
package verify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/infra/local/emulators"
	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/accounttest"
	"github.com/gatehouse/gatehouse/tests/e2e"
)

var ctx = context.Background()

const verifySubject = e2e.VerifySubject

func body(status int, msg, data string) string {
	b, _ := json.Marshal(map[string]string{"statusCode": fmt.Sprint(status), "message": msg, "data": data})
	return string(b)
}

var tokenInMail = regexp.MustCompile(`"token": "([A-Za-z0-9_-]+)"`)

// verifyToken reads the token of the newest verification mail to address.
func verifyToken(t *testing.T, address string) string {
	t.Helper()
	m := lastVerification(t, address)
	got := tokenInMail.FindStringSubmatch(m.Body.Text)
	if got == nil || !strings.Contains(m.Body.HTML, got[1]) {
		t.Fatalf("no token in the verification mail:\n%s", m.Body.Text)
	}
	e2e.Secret(got[1])
	return got[1]
}

func lastVerification(t *testing.T, address string) emulators.Mail {
	t.Helper()
	ms := e2e.VerificationMailsTo(t, address)
	if len(ms) == 0 {
		t.Fatalf("no verification mail to %s", address)
	}
	return ms[len(ms)-1]
}

func verify(t *testing.T, token string) e2e.Response {
	t.Helper()
	return e2e.PostJSON(t, "/user/verify-email", e2e.JSONBody("token", token))
}

func changeEmail(t *testing.T, ssid, email, password string) e2e.Response {
	t.Helper()
	return e2e.Do(t, e2e.Stack.URL, http.MethodPut, "/user/email", "application/json",
		e2e.JSONBody("email", email, "password", password), "Authorization", "Bearer "+ssid)
}

// info returns the message object of GET /users/info.
func info(t *testing.T, ssid string) map[string]any {
	t.Helper()
	r := e2e.Get(t, "/users/info", "Authorization", "Bearer "+ssid)
	if r.Status != 200 {
		t.Fatalf("info: %d %s", r.Status, r.Body)
	}
	return r.JSON(t)["data"].(map[string]any)["message"].(map[string]any)
}

// adminGet returns the admin user object of name, as an admin of the stack's table sees it.
func adminGet(t *testing.T, name string) map[string]any {
	t.Helper()
	admin, password := e2e.Unique("vadm"), e2e.Unique("admin-pw-")
	e2e.Secret(password)
	svc := e2e.Service("", nil, account.Config{TokenIndexKey: []byte(e2e.Stack.TokenIndexKey)})
	if _, _, err := svc.EnsureAdmin(ctx, admin, password); err != nil {
		t.Fatal(err)
	}
	r := e2e.Do(t, e2e.Stack.URL, http.MethodGet, "/api/v2/users/"+name, "application/json", "", "Authorization", e2e.Basic(admin, password))
	if r.Status != 200 {
		t.Fatalf("admin get %s: %d %s", name, r.Status, r.Body)
	}
	return r.JSON(t)
}

// Registering with an email in any family mails a verification (no username in it); the
// token verifies the address once; /users/info and the admin user object show it.
func TestRegisterAndVerify(t *testing.T) {
	t.Parallel()
	name, password, email := e2e.RegisterUser(t, true)
	m := lastVerification(t, email)
	if m.Subject != verifySubject || strings.Contains(m.Body.Text, name) || strings.Contains(m.Body.HTML, name) {
		t.Fatalf("verification mail %q:\n%s", m.Subject, m.Body.Text)
	}
	token := verifyToken(t, email)
	ssid := e2e.Login(t, name, password)
	if v := info(t, ssid)["email_verified"]; v != false {
		t.Fatalf("email_verified %v before verifying", v)
	}
	if v := adminGet(t, name)["email_verified"]; v != false {
		t.Fatalf("admin email_verified %v before verifying", v)
	}
	e2e.Expect(t, "verify", verify(t, token), 200, body(200, "Email verified", "null"))
	if v := info(t, ssid)["email_verified"]; v != true {
		t.Fatalf("email_verified %v after verifying", v)
	}
	if v := adminGet(t, name)["email_verified"]; v != true {
		t.Fatalf("admin email_verified %v after verifying", v)
	}
	e2e.Expect(t, "reused token", verify(t, token), 404, body(404, "Token not found", "null"))
	e2e.Expect(t, "unknown token", verify(t, "AAAAAAAAAAE"+strings.Repeat("x", 43)), 404, body(404, "Token not found", "null"))
	e2e.Expect(t, "no token", e2e.PostJSON(t, "/user/verify-email", `{}`), 404, body(404, "Token not found", "null"))

	// The other families' sign-ups mail one too.
	u := e2e.Unique("vcreate")
	e2e.Secret("create-password")
	r := e2e.PostJSON(t, "/user/create", e2e.JSONBody("username", u, "email", u+"@example.com", "password", "create-password"))
	if r.Status != 200 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	e2e.Expect(t, "verify /user/create's address", verify(t, verifyToken(t, u+"@example.com")), 200, body(200, "Email verified", "null"))
	v1 := e2e.Unique("vv1") + "@example.com"
	r = e2e.PostForm(t, "/api/user/v1/register", url.Values{"name": {"V One"}, "email": {v1}, "password": {"v1-password"}}.Encode())
	if r.Status != 201 {
		t.Fatalf("v1 register: %d %s", r.Status, r.Body)
	}
	e2e.Secret(r.JSON(t)["data"].(map[string]any)["user_secret"].(string))
	e2e.Expect(t, "verify v1's address", verify(t, verifyToken(t, v1)), 200, body(200, "Email verified", "null"))
}

// A token past its 24 hours answers 406. The account is made by a service whose clock is
// 25 hours behind, so the stored verification is already expired for the functions.
func TestExpiredToken(t *testing.T) {
	t.Parallel()
	mailer := &accounttest.Mailer{}
	svc := e2e.Service("", mailer, account.Config{AllowRegistration: true})
	svc.Now = func() time.Time { return time.Now().Add(-25 * time.Hour) }
	name := e2e.Unique("vexp")
	if _, err := svc.Register(ctx, account.NewAccount{Username: name, Email: name + "@example.com", Password: "expired-pw"}); err != nil {
		t.Fatal(err)
	}
	m, err := mailer.LastVerification()
	if err != nil {
		t.Fatal(err)
	}
	e2e.Secret(m.Token)
	e2e.Expect(t, "expired token", verify(t, m.Token), 406, body(406, "Token is expired", "null"))
}

// An email change: wrong password 401 (counted), a taken address 409, then the new
// address gets the verification and the old one a notice without a link; the address
// changes only when verified, and then login and lookup go by the new one.
func TestEmailChange(t *testing.T) {
	t.Parallel()
	name, password, email := e2e.RegisterUser(t, true)
	_, _, other := e2e.RegisterUser(t, true)
	ssid := e2e.Login(t, name, password)
	next := e2e.Unique("vnew") + "@example.com"

	e2e.Expect(t, "no session", e2e.Do(t, e2e.Stack.URL, http.MethodPut, "/user/email", "application/json", e2e.JSONBody("email", next, "password", password)),
		404, body(404, "No auth info found", "false"))
	e2e.Expect(t, "wrong password", changeEmail(t, ssid, next, "wrong-password"), 401, body(401, "Authenticated failed", "null"))
	if a, _ := e2e.Store("").AccountByUsername(ctx, name); a.FailedLogins != 1 {
		t.Fatalf("failed checks %d after a wrong password", a.FailedLogins)
	}
	e2e.Expect(t, "taken address", changeEmail(t, ssid, strings.ToUpper(other), password), 409, body(409, "Email already exists", "null"))
	e2e.Expect(t, "own address", changeEmail(t, ssid, email, password), 409, body(409, "Email already exists", "null"))
	e2e.Expect(t, "invalid address", changeEmail(t, ssid, "not-an-email", password), 406, body(406, "Invalid email", "null"))
	e2e.Expect(t, "change", changeEmail(t, ssid, next, password), 200, body(200, "Verification sent", "null"))

	notice := e2e.LastMailTo(t, email)
	if notice.Subject == verifySubject || strings.Contains(notice.Body.Text, "verify-email") || tokenInMail.MatchString(notice.Body.Text) || strings.Contains(notice.Body.HTML, "href") {
		t.Fatalf("the old address's notice carries a link or token: %q\n%s", notice.Subject, notice.Body.Text)
	}
	token := verifyToken(t, next)
	// Not yet changed: the old address still finds the account, the new one does not.
	if got := info(t, ssid)["email"]; got != email {
		t.Fatalf("email %v before verifying", got)
	}
	e2e.Expect(t, "verify", verify(t, token), 200, body(200, "Email verified", "null"))
	got := info(t, ssid)
	if got["email"] != next || got["email_verified"] != true {
		t.Fatalf("after verifying: %v", got)
	}
	newPW := e2e.Unique("v-new-pw-")
	e2e.Secret(newPW)
	changed := `{"status":"success"}`
	e2e.Expect(t, "changepassword by the old address", e2e.Do(t, e2e.Stack.URL, http.MethodPatch, "/api/user/v1/changepassword", "application/x-www-form-urlencoded",
		url.Values{"email": {email}, "oldpassword": {password}, "newpassword": {newPW}}.Encode()), 422, `{"status":"fail","data":{"oldpassword":"wrong password"}}`)
	e2e.Expect(t, "changepassword by the new address", e2e.Do(t, e2e.Stack.URL, http.MethodPatch, "/api/user/v1/changepassword", "application/x-www-form-urlencoded",
		url.Values{"email": {next}, "oldpassword": {password}, "newpassword": {newPW}}.Encode()), 200, changed)
	e2e.Login(t, name, newPW)
	// The old address is free again.
	reuse := e2e.Unique("vreuse")
	e2e.Expect(t, "register with the released address", e2e.PostForm(t, "/users/register", url.Values{"username": {reuse}, "password": {"reuse-password"}, "email": {email}}.Encode()),
		200, `{"success":true,"data":{"message":"USER_INSERT_OK"}}`)
}

// A verification for an address another account has taken since answers 409.
func TestVerifyTakenAddress(t *testing.T) {
	t.Parallel()
	name, password, _ := e2e.RegisterUser(t, true)
	ssid := e2e.Login(t, name, password)
	next := e2e.Unique("vtaken") + "@example.com"
	e2e.Expect(t, "change", changeEmail(t, ssid, next, password), 200, body(200, "Verification sent", "null"))
	token := verifyToken(t, next)
	e2e.Expect(t, "someone registers the address", e2e.PostForm(t, "/users/register", url.Values{"username": {e2e.Unique("vsquat")}, "password": {"squat-password"}, "email": {next}}.Encode()),
		200, `{"success":true,"data":{"message":"USER_INSERT_OK"}}`)
	e2e.Expect(t, "verify a taken address", verify(t, token), 409, body(409, "Email already exists", "null"))
}

// A password change kills the pending token.
func TestPasswordChangeKillsToken(t *testing.T) {
	t.Parallel()
	_, password, email := e2e.RegisterUser(t, true)
	token := verifyToken(t, email)
	newPW := e2e.Unique("v-kill-pw-")
	e2e.Secret(newPW)
	e2e.Expect(t, "changepassword", e2e.Do(t, e2e.Stack.URL, http.MethodPatch, "/api/user/v1/changepassword", "application/x-www-form-urlencoded",
		url.Values{"email": {email}, "oldpassword": {password}, "newpassword": {newPW}}.Encode()), 200, `{"status":"success"}`)
	e2e.Expect(t, "token after a password change", verify(t, token), 404, body(404, "Token not found", "null"))
}
