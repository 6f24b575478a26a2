package verify_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/tests/e2e"
)

// lifecycleEvent is an event of GET /api/v2/users/{username}/events as this test reads it.
type lifecycleEvent struct {
	Type, Actor, Method, Username, Outcome string
	UserID                                 int64 `json:"user_id"`
}

func (ev lifecycleEvent) String() string {
	s := ev.Type + "/" + ev.Actor
	if ev.Method != "" {
		s += "/" + ev.Method
	}
	return s
}

// TestLifecycleRoutesRecordEvents: each account lifecycle route (PUT /user/email, POST
// /user/verify-email, PUT /user/profile, DELETE /user/sessions/{id}, POST /user/logout-all)
// stores its event with the account, which an admin reads from /events with the right
// actor and method; DELETE /user leaves no item of the account and its account.deleted
// reaches the function's log; no stored item holds a secret, token or code the test used.
func TestLifecycleRoutesRecordEvents(t *testing.T) {
	t.Parallel()
	name, password, email := e2e.RegisterUser(t, true)
	id := storedID(t, name)
	e2e.Expect(t, "verify the registered address", verify(t, verifyToken(t, email)), 200, body(200, "Email verified", "null"))
	ssid, other := e2e.Login(t, name, password), e2e.Login(t, name, password)
	wrong := e2e.Unique("wrong-pw-")
	e2e.Secret(wrong)
	next := e2e.Unique("vlife") + "@example.com"
	e2e.Expect(t, "change, wrong password", changeEmail(t, ssid, next, wrong), 401, body(401, "Authenticated failed", "null"))
	e2e.Expect(t, "change", changeEmail(t, ssid, next, password), 200, body(200, "Verification sent", "null"))
	changeToken := verifyToken(t, next)
	e2e.Expect(t, "verify the change", verify(t, changeToken), 200, body(200, "Email verified", "null"))
	if r := e2e.Do(t, e2e.Stack.URL, http.MethodPut, "/user/profile", "application/json", e2e.JSONBody("bio", "audited bio"), bearerOf(ssid)...); r.Status != 200 {
		t.Fatalf("profile update: %d %s", r.Status, r.Body)
	}
	if r := e2e.Do(t, e2e.Stack.URL, http.MethodDelete, "/user/sessions/"+sessionID(t, ssid, other), "", "", bearerOf(ssid)...); r.Status != 200 {
		t.Fatalf("end the other session: %d %s", r.Status, r.Body)
	}
	if r := e2e.PostJSON(t, "/user/logout-all", ``, bearerOf(ssid)...); r.Status != 200 {
		t.Fatalf("logout-all: %d %s", r.Status, r.Body)
	}

	admin, adminPW := e2e.Unique("vadm"), e2e.Unique("admin-pw-")
	e2e.Secret(adminPW)
	svc := e2e.Service("", nil, account.Config{TokenIndexKey: []byte(e2e.Stack.TokenIndexKey)})
	if _, _, err := svc.EnsureAdmin(ctx, admin, adminPW); err != nil {
		t.Fatal(err)
	}
	r := e2e.Do(t, e2e.Stack.URL, http.MethodGet, "/api/v2/users/"+name+"/events", "application/json", "", "Authorization", e2e.Basic(admin, adminPW))
	if r.Status != 200 {
		t.Fatalf("events: %d %s", r.Status, r.Body)
	}
	var page struct {
		Events []lifecycleEvent `json:"events"`
	}
	if err := json.Unmarshal([]byte(r.Body), &page); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range slices.Backward(page.Events) {
		got = append(got, ev.String())
		if ev.UserID != id || !strings.EqualFold(ev.Username, name) {
			t.Errorf("%s names %d %q, want %d %q", ev, ev.UserID, ev.Username, id, name)
		}
	}
	// Oldest first; the wrong password of PUT /user/email is every password check's login.failed.
	want := []string{
		"account.created/self", "email.verified/anonymous", "login.succeeded/self", "login.succeeded/self",
		"login.failed/anonymous", "email.change_requested/self", "email.changed/anonymous",
		"profile.updated/self", "session.ended/self/by_id", "session.ended/self/all",
	}
	if !slices.Equal(got, want) {
		t.Errorf("events, oldest first:\n got %v\nwant %v", got, want)
	}
	items := e2e.Partition(t, fmt.Sprintf("USER#%d", id))

	// DELETE /user: everything of the account goes, its deletion is observed in the log.
	last := e2e.Login(t, name, password)
	r = e2e.Do(t, e2e.Stack.URL, http.MethodDelete, "/user", "application/json", e2e.JSONBody("password", password), bearerOf(last)...)
	if r.Status != 200 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if left := e2e.Partition(t, fmt.Sprintf("USER#%d", id)); len(left) != 0 {
		t.Fatalf("%d items left in the deleted account's partition", len(left))
	}
	deletedLine(t, name, id)

	secrets := []string{password, wrong, ssid, other, last, changeToken, adminPW}
	for _, it := range append(items, e2e.Scan(t)...) {
		for attr, v := range it {
			e2e.Strings(v, func(s string) {
				for _, secret := range secrets {
					if strings.Contains(s, secret) {
						t.Errorf("item %v attribute %s holds a secret", it["SK"], attr)
					}
				}
			})
		}
	}
}

func bearerOf(token string) []string { return []string{"Authorization", "Bearer " + token} }

func storedID(t *testing.T, name string) int64 {
	t.Helper()
	a, err := e2e.Store("").AccountByUsername(ctx, strings.ToLower(name))
	if err != nil {
		t.Fatal(err)
	}
	return a.UserID
}

// sessionID is the id GET /user/sessions shows (to the session of token) for another
// session, the one of other.
func sessionID(t *testing.T, token, other string) string {
	t.Helper()
	r := e2e.Get(t, "/user/sessions", bearerOf(token)...)
	var env struct{ Data string }
	var list []struct {
		ID      string `json:"id"`
		Current bool   `json:"current"`
	}
	if err := json.Unmarshal([]byte(r.Body), &env); err != nil || json.Unmarshal([]byte(env.Data), &list) != nil || len(list) != 2 {
		t.Fatalf("GET /user/sessions: %d %s", r.Status, r.Body)
	}
	_, hash, _ := account.ParseSessionToken(other)
	for _, s := range list {
		if !s.Current && s.ID == account.SessionID(hash) {
			return s.ID
		}
	}
	t.Fatalf("the other session is not listed: %s", r.Body)
	return ""
}

// deletedLine waits for the account.deleted line (actor self) of the account in the
// functions' log: the deletion is stored nowhere, since the account's events go with it.
func deletedLine(t *testing.T, name string, id int64) {
	t.Helper()
	for range 100 {
		for _, line := range strings.Split(e2e.FunctionLogs(), "\n") {
			if strings.Contains(line, `"msg":"audit event"`) && strings.Contains(line, `"type":"account.deleted"`) &&
				strings.Contains(line, fmt.Sprintf(`"user_id":%d,`, id)) {
				if !strings.Contains(line, `"actor":"self"`) || !strings.Contains(strings.ToLower(line), `"username":"`+strings.ToLower(name)+`"`) {
					t.Fatalf("the deletion's log line: %s", line)
				}
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no account.deleted log line for %s", name)
}
