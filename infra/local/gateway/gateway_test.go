package gateway

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/gatehouse/gatehouse/infra/local/internal/testlambda"
)

// fakeFunction records the events it gets and answers with out/err.
type fakeFunction struct {
	mu     sync.Mutex
	events [][]byte
	out    []byte
	err    error
	block  bool // wait for ctx to end
}

func (f *fakeFunction) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	f.mu.Lock()
	f.events = append(f.events, payload)
	f.mu.Unlock()
	if f.block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return f.out, f.err
}

func (f *fakeFunction) lastEvent(t *testing.T) events.APIGatewayV2HTTPRequest {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.events) == 0 {
		t.Fatal("function was not invoked")
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(f.events[len(f.events)-1], &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func okResponse() []byte {
	b, _ := json.Marshal(events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: "ok"})
	return b
}

func newTestGateway(t *testing.T, routes []Route, opts Options) *httptest.Server {
	t.Helper()
	gw, err := New(routes, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	return testlambda.Do(t, req)
}

func newRequest(t *testing.T, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func assertGatewayAnswer(t *testing.T, resp *http.Response, body string, status int, want string) {
	t.Helper()
	if resp.StatusCode != status || body != want {
		t.Errorf("got %d %q, want %d %q", resp.StatusCode, body, status, want)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if resp.Header.Get("Apigw-Requestid") == "" {
		t.Error("no apigw-requestid header")
	}
}

func TestEventFields(t *testing.T) {
	fn := &fakeFunction{out: okResponse()}
	srv := newTestGateway(t, []Route{{Method: "GET", Path: "/items/{id}", Function: fn}}, Options{APIID: "api123", AccountID: "111122223333"})

	req := newRequest(t, "GET", srv.URL+"/items/42?a=1&a=2&b=x%20y&empty", nil)
	req.Header.Add("X-Custom", "v1")
	req.Header.Add("X-Custom", "v2")
	req.Header.Add("Cookie", "c1=v1; c2=v2")
	req.Header.Add("Cookie", "c3=v3")
	req.Header.Set("User-Agent", "gateway-test/1.0")
	before := time.Now()
	resp, _ := do(t, req)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	ev := fn.lastEvent(t)

	if ev.Version != "2.0" || ev.RouteKey != "GET /items/{id}" || ev.RawPath != "/items/42" {
		t.Errorf("version/routeKey/rawPath = %q %q %q", ev.Version, ev.RouteKey, ev.RawPath)
	}
	if ev.RawQueryString != "a=1&a=2&b=x%20y&empty" {
		t.Errorf("rawQueryString = %q", ev.RawQueryString)
	}
	if want := []string{"c1=v1", "c2=v2", "c3=v3"}; !reflect.DeepEqual(ev.Cookies, want) {
		t.Errorf("cookies = %q, want %q", ev.Cookies, want)
	}
	if ev.Headers["x-custom"] != "v1,v2" {
		t.Errorf("x-custom = %q", ev.Headers["x-custom"])
	}
	if _, ok := ev.Headers["cookie"]; ok {
		t.Error("cookie header should move to cookies")
	}
	for name := range ev.Headers {
		if name != strings.ToLower(name) {
			t.Errorf("header %q is not lower case", name)
		}
	}
	if ev.Headers["host"] != strings.TrimPrefix(srv.URL, "http://") || ev.Headers["user-agent"] != "gateway-test/1.0" {
		t.Errorf("host/user-agent = %q %q", ev.Headers["host"], ev.Headers["user-agent"])
	}
	if ev.Headers["x-forwarded-for"] != "127.0.0.1" || ev.Headers["x-forwarded-proto"] != "http" || ev.Headers["x-forwarded-port"] == "" {
		t.Errorf("x-forwarded-* = %q %q %q", ev.Headers["x-forwarded-for"], ev.Headers["x-forwarded-proto"], ev.Headers["x-forwarded-port"])
	}
	if want := map[string]string{"a": "1,2", "b": "x y", "empty": ""}; !reflect.DeepEqual(ev.QueryStringParameters, want) {
		t.Errorf("queryStringParameters = %q, want %q", ev.QueryStringParameters, want)
	}
	if want := map[string]string{"id": "42"}; !reflect.DeepEqual(ev.PathParameters, want) {
		t.Errorf("pathParameters = %q", ev.PathParameters)
	}
	if ev.Body != "" || ev.IsBase64Encoded {
		t.Errorf("body = %q (base64 %v), want none", ev.Body, ev.IsBase64Encoded)
	}

	rc := ev.RequestContext
	if rc.AccountID != "111122223333" || rc.APIID != "api123" || rc.Stage != "$default" || rc.RouteKey != "GET /items/{id}" {
		t.Errorf("requestContext = %+v", rc)
	}
	if rc.DomainName != "127.0.0.1" || rc.DomainPrefix != "127.0.0.1" {
		t.Errorf("domainName/domainPrefix = %q %q", rc.DomainName, rc.DomainPrefix)
	}
	wantHTTP := events.APIGatewayV2HTTPRequestContextHTTPDescription{
		Method: "GET", Path: "/items/42", Protocol: "HTTP/1.1", SourceIP: "127.0.0.1", UserAgent: "gateway-test/1.0",
	}
	if rc.HTTP != wantHTTP {
		t.Errorf("http = %+v, want %+v", rc.HTTP, wantHTTP)
	}
	if rc.RequestID == "" || rc.RequestID != resp.Header.Get("Apigw-Requestid") {
		t.Errorf("requestId %q does not match the apigw-requestid header %q", rc.RequestID, resp.Header.Get("Apigw-Requestid"))
	}
	if !regexp.MustCompile(`^\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000$`).MatchString(rc.Time) {
		t.Errorf("time = %q", rc.Time)
	}
	if rc.TimeEpoch < before.UnixMilli()-1000 || rc.TimeEpoch > time.Now().UnixMilli() {
		t.Errorf("timeEpoch = %d", rc.TimeEpoch)
	}
}

func TestEventWithoutQueryOmitsParameters(t *testing.T) {
	fn := &fakeFunction{out: okResponse()}
	srv := newTestGateway(t, []Route{{Method: "GET", Path: "/x", Function: fn}}, Options{})
	do(t, newRequest(t, "GET", srv.URL+"/x", nil))
	raw := string(fn.events[0])
	for _, key := range []string{`"queryStringParameters"`, `"pathParameters"`, `"cookies"`, `"body"`} {
		if strings.Contains(raw, key) {
			t.Errorf("event has %s although the request has none: %s", key, raw)
		}
	}
	if !strings.Contains(raw, `"rawQueryString":""`) {
		t.Errorf("event lacks an empty rawQueryString: %s", raw)
	}
}

func TestEventBodyEncoding(t *testing.T) {
	fn := &fakeFunction{out: okResponse()}
	srv := newTestGateway(t, []Route{{Method: "POST", Path: "/b", Function: fn}}, Options{})
	cases := []struct {
		contentType string
		body        []byte
		base64      bool
	}{
		{"application/json", []byte(`{"a":"é"}`), false},
		{"application/json; charset=utf-8", []byte(`{}`), false},
		{"text/plain", []byte("hello"), false},
		{"application/x-www-form-urlencoded", []byte("a=1&b=2"), false},
		{"application/xml", []byte("<a/>"), false},
		{"application/javascript", []byte("let a"), false},
		{"application/vnd.api+json", []byte(`{}`), false},
		{"application/octet-stream", []byte("plain but binary type"), true},
		{"image/png", []byte{0x89, 'P', 'N', 'G', 0, 0xff}, true},
		{"text/plain", []byte{0xff, 0xfe, 'x'}, true}, // textual type, invalid UTF-8
		{"", []byte("no content type"), true},
	}
	for _, c := range cases {
		req := newRequest(t, "POST", srv.URL+"/b", bytes.NewReader(c.body))
		if c.contentType != "" {
			req.Header.Set("Content-Type", c.contentType)
		}
		do(t, req)
		ev := fn.lastEvent(t)
		got := []byte(ev.Body)
		if ev.IsBase64Encoded {
			var err error
			if got, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
				t.Fatal(err)
			}
		}
		if ev.IsBase64Encoded != c.base64 || !bytes.Equal(got, c.body) {
			t.Errorf("%q: body %q base64=%v, want %q base64=%v", c.contentType, ev.Body, ev.IsBase64Encoded, c.body, c.base64)
		}
		if ev.Headers["content-length"] != strconv.Itoa(len(c.body)) {
			t.Errorf("%q: content-length = %q", c.contentType, ev.Headers["content-length"])
		}
	}
}

func TestRouting(t *testing.T) {
	fns := map[string]*fakeFunction{}
	var routes []Route
	for _, key := range []string{
		"GET /items/{id}", "GET /items/special", "ANY /items/{id}", "GET /files/{proxy+}",
		"GET /files/{dir}/readme", "GET /", "POST /users/login", "ANY /any/{x}",
	} {
		method, path, _ := strings.Cut(key, " ")
		fns[key] = &fakeFunction{out: okResponse()}
		routes = append(routes, Route{Method: method, Path: path, Function: fns[key]})
	}
	srv := newTestGateway(t, routes, Options{})

	cases := []struct {
		method, path string
		routeKey     string
		params       map[string]string
	}{
		{"GET", "/items/7", "GET /items/{id}", map[string]string{"id": "7"}},
		{"GET", "/items/special", "GET /items/special", nil},
		{"DELETE", "/items/7", "ANY /items/{id}", map[string]string{"id": "7"}},
		{"GET", "/files/a/b/c.txt", "GET /files/{proxy+}", map[string]string{"proxy": "a/b/c.txt"}},
		{"GET", "/files/docs/readme", "GET /files/{dir}/readme", map[string]string{"dir": "docs"}},
		{"GET", "/", "GET /", nil},
		{"POST", "/users/login", "POST /users/login", nil},
		{"PATCH", "/any/thing", "ANY /any/{x}", map[string]string{"x": "thing"}},
		{"GET", "/items/a%20b", "GET /items/{id}", map[string]string{"id": "a b"}},
	}
	for _, c := range cases {
		resp, _ := do(t, newRequest(t, c.method, srv.URL+c.path, nil))
		if resp.StatusCode != 200 {
			t.Errorf("%s %s: status %d", c.method, c.path, resp.StatusCode)
			continue
		}
		ev := fns[c.routeKey].lastEvent(t)
		if ev.RouteKey != c.routeKey || !reflect.DeepEqual(ev.PathParameters, c.params) {
			t.Errorf("%s %s: routeKey %q params %q, want %q %q", c.method, c.path, ev.RouteKey, ev.PathParameters, c.routeKey, c.params)
		}
	}

	for _, c := range []struct{ method, path string }{
		{"GET", "/nope"},
		{"POST", "/files/x"},      // path exists for GET only
		{"GET", "/users/login"},   // method not routed
		{"GET", "/users/login/"},  // exact paths only
		{"GET", "/files"},         // greedy needs a segment
		{"GET", "/items/"},        // empty variable
		{"GET", "/items/7/extra"}, // too many segments
		{"HEAD", "/files/a"},      // HEAD is its own method
	} {
		resp, body := do(t, newRequest(t, c.method, srv.URL+c.path, nil))
		if c.method == "HEAD" {
			body = `{"message":"Not Found"}` // HEAD answers carry no body
		}
		assertGatewayAnswer(t, resp, body, 404, `{"message":"Not Found"}`)
	}
}

func TestDefaultRouteCatchesTheRest(t *testing.T) {
	specific, fallback := &fakeFunction{out: okResponse()}, &fakeFunction{out: okResponse()}
	srv := newTestGateway(t, []Route{
		{Method: "GET", Path: "/a", Function: specific},
		{Method: "ANY", Path: "$default", Function: fallback},
	}, Options{})
	do(t, newRequest(t, "GET", srv.URL+"/a", nil))
	do(t, newRequest(t, "PUT", srv.URL+"/whatever/else", nil))
	if len(specific.events) != 1 || len(fallback.events) != 1 {
		t.Fatalf("specific %d, fallback %d invocations", len(specific.events), len(fallback.events))
	}
	if ev := fallback.lastEvent(t); ev.RouteKey != "$default" || ev.RequestContext.RouteKey != "$default" {
		t.Errorf("routeKey = %q", ev.RouteKey)
	}
}

func TestInvalidRoutes(t *testing.T) {
	fn := &fakeFunction{}
	for _, routes := range [][]Route{
		{{Method: "GET", Path: "/a/{proxy+}/b", Function: fn}},
		{{Method: "GET", Path: "/a/{}", Function: fn}},
		{{Method: "GET", Path: "/a/x{y}", Function: fn}},
		{{Method: "GET", Path: "a", Function: fn}},
		{{Method: "GET", Path: "/a", Function: fn}, {Method: "get", Path: "/a", Function: fn}},
		{{Method: "GET", Path: "/a"}},
	} {
		if _, err := New(routes, Options{}); err == nil {
			t.Errorf("New(%+v) succeeded", routes)
		}
	}
}

func TestFunctionResponseMapping(t *testing.T) {
	fn := &fakeFunction{}
	srv := newTestGateway(t, []Route{{Method: "GET", Path: "/r", Function: fn}}, Options{})
	get := func() (*http.Response, string) { return do(t, newRequest(t, "GET", srv.URL+"/r", nil)) }

	fn.out, _ = json.Marshal(events.APIGatewayV2HTTPResponse{
		StatusCode:        201,
		Headers:           map[string]string{"Content-Type": "text/plain", "X-One": "1", "Content-Length": "999"},
		MultiValueHeaders: map[string][]string{"X-Multi": {"a", "b"}},
		Cookies:           []string{"session=abc; HttpOnly; Secure", "theme=dark"},
		Body:              "created",
	})
	resp, body := get()
	if resp.StatusCode != 201 || body != "created" || resp.Header.Get("Content-Type") != "text/plain" || resp.Header.Get("X-One") != "1" {
		t.Errorf("structured response: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	if got := resp.Header.Values("X-Multi"); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("X-Multi = %q", got)
	}
	if got := resp.Header.Values("Set-Cookie"); !reflect.DeepEqual(got, []string{"session=abc; HttpOnly; Secure", "theme=dark"}) {
		t.Errorf("Set-Cookie = %q", got)
	}
	if resp.Header.Get("Apigw-Requestid") == "" {
		t.Error("no apigw-requestid header")
	}

	fn.out, _ = json.Marshal(events.APIGatewayV2HTTPResponse{
		StatusCode: 200, Body: base64.StdEncoding.EncodeToString([]byte{0, 1, 0xff}), IsBase64Encoded: true,
		Headers: map[string]string{"content-type": "application/octet-stream"},
	})
	if resp, body = get(); body != "\x00\x01\xff" || resp.Header.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("base64 body: %q %q", body, resp.Header.Get("Content-Type"))
	}

	fn.out, _ = json.Marshal(events.APIGatewayV2HTTPResponse{StatusCode: 204})
	if resp, _ = get(); resp.StatusCode != 204 || resp.Header.Get("Content-Type") != "" {
		t.Errorf("204: %d, Content-Type %q (must not be sniffed)", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	// Without a statusCode, payload 2.0 means 200 with the output as a JSON body.
	fn.out = []byte(`{"hello":"world"}`)
	if resp, body = get(); resp.StatusCode != 200 || body != `{"hello":"world"}` || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("plain JSON output: %d %q %q", resp.StatusCode, body, resp.Header.Get("Content-Type"))
	}
	fn.out = []byte(`"just a string"`)
	if resp, body = get(); resp.StatusCode != 200 || body != `"just a string"` {
		t.Errorf("string output: %d %q", resp.StatusCode, body)
	}

	for _, bad := range []string{
		`not json`,
		`{"statusCode":0,"body":"zero"}`,
		`{"statusCode":200,"body":"%%%","isBase64Encoded":true}`,
		`{"statusCode":"200"}`,
	} {
		fn.out = []byte(bad)
		resp, body = get()
		assertGatewayAnswer(t, resp, body, 500, `{"message":"Internal Server Error"}`)
	}
}

func TestFunctionErrorIs500(t *testing.T) {
	fn := &fakeFunction{err: errors.New("lambda: Runtime.ExitError")}
	srv := newTestGateway(t, []Route{{Method: "GET", Path: "/e", Function: fn}}, Options{})
	resp, body := do(t, newRequest(t, "GET", srv.URL+"/e", nil))
	assertGatewayAnswer(t, resp, body, 500, `{"message":"Internal Server Error"}`)
}

func TestIntegrationTimeoutIs503(t *testing.T) {
	fn := &fakeFunction{block: true}
	srv := newTestGateway(t, []Route{{Method: "GET", Path: "/slow", Function: fn}}, Options{IntegrationTimeout: 100 * time.Millisecond})
	resp, body := do(t, newRequest(t, "GET", srv.URL+"/slow", nil))
	assertGatewayAnswer(t, resp, body, 503, `{"message":"Service Unavailable"}`)
}

func TestBodyLimit(t *testing.T) {
	fn := &fakeFunction{out: okResponse()}
	srv := newTestGateway(t, []Route{{Method: "POST", Path: "/up", Function: fn}}, Options{})

	resp, body := do(t, newRequest(t, "POST", srv.URL+"/up", bytes.NewReader(make([]byte, MaxBodySize+1))))
	assertGatewayAnswer(t, resp, body, 413, `{"message":"Request Entity Too Large"}`)

	// Chunked, so the limit is found while reading rather than from Content-Length.
	req := newRequest(t, "POST", srv.URL+"/up", io.MultiReader(bytes.NewReader(make([]byte, MaxBodySize)), strings.NewReader("x")))
	req.ContentLength = -1
	resp, body = do(t, req)
	assertGatewayAnswer(t, resp, body, 413, `{"message":"Request Entity Too Large"}`)

	if len(fn.events) != 0 {
		t.Errorf("function invoked %d times for oversized bodies", len(fn.events))
	}
	resp, _ = do(t, newRequest(t, "POST", srv.URL+"/up", bytes.NewReader(make([]byte, MaxBodySize))))
	if resp.StatusCode != 200 {
		t.Errorf("a body of exactly 10 MB got %d", resp.StatusCode)
	}
}
