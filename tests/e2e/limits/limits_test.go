// Package limits_test checks the limits and sign-out of API.md ("Limits and sign-out")
// end to end, across the four API families, and that hostile input ends in a 4xx.
package limits_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/tests/e2e"
)

var ctx = context.Background()

// service works on the stack's table directly, for setup and for reading stored state.
func service(t *testing.T) *account.Service {
	t.Helper()
	return e2e.Service("", nil, account.Config{})
}

func stored(t *testing.T, name string) *account.Account {
	t.Helper()
	a, err := service(t).AccountByUsername(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func retryAfter(t *testing.T, r e2e.Response) time.Duration {
	t.Helper()
	secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || secs < 1 {
		t.Fatalf("429 without a valid Retry-After: %q", r.Header.Get("Retry-After"))
	}
	return time.Duration(secs) * time.Second
}

func loginBody(name, pw string) string {
	return fmt.Sprintf(`{"username":%q,"password":%q}`, name, pw)
}

// 50 concurrent wrong passwords for one account get at most 5 password checks (each a 401;
// the store's count says the same); the rest are 429 with Retry-After. After the backoff,
// the right password works and resets the count.
func TestLoginThrottleUnderRace(t *testing.T) {
	t.Parallel()
	name, pw, _ := e2e.RegisterUser(t, false)
	start := time.Now()
	rs := e2e.Parallel(50, func(int) e2e.Response { return e2e.PostJSON(t, "/users/login", loginBody(name, "wrong-password")) })
	allowed := allowedChecks(time.Since(start))
	got := e2e.CountUsers(t, rs)
	if got["401 INVALID_PASSWORD"] > allowed || got["401 INVALID_PASSWORD"]+got["429 ERROR_TOO_MANY_ATTEMPTS"] != 50 {
		t.Fatalf("50 concurrent wrong passwords (at most %d checks): %v", allowed, got)
	}
	var wait time.Duration
	for _, r := range rs {
		if r.Status == 429 {
			wait = max(wait, retryAfter(t, r))
		}
	}
	if a := stored(t, name); a.FailedLogins > allowed || a.FailedLogins != got["401 INVALID_PASSWORD"] {
		t.Fatalf("stored failure count %d for %d checks", a.FailedLogins, got["401 INVALID_PASSWORD"])
	}
	e2e.Expect(t, "right password while locked", e2e.PostJSON(t, "/users/login", loginBody(name, pw)), 429, `{"success":"false","data":{"message":"ERROR_TOO_MANY_ATTEMPTS"}}`)
	time.Sleep(wait)
	e2e.Login(t, name, pw)
	if a := stored(t, name); a.FailedLogins != 0 || !a.LockedUntil.IsZero() {
		t.Fatalf("count not reset: %d, lock %v", a.FailedLogins, a.LockedUntil)
	}
	// Five failures are free again.
	for range 5 {
		e2e.Expect(t, "wrong password after reset", e2e.PostJSON(t, "/users/login", loginBody(name, "wrong-password")), 401, `{"success":"false","data":{"message":"INVALID_PASSWORD"}}`)
	}
}

// allowedChecks is how many password checks the policy allows in a burst that took d: the
// five free ones, and one more each time a lock (1 s, 2 s, 4 s … after the 5th, 6th, 7th
// failure) can have run out within d. A burst under a second gets five; on a loaded machine
// a longer burst may legitimately get a sixth, which is the policy, not a race.
func allowedChecks(d time.Duration) int {
	n, locks := account.FreeLoginAttempts, time.Duration(0)
	for lock := time.Second; locks+lock <= d; lock *= 2 {
		locks += lock
		n++
	}
	return n
}

// The same per-account limit guards /user/auth, changepassword and admin Basic
// credentials, each answering in its family's format.
func TestThrottleInEveryFamily(t *testing.T) {
	t.Parallel()
	svc := service(t)
	cases := []struct {
		name        string
		wrong, good func(name, pw, email string) e2e.Response
		body        string
	}{
		{
			name: "/user/auth",
			wrong: func(name, _, _ string) e2e.Response {
				return e2e.PostJSON(t, "/user/auth", loginBody(name, "wrong-password"))
			},
			good: func(name, pw, _ string) e2e.Response { return e2e.PostJSON(t, "/user/auth", loginBody(name, pw)) },
			body: `{"statusCode":"429","message":"Too many attempts","data":"null"}`,
		},
		{
			name: "changepassword",
			wrong: func(_, _, email string) e2e.Response {
				return e2e.Do(t, e2e.Stack.URL, http.MethodPatch, "/api/user/v1/changepassword", "application/x-www-form-urlencoded",
					url.Values{"email": {email}, "oldpassword": {"wrong-password"}, "newpassword": {"next-password"}}.Encode())
			},
			good: func(_, pw, email string) e2e.Response {
				return e2e.Do(t, e2e.Stack.URL, http.MethodPatch, "/api/user/v1/changepassword", "application/x-www-form-urlencoded",
					url.Values{"email": {email}, "oldpassword": {pw}, "newpassword": {"next-password"}}.Encode())
			},
			body: `{"status":"fail","data":{"message":"too many attempts"}}`,
		},
		{
			name: "admin Basic",
			wrong: func(name, _, _ string) e2e.Response {
				return e2e.Do(t, e2e.Stack.URL, http.MethodGet, "/api/v2/users?limit=1", "", "", "Authorization", e2e.Basic(name, "wrong-password"))
			},
			good: func(name, pw, _ string) e2e.Response {
				return e2e.Do(t, e2e.Stack.URL, http.MethodGet, "/api/v2/users?limit=1", "", "", "Authorization", e2e.Basic(name, pw))
			},
			body: `{"error":"too many attempts"}`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			name, pw, email := e2e.RegisterUser(t, true)
			// So Basic credentials are an admin's: a role change alone, which keeps the
			// email the other cases use (a promotion would remove it).
			admin := account.RoleAdmin
			if err := svc.Store.ChangeCredentials(ctx, account.CredentialChange{UserID: stored(t, name).UserID, Role: &admin, KeepSessions: true, Now: time.Now()}); err != nil {
				t.Fatal(err)
			}
			for i := range 5 {
				if r := tc.wrong(name, pw, email); r.Status == 429 || r.Status >= 500 {
					t.Fatalf("wrong secret %d: %d %s", i+1, r.Status, r.Body)
				}
			}
			r := tc.good(name, pw, email)
			e2e.Expect(t, "right secret while locked", r, 429, tc.body)
			time.Sleep(retryAfter(t, r))
			if r := tc.good(name, pw, email); r.Status != 200 {
				t.Fatalf("right secret after the lock: %d %s", r.Status, r.Body)
			}
		})
	}
}

// One mail per account per minute, whichever route sends it; the refused request sends
// nothing.
func TestMailLimit(t *testing.T) {
	t.Parallel()
	name, _, email := e2e.RegisterUser(t, true)
	if r := e2e.PostJSON(t, "/users/requestotp", fmt.Sprintf(`{"username":%q}`, name)); r.Status != 200 {
		t.Fatalf("first OTP: %d %s", r.Status, r.Body)
	}
	r := e2e.PostJSON(t, "/users/requestotp", fmt.Sprintf(`{"username":%q}`, name))
	e2e.Expect(t, "second OTP within 60 s", r, 429, `{"success":false,"data":{"message":"ERROR_TOO_MANY_ATTEMPTS"}}`)
	if w := retryAfter(t, r); w < 50*time.Second || w > time.Minute {
		t.Fatalf("Retry-After %v", w)
	}
	r = e2e.PostJSON(t, "/user/password-reset-token", fmt.Sprintf(`{"email":%q}`, email))
	e2e.Expect(t, "reset token within 60 s", r, 429, `{"statusCode":"429","message":"Too many attempts","data":"null"}`)
	retryAfter(t, r)
	if n := len(e2e.MailsTo(t, email)); n != 1 {
		t.Fatalf("%d mails in the inbox, want 1", n)
	}
}

// After sign-out a token is refused by every family.
func TestSignOutEverywhere(t *testing.T) {
	t.Parallel()
	name, pw, _ := e2e.RegisterUser(t, false)
	refusedEverywhere := func(what, token string) {
		t.Helper()
		e2e.Expect(t, what+": /users/info", e2e.Get(t, "/users/info", "Authorization", "Bearer "+token), 401, `{"success":false,"data":{"message":"PLEASE_LOGIN"}}`)
		e2e.Expect(t, what+": /user/logged", e2e.Get(t, "/user/logged", "Cookie", "TOKEN="+token), 404, `{"statusCode":"404","message":"TOKEN was not found","data":"false"}`)
		e2e.Expect(t, what+": /users/logout", e2e.PostJSON(t, "/users/logout", "", "Cookie", "ssid="+token), 401, `{"success":false,"data":{"message":"PLEASE_LOGIN"}}`)
		e2e.Expect(t, what+": /user/logout", e2e.PostJSON(t, "/user/logout", "", "Authorization", "Bearer "+token), 404, `{"statusCode":"404","message":"TOKEN was not found","data":"false"}`)
	}

	ssid := e2e.Login(t, name, pw)
	e2e.Expect(t, "POST /users/logout", e2e.PostJSON(t, "/users/logout", "", "Authorization", "Bearer "+ssid), 200, `{"success":true,"data":{"message":"LOGOUT_OK"}}`)
	refusedEverywhere("after /users/logout", ssid)

	r := e2e.PostJSON(t, "/user/auth", loginBody(name, pw))
	var token string
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == "TOKEN" {
			token = c.Value
		}
	}
	if r.Status != 200 || token == "" {
		t.Fatalf("/user/auth: %d %s", r.Status, r.Body)
	}
	e2e.Secret(token)
	out := e2e.PostJSON(t, "/user/logout", "", "Cookie", "TOKEN="+token)
	e2e.Expect(t, "POST /user/logout", out, 200, `{"statusCode":"200","message":"Logged out","data":"null"}`)
	if sc := out.Header.Get("Set-Cookie"); !strings.HasPrefix(sc, "TOKEN=;") || !strings.Contains(sc, "Max-Age=0") {
		t.Fatalf("logout cookie %q", sc)
	}
	refusedEverywhere("after /user/logout", token)
}
