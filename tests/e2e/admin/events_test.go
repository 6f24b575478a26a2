package admin_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/tests/e2e"
)

// TestAuditEventsThroughTheAPI: the routes' events appear in GET /api/v2/users/{username}/events,
// newest first, with the right actor, and no stored item of the account's partition holds a
// secret, code or token the test used.
func TestAuditEventsThroughTheAPI(t *testing.T) {
	t.Parallel()
	adminName, adminPW, auth := newAdmin(t, e2e.Stack.TableName)
	name, pw, _ := e2e.RegisterUser(t, false)
	wrong := e2e.Unique("wrong-pw-")
	e2e.Secret(wrong)
	if r := e2e.PostJSON(t, "/users/login", fmt.Sprintf(`{"username":%q,"password":%q}`, name, wrong)); r.Status == 200 {
		t.Fatalf("wrong password: %d %s", r.Status, r.Body)
	}
	ssid := e2e.Login(t, name, pw)
	e2e.Expect(t, "logout", e2e.PostJSON(t, "/users/logout", ``, "Authorization", "Bearer "+ssid), 200, `{"success":true,"data":{"message":"LOGOUT_OK"}}`)
	newPW, newToken := e2e.Unique("events-pw-"), e2e.Unique("events-token-")
	e2e.Secret(newPW, newToken)
	if r := call(t, e2e.Stack.URL, http.MethodPut, userPath(name)+"/update", fmt.Sprintf(`{"password":%q,"token":%q}`, newPW, newToken), auth); r.Status != 200 {
		t.Fatalf("update: %d %s", r.Status, r.Body)
	}
	r := call(t, e2e.Stack.URL, http.MethodPost, userPath(name)+"/refresh", `{}`, auth)
	refreshed := r.Str(t, "token")
	e2e.Secret(refreshed)
	if r := call(t, e2e.Stack.URL, http.MethodGet, "/api/v2/status", "", e2e.Basic(adminName, wrong)); r.Status != 401 {
		t.Fatalf("wrong admin password: %d %s", r.Status, r.Body)
	}

	events := func(path string) (list []string, next string) {
		t.Helper()
		r := call(t, e2e.Stack.URL, http.MethodGet, path, "", auth)
		if r.Status != 200 {
			t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
		}
		var body struct {
			Events []struct{ Type, Actor, Method string } `json:"events"`
			Next   string                                 `json:"next_cursor"`
		}
		if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
			t.Fatal(err)
		}
		for _, ev := range body.Events {
			s := ev.Type + "/" + ev.Actor
			if ev.Method != "" {
				s += "/" + ev.Method
			}
			list = append(list, s)
		}
		return list, body.Next
	}
	admin := "admin:" + adminName
	got, next := events(userPath(name) + "/events")
	// Newest first; the update's two events share their instant (either order).
	want := []string{"token.refreshed/" + admin, "?", "?", "session.ended/self", "login.succeeded/self", "login.failed/anonymous", "account.created/self"}
	pair := map[string]bool{"password.changed/" + admin + "/admin": true, "token.set/" + admin: true}
	if len(got) != len(want) || next != "" {
		t.Fatalf("events %v (next %q), want %v", got, next, want)
	}
	for i, w := range want {
		if w == "?" {
			if !pair[got[i]] {
				t.Errorf("event %d = %s, want one of %v", i, got[i], pair)
			}
			continue
		}
		if got[i] != w {
			t.Errorf("event %d = %s, want %s", i, got[i], w)
		}
	}
	// Pages of two follow each other to the same list.
	var paged []string
	path := userPath(name) + "/events?limit=2"
	for {
		page, next := events(path)
		paged = append(paged, page...)
		if next == "" {
			break
		}
		path = userPath(name) + "/events?limit=2&cursor=" + next
	}
	if strings.Join(paged, " ") != strings.Join(got, " ") {
		t.Errorf("paged %v, want %v", paged, got)
	}
	adminEvents, _ := events(userPath(adminName) + "/events")
	if len(adminEvents) == 0 || adminEvents[0] != "admin.auth_failed/anonymous" {
		t.Errorf("the admin's events %v, want admin.auth_failed first", adminEvents)
	}
	e2e.Expect(t, "unknown account", call(t, e2e.Stack.URL, http.MethodGet, userPath(e2e.Unique("nobody"))+"/events", "", auth), 403, notExists)
	e2e.Expect(t, "limit too large", call(t, e2e.Stack.URL, http.MethodGet, userPath(name)+"/events?limit=101", "", auth), 400, `{"error":"invalid limit"}`)
	e2e.Expect(t, "bad cursor", call(t, e2e.Stack.URL, http.MethodGet, userPath(name)+"/events?cursor=bm9wZQ", "", auth), 400, `{"error":"invalid cursor"}`)

	// No stored item of either account holds a secret the test used.
	for _, id := range []int64{stored(t, name).UserID, stored(t, adminName).UserID} {
		for _, it := range e2e.Partition(t, fmt.Sprintf("USER#%d", id)) {
			for attr, v := range it {
				e2e.Strings(v, func(s string) {
					for _, secret := range []string{pw, wrong, ssid, newPW, newToken, refreshed, adminPW} {
						if strings.Contains(s, secret) {
							t.Errorf("item %v attribute %s holds a secret", it["SK"], attr)
						}
					}
				})
			}
		}
	}
}
