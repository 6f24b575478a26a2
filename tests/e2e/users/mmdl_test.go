package users_test

// TestMMDLFrontEnd makes exactly the requests the front end of Manage My Damn Life
// (github.com/intri-in/manage-my-damn-life-nextjs) makes, and reads each answer the way
// that front end does. Each step mirrors one MMDL file:
//
//   - register:        src/pages/accounts/register.tsx — POST users/register, Content-Type
//     application/json, body JSON.stringify({password, username, email}); reads
//     body?.success, then getMessageFromAPIResponse(body) === "USER_INSERT_OK".
//   - login:           src/pages/login.tsx — POST login/ (JSON {password, username}); reads
//     body.success === "true" (a string) and data.message.userhash / .ssid, which
//     setLoginCookie (src/helpers/frontend/user.js) keeps for later requests.
//   - settings info:   src/components/page/SettingsPage/SettingsPage.js getUserInfo — GET
//     users/info with header authorization = getAuthenticationHeadersforUser()
//     (src/helpers/frontend/user.js: "Basic " + Base64.encode(userhash + ":" + ssid)); reads
//     body.success == true, data.message.username, .email, .level == "1" and
//     moment.unix(data.message.created).
//   - request OTP:     src/pages/accounts/resetpassword.tsx makeGetOTPRequest — GET
//     users/requestotp?username=<username> (no headers); reads body?.success and
//     data.message.userhash / .reqid.
//   - modify password: resetpassword.tsx makePassResetRequest — POST users/modifypassword,
//     JSON JSON.stringify({otp, reqid, userhash, password}); reads body?.success and
//     getMessageFromAPIResponse(body) (shown on the login page).
//   - login again:     login.tsx, with the new password.
//   - logout:          MMDL's front end signs out by dropping its cookies
//     (src/helpers/frontend/user.js logoutUser) and calls no server route; Gatehouse's
//     POST /users/logout is called with the same authorization header the front end
//     builds, and the settings page's users/info then answers PLEASE_LOGIN.
//
// getAPIURL() (src/helpers/general.js) is "/api/": the front end's origin forwards /api/* to
// Gatehouse's root (README, "Using Gatehouse with MMDL"), so "api/login/" arrives as
// POST /login once the trailing slash is dropped (Next.js redirects it away by default).

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/tests/e2e"
)

// jsBody is an answer as the front end's response.json() sees it.
type jsBody map[string]any

func parse(t *testing.T, what string, r e2e.Response) jsBody {
	t.Helper()
	var b jsBody
	if err := json.Unmarshal([]byte(r.Body), &b); err != nil {
		t.Fatalf("%s: response.json() fails on %q", what, r.Body)
	}
	return b
}

// message is getMessageFromAPIResponse (src/helpers/frontend/response.js): body.data.message.
func (b jsBody) message() any {
	d, _ := b["data"].(map[string]any)
	return d["message"]
}

// field reads message.<key> as a string, as the front end does with message?.userhash.
func (b jsBody) field(key string) string {
	m, _ := b.message().(map[string]any)
	s, _ := m[key].(string)
	return s
}

// truthy is JavaScript's truthiness of a JSON value (body?.success).
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case float64:
		return x != 0
	case string:
		return x != ""
	}
	return true
}

// looseTrue is JavaScript's v == true (SettingsPage.js: body.success == true): true, 1 and
// "1" pass; the string "true" does not.
func looseTrue(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case float64:
		return x == 1
	case string:
		n, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return err == nil && n == 1
	}
	return false
}

// mmdlAuthorization is getAuthenticationHeadersforUser: js-base64's Base64.encode is
// standard base64 with padding over the UTF-8 bytes.
func mmdlAuthorization(userhash, ssid string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(userhash+":"+ssid))
}

func TestMMDLFrontEnd(t *testing.T) {
	t.Parallel()
	username, password := e2e.Unique("mmdl"), e2e.Unique("mmdl-pw-")
	email := username + "@example.com"
	e2e.Secret(password)
	jsonBody := func(kv ...string) string {
		// JSON.stringify keeps the order the object literal gives; so does this.
		var sb strings.Builder
		sb.WriteByte('{')
		for i := 0; i+1 < len(kv); i += 2 {
			if i > 0 {
				sb.WriteByte(',')
			}
			k, _ := json.Marshal(kv[i])
			v, _ := json.Marshal(kv[i+1])
			sb.Write(k)
			sb.WriteByte(':')
			sb.Write(v)
		}
		sb.WriteByte('}')
		return sb.String()
	}
	post := func(path, body string, headers ...string) e2e.Response {
		return e2e.Do(t, e2e.Stack.URL, http.MethodPost, path, "application/json", body, headers...)
	}

	// register.tsx
	r := post("/users/register", jsonBody("password", password, "username", username, "email", email))
	b := parse(t, "register", r)
	if r.Status != 200 || !truthy(b["success"]) || b.message() != "USER_INSERT_OK" {
		t.Fatalf("register: %d %s", r.Status, r.Body)
	}

	// login.tsx
	login := func(what, pw string) (userhash, ssid string) {
		t.Helper()
		r := post("/login", jsonBody("password", pw, "username", username))
		b := parse(t, what, r)
		userhash, ssid = b.field("userhash"), b.field("ssid")
		if r.Status != 200 || b["success"] != "true" || userhash == "" || ssid == "" {
			t.Fatalf("%s: %d %s", what, r.Status, r.Body)
		}
		e2e.Secret(ssid)
		return userhash, ssid
	}
	userhash, ssid := login("login", password)
	if userhash != account.UserHash(username) {
		t.Fatalf("userhash %q", userhash)
	}

	// SettingsPage.js getUserInfo
	settingsInfo := func(what, ssid string) (int, jsBody) {
		t.Helper()
		r := e2e.Get(t, "/users/info", "authorization", mmdlAuthorization(userhash, ssid))
		return r.Status, parse(t, what, r)
	}
	status, b := settingsInfo("settings info", ssid)
	created, err := strconv.ParseInt(b.field("created"), 10, 64) // moment.unix(created)
	if status != 200 || !looseTrue(b["success"]) || b.field("username") != username || b.field("email") != email ||
		b.field("level") != "0" || err != nil || created <= 0 {
		t.Fatalf("settings info: %d %v", status, b)
	}
	if id, _ := b.message().(map[string]any)["users_id"].(float64); id < 1 {
		t.Fatalf("users_id: %v", b)
	}

	// resetpassword.tsx makeGetOTPRequest: the username goes into the URL as typed.
	before := len(e2e.MailsTo(t, email))
	r = e2e.Get(t, "/users/requestotp?username="+username)
	b = parse(t, "request OTP", r)
	reqid, otpUserhash := b.field("reqid"), b.field("userhash")
	if r.Status != 200 || !truthy(b["success"]) || reqid == "" || otpUserhash != userhash {
		t.Fatalf("request OTP: %d %s", r.Status, r.Body)
	}
	e2e.Secret(reqid)

	// The code from the mail, as the user reads it.
	mails := e2e.MailsTo(t, email)
	if len(mails) != before+1 {
		t.Fatalf("%d new mails", len(mails)-before)
	}
	match := e2e.OTPCode.FindStringSubmatch(mails[len(mails)-1].Body.Text)
	if match == nil {
		t.Fatalf("no code in %q", mails[len(mails)-1].Body.Text)
	}
	otp := match[1]
	e2e.Secret(otp + "\"")

	// resetpassword.tsx makePassResetRequest
	newPassword := e2e.NewSecret("mmdl-new-pw-")
	r = post("/users/modifypassword", jsonBody("otp", otp, "reqid", reqid, "userhash", otpUserhash, "password", newPassword))
	b = parse(t, "modify password", r)
	if r.Status != 200 || !truthy(b["success"]) || b.message() != "PASSWORD_RESET_OK" {
		t.Fatalf("modify password: %d %s", r.Status, r.Body)
	}
	// The change ended the first session, also in the form MMDL presents it.
	if status, b := settingsInfo("settings info, old session", ssid); status != 401 || looseTrue(b["success"]) || b.message() != "PLEASE_LOGIN" {
		t.Fatalf("old session after the change: %d %v", status, b)
	}

	// login.tsx with the new password; the old one no longer works.
	r = post("/login", jsonBody("password", password, "username", username))
	if b := parse(t, "old password", r); r.Status != 401 || b["success"] != "false" || b.message() != "INVALID_PASSWORD" {
		t.Fatalf("old password: %d %s", r.Status, r.Body)
	}
	_, ssid = login("login with the new password", newPassword)
	if status, b := settingsInfo("settings info, new session", ssid); status != 200 || !looseTrue(b["success"]) || b.field("username") != username {
		t.Fatalf("new session: %d %v", status, b)
	}

	// Logout with the header the front end builds; the session is then refused.
	r = post("/users/logout", "", "authorization", mmdlAuthorization(userhash, ssid))
	if b := parse(t, "logout", r); r.Status != 200 || !truthy(b["success"]) || b.message() != "LOGOUT_OK" {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	if status, b := settingsInfo("settings info after logout", ssid); status != 401 || looseTrue(b["success"]) || b.message() != "PLEASE_LOGIN" {
		t.Fatalf("after logout: %d %v", status, b)
	}
}
