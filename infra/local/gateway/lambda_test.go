package gateway_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gatehouse/gatehouse/infra/local/gateway"
	"github.com/gatehouse/gatehouse/infra/local/internal/proc"
	"github.com/gatehouse/gatehouse/infra/local/internal/testlambda"
	"github.com/gatehouse/gatehouse/infra/local/lambdart"
)

// These tests run the real echo Lambda (infra/local/testdata/functions/echo) behind the
// gateway through lambdart.

var echoBinary string

func TestMain(m *testing.M) {
	testlambda.Main(m, func(bins map[string]string) { echoBinary = bins["echo"] })
}

// startEcho serves the echo Lambda on GET and POST /echo/{proxy+} with the given timeout.
func startEcho(t *testing.T, timeout time.Duration) (*httptest.Server, *lambdart.Function) {
	t.Helper()
	fn, err := lambdart.New(lambdart.Config{Name: "EchoFunction", Binary: echoBinary, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New([]gateway.Route{
		{Method: "GET", Path: "/echo", Function: fn},
		{Method: "POST", Path: "/echo/{proxy+}", Function: fn},
	}, gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	t.Cleanup(func() {
		srv.Close()
		pids := fn.Stats().PIDs
		if err := fn.Close(); err != nil {
			t.Error(err)
		}
		for _, pid := range pids {
			if proc.Alive(pid) {
				t.Errorf("instance %d alive after Close", pid)
			}
		}
	})
	return srv, fn
}

func get(t *testing.T, u string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	return testlambda.Do(t, req)
}

type echoReply struct {
	PID   int                            `json:"pid"`
	Event events.APIGatewayV2HTTPRequest `json:"event"`
}

func TestEchoRoundTrip(t *testing.T) {
	srv, _ := startEcho(t, 3*time.Second)
	q := url.Values{"setcookie": {"a=1; Path=/|b=2"}, "x": {"1", "2"}}
	resp, body := get(t, srv.URL+"/echo?"+q.Encode(), http.Header{"Cookie": {"sid=s1; pref=p"}, "X-Trace": {"t"}})
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var r echoReply
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	ev := r.Event
	if ev.RouteKey != "GET /echo" || ev.Headers["x-trace"] != "t" || ev.QueryStringParameters["x"] != "1,2" {
		t.Errorf("event = %+v", ev)
	}
	if !reflect.DeepEqual(ev.Cookies, []string{"sid=s1", "pref=p"}) {
		t.Errorf("cookies = %q", ev.Cookies)
	}
	if got := resp.Header.Values("Set-Cookie"); !reflect.DeepEqual(got, []string{"a=1; Path=/", "b=2"}) {
		t.Errorf("Set-Cookie = %q", got)
	}
	if got := resp.Header.Values("X-Multi"); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("X-Multi = %q", got)
	}
	if resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("X-Pid") == "" {
		t.Errorf("headers = %v", resp.Header)
	}
}

func TestEchoBinaryAndRawOutputs(t *testing.T) {
	srv, _ := startEcho(t, 3*time.Second)
	resp, body := get(t, srv.URL+"/echo?binary=1", nil)
	if resp.StatusCode != 200 || body != "\x00\x01\x02\xfe\xff" || resp.Header.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("binary: %d %q %q", resp.StatusCode, body, resp.Header.Get("Content-Type"))
	}
	resp, body = get(t, srv.URL+"/echo?raw=1", nil)
	if resp.StatusCode != 200 || body != `{"hello":"world"}` || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("raw: %d %q %q", resp.StatusCode, body, resp.Header.Get("Content-Type"))
	}

	// A binary request body reaches the function base64-encoded, with the greedy path.
	req, _ := http.NewRequest("POST", srv.URL+"/echo/a/b", strings.NewReader("\x00\xffbinary"))
	req.Header.Set("Content-Type", "application/octet-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var r echoReply
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	if !r.Event.IsBase64Encoded || r.Event.Body != "AP9iaW5hcnk=" || r.Event.PathParameters["proxy"] != "a/b" {
		t.Errorf("event body %q base64=%v params %v", r.Event.Body, r.Event.IsBase64Encoded, r.Event.PathParameters)
	}
}

func TestFailuresAre500AndTheFunctionRecovers(t *testing.T) {
	srv, fn := startEcho(t, time.Second)
	const internal = `{"message":"Internal Server Error"}`
	for _, q := range []string{"crash=1", "sleep=5s", "error=boom", "panic=1"} {
		start := time.Now()
		resp, body := get(t, srv.URL+"/echo?"+q, nil)
		if resp.StatusCode != 500 || body != internal || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Errorf("%s: %d %q %q", q, resp.StatusCode, body, resp.Header.Get("Content-Type"))
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%s took %v", q, d)
		}
		// The next request is served, by a replacement instance if need be.
		if resp, body := get(t, srv.URL+"/echo", nil); resp.StatusCode != 200 {
			t.Errorf("after %s: %d %s", q, resp.StatusCode, body)
		}
	}
	if st := fn.Stats(); st.Timeouts != 1 || st.Errors != 4 {
		t.Errorf("stats = %+v", st)
	}
}

func TestConcurrentRequestsUseSeveralInstances(t *testing.T) {
	srv, fn := startEcho(t, 3*time.Second)
	var wg sync.WaitGroup
	var mu sync.Mutex
	pids := map[string]bool{}
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, body := get(t, srv.URL+"/echo?sleep=300ms", nil)
			if resp.StatusCode != 200 {
				t.Errorf("%d %s", resp.StatusCode, body)
			}
			mu.Lock()
			pids[resp.Header.Get("X-Pid")] = true
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(pids) != 3 {
		t.Errorf("3 overlapping requests used %d instances", len(pids))
	}
	if n := len(fn.Stats().ColdStarts); n != 3 {
		t.Errorf("%d cold starts, want 3", n)
	}
}
