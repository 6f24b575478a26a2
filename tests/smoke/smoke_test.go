// Package smoke is a black-box check of a running Gatehouse, local or deployed: it talks
// HTTP to API_URL only, exercises every family without touching anything but throwaway
// accounts of its own (unique names), and removes them again when admin credentials are
// given. `make smoke API_URL=https://...` runs it against a deployment; without API_URL the
// package starts a local stack of its own (main_test.go), so `make test` proves it.
//
// Settings (environment):
//
//	API_URL               base URL of the API (the stack output ApiUrl)
//	SMOKE_ADMIN_USER      an admin's username and password: the admin family's steps and
//	SMOKE_ADMIN_PASSWORD  the clean-up run only with them
//	SMOKE_MAIL_URL        an aws-ses-v2-local-style inbox (GET /store): the one-time code
//	                      steps run only with it
package smoke

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/testkit"
)

// target is what the suite runs against.
var target struct {
	api                      string
	adminUser, adminPassword string
	mailURL                  string
}

var client = &http.Client{Timeout: 30 * time.Second}

// answer is one HTTP answer.
type answer struct {
	status int
	header http.Header
	body   string
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(a.body), &m); err != nil {
		t.Fatalf("answer %d is not a JSON object: %q", a.status, a.body)
	}
	return m
}

// call sends one request; headers come in name, value pairs.
func call(t *testing.T, method, path, contentType, body string, headers ...string) answer {
	t.Helper()
	resp, b := testkit.Send(context.Background(), t, client, method, strings.TrimSuffix(target.api, "/")+path, contentType, body, headers...)
	return answer{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func postJSON(t *testing.T, path string, v any, headers ...string) answer {
	t.Helper()
	b, _ := json.Marshal(v)
	return call(t, http.MethodPost, path, "application/json", string(b), headers...)
}

// expect fails unless the answer has the status and its body contains every part.
func expect(t *testing.T, what string, a answer, status int, parts ...string) {
	t.Helper()
	if a.status != status {
		t.Fatalf("%s: %d %s, want %d", what, a.status, a.body, status)
	}
	for _, p := range parts {
		if !strings.Contains(a.body, p) {
			t.Fatalf("%s: %d %s, want it to contain %s", what, a.status, a.body, p)
		}
	}
}

// unique returns a throwaway name: a fixed prefix, so leftovers are easy to find, and 12
// random hex digits.
func unique(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func basic(user, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+secret))
}

// throwaway accounts made by the suite, deleted at the end when admin credentials are given.
var created struct {
	mu    sync.Mutex
	names []string
}

func made(username string) {
	created.mu.Lock()
	defer created.mu.Unlock()
	created.names = append(created.names, username)
}

func haveAdmin() bool { return target.adminUser != "" && target.adminPassword != "" }

func adminAuth() string { return basic(target.adminUser, target.adminPassword) }

// registrationOff reports a deployment with ALLOW_REGISTRATION=false, where the self-service
// steps cannot create their accounts.
func registrationOff(t *testing.T, a answer, marker string) bool {
	t.Helper()
	if strings.Contains(a.body, marker) {
		t.Skipf("self-service registration is switched off on this deployment (%d %s)", a.status, a.body)
	}
	return false
}

func TestUnknownRoute(t *testing.T) {
	a := call(t, http.MethodGet, "/"+unique("smoke-no-route-"), "", "")
	expect(t, "unknown route", a, 404, `{"message":"Not Found"}`)
}

// Users family: register, log in, read the account, log out; with a mail hook the
// one-time code flow changes the password.
func TestUsersFamily(t *testing.T) {
	username, password := unique("smoke-users-"), unique("pw-")
	email := username + "@example.com"
	a := postJSON(t, "/users/register", map[string]string{"username": username, "password": password, "email": email})
	registrationOff(t, a, "CANT_CREATE_USER")
	expect(t, "register", a, 200, `"USER_INSERT_OK"`)
	made(username)

	userhash, ssid := usersLogin(t, username, password)
	session := basic(userhash, ssid)
	a = call(t, http.MethodGet, "/users/info", "", "", "Authorization", session)
	expect(t, "info", a, 200, `"success":true`, fmt.Sprintf(`"username":%q`, username), fmt.Sprintf(`"email":%q`, email))
	a = call(t, http.MethodPost, "/users/logout", "application/json", "{}", "Authorization", session)
	expect(t, "logout", a, 200, `"LOGOUT_OK"`)
	a = call(t, http.MethodGet, "/users/info", "", "", "Authorization", session)
	expect(t, "info after logout", a, 401, `"PLEASE_LOGIN"`)

	a = postJSON(t, "/users/login", map[string]string{"username": username, "password": "wrong-" + password})
	expect(t, "wrong password", a, 401, `"INVALID_PASSWORD"`)

	t.Run("OTP", func(t *testing.T) {
		if target.mailURL == "" {
			t.Skip("SMOKE_MAIL_URL not set: no inbox to read the one-time code from")
		}
		since := time.Now().Add(-time.Minute).Unix()
		a := call(t, http.MethodGet, "/users/requestotp?username="+url.QueryEscape(username), "", "")
		expect(t, "request OTP", a, 200, `"reqid"`)
		msg := a.json(t)["data"].(map[string]any)["message"].(map[string]any)
		otp := mailCode(t, email, since)
		newPassword := unique("pw2-")
		a = postJSON(t, "/users/modifypassword", map[string]string{"userhash": msg["userhash"].(string), "otp": otp, "reqid": msg["reqid"].(string), "password": newPassword})
		expect(t, "modify password", a, 200, `"PASSWORD_RESET_OK"`)
		usersLogin(t, username, newPassword)
	})
}

func usersLogin(t *testing.T, username, password string) (userhash, ssid string) {
	t.Helper()
	a := postJSON(t, "/users/login", map[string]string{"username": username, "password": password})
	expect(t, "login", a, 200, `"success":"true"`)
	msg, _ := a.json(t)["data"].(map[string]any)["message"].(map[string]any)
	userhash, _ = msg["userhash"].(string)
	ssid, _ = msg["ssid"].(string)
	if userhash == "" || ssid == "" {
		t.Fatalf("login: no userhash or ssid in %s", a.body)
	}
	return userhash, ssid
}

var sixDigits = regexp.MustCompile(`\b([0-9]{6})\b`)

// mailCode reads the newest code mailed to email since the given time from the inbox.
func mailCode(t *testing.T, email string, since int64) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := client.Get(strings.TrimSuffix(target.mailURL, "/") + "/store")
		if err != nil {
			t.Fatalf("inbox: %v", err)
		}
		var store struct {
			Emails []struct {
				Destination struct {
					To []string `json:"to"`
				} `json:"destination"`
				Body struct {
					Text string `json:"text"`
				} `json:"body"`
				At int64 `json:"at"`
			} `json:"emails"`
		}
		err = json.NewDecoder(resp.Body).Decode(&store)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("inbox: %v", err)
		}
		for i := len(store.Emails) - 1; i >= 0; i-- {
			m := store.Emails[i]
			for _, to := range m.Destination.To {
				if strings.EqualFold(to, email) && m.At >= since {
					if c := sixDigits.FindStringSubmatch(m.Body.Text); c != nil {
						return c[1]
					}
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no mail with a code to %s in the inbox", email)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// User family: create, authenticate (cookie TOKEN), check the session, read the profile,
// log out.
func TestUserFamily(t *testing.T) {
	username, password := unique("smoke-user-"), unique("pw-")
	a := postJSON(t, "/user/create", map[string]string{"username": username, "email": username + "@example.com", "password": password, "name": "Smoke Test"})
	registrationOff(t, a, "User registration is disabled")
	expect(t, "create", a, 200, `"User created successfully"`)
	made(username)

	a = postJSON(t, "/user/auth", map[string]string{"username": username, "password": password})
	expect(t, "auth", a, 200, `"Authenticated"`)
	var token string
	for _, c := range (&http.Response{Header: a.header}).Cookies() {
		if c.Name == "TOKEN" {
			token = c.Value
			if !c.HttpOnly || !c.Secure {
				t.Errorf("TOKEN cookie is not HttpOnly and Secure: %v", a.header.Values("Set-Cookie"))
			}
		}
	}
	if token == "" {
		t.Fatalf("auth: no TOKEN cookie in %v", a.header.Values("Set-Cookie"))
	}
	cookie := "TOKEN=" + token
	a = call(t, http.MethodGet, "/user/logged", "", "", "Cookie", cookie)
	expect(t, "logged", a, 200, `"Validation"`, `"data":"true"`)
	a = call(t, http.MethodGet, "/user/profile/"+url.PathEscape(username), "", "")
	expect(t, "profile", a, 200, `\"name\":\"Smoke Test\"`)
	a = call(t, http.MethodPost, "/user/logout", "", "", "Cookie", cookie)
	expect(t, "logout", a, 200, `"Logged out"`)
	a = call(t, http.MethodGet, "/user/logged", "", "", "Cookie", cookie)
	expect(t, "logged after logout", a, 404, `"TOKEN was not found"`)
}

// Account v1 family: register (form body), change the password, refuse the old one.
func TestAccountV1Family(t *testing.T) {
	email, password := unique("smoke-v1-")+"@example.com", unique("pw-")
	form := url.Values{"name": {"Smoke Test"}, "email": {email}, "password": {password}}
	a := call(t, http.MethodPost, "/api/user/v1/register", "application/x-www-form-urlencoded", form.Encode())
	registrationOff(t, a, "registration is disabled")
	expect(t, "register", a, 201, `"status":"success"`, `"user_secret"`)
	made(email) // its username is its email

	newPassword := unique("pw2-")
	change := func(old, new string) answer {
		f := url.Values{"email": {email}, "oldpassword": {old}, "newpassword": {new}}
		return call(t, http.MethodPatch, "/api/user/v1/changepassword", "application/x-www-form-urlencoded", f.Encode())
	}
	expect(t, "change password", change(password, newPassword), 200, `{"status":"success"}`)
	expect(t, "old password", change(password, unique("pw3-")), 422, `"wrong password"`)
}

// Admin v2 family, with admin credentials only: list, create, get, delete a throwaway
// account.
func TestAdminFamily(t *testing.T) {
	if !haveAdmin() {
		t.Skip("SMOKE_ADMIN_USER and SMOKE_ADMIN_PASSWORD not set: no admin steps")
	}
	a := call(t, http.MethodGet, "/api/v2/users?limit=1", "", "")
	expect(t, "list without credentials", a, 401, `"unauthorized"`)
	a = call(t, http.MethodGet, "/api/v2/users?limit=1", "", "", "Authorization", adminAuth())
	expect(t, "list", a, 200, `"users":[`)

	username := unique("smoke-admin-")
	a = postJSON(t, "/api/v2/users/"+username, map[string]string{"password": unique("pw-")}, "Authorization", adminAuth())
	expect(t, "create", a, 200, fmt.Sprintf(`"user_name":%q`, username))
	a = call(t, http.MethodGet, "/api/v2/users/"+username, "", "", "Authorization", adminAuth())
	expect(t, "get", a, 200, fmt.Sprintf(`"user_name":%q`, username))
	a = call(t, http.MethodDelete, "/api/v2/users/"+username, "", "", "Authorization", adminAuth())
	expect(t, "delete", a, 200, `{}`)
	a = call(t, http.MethodGet, "/api/v2/users/"+username, "", "", "Authorization", adminAuth())
	expect(t, "get after delete", a, 403, `"user_exists":false`)
}

// cleanup deletes the suite's throwaway accounts through the admin family; without admin
// credentials it lists them so they can be removed by hand.
func cleanup() error {
	created.mu.Lock()
	names := append([]string(nil), created.names...)
	created.mu.Unlock()
	if len(names) == 0 {
		return nil
	}
	if !haveAdmin() {
		fmt.Printf("smoke: no admin credentials, so these throwaway accounts stay: %s\n", strings.Join(names, " "))
		return nil
	}
	var failed []string
	for _, n := range names {
		req, _ := http.NewRequest(http.MethodDelete, strings.TrimSuffix(target.api, "/")+"/api/v2/users/"+url.PathEscape(n), nil)
		req.Header.Set("Authorization", adminAuth())
		resp, err := client.Do(req)
		if err != nil {
			failed = append(failed, n+" ("+err.Error()+")")
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			failed = append(failed, fmt.Sprintf("%s (%d)", n, resp.StatusCode))
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("could not delete the throwaway accounts %s", strings.Join(failed, ", "))
	}
	return nil
}
