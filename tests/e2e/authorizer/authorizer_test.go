// Package authorizer tests SessionAuthorizerFunction through the real binary: the local
// gateway runs it in front of a test-only route served by the echo test function, as
// another stack's HttpApi would (payload 2.0, simple responses, no caching).
package authorizer

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/tests/e2e"
)

func TestMain(m *testing.M) { e2e.MainConsumer(m) }

type answer struct {
	status    int
	body      string
	requestID string
	// authorizer is requestContext.authorizer.lambda of the event the consumer's function
	// received (nil when it was not invoked).
	authorizer map[string]any
}

func call(t *testing.T, base string, headers ...string) answer {
	t.Helper()
	resp, b := e2e.CallConsumer(t, base, headers...)
	a := answer{status: resp.StatusCode, body: string(b), requestID: resp.Header.Get("Apigw-Requestid")}
	if resp.StatusCode == http.StatusOK {
		var echo struct {
			Event struct {
				RequestContext struct {
					Authorizer struct {
						Lambda map[string]any `json:"lambda"`
					} `json:"authorizer"`
				} `json:"requestContext"`
			} `json:"event"`
		}
		if err := json.Unmarshal(b, &echo); err != nil {
			t.Fatalf("echo answer: %v", err)
		}
		a.authorizer = echo.Event.RequestContext.Authorizer.Lambda
	}
	return a
}

func allowed(t *testing.T, what string, a answer, name string, role account.Role) {
	t.Helper()
	if a.status != http.StatusOK {
		t.Fatalf("%s: %d %s, want 200 from the consumer's function", what, a.status, a.body)
	}
	got, _ := json.Marshal(a.authorizer)
	var id float64
	if v, ok := a.authorizer["user_id"].(float64); ok {
		id = v
	}
	if id <= 0 || a.authorizer["username"] != name || a.authorizer["role"] != string(role) || len(a.authorizer) != 3 {
		t.Fatalf("%s: authorizer context %s, want user_id, username %q, role %q", what, got, name, role)
	}
}

func denied(t *testing.T, what string, a answer) {
	t.Helper()
	if a.status != http.StatusForbidden || a.body != `{"message":"Forbidden"}` {
		t.Fatalf("%s: %d %s, want API Gateway's 403 Forbidden", what, a.status, a.body)
	}
}

// authorizeLine returns the authorizer's log line of a request, waiting for the function's
// output to arrive (it is written after the answer).
func authorizeLine(t *testing.T, requestID string) string {
	t.Helper()
	for range 100 {
		for _, line := range strings.Split(e2e.FunctionLogs(), "\n") {
			if strings.Contains(line, `"msg":"authorize"`) && strings.Contains(line, `"request_id":"`+requestID+`"`) {
				return line
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no authorizer log line for request %s", requestID)
	return ""
}

func TestAuthorizerAllowsEverySessionForm(t *testing.T) {
	t.Parallel()
	name, pw, _ := e2e.RegisterUser(t, false)
	ssid := e2e.Login(t, name, pw)
	userHash := account.UserHash(strings.ToLower(name))
	for what, h := range map[string][]string{
		"Bearer":                     {"Authorization", "Bearer " + ssid},
		"cookie TOKEN":               {"Cookie", "TOKEN=" + ssid},
		"cookie ssid":                {"Cookie", "ssid=" + ssid},
		"Basic userhash:ssid":        {"Authorization", e2e.Basic(userHash, ssid)},
		"Basic, upper-case userhash": {"Authorization", e2e.Basic(strings.ToUpper(userHash), ssid)},
	} {
		a := call(t, e2e.Stack.URL, h...)
		allowed(t, what, a, name, account.RoleUser)
		// One DynamoDB read per check: the session with its account.
		if line := authorizeLine(t, a.requestID); !strings.Contains(line, `"dynamodb_calls":1,`) {
			t.Errorf("%s: authorizer log %s, want one DynamoDB call", what, line)
		}
	}
}

func TestAuthorizerDenies(t *testing.T) {
	t.Parallel()
	name, pw, _ := e2e.RegisterUser(t, false)
	ssid := e2e.Login(t, name, pw)
	other, otherPW, _ := e2e.RegisterUser(t, false)
	e2e.Login(t, other, otherPW)
	unknown := ssid[:len(ssid)-4] + "AAAA"
	if unknown == ssid {
		unknown = ssid[:len(ssid)-4] + "BBBB"
	}
	for what, h := range map[string][]string{
		"nothing":                    nil,
		"empty Bearer":               {"Authorization", "Bearer "},
		"malformed token":            {"Authorization", "Bearer not-a-session"},
		"unknown token":              {"Authorization", "Bearer " + unknown},
		"unknown cookie":             {"Cookie", "TOKEN=" + unknown},
		"another account's userhash": {"Authorization", e2e.Basic(account.UserHash(strings.ToLower(other)), ssid)},
		"Basic, not base64":          {"Authorization", "Basic %%%"},
		"Basic without userhash":     {"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(ssid))},
		"other scheme":               {"Authorization", "Token " + ssid},
	} {
		denied(t, what, call(t, e2e.Stack.URL, h...))
	}
}

func TestAuthorizerDeniesAnExpiredSession(t *testing.T) {
	t.Parallel()
	ssid := e2e.ExpiredSession(t)
	denied(t, "expired session", call(t, e2e.Stack.URL, "Authorization", "Bearer "+ssid))
}

func TestAuthorizerDeniesAfterLogout(t *testing.T) {
	t.Parallel()
	name, pw, _ := e2e.RegisterUser(t, false)
	ssid := e2e.Login(t, name, pw)
	kept := e2e.Login(t, name, pw)
	allowed(t, "before logout", call(t, e2e.Stack.URL, "Authorization", "Bearer "+ssid), name, account.RoleUser)
	e2e.Expect(t, "logout", e2e.PostJSON(t, "/users/logout", ``, "Authorization", "Bearer "+ssid), 200, `{"success":true,"data":{"message":"LOGOUT_OK"}}`)
	denied(t, "after logout", call(t, e2e.Stack.URL, "Authorization", "Bearer "+ssid))
	denied(t, "after logout, as a cookie", call(t, e2e.Stack.URL, "Cookie", "ssid="+ssid))
	allowed(t, "the account's other session", call(t, e2e.Stack.URL, "Authorization", "Bearer "+kept), name, account.RoleUser)
}

func TestAuthorizerDeniesAfterPasswordChange(t *testing.T) {
	t.Parallel()
	name, pw, email := e2e.RegisterUser(t, true)
	ssid := e2e.Login(t, name, pw)
	allowed(t, "before the change", call(t, e2e.Stack.URL, "Cookie", "TOKEN="+ssid), name, account.RoleUser)
	newPW := e2e.NewSecret("authz-new-pw-")
	e2e.Expect(t, "changepassword", e2e.Do(t, e2e.Stack.URL, http.MethodPatch, "/api/user/v1/changepassword", "application/x-www-form-urlencoded",
		url.Values{"email": {email}, "oldpassword": {pw}, "newpassword": {newPW}}.Encode()), 200, `{"status":"success"}`)
	denied(t, "after the password change", call(t, e2e.Stack.URL, "Cookie", "TOKEN="+ssid))
	allowed(t, "a session with the new password", call(t, e2e.Stack.URL, "Authorization", "Bearer "+e2e.Login(t, name, newPW)), name, account.RoleUser)
}
