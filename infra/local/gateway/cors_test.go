package gateway

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

var testCORS = &CORS{
	AllowOrigins:     []string{"http://localhost:5173", "https://app.example.com"},
	AllowMethods:     []string{"GET", "POST", "OPTIONS"},
	AllowHeaders:     []string{"authorization", "content-type"},
	ExposeHeaders:    []string{"retry-after"},
	MaxAge:           600,
	AllowCredentials: true,
}

func corsHeaders(h http.Header) map[string]string {
	out := map[string]string{}
	for name := range h {
		if len(name) > 15 && http.CanonicalHeaderKey(name)[:15] == "Access-Control-" {
			out[http.CanonicalHeaderKey(name)] = h.Get(name)
		}
	}
	return out
}

func TestCORSPreflightAllowedOrigin(t *testing.T) {
	fn := &fakeFunction{out: okResponse()}
	srv := newTestGateway(t, []Route{{Method: "POST", Path: "/user/auth", Function: fn}}, Options{CORS: testCORS})
	for _, path := range []string{"/user/auth", "/no/such/route"} {
		req := newRequest(t, http.MethodOptions, srv.URL+path, nil)
		req.Header.Set("Origin", "http://localhost:5173")
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type")
		resp, body := do(t, req)
		if resp.StatusCode != http.StatusNoContent || body != "" {
			t.Errorf("%s: preflight = %d %q, want 204 and no body", path, resp.StatusCode, body)
		}
		want := map[string]string{
			"Access-Control-Allow-Origin":      "http://localhost:5173",
			"Access-Control-Allow-Methods":     "GET,POST,OPTIONS",
			"Access-Control-Allow-Headers":     "authorization,content-type",
			"Access-Control-Max-Age":           "600",
			"Access-Control-Allow-Credentials": "true",
		}
		if got := corsHeaders(resp.Header); !equalMaps(got, want) {
			t.Errorf("%s: preflight headers = %v, want %v", path, got, want)
		}
	}
	fn.mu.Lock()
	defer fn.mu.Unlock()
	if len(fn.events) != 0 {
		t.Error("the gateway passed a preflight to the function")
	}
}

func TestCORSPreflightDisallowedOrigin(t *testing.T) {
	fn := &fakeFunction{out: okResponse()}
	srv := newTestGateway(t, []Route{{Method: "POST", Path: "/user/auth", Function: fn}}, Options{CORS: testCORS})
	for _, origin := range []string{"http://evil.example", "http://localhost:5174", "null"} {
		req := newRequest(t, http.MethodOptions, srv.URL+"/user/auth", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, _ := do(t, req)
		if resp.StatusCode != http.StatusNoContent {
			t.Errorf("%s: status %d", origin, resp.StatusCode)
		}
		if got := corsHeaders(resp.Header); len(got) != 0 {
			t.Errorf("%s: CORS headers for a disallowed origin: %v", origin, got)
		}
	}
}

func TestCORSActualAnswers(t *testing.T) {
	// The function sends its own CORS headers; API Gateway replaces them.
	out, _ := json.Marshal(events.APIGatewayV2HTTPResponse{StatusCode: 401, Body: "{}", Headers: map[string]string{
		"Access-Control-Allow-Origin": "*", "Retry-After": "5",
	}})
	fn := &fakeFunction{out: out}
	srv := newTestGateway(t, []Route{{Method: "GET", Path: "/user/logged", Function: fn}}, Options{CORS: testCORS})

	req := newRequest(t, http.MethodGet, srv.URL+"/user/logged", nil)
	req.Header.Set("Origin", "https://app.example.com")
	resp, _ := do(t, req)
	want := map[string]string{
		"Access-Control-Allow-Origin":      "https://app.example.com",
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Expose-Headers":    "retry-after",
	}
	if got := corsHeaders(resp.Header); resp.StatusCode != 401 || !equalMaps(got, want) {
		t.Errorf("allowed origin: %d %v, want 401 %v", resp.StatusCode, got, want)
	}

	// Gateway's own answers carry them too, so a browser can read a 404.
	req = newRequest(t, http.MethodGet, srv.URL+"/nothing", nil)
	req.Header.Set("Origin", "https://app.example.com")
	resp, _ = do(t, req)
	if resp.StatusCode != 404 || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("404: %d %v", resp.StatusCode, corsHeaders(resp.Header))
	}

	for _, origin := range []string{"", "http://evil.example"} {
		req = newRequest(t, http.MethodGet, srv.URL+"/user/logged", nil)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, _ = do(t, req)
		if got := corsHeaders(resp.Header); len(got) != 0 {
			t.Errorf("origin %q: CORS headers %v", origin, got)
		}
	}
}

func TestNoCORSConfiguration(t *testing.T) {
	fn := &fakeFunction{out: okResponse()}
	srv := newTestGateway(t, []Route{{Method: "POST", Path: "/user/auth", Function: fn}}, Options{})
	req := newRequest(t, http.MethodOptions, srv.URL+"/user/auth", nil)
	req.Header.Set("Origin", "http://localhost:5173")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, body := do(t, req)
	// Without a CorsConfiguration an HTTP API routes OPTIONS like any method.
	assertGatewayAnswer(t, resp, body, http.StatusNotFound, bodyNotFound)
	if got := corsHeaders(resp.Header); len(got) != 0 {
		t.Errorf("CORS headers without a configuration: %v", got)
	}
}

func TestCORSWildcardOrigin(t *testing.T) {
	c := &CORS{AllowOrigins: []string{"*"}}
	if got := c.allowedOrigin("http://x.test"); got != "*" {
		t.Errorf("without credentials: %q, want *", got)
	}
	c.AllowCredentials = true
	if got := c.allowedOrigin("http://x.test"); got != "http://x.test" {
		t.Errorf("with credentials: %q, want the origin", got)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
