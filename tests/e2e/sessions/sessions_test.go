// Package sessions tests the sessions an account's owner sees and ends (GET /user/sessions,
// DELETE /user/sessions/{id}, POST /user/logout-all; docs/API.md, "User family") through
// the local gateway and the real function binaries, with the session authorizer in front
// of a test-only consumer route to show that an ended session is denied there too.
package sessions_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/tests/e2e"
)

func TestMain(m *testing.M) { e2e.MainConsumer(m) }

// consumer calls the consumer route behind the session authorizer and returns its status.
func consumer(t *testing.T, token string) int {
	t.Helper()
	resp, _ := e2e.CallConsumer(t, e2e.Stack.URL, "Authorization", "Bearer "+token)
	return resp.StatusCode
}

func body(status int, msg, data string) string { return e2e.UserBody(status, msg, data) }

func expect(t *testing.T, what string, r e2e.Response, status int, msg, data string) {
	t.Helper()
	e2e.Expect(t, what, r, status, body(status, msg, data))
}

// authFrom logs in through POST /user/auth from ip with the user agent ua, and returns
// the session token.
func authFrom(t *testing.T, ip, ua, name, password string) string {
	t.Helper()
	r := e2e.DoFrom(t, ip, e2e.Stack.URL, http.MethodPost, "/user/auth", "application/json",
		e2e.JSONBody("username", name, "password", password), "User-Agent", ua)
	expect(t, "auth "+name, r, 200, "Authenticated", "null")
	for _, line := range r.Header.Values("Set-Cookie") {
		if c, err := http.ParseSetCookie(line); err == nil && c.Name == "TOKEN" {
			e2e.Secret(c.Value)
			return c.Value
		}
	}
	t.Fatalf("auth %s: no TOKEN cookie", name)
	return ""
}

type session struct {
	ID         string `json:"id"`
	CreatedAt  string `json:"created_at"`
	LastSeenAt string `json:"last_seen_at"`
	IP         string `json:"ip"`
	UserAgent  string `json:"user_agent"`
	Current    bool   `json:"current"`
}

func bearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

func list(t *testing.T, token string) ([]session, string) {
	t.Helper()
	r := e2e.Get(t, "/user/sessions", bearer(token)...)
	if r.Status != 200 {
		t.Fatalf("GET /user/sessions: %d %s", r.Status, r.Body)
	}
	var env struct{ StatusCode, Message, Data string }
	if err := json.Unmarshal([]byte(r.Body), &env); err != nil || env.StatusCode != "200" || env.Message != "Sessions" {
		t.Fatalf("GET /user/sessions: %s (%v)", r.Body, err)
	}
	var out []session
	if err := json.Unmarshal([]byte(env.Data), &out); err != nil {
		t.Fatalf("sessions data %q: %v", env.Data, err)
	}
	return out, r.Body
}

func endSession(t *testing.T, token, id string) e2e.Response {
	t.Helper()
	return e2e.Do(t, e2e.Stack.URL, http.MethodDelete, "/user/sessions/"+id, "", "", bearer(token)...)
}

func logged(t *testing.T, what, token string, ok bool) {
	t.Helper()
	r := e2e.Get(t, "/user/logged", bearer(token)...)
	if ok {
		expect(t, what, r, 200, "Validation", "true")
	} else {
		expect(t, what, r, 404, "TOKEN was not found", "false")
	}
}

func TestSessionsListEndAndLogoutAll(t *testing.T) {
	t.Parallel()
	name, pw, _ := e2e.RegisterUser(t, false)
	one := authFrom(t, "127.0.0.21", "sessions-e2e-one/1.0", name, pw)
	two := authFrom(t, "127.0.0.22", "sessions-e2e-two/2.0 (like Gecko)", name, pw)
	got, raw := list(t, one)
	if len(got) != 2 {
		t.Fatalf("%d sessions, want 2: %s", len(got), raw)
	}
	if strings.Contains(raw, one) || strings.Contains(raw, two) {
		t.Fatalf("the session list carries a token: %s", raw)
	}
	byUA := map[string]session{}
	for _, x := range got {
		byUA[x.UserAgent] = x
		for _, at := range []string{x.CreatedAt, x.LastSeenAt} {
			if _, err := time.Parse(time.RFC3339, at); err != nil {
				t.Errorf("time %q: %v", at, err)
			}
		}
		if len(x.ID) != 32 || strings.Contains(one+two, x.ID) {
			t.Errorf("id %q", x.ID)
		}
	}
	first, second := byUA["sessions-e2e-one/1.0"], byUA["sessions-e2e-two/2.0 (like Gecko)"]
	if first.IP != "127.0.0.21" || !first.Current || second.IP != "127.0.0.22" || second.Current {
		t.Fatalf("sessions %s", raw)
	}
	if got[0] != second { // newest first
		t.Errorf("order: %s", raw)
	}
	// From the other session, the other one is current.
	if again, _ := list(t, two); len(again) != 2 || again[0].Current != true || again[1].Current {
		t.Errorf("from the second session: %+v", again)
	}

	// Another account's session id, and an unknown one, are not found.
	otherName, otherPW, _ := e2e.RegisterUser(t, false)
	theirs := authFrom(t, "127.0.0.23", "sessions-e2e-other", otherName, otherPW)
	theirList, _ := list(t, theirs)
	for what, id := range map[string]string{
		"another account's session": theirList[0].ID,
		"unknown id":                strings.Repeat("0", 32),
		"malformed id":              "not-a-session",
	} {
		expect(t, what, endSession(t, one, id), 404, "Session not found", "null")
	}
	logged(t, "the other account's session after the refusal", theirs, true)

	// End the second: it no longer works, anywhere; this one does.
	r := endSession(t, one, second.ID)
	expect(t, "end the second session", r, 200, "Logged out", "null")
	if c := r.Header.Values("Set-Cookie"); len(c) != 0 {
		t.Errorf("ending another session set a cookie: %q", c)
	}
	logged(t, "the ended session", two, false)
	if s := consumer(t, two); s != http.StatusForbidden {
		t.Errorf("authorizer with the ended session: %d, want 403", s)
	}
	logged(t, "this session", one, true)
	expect(t, "end it twice", endSession(t, one, second.ID), 404, "Session not found", "null")
	if after, _ := list(t, one); len(after) != 1 || !after[0].Current {
		t.Errorf("after ending the second: %+v", after)
	}

	// Logout-all ends every session, this one too, also for the authorizer.
	three := authFrom(t, "127.0.0.24", "sessions-e2e-three", name, pw)
	for _, tok := range []string{one, three} {
		if s := consumer(t, tok); s != http.StatusOK {
			t.Fatalf("authorizer before logout-all: %d", s)
		}
	}
	r = e2e.PostJSON(t, "/user/logout-all", "", bearer(three)...)
	expect(t, "logout-all", r, 200, "Logged out everywhere", "null")
	if c := r.Header.Get("Set-Cookie"); !strings.HasPrefix(c, "TOKEN=;") {
		t.Errorf("logout-all Set-Cookie %q", c)
	}
	for what, tok := range map[string]string{"this session": three, "the other": one} {
		logged(t, what+" after logout-all", tok, false)
		if s := consumer(t, tok); s != http.StatusForbidden {
			t.Errorf("authorizer with %s after logout-all: %d, want 403", what, s)
		}
		expect(t, "sessions with "+what+" after logout-all", e2e.Get(t, "/user/sessions", bearer(tok)...), 404, "TOKEN was not found", "false")
	}
	logged(t, "another account's session after logout-all", theirs, true)
	fresh := authFrom(t, "127.0.0.25", "sessions-e2e-fresh", name, pw)
	if after, _ := list(t, fresh); len(after) != 1 || !after[0].Current || after[0].UserAgent != "sessions-e2e-fresh" {
		t.Errorf("after logout-all and a new login: %+v", after)
	}
}

func TestSessionRoutesNeedASession(t *testing.T) {
	t.Parallel()
	name, pw, _ := e2e.RegisterUser(t, false)
	gone := e2e.Login(t, name, pw)
	e2e.Expect(t, "logout", e2e.PostJSON(t, "/users/logout", ``, bearer(gone)...), 200, `{"success":true,"data":{"message":"LOGOUT_OK"}}`)
	id := strings.Repeat("a", 32)
	calls := map[string]func(h ...string) e2e.Response{
		"GET /user/sessions": func(h ...string) e2e.Response { return e2e.Get(t, "/user/sessions", h...) },
		"DELETE /user/sessions/{id}": func(h ...string) e2e.Response {
			return e2e.Do(t, e2e.Stack.URL, http.MethodDelete, "/user/sessions/"+id, "", "", h...)
		},
		"POST /user/logout-all": func(h ...string) e2e.Response { return e2e.PostJSON(t, "/user/logout-all", "", h...) },
	}
	for route, call := range calls {
		expect(t, route+" without a session", call(), 404, "No auth info found", "false")
		expect(t, route+" with an ended session", call(bearer(gone)...), 404, "TOKEN was not found", "false")
		expect(t, route+" with a malformed token", call("Cookie", "TOKEN=nonsense"), 404, "TOKEN was not found", "false")
	}
}
