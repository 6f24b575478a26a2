// Package e2e tests every route end to end: HTTP requests to the local gateway, which runs
// the real function binaries over the local Lambda Runtime API against DynamoDB Local and
// aws-ses-v2-local, all started on free loopback ports by TestMain and stopped after.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/infra/local/emulators"
	"github.com/gatehouse/gatehouse/infra/local/stack"
	"github.com/gatehouse/gatehouse/internal/syncbuf"
)

var (
	st      *stack.Stack
	funcLog syncbuf.Buffer
	secrets secretSet
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var err error
	var stackLog syncbuf.Buffer
	st, err = stack.Start(ctx, stack.Options{LogWriter: &stackLog, FunctionLogWriter: &funcLog})
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: local stack did not start (make deps installs what it needs):", err)
		fmt.Fprint(os.Stderr, stackLog.String())
		return 1
	}
	code := m.Run()
	stopCtx, stopCancel := context.WithTimeout(context.Background(), time.Minute)
	defer stopCancel()
	if err := st.Stop(stopCtx); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: stop:", err)
		code = 1
	}
	// No password, token, code or session may ever reach a log line. The check only means
	// something if the functions' logs were captured.
	logs := funcLog.String() + stackLog.String()
	if !strings.Contains(funcLog.String(), `"msg":"request"`) || len(secrets.all()) == 0 {
		fmt.Fprintln(os.Stderr, "e2e: function logs not captured, or no secrets recorded to check them against")
		code = 1
	}
	if os.Getenv("E2E_LOGS") == "sample" {
		fmt.Fprint(os.Stderr, funcLog.String()[:min(3000, len(funcLog.String()))], stackLog.String()[:min(3000, len(stackLog.String()))])
	}
	for _, s := range secrets.all() {
		if strings.Contains(logs, s) {
			fmt.Fprintf(os.Stderr, "e2e: a secret (%.4s…) appears in the function logs\n", s)
			code = 1
		}
	}
	if code != 0 && os.Getenv("E2E_LOGS") != "" {
		fmt.Fprint(os.Stderr, stackLog.String(), funcLog.String())
	}
	return code
}

// secretSet collects every secret the tests send or receive, to check the logs for them.
type secretSet struct {
	mu sync.Mutex
	m  map[string]bool
}

func (s *secretSet) add(vs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]bool{}
	}
	for _, v := range vs {
		if len(v) >= 6 {
			s.m[v] = true
		}
	}
}

func (s *secretSet) all() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.m))
	for v := range s.m {
		out = append(out, v)
	}
	return out
}

// ------------------------------------------------------------------------- requests

type response struct {
	status int
	header http.Header
	body   string
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("body is not a JSON object: %q", r.body)
	}
	return m
}

func (r response) str(t *testing.T, key string) string {
	t.Helper()
	v, _ := r.json(t)[key].(string)
	return v
}

var httpClient = &http.Client{Timeout: 60 * time.Second}

// do sends a request to base (a gateway URL). Headers come in name, value pairs.
func do(t *testing.T, base, method, path, contentType, body string, headers ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("%s %s: Content-Type %q (body %q)", method, path, ct, b)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func postJSON(t *testing.T, path, body string, headers ...string) response {
	t.Helper()
	return do(t, st.URL, http.MethodPost, path, "application/json", body, headers...)
}

func postForm(t *testing.T, path, body string, headers ...string) response {
	t.Helper()
	return do(t, st.URL, http.MethodPost, path, "application/x-www-form-urlencoded", body, headers...)
}

func get(t *testing.T, path string, headers ...string) response {
	t.Helper()
	return do(t, st.URL, http.MethodGet, path, "", "", headers...)
}

// expect checks the status and the exact body, compared as JSON values.
func expect(t *testing.T, what string, r response, status int, body string) {
	t.Helper()
	if r.status != status || !sameJSON(t, r.body, body) {
		t.Fatalf("%s:\n got %d %s\nwant %d %s", what, r.status, r.body, status, body)
	}
}

func sameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil {
		return false
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		t.Fatalf("bad expected JSON %q", b)
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return bytes.Equal(xb, yb)
}

// ---------------------------------------------------------------------------- mails

// mailsTo returns the mails SES local captured for address, oldest first.
func mailsTo(t *testing.T, address string) []emulators.Mail {
	t.Helper()
	resp, err := httpClient.Get(st.SESEndpoint + "/store")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var store struct {
		Emails []emulators.Mail `json:"emails"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&store); err != nil {
		t.Fatal(err)
	}
	var out []emulators.Mail
	for _, m := range store.Emails {
		for _, to := range m.Destination.To {
			if strings.EqualFold(to, address) {
				out = append(out, m)
			}
		}
	}
	return out
}

func lastMailTo(t *testing.T, address string) emulators.Mail {
	t.Helper()
	ms := mailsTo(t, address)
	if len(ms) == 0 {
		t.Fatalf("no mail to %s", address)
	}
	return ms[len(ms)-1]
}

// gateway starts another gateway on the same emulators with env overrides, stopped at the
// end of the test.
func gateway(t *testing.T, env map[string]string) string {
	t.Helper()
	g, err := st.NewGateway(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := g.Stop(ctx); err != nil {
			t.Errorf("stop gateway: %v", err)
		}
	})
	return g.URL
}

// unique returns a name no other test uses.
var counter struct {
	sync.Mutex
	n int
}

func unique(prefix string) string {
	counter.Lock()
	defer counter.Unlock()
	counter.n++
	return fmt.Sprintf("%s%d%d", prefix, time.Now().UnixNano()%1e6, counter.n)
}
