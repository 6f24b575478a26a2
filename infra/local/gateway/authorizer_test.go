package gateway

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// TestLambdaAuthorizer: the authorizer gets a payload 2.0 REQUEST event with the request's
// headers and cookies; true forwards the request with its context under
// requestContext.authorizer.lambda, false answers API Gateway's 403, and a failed or
// malformed answer its 500, without invoking the route's function.
func TestLambdaAuthorizer(t *testing.T) {
	for _, c := range []struct {
		name       string
		out        string
		err        error
		wantStatus int
		wantBody   string
	}{
		{"allow", `{"isAuthorized":true,"context":{"user_id":7,"username":"Ann","role":"user"}}`, nil, 200, "ok"},
		{"deny", `{"isAuthorized":false}`, nil, 403, `{"message":"Forbidden"}`},
		{"not a boolean", `{"isAuthorized":"true"}`, nil, 500, bodyInternalError},
		{"no answer", `{}`, nil, 500, bodyInternalError},
		{"error", ``, errors.New("boom"), 500, bodyInternalError},
	} {
		t.Run(c.name, func(t *testing.T) {
			authz := &fakeFunction{out: []byte(c.out), err: c.err}
			fn := &fakeFunction{out: okResponse()}
			srv := newTestGateway(t, []Route{{Method: "GET", Path: "/orders/{id}", Function: fn, Authorizer: authz}}, Options{})
			req, _ := http.NewRequest("GET", srv.URL+"/orders/9?x=1", nil)
			req.Header.Set("Authorization", "Bearer abc")
			req.Header.Set("Cookie", "TOKEN=t1; theme=dark")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.wantStatus || string(body) != c.wantBody {
				t.Fatalf("got %d %s, want %d %s", resp.StatusCode, body, c.wantStatus, c.wantBody)
			}

			var ev events.APIGatewayV2CustomAuthorizerV2Request
			if err := json.Unmarshal(authz.events[0], &ev); err != nil {
				t.Fatal(err)
			}
			if ev.Version != "2.0" || ev.Type != "REQUEST" || ev.RouteKey != "GET /orders/{id}" ||
				ev.Headers["authorization"] != "Bearer abc" || len(ev.Cookies) != 2 || ev.Cookies[0] != "TOKEN=t1" ||
				ev.PathParameters["id"] != "9" || ev.QueryStringParameters["x"] != "1" || ev.RequestContext.RequestID == "" {
				t.Errorf("authorizer event %+v", ev)
			}
			if c.wantStatus != 200 {
				if len(fn.events) != 0 {
					t.Error("the route's function ran without authorization")
				}
				return
			}
			got := fn.lastEvent(t).RequestContext.Authorizer
			if got == nil || got.Lambda["username"] != "Ann" || got.Lambda["user_id"] != float64(7) || got.Lambda["role"] != "user" {
				t.Errorf("requestContext.authorizer %+v", got)
			}
		})
	}
}

// A route without an authorizer gets no requestContext.authorizer.
func TestNoAuthorizerNoContext(t *testing.T) {
	fn := &fakeFunction{out: okResponse()}
	srv := newTestGateway(t, []Route{{Method: "GET", Path: "/a", Function: fn}}, Options{})
	resp, err := http.Get(srv.URL + "/a")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if fn.lastEvent(t).RequestContext.Authorizer != nil {
		t.Error("requestContext.authorizer without an authorizer")
	}
}
