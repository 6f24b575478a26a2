package users_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/tests/e2e"

	"github.com/gatehouse/gatehouse/pkg/account"
)

const (
	invalidPassword = `{"success":"false","data":{"message":"INVALID_PASSWORD"}}`
	notAuth         = `{"success":false,"data":{"message":"PLEASE_LOGIN"}}`
)

// invalidInput is the 422 of a missing or invalid parameter; login's "success" is a string.
func invalidInput(details string, login bool) string {
	s := `false`
	if login {
		s = `"false"`
	}
	return `{"success":` + s + `,"data":{"message":"INVALID_INPUT","details":"` + details + `"}}`
}

func refused(msg string) string { return `{"success":false,"data":{"message":"` + msg + `"}}` }

func TestUsersLogin(t *testing.T) {
	t.Parallel()
	name, pw, _ := e2e.RegisterUser(t, false)

	r := e2e.PostJSON(t, "/users/login", fmt.Sprintf(`{"username":%q,"password":%q}`, strings.ToUpper(name), pw))
	ssid := r.UsersField(t, "ssid")
	e2e.Secret(ssid)
	e2e.Expect(t, "right password (any case of the username)", r, 200,
		fmt.Sprintf(`{"success":"true","data":{"message":{"userhash":%q,"ssid":%q}}}`, account.UserHash(name), ssid))
	if len(ssid) != 54 {
		t.Fatalf("ssid %q", ssid)
	}
	r = e2e.PostForm(t, "/users/login", url.Values{"username": {name}, "password": {pw}}.Encode())
	if r.Status != 200 || r.Str(t, "success") != "true" || r.UsersField(t, "ssid") == "" || r.UsersField(t, "ssid") == ssid {
		t.Fatalf("form login: %d %s", r.Status, r.Body)
	}
	e2e.Secret(r.UsersField(t, "ssid"))

	e2e.Expect(t, "wrong password", e2e.PostJSON(t, "/users/login", fmt.Sprintf(`{"username":%q,"password":"wrong-password"}`, name)), 401, invalidPassword)
	e2e.Expect(t, "unknown username", e2e.PostJSON(t, "/users/login", `{"username":"nobody-here","password":"whatever-pw"}`), 401, invalidPassword)
	e2e.Expect(t, "invalid username", e2e.PostJSON(t, "/users/login", `{"username":"no body","password":"whatever-pw"}`), 401, invalidPassword)
	e2e.Expect(t, "missing password", e2e.PostJSON(t, "/users/login", fmt.Sprintf(`{"username":%q}`, name)), 401, `{"success":"false","data":{"message":"LOGIN_WITH_PASSWORD"}}`)
	e2e.Expect(t, "missing password, unknown username", e2e.PostJSON(t, "/login", `{"username":"nobody-here"}`), 401, `{"success":"false","data":{"message":"REGISTER_FOR_A_PASSWORD"}}`)
	e2e.Expect(t, "missing username", e2e.PostForm(t, "/users/login", "password=x"), 422, invalidInput("username: required", true))
	e2e.Expect(t, "empty body", e2e.PostJSON(t, "/users/login", ``), 422, invalidInput("username: required", true))
	e2e.Expect(t, "password not a string", e2e.PostJSON(t, "/login", fmt.Sprintf(`{"username":%q,"password":12345678}`, name)), 422, invalidInput("password: must be a string", true))
	e2e.Expect(t, "malformed JSON", e2e.PostJSON(t, "/users/login", `{"username":`), 422, invalidInput("body: not a JSON object or form", true))
	e2e.Expect(t, "not a JSON object", e2e.PostJSON(t, "/login", `["x"]`), 422, invalidInput("body: not a JSON object or form", true))
	e2e.Expect(t, "body over 64 KiB", e2e.PostJSON(t, "/users/login", `{"username":"`+strings.Repeat("a", 70<<10)+`"}`), 413,
		`{"success":"false","data":{"message":"ERROR_REQUEST_TOO_LARGE"}}`)
	e2e.Expect(t, "body over 64 KiB on /login", e2e.PostJSON(t, "/login", `{"username":"`+strings.Repeat("a", 70<<10)+`"}`), 413,
		`{"success":"false","data":{"message":"ERROR_REQUEST_TOO_LARGE"}}`)
}

// An account created with a token and no password (as the admin API can) is told to get
// a password.
func TestUsersLoginWithoutPassword(t *testing.T) {
	t.Parallel()
	name := e2e.Unique("tok")
	svc := e2e.Service("", nil, account.Config{})
	if _, err := svc.Register(context.Background(), account.NewAccount{Username: name, Token: "token-only-secret"}); err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{fmt.Sprintf(`{"username":%q,"password":"token-only-secret"}`, name), fmt.Sprintf(`{"username":%q}`, name)} {
		for _, path := range []string{"/users/login", "/login"} {
			e2e.Expect(t, "no password: "+path+" "+body, e2e.PostJSON(t, path, body), 401,
				`{"success":"false","data":{"message":"REGISTER_FOR_A_PASSWORD"}}`)
		}
	}
}

func TestUsersRegister(t *testing.T) {
	t.Parallel()
	name, _, email := e2e.RegisterUser(t, true)
	e2e.Expect(t, "username taken (other case)", e2e.PostJSON(t, "/users/register", fmt.Sprintf(`{"username":%q,"password":"another-password"}`, strings.ToUpper(name))), 200,
		refused("ERROR_LOGIN_WITH_PASSWORD"))
	e2e.Expect(t, "email taken (other case)", e2e.PostJSON(t, "/users/register", fmt.Sprintf(`{"username":%q,"password":"another-password","email":%q}`, e2e.Unique("u"), strings.ToUpper(email))), 200,
		refused("ERROR_EMAIL_ALREADY_USED"))
	for _, tc := range []struct{ body, details string }{
		{`{"username":"ab","password":"12345678"}`, "username: must be 3 to 100 characters"},
		{`{"username":"white space","password":"12345678"}`, "username: must not contain white space"},
		{`{"username":"` + strings.Repeat("x", 101) + `","password":"12345678"}`, "username: must be 3 to 100 characters"},
		{`{"username":"valid-name","password":"1234567"}`, "password: must be 8 to 200 characters"},
		{`{"username":"valid-name","password":"` + strings.Repeat("p", 201) + `"}`, "password: must be 8 to 200 characters"},
		{`{"username":"valid-name","password":"12345678","email":"Name <a@example.com>"}`, "email: invalid"},
		{`{"username":"valid-name"}`, "password: required"},
		{`{"password":"12345678"}`, "username: required"},
		{`{"username":"valid-name","password":"12345678"`, "body: not a JSON object or form"},
	} {
		e2e.Expect(t, tc.body, e2e.PostJSON(t, "/users/register", tc.body), 422, invalidInput(tc.details, false))
	}
	// An account without email, and one whose password is 200 emoji (800 bytes), work.
	pw := strings.Repeat("🔑", 200)
	n := e2e.Unique("emoji")
	e2e.Expect(t, "long unicode password", e2e.PostJSON(t, "/users/register", fmt.Sprintf(`{"username":%q,"password":%q}`, n, pw)), 200, `{"success":true,"data":{"message":"USER_INSERT_OK"}}`)
	e2e.Login(t, n, pw)
	e2e.Expect(t, "one character short of the long password", e2e.PostJSON(t, "/users/login", fmt.Sprintf(`{"username":%q,"password":%q}`, n, strings.Repeat("🔑", 199))), 401, invalidPassword)
}

func TestUsersRegisterSwitchedOff(t *testing.T) {
	t.Parallel()
	closed := e2e.Gateway(t, map[string]string{"ALLOW_REGISTRATION": "false"})
	body := fmt.Sprintf(`{"username":%q,"password":"a-good-password"}`, e2e.Unique("closed"))
	e2e.Expect(t, "registration off", e2e.Do(t, closed, http.MethodPost, "/users/register", "application/json", body), 401,
		refused("CANT_CREATE_USER"))
	// Login still works on that gateway.
	name, pw, _ := e2e.RegisterUser(t, false)
	if r := e2e.Do(t, closed, http.MethodPost, "/users/login", "application/json", fmt.Sprintf(`{"username":%q,"password":%q}`, name, pw)); r.Status != 200 {
		t.Fatalf("login with registration off: %d %s", r.Status, r.Body)
	}
}

func TestUsersInfo(t *testing.T) {
	t.Parallel()
	name, pw, email := e2e.RegisterUser(t, true)
	ssid := e2e.Login(t, name, pw)
	r := e2e.Get(t, "/users/info", "Authorization", "Bearer "+ssid)
	// users_id and created (unix seconds) are the stored account's.
	stored, err := e2e.Store("").AccountByUsername(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`{"success":true,"data":{"message":{"users_id":%d,"username":%q,"email":%q,"userhash":%q,"created":"%d","level":"0","name":"","bio":"","website":"","pronounce":"","email_verified":false}}}`,
		stored.UserID, name, email, account.UserHash(name), stored.CreatedAt.Unix())
	e2e.Expect(t, "valid session", r, 200, want)
	uh := account.UserHash(name)
	for _, h := range [][]string{{"Cookie", "TOKEN=" + ssid}, {"Cookie", "theme=dark; ssid=" + ssid}, {"Authorization", basic(uh + ":" + ssid)}} {
		e2e.Expect(t, fmt.Sprint(h), e2e.Get(t, "/users/info", h...), 200, want)
	}
	e2e.Expect(t, "no session", e2e.Get(t, "/users/info"), 401, notAuth)
	e2e.Expect(t, "unknown session", e2e.Get(t, "/users/info", "Authorization", "Bearer "+strings.Repeat("A", 54)), 401, notAuth)
	e2e.Expect(t, "garbage token", e2e.Get(t, "/users/info", "Cookie", "TOKEN=garbage"), 401, notAuth)
	other, otherPW, _ := e2e.RegisterUser(t, false)
	for what, h := range map[string]string{
		"Basic with another account's userhash": basic(account.UserHash(other) + ":" + ssid),
		"Basic with another account's ssid":     basic(uh + ":" + e2e.Login(t, other, otherPW)),
		"Basic without a colon":                 basic(uh + ssid),
		"Basic username:password":               basic(other + ":" + otherPW),
		"Basic, not base64":                     "Basic %%%",
		"Basic, empty":                          "Basic ",
	} {
		e2e.Expect(t, what, e2e.Get(t, "/users/info", "Authorization", h), 401, notAuth)
	}
}

func TestUsersInfoExpiredSession(t *testing.T) {
	t.Parallel()
	ssid := e2e.ExpiredSession(t)
	e2e.Expect(t, "expired session", e2e.Get(t, "/users/info", "Authorization", "Bearer "+ssid), 401, notAuth)
}

// otpOfNewUser registers an account with an email and asks for a code: it returns the
// account's userhash, the request id and the mailed code.
func otpOfNewUser(t *testing.T) (uh, reqID, code string) {
	t.Helper()
	name, _, email := e2e.RegisterUser(t, true)
	reqID, code = requestOTP(t, name, email)
	return account.UserHash(name), reqID, code
}

// requestOTP asks for a code and reads it from the SES inbox.
func requestOTP(t *testing.T, name, email string) (reqID, code string) {
	t.Helper()
	before := len(e2e.MailsTo(t, email))
	r := e2e.PostJSON(t, "/users/requestotp", fmt.Sprintf(`{"username":%q}`, name))
	reqID = r.UsersField(t, "reqid")
	e2e.Expect(t, "OTP sent", r, 200, fmt.Sprintf(`{"success":true,"data":{"message":{"userhash":%q,"reqid":%q}}}`, account.UserHash(strings.ToLower(name)), reqID))
	mails := e2e.MailsTo(t, email)
	if len(mails) != before+1 {
		t.Fatalf("%d new mails to %s", len(mails)-before, email)
	}
	m := mails[len(mails)-1]
	match := e2e.OTPCode.FindStringSubmatch(m.Body.Text)
	if match == nil || !strings.Contains(m.Body.HTML, match[1]) || m.Subject == "" || m.From != "no-reply@gatehouse.local" {
		t.Fatalf("OTP mail: %+v", m)
	}
	e2e.Secret(match[1]+"\"", reqID) // a bare 6-digit code is too common to search logs for
	return reqID, match[1]
}

func modify(t *testing.T, base, userhash, otp, reqID, password string) e2e.Response {
	t.Helper()
	return e2e.Do(t, base, http.MethodPost, "/users/modifypassword", "application/x-www-form-urlencoded",
		url.Values{"userhash": {userhash}, "OTP": {otp}, "reqid": {reqID}, "password": {password}}.Encode())
}

func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

func TestUsersOTPFlow(t *testing.T) {
	t.Parallel()
	name, pw, email := e2e.RegisterUser(t, true)
	old := e2e.Login(t, name, pw)
	reqID, code := requestOTP(t, strings.ToUpper(name), email)
	uh := account.UserHash(name)
	newPW := e2e.NewSecret("new-pw-")

	e2e.Expect(t, "new password invalid", modify(t, e2e.Stack.URL, uh, code, reqID, "short"), 422, invalidInput("password: must be 8 to 200 characters", false))
	e2e.Expect(t, "reqid unknown", modify(t, e2e.Stack.URL, uh, code, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", newPW), 403, refused("ERROR_INVALID_REQUEST"))
	other, _, _ := e2e.RegisterUser(t, false)
	e2e.Expect(t, "reqid of another userhash", modify(t, e2e.Stack.URL, account.UserHash(other), code, reqID, newPW), 403, refused("ERROR_INVALID_REQUEST"))
	e2e.Expect(t, "OTP wrong", modify(t, e2e.Stack.URL, uh, wrongCode(code), reqID, newPW), 401, refused("ERROR_INVALID_OTP"))
	e2e.Expect(t, "missing OTP", e2e.PostJSON(t, "/users/modifypassword", fmt.Sprintf(`{"userhash":%q,"reqid":%q,"password":%q}`, uh, reqID, newPW)), 422, invalidInput("OTP: required", false))
	e2e.Expect(t, "OTP and otp disagree", e2e.PostJSON(t, "/users/modifypassword", e2e.JSONBody("userhash", uh, "OTP", code, "otp", wrongCode(code), "reqid", reqID, "password", newPW)), 422,
		invalidInput("OTP: given twice with different values", false))

	e2e.Expect(t, "changed", modify(t, e2e.Stack.URL, uh, code, reqID, newPW), 200, `{"success":true,"data":{"message":"PASSWORD_RESET_OK"}}`)
	e2e.Expect(t, "already used", modify(t, e2e.Stack.URL, uh, code, reqID, e2e.Unique("newer-")), 401, refused("ERROR_OTP_EXPIRED"))
	e2e.Expect(t, "old password", e2e.PostJSON(t, "/users/login", fmt.Sprintf(`{"username":%q,"password":%q}`, name, pw)), 401, invalidPassword)
	e2e.Login(t, name, newPW)
	e2e.Expect(t, "session from before the change", e2e.Get(t, "/users/info", "Authorization", "Bearer "+old), 401, notAuth)
}

func TestUsersOTPExpires(t *testing.T) {
	t.Parallel()
	short := e2e.Gateway(t, map[string]string{"OTP_TTL": "1s"})
	name, _, email := e2e.RegisterUser(t, true)
	r := e2e.Do(t, short, http.MethodPost, "/users/requestotp", "application/json", fmt.Sprintf(`{"username":%q}`, name))
	reqID := r.UsersField(t, "reqid")
	m := e2e.OTPCode.FindStringSubmatch(e2e.LastMailTo(t, email).Body.Text)
	time.Sleep(2100 * time.Millisecond)
	e2e.Expect(t, "expired", modify(t, e2e.Stack.URL, account.UserHash(name), m[1], reqID, e2e.Unique("new-pw-")), 401, refused("ERROR_OTP_EXPIRED"))
}

func TestUsersRequestOTPErrors(t *testing.T) {
	t.Parallel()
	noMail, _, _ := e2e.RegisterUser(t, false)
	e2e.Expect(t, "no email", e2e.PostJSON(t, "/users/requestotp", fmt.Sprintf(`{"username":%q}`, noMail)), 200, refused("ERROR_NO_EMAIL_SET"))
	e2e.Expect(t, "no email (GET)", e2e.Get(t, "/users/requestotp?username="+url.QueryEscape(noMail)), 200, refused("ERROR_NO_EMAIL_SET"))
	e2e.Expect(t, "unknown", e2e.PostJSON(t, "/users/requestotp", `{"username":"nobody-at-all"}`), 403, refused("ERROR_INVALID_USERNAME"))
	e2e.Expect(t, "unknown (GET)", e2e.Get(t, "/users/requestotp?username=nobody-at-all"), 403, refused("ERROR_INVALID_USERNAME"))
	e2e.Expect(t, "missing", e2e.PostJSON(t, "/users/requestotp", `{}`), 422, invalidInput("username: required", false))
	e2e.Expect(t, "missing (GET)", e2e.Get(t, "/users/requestotp"), 422, invalidInput("username: required", false))
	e2e.Expect(t, "empty (GET)", e2e.Get(t, "/users/requestotp?username="), 422, invalidInput("username: must not be empty", false))
	e2e.Expect(t, "bad query (GET)", e2e.Get(t, "/users/requestotp?username=%zz"), 422, invalidInput("query: not a valid query string", false))
}

// With SES unreachable the route answers 500 and leaves no OTP behind.
func TestUsersRequestOTPMailFails(t *testing.T) {
	t.Parallel()
	broken := e2e.Gateway(t, map[string]string{"AWS_ENDPOINT_URL_SESV2": "http://127.0.0.1:9"})
	name, _, email := e2e.RegisterUser(t, true)
	r := e2e.Do(t, broken, http.MethodPost, "/users/requestotp", "application/json", fmt.Sprintf(`{"username":%q}`, name))
	e2e.Expect(t, "mail failed", r, 500, refused("ERROR_EMAIL_SENDING_FAILED"))
	if n := len(e2e.MailsTo(t, email)); n != 0 {
		t.Fatalf("%d mails", n)
	}
	// No OTP record exists for the account.
	a, err := e2e.Store("").AccountByUsername(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	if item := e2e.Item(t, fmt.Sprintf("USER#%d", a.UserID), "OTP"); item != nil {
		t.Fatalf("OTP item after a failed send: %v", item)
	}
}

func TestUsersRaceRegisterOneName(t *testing.T) {
	t.Parallel()
	name := e2e.Unique("race")
	rs := e2e.Parallel(20, func(i int) e2e.Response {
		return e2e.PostJSON(t, "/users/register", fmt.Sprintf(`{"username":%q,"password":"race-password-%d"}`, name, i))
	})
	got := e2e.CountUsers(t, rs)
	e2e.WantCounts(t, "20 registrations of one name", got, map[string]int{"200 USER_INSERT_OK": 1, "200 ERROR_LOGIN_WITH_PASSWORD": 19})
}

func TestUsersRaceOneOTP(t *testing.T) {
	t.Parallel()
	uh, reqID, code := otpOfNewUser(t)
	rs := e2e.Parallel(20, func(i int) e2e.Response {
		return modify(t, e2e.Stack.URL, uh, code, reqID, fmt.Sprintf("raced-password-%02d", i))
	})
	got := e2e.CountUsers(t, rs)
	e2e.WantCounts(t, "20 uses of one OTP", got, map[string]int{"200 PASSWORD_RESET_OK": 1, "401 ERROR_OTP_EXPIRED": 19})
}

func TestUsersRaceWrongOTPs(t *testing.T) {
	t.Parallel()
	uh, reqID, code := otpOfNewUser(t)
	wrong := wrongCode(code)
	rs := e2e.Parallel(20, func(int) e2e.Response { return modify(t, e2e.Stack.URL, uh, wrong, reqID, "never-set-password") })
	got := e2e.CountUsers(t, rs)
	e2e.WantCounts(t, "20 wrong guesses", got, map[string]int{"401 ERROR_INVALID_OTP": 5, "401 ERROR_OTP_EXPIRED": 15})
	e2e.Expect(t, "right code after 5 wrong", modify(t, e2e.Stack.URL, uh, code, reqID, "never-set-password"), 401, refused("ERROR_OTP_EXPIRED"))
}

func TestUnknownRoutes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ method, path string }{
		{http.MethodGet, "/"}, {http.MethodGet, "/users"}, {http.MethodGet, "/users/login"},
		{http.MethodPost, "/users/info"}, {http.MethodDelete, "/users/register"}, {http.MethodGet, "/nope/../users/info/x"},
	} {
		e2e.Expect(t, tc.method+" "+tc.path, e2e.Do(t, e2e.Stack.URL, tc.method, tc.path, "", ""), 404, `{"message":"Not Found"}`)
	}
}

func TestUsersLogout(t *testing.T) {
	t.Parallel()
	name, pw, _ := e2e.RegisterUser(t, false)
	ssid, other := e2e.Login(t, name, pw), e2e.Login(t, name, pw)
	e2e.Expect(t, "logout", e2e.PostJSON(t, "/users/logout", ``, "Authorization", "Bearer "+ssid), 200, `{"success":true,"data":{"message":"LOGOUT_OK"}}`)
	e2e.Expect(t, "token after logout", e2e.Get(t, "/users/info", "Authorization", "Bearer "+ssid), 401, notAuth)
	e2e.Expect(t, "logout twice", e2e.PostJSON(t, "/users/logout", ``, "Cookie", "ssid="+ssid), 401, notAuth)
	e2e.Expect(t, "no session", e2e.PostJSON(t, "/users/logout", ``), 401, notAuth)
	if r := e2e.Get(t, "/users/info", "Cookie", "TOKEN="+other); r.Status != 200 {
		t.Fatalf("logout ended another session: %d %s", r.Status, r.Body)
	}
	// The MMDL way: Basic userhash:ssid, which must name the session's own account.
	uh := account.UserHash(name)
	e2e.Expect(t, "logout with another userhash", e2e.PostJSON(t, "/users/logout", ``, "Authorization", basic(account.UserHash("someone-else")+":"+other)), 401, notAuth)
	e2e.Expect(t, "logout with a malformed Basic", e2e.PostJSON(t, "/users/logout", ``, "Authorization", "Basic "+other), 401, notAuth)
	e2e.Expect(t, "logout Basic", e2e.PostJSON(t, "/users/logout", ``, "Authorization", basic(uh+":"+other)), 200, `{"success":true,"data":{"message":"LOGOUT_OK"}}`)
	e2e.Expect(t, "after logout Basic", e2e.Get(t, "/users/info", "Cookie", "TOKEN="+other), 401, notAuth)
}

// basic is MMDL's session header: "Basic " + base64(raw), raw being userhash:ssid.
func basic(raw string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(raw)) }
