package limits_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/tests/e2e"
)

// The limits of issue 12 beyond the per-account lockout: the guess budget (item 3), the
// per-source limit and generated tokens (item 4), unknown identifiers (item 8).

var sources atomic.Int32

// newSource returns a loopback address of its own (Linux routes all of 127/8 to lo), so a
// test's requests come from a source no other test uses.
func newSource() string {
	n := sources.Add(1)
	return fmt.Sprintf("127.0.%d.%d", 100+n/250, 1+n%250)
}

// refused asserts a 429 with a Retry-After of at most max (and at least 1 s).
func refused(t *testing.T, what string, r e2e.Response, body string, max time.Duration) {
	t.Helper()
	if r.Status != 429 {
		t.Fatalf("%s: got %d %s, want 429", what, r.Status, r.Body)
	}
	if body != "" {
		e2e.Expect(t, what, r, 429, body)
	}
	if w := retryAfter(t, r); w > max {
		t.Fatalf("%s: Retry-After %v, want at most %v", what, w, max)
	}
}

func changePassword(t *testing.T, ip, base, email, oldPW string) e2e.Response {
	t.Helper()
	return e2e.DoFrom(t, ip, base, http.MethodPatch, "/api/user/v1/changepassword", "application/x-www-form-urlencoded",
		url.Values{"email": {email}, "oldpassword": {oldPW}, "newpassword": {"next-password"}}.Encode())
}

// Item 4: once a source IP has IP_FAILED_CHECKS_PER_HOUR failed checks (here 5, over five
// accounts), its further checks are refused with 429 on every route that checks a
// secret, the right password too, and they do not count against the account; other
// sources are unaffected.
func TestFailedChecksPerSourceIP(t *testing.T) {
	t.Parallel()
	base := e2e.Gateway(t, map[string]string{"IP_FAILED_CHECKS_PER_HOUR": "5"})
	attacker := newSource()
	type user struct{ name, pw, email string }
	var users []user
	for range 6 {
		n, p, e := e2e.RegisterUser(t, true)
		users = append(users, user{n, p, e})
	}
	for i, u := range users[:5] {
		r := e2e.DoFrom(t, attacker, base, http.MethodPost, "/users/login", "application/json", loginBody(u.name, "wrong-password"))
		if r.Status != 401 {
			t.Fatalf("wrong password %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	victim := users[5]
	makeAdmin(t, victim.name)
	hour := time.Hour
	refused(t, "/users/login, right password", e2e.DoFrom(t, attacker, base, http.MethodPost, "/users/login", "application/json", loginBody(victim.name, victim.pw)), "", hour)
	refused(t, "/user/auth, right password", e2e.DoFrom(t, attacker, base, http.MethodPost, "/user/auth", "application/json", loginBody(victim.name, victim.pw)),
		`{"statusCode":"429","message":"Too many attempts","data":"null"}`, hour)
	refused(t, "changepassword", changePassword(t, attacker, base, victim.email, "wrong-password"), `{"status":"fail","data":{"message":"too many attempts"}}`, hour)
	refused(t, "admin Basic", e2e.DoFrom(t, attacker, base, http.MethodGet, "/api/v2/users?limit=1", "", "", "Authorization", e2e.Basic(victim.name, victim.pw)),
		`{"error":"too many attempts"}`, hour)
	refused(t, "reset token guess", e2e.DoFrom(t, attacker, base, http.MethodPost, "/user/password-reset", "application/json",
		`{"uuid":"6f1c3c1e-8f7a-4b53-9d1e-2a3b4c5d6e7f","newPassword":"next-password"}`), `{"statusCode":"429","message":"Too many attempts","data":"null"}`, hour)
	if a := stored(t, victim.name); a.FailedLogins != 0 {
		t.Fatalf("refused checks counted against the account: %d", a.FailedLogins)
	}
	if r := e2e.DoFrom(t, newSource(), base, http.MethodPost, "/users/login", "application/json", loginBody(victim.name, victim.pw)); r.Status != 200 {
		t.Fatalf("another source: %d %s", r.Status, r.Body)
	}
}

// Item 4: wrong passwords lock an admin's chosen secrets, not its generated API token.
func TestGeneratedTokenNotLockedOut(t *testing.T) {
	t.Parallel()
	name, pw, _ := e2e.RegisterUser(t, false)
	makeAdmin(t, name)
	ip := newSource()
	admin := func(secret string) e2e.Response {
		return e2e.DoFrom(t, ip, e2e.Stack.URL, http.MethodGet, "/api/v2/users?limit=1", "", "", "Authorization", e2e.Basic(name, secret))
	}
	r := e2e.DoFrom(t, ip, e2e.Stack.URL, http.MethodPost, "/api/v2/users/"+name+"/refresh", "application/json", "{}", "Authorization", e2e.Basic(name, pw))
	token := r.Str(t, "token")
	if r.Status != 200 || len(token) != 43 {
		t.Fatalf("refresh: %d %s", r.Status, r.Body)
	}
	e2e.Secret(token)
	for i := range 5 {
		if r := admin("wrong-password"); r.Status != 401 {
			t.Fatalf("wrong password %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	refused(t, "password while locked", admin(pw), `{"error":"too many attempts"}`, 2*time.Second)
	if r := admin(token); r.Status != 200 {
		t.Fatalf("generated token while locked: %d %s", r.Status, r.Body)
	}
}

// Item 8: six wrong passwords for an email (or username) with an account and for one
// without give the same statuses in the same order: the lockout's 429 does not reveal
// which exist.
func TestUnknownIdentifiersAnswerAlike(t *testing.T) {
	t.Parallel()
	// An account each, since the routes share the account's count.
	name, _, _ := e2e.RegisterUser(t, false)
	_, _, email := e2e.RegisterUser(t, true)
	ghost := e2e.Unique("ghost")
	ip := newSource()
	cases := []struct {
		route          string
		known, unknown string
		try            func(id string) e2e.Response
	}{
		{"changepassword", email, ghost + "@example.com", func(id string) e2e.Response {
			return changePassword(t, ip, e2e.Stack.URL, id, "wrong-password")
		}},
		{"/user/auth", name, ghost, func(id string) e2e.Response {
			return e2e.DoFrom(t, ip, e2e.Stack.URL, http.MethodPost, "/user/auth", "application/json", loginBody(id, "wrong-password"))
		}},
	}
	for _, tc := range cases {
		var seq [2][]int
		for i, id := range []string{tc.known, tc.unknown} {
			for range 6 {
				seq[i] = append(seq[i], tc.try(id).Status)
			}
		}
		t.Logf("%s: known %v, unknown %v", tc.route, seq[0], seq[1])
		if fmt.Sprint(seq[0]) != fmt.Sprint(seq[1]) || seq[1][5] != 429 {
			t.Fatalf("%s: known %v, unknown %v; want the same, ending in 429", tc.route, seq[0], seq[1])
		}
	}
}

// member reads a string member of a Users answer, at the top or under data.message.
func member(t *testing.T, r e2e.Response, key string) string {
	t.Helper()
	m := r.JSON(t)
	if v, ok := m[key].(string); ok {
		return v
	}
	data, _ := m["data"].(map[string]any)
	msg, _ := data["message"].(map[string]any)
	v, _ := msg[key].(string)
	return v
}

// Item 3: wrong codes are budgeted per account (OTP_FAILURES_PER_DAY, here 3, below the 5
// tries of one code): past the budget even the right code is refused with 429.
func TestOTPGuessBudget(t *testing.T) {
	t.Parallel()
	base := e2e.Gateway(t, map[string]string{"OTP_FAILURES_PER_DAY": "3"})
	name, _, email := e2e.RegisterUser(t, true)
	ip := newSource()
	r := e2e.DoFrom(t, ip, base, http.MethodPost, "/users/requestotp", "application/json", fmt.Sprintf(`{"username":%q}`, name))
	reqID := member(t, r, "reqid")
	if r.Status != 200 || reqID == "" {
		t.Fatalf("request OTP: %d %s", r.Status, r.Body)
	}
	match := e2e.OTPCode.FindStringSubmatch(e2e.LastMailTo(t, email).Body.Text)
	if match == nil {
		t.Fatal("no code in the mail")
	}
	code := match[1]
	e2e.Secret(code+"\"", reqID)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	modify := func(otp string) e2e.Response {
		return e2e.DoFrom(t, ip, base, http.MethodPost, "/users/modifypassword", "application/x-www-form-urlencoded",
			url.Values{"userhash": {account.UserHash(strings.ToLower(name))}, "OTP": {otp}, "reqid": {reqID}, "password": {"next-password"}}.Encode())
	}
	for i := range 3 {
		if r := modify(wrong); r.Status != 401 {
			t.Fatalf("wrong code %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	r = modify(code)
	refused(t, "right code past the budget", r, "", 24*time.Hour)
	if retryAfter(t, r) < 23*time.Hour {
		t.Fatalf("Retry-After %v, want about a day", retryAfter(t, r))
	}
}

// makeAdmin gives an account the admin role alone, keeping its email and password (a
// promotion by the bootstrap would remove the email these tests use).
func makeAdmin(t *testing.T, name string) {
	t.Helper()
	admin := account.RoleAdmin
	if err := service(t).Store.ChangeCredentials(ctx, account.CredentialChange{UserID: stored(t, name).UserID, Role: &admin, KeepSessions: true, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
}
