// Package e2e is the harness of the end-to-end tests (one package per API family below
// this one): HTTP requests to the local gateway, which runs the real function binaries over
// the local Lambda Runtime API against DynamoDB Local and aws-ses-v2-local, all started on
// free loopback ports by Main and stopped after.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/apigw/apigwtest"

	"github.com/gatehouse/gatehouse/infra/local/emulators"
	"github.com/gatehouse/gatehouse/infra/local/stack"
	"github.com/gatehouse/gatehouse/internal/syncbuf"
	"github.com/gatehouse/gatehouse/internal/testkit"
)

var (
	// Stack is the running local stack of the test binary.
	Stack   *stack.Stack
	funcLog syncbuf.Buffer
	secrets secretSet
)

// Main is the TestMain of every end-to-end package: it starts the stack, runs the tests,
// stops the stack and fails the run if any secret a test recorded (see Secret) appears in
// the logs.
func Main(m *testing.M) { os.Exit(run(m, nil)) }

// MainWith is Main with template parameters overridden (the bench raises a limit that
// its thousands of mails would reach).
func MainWith(m *testing.M, parameters map[string]string) { os.Exit(run(m, parameters)) }

func run(m *testing.M, parameters map[string]string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var err error
	var stackLog syncbuf.Buffer
	if err := loadOpenAPI(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: OpenAPI document:", err)
		return 1
	}
	Stack, err = stack.Start(ctx, stack.Options{Parameters: parameters, LogWriter: &stackLog, FunctionLogWriter: &funcLog, ProtectedRoutes: protectedRoutes})
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: local stack did not start (make deps installs what it needs):", err)
		fmt.Fprint(os.Stderr, stackLog.String())
		return 1
	}
	code := m.Run()
	// Every DynamoDB call of a function went through its template policy (infra/local/iam).
	if d := Stack.Denials(); len(d) > 0 {
		fmt.Fprintf(os.Stderr, "e2e: template.yaml's IAM policies refused DynamoDB or SES calls the functions made:\n  %s\n", strings.Join(d, "\n  "))
		code = 1
	}
	// Every answer must be one the OpenAPI document describes; Do reports its own to the
	// test, anything else (another client) fails the run here.
	for _, p := range openAPISummary(strings.TrimSuffix(filepath.Base(os.Args[0]), ".test")) {
		fmt.Fprintln(os.Stderr, "e2e: OpenAPI:", p)
		code = 1
	}
	if !testkit.Stopped("e2e", Stack.Stop) {
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

// FunctionLogs returns what the functions have logged so far (their stdout and stderr,
// each line prefixed with the function's logical id).
func FunctionLogs() string { return funcLog.String() }

// Secret records values that must never appear in a log (passwords, tokens, codes).
// Values shorter than 6 characters are too common to search for and are ignored.
func Secret(vs ...string) { secrets.add(vs...) }

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

// Response is a gateway answer.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// JSON decodes the body as a JSON object.
func (r Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.Body), &m); err != nil {
		t.Fatalf("body is not a JSON object: %q", r.Body)
	}
	return m
}

// Str returns a string member of the body.
func (r Response) Str(t testing.TB, key string) string {
	t.Helper()
	v, _ := r.JSON(t)[key].(string)
	return v
}

// httpClient checks every exchange with a gateway against the OpenAPI document.
var httpClient = &http.Client{Timeout: 60 * time.Second, Transport: checkedTransport{http.DefaultTransport}}

// Do sends a request to base (a gateway URL) and checks the Content-Type every answer
// must have. Headers come in name, value pairs.
func Do(t testing.TB, base, method, path, contentType, body string, headers ...string) Response {
	t.Helper()
	return do(t, httpClient, base, method, path, contentType, body, headers...)
}

// DoFrom is Do with the connection made from the loopback address ip (127.x.y.z), which the
// gateway reports as the event's requestContext.http.sourceIp; the exchange is checked
// against the OpenAPI document as Do's are.
func DoFrom(t testing.TB, ip, base, method, path, contentType, body string, headers ...string) Response {
	t.Helper()
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	tr := &http.Transport{DialContext: dialer.DialContext}
	defer tr.CloseIdleConnections()
	client := &http.Client{Timeout: httpClient.Timeout, Transport: checkedTransport{tr}}
	return do(t, client, base, method, path, contentType, body, headers...)
}

func do(t testing.TB, client *http.Client, base, method, path, contentType, body string, headers ...string) Response {
	t.Helper()
	problem := &answerProblem{}
	denied := len(Stack.Denials())
	resp, b := testkit.Send(context.WithValue(context.Background(), problemKey{}, problem), t, client, method, base+path, contentType, body, headers...)
	// A call the function made that its template policy refuses fails the test that made
	// it (a request running alongside may be named too), with function, action and key.
	if d := Stack.Denials(); len(d) > denied {
		t.Errorf("%s %s: template.yaml's IAM policy refused:\n  %s", method, path, strings.Join(d[denied:], "\n  "))
	}
	if problem.text != "" {
		t.Errorf("OpenAPI: %s", problem.text)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("%s %s: Content-Type %q (body %q)", method, path, ct, b)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

// PostJSON posts a JSON body to the stack's gateway.
func PostJSON(t testing.TB, path, body string, headers ...string) Response {
	t.Helper()
	return Do(t, Stack.URL, http.MethodPost, path, "application/json", body, headers...)
}

// PostForm posts a form body to the stack's gateway.
func PostForm(t testing.TB, path, body string, headers ...string) Response {
	t.Helper()
	return Do(t, Stack.URL, http.MethodPost, path, "application/x-www-form-urlencoded", body, headers...)
}

// Get sends a GET to the stack's gateway.
func Get(t testing.TB, path string, headers ...string) Response {
	t.Helper()
	return Do(t, Stack.URL, http.MethodGet, path, "", "", headers...)
}

// Expect checks the status and the exact body, compared as JSON values (member order and
// white space aside).
func Expect(t testing.TB, what string, r Response, status int, body string) {
	t.Helper()
	if r.Status != status || !apigwtest.SameJSON(t, r.Body, body) {
		t.Fatalf("%s:\n got %d %s\nwant %d %s", what, r.Status, r.Body, status, body)
	}
}

// ---------------------------------------------------------------------------- mails

// VerifySubject is the subject of the email verification mail (pkg/ses).
const VerifySubject = "Confirm your Gatehouse email address"

// MailsTo returns the mails SES local captured for address, oldest first, other than the
// email verification mails a registration sends (VerificationMailsTo): those are not the
// mails of the routes the suites count.
func MailsTo(t testing.TB, address string) []emulators.Mail {
	t.Helper()
	var out []emulators.Mail
	for _, m := range allMailsTo(t, address) {
		if m.Subject != VerifySubject {
			out = append(out, m)
		}
	}
	return out
}

// VerificationMailsTo returns the email verification mails to address, oldest first.
func VerificationMailsTo(t testing.TB, address string) []emulators.Mail {
	t.Helper()
	var out []emulators.Mail
	for _, m := range allMailsTo(t, address) {
		if m.Subject == VerifySubject {
			out = append(out, m)
		}
	}
	return out
}

func allMailsTo(t testing.TB, address string) []emulators.Mail {
	t.Helper()
	resp, err := httpClient.Get(Stack.SESEndpoint + "/store")
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

// LastMailTo returns the newest mail to address, failing the test if there is none.
func LastMailTo(t testing.TB, address string) emulators.Mail {
	t.Helper()
	ms := MailsTo(t, address)
	if len(ms) == 0 {
		t.Fatalf("no mail to %s", address)
	}
	return ms[len(ms)-1]
}

// Gateway starts another gateway on the same emulators with env overrides (for example
// ALLOW_REGISTRATION=false, or SES pointed at a closed port), stopped at the end of the
// test, and returns its URL.
func Gateway(t testing.TB, env map[string]string) string {
	t.Helper()
	g, err := Stack.NewGateway(context.Background(), env)
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

var counter struct {
	sync.Mutex
	n int
}

// Unique returns prefix followed by digits no other call returns in this test binary.
// Each binary starts its own stack with an in-memory table, so a counter is enough; its
// fixed width keeps every result at least len(prefix)+8 characters, a valid password
// even for a short prefix.
func Unique(prefix string) string {
	counter.Lock()
	defer counter.Unlock()
	counter.n++
	return fmt.Sprintf("%s%08d", prefix, counter.n)
}

// RegisterUser registers a fresh account through POST /users/register (with an email when
// withEmail) and returns its username, password and email.
func RegisterUser(t testing.TB, withEmail bool) (name, password, email string) {
	t.Helper()
	name, password = Unique("u"), Unique("pw-")
	body := url.Values{"username": {name}, "password": {password}}
	if withEmail {
		email = name + "@example.com"
		body.Set("email", email)
	}
	Secret(password)
	Expect(t, "register "+name, PostForm(t, "/users/register", body.Encode()), 200, `{"success":true,"data":{"message":"USER_INSERT_OK"}}`)
	return name, password, email
}

// Login logs in through POST /users/login and returns the session token.
func Login(t testing.TB, name, password string) string {
	t.Helper()
	r := PostJSON(t, "/users/login", fmt.Sprintf(`{"username":%q,"password":%q}`, name, password))
	if r.Status != 200 {
		t.Fatalf("login %s: %d %s", name, r.Status, r.Body)
	}
	ssid := r.UsersField(t, "ssid")
	Secret(ssid)
	return ssid
}

// Parallel runs fn n times at once (released together) and returns the answers.
func Parallel(n int, fn func(i int) Response) []Response {
	out := make([]Response, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			out[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return out
}

// Count tallies answers as "<status> <body member key>", e.g. "200 USER_INSERT_OK" for
// key "message".
func Count(t testing.TB, rs []Response, key string) map[string]int {
	t.Helper()
	m := map[string]int{}
	for _, r := range rs {
		m[fmt.Sprintf("%d %s", r.Status, r.Str(t, key))]++
	}
	return m
}

// JSONBody is a JSON object of string members, given as name, value pairs.
func JSONBody(kv ...string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	b, _ := json.Marshal(m)
	return string(b)
}
