package limits_test

import (
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gatehouse/gatehouse/internal/hanging"
	"github.com/gatehouse/gatehouse/pkg/api/admin"
	"github.com/gatehouse/gatehouse/pkg/api/family"
	"github.com/gatehouse/gatehouse/pkg/api/user"
	v1 "github.com/gatehouse/gatehouse/pkg/api/v1"
	"github.com/gatehouse/gatehouse/pkg/apigw"
	"github.com/gatehouse/gatehouse/tests/e2e"
)

// serverError is a family's documented server error: what its Lambda wrapper answers
// when a route panics.
func serverError(t *testing.T, wrap func(family.Route) apigw.LambdaHandler) string {
	t.Helper()
	resp, _ := wrap(func(context.Context, *events.APIGatewayV2HTTPRequest) (apigw.Response, error) { panic("test") })(ctx, events.APIGatewayV2HTTPRequest{})
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("server error is %d %s", resp.StatusCode, resp.Body)
	}
	return resp.Body
}

// TestHangingDynamoDBAnswersFamilyErrorInTime: with the functions' DynamoDB endpoint
// accepting connections and never answering, each family's route answers its own server
// error (not the gateway's answer to a timed-out function) within the template's function
// timeout, and the function logs the failure. (The local stack relaxes awsenv's response
// timeout for DynamoDB Local, so here it is the request's deadline that ends the call;
// pkg/boot's tests cover the bounded attempts.)
func TestHangingDynamoDBAnswersFamilyErrorInTime(t *testing.T) {
	t.Parallel()
	base := e2e.Gateway(t, map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": hanging.Endpoint(t)})
	discard := slog.New(slog.DiscardHandler)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("root:root-password"))
	cases := []struct {
		what, method, path, contentType, body string
		headers                               []string
		want                                  string
	}{
		{"Users", http.MethodPost, "/users/login", "application/json", loginBody("alice", "alice-password"), nil,
			// login's success member is a string (docs/API.md)
			`{"success":"false","data":{"message":"ERROR_GENERIC"}}`},
		{"User", http.MethodPost, "/user/auth", "application/json", loginBody("alice", "alice-password"), nil,
			serverError(t, user.New(nil, discard).Lambda)},
		{"Account v1", http.MethodPatch, "/api/user/v1/changepassword", "application/x-www-form-urlencoded",
			"email=alice%40example.com&oldpassword=alice-password&newpassword=alice-password-2", nil,
			serverError(t, v1.New(nil, discard).Lambda)},
		{"Admin v2", http.MethodGet, "/api/v2/users", "", "", []string{"Authorization", basic},
			serverError(t, admin.New(nil, discard).Lambda)},
	}
	rs := e2e.Parallel(len(cases), func(i int) e2e.Response {
		c := cases[i]
		return e2e.Do(t, base, c.method, c.path, c.contentType, c.body, c.headers...)
	})
	for i, c := range cases {
		e2e.Expect(t, c.what+" "+c.path, rs[i], http.StatusInternalServerError, c.want)
	}
	// A function's output reaches the captured log on its own pipe, possibly after its
	// answer reached us: wait for it a little.
	for _, fn := range []string{"UsersLoginFunction", "UserAuthFunction", "AccountChangePasswordFunction", "AdminListUsersFunction"} {
		for try := 0; ; try++ {
			logs := e2e.FunctionLogs()
			if logged(logs, fn, `"msg":"request failed"`) && logged(logs, fn, `"msg":"request deadline reached"`) {
				break
			}
			if try == 100 {
				t.Errorf("%s did not log the failure and its cause", fn)
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// logged reports whether a line of function fn's log contains s.
func logged(logs, fn, s string) bool {
	for line := range strings.Lines(logs) {
		if strings.Contains(line, fn) && strings.Contains(line, s) {
			return true
		}
	}
	return false
}
