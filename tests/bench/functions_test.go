package bench

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/infra/local/samtemplate"
	"github.com/gatehouse/gatehouse/pkg/account"
)

// buildNative builds every function for this machine (what the local stack runs) into dir.
func buildNative(root, dir string, fns []samtemplate.Function) (map[string]string, error) {
	args := []string{"build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", dir + "/"}
	for _, fn := range fns {
		args = append(args, "./"+fn.Dir)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build: %v\n%s", err, out)
	}
	bins := map[string]string{}
	for _, fn := range fns {
		bins[fn.LogicalID] = filepath.Join(dir, filepath.Base(fn.Dir))
	}
	return bins, nil
}

// buildLambda builds the deployable arm64 bootstraps as `make build` does and returns their
// sizes.
func buildLambda(root string, fns []samtemplate.Function) (map[string]int64, error) {
	cmd := exec.Command("make", "-s", "build")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("make build: %v\n%s", err, out)
	}
	sizes := map[string]int64{}
	for _, fn := range fns {
		st, err := os.Stat(filepath.Join(root, "bin", filepath.Base(fn.Dir), "bootstrap"))
		if err != nil {
			return nil, err
		}
		sizes[fn.LogicalID] = st.Size()
	}
	return sizes, nil
}

// runtimeStub is a minimal Lambda Runtime API for one process: it records when the first
// /next arrives and hands out invocations one at a time.
type runtimeStub struct {
	ln       net.Listener
	srv      *http.Server
	firstAt  chan time.Time
	once     sync.Once
	events   chan []byte
	answered chan time.Time
}

func newRuntimeStub() (*runtimeStub, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &runtimeStub{ln: ln, firstAt: make(chan time.Time, 1), events: make(chan []byte), answered: make(chan time.Time, 1)}
	mux := http.NewServeMux()
	var n int
	var mu sync.Mutex
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		s.once.Do(func() { s.firstAt <- time.Now() })
		select {
		case ev := <-s.events:
			mu.Lock()
			n++
			id := fmt.Sprintf("bench-%d", n)
			mu.Unlock()
			w.Header().Set("Lambda-Runtime-Aws-Request-Id", id)
			w.Header().Set("Lambda-Runtime-Deadline-Ms", fmt.Sprint(time.Now().Add(10*time.Second).UnixMilli()))
			w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:000000000000:function:bench")
			_, _ = w.Write(ev)
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
		s.answered <- time.Now()
	})
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
		s.answered <- time.Now()
	})
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *runtimeStub) close() { _ = s.srv.Close() }

// benchEnv is what a function needs to start: its configuration, with no service behind
// it (initialisation does no I/O).
func benchEnv(api string) []string {
	return []string{
		"AWS_LAMBDA_RUNTIME_API=" + api, "PATH=/usr/bin:/bin", "TZ=:UTC",
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=bench", "AWS_SECRET_ACCESS_KEY=bench",
		"TABLE_NAME=bench", "SENDER_EMAIL=no-reply@gatehouse.local", "LOG_LEVEL=INFO",
		"AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:9", "AWS_ENDPOINT_URL_SESV2=http://127.0.0.1:9",
		// The admin functions' token-index key as the local stack passes it (deployed, they
		// read it from Secrets Manager once per cold start instead: one call more).
		"TOKEN_INDEX_KEY=" + strings.Repeat("b", 64),
	}
}

// coldStarts starts bin n times and returns, for each start, the time from process start
// to its first /next request.
func coldStarts(bin string, n int) ([]time.Duration, error) {
	var out []time.Duration
	for range n {
		stub, err := newRuntimeStub()
		if err != nil {
			return nil, err
		}
		cmd := exec.Command(bin)
		cmd.Env = benchEnv(stub.ln.Addr().String())
		start := time.Now()
		if err := cmd.Start(); err != nil {
			stub.close()
			return nil, err
		}
		select {
		case at := <-stub.firstAt:
			out = append(out, at.Sub(start))
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			stub.close()
			return nil, fmt.Errorf("%s: no /next within 10 s", bin)
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		stub.close()
	}
	return out, nil
}

// warmOverhead invokes a started function n times with event (which the handler answers
// without I/O) and returns, per invocation, the runtime loop's share: the time from
// handing out the event to receiving the answer, minus the handler's own duration as its
// log line reports it.
func warmOverhead(bin string, event []byte, n int) ([]time.Duration, error) {
	stub, err := newRuntimeStub()
	if err != nil {
		return nil, err
	}
	defer stub.close()
	cmd := exec.Command(bin)
	cmd.Env = benchEnv(stub.ln.Addr().String())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	durations := make(chan float64, n)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var l struct {
				Msg        string  `json:"msg"`
				DurationMS float64 `json:"duration_ms"`
			}
			if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "request" {
				durations <- l.DurationMS
			}
		}
	}()
	<-stub.firstAt
	var out []time.Duration
	for range n {
		start := time.Now()
		stub.events <- event
		answered := <-stub.answered
		var handler float64
		select {
		case handler = <-durations:
		case <-time.After(5 * time.Second):
			return nil, fmt.Errorf("%s: no request log line", bin)
		}
		out = append(out, answered.Sub(start)-time.Duration(handler*float64(time.Millisecond)))
	}
	return out, nil
}

// fastEvent is a request each function answers without I/O: no credentials, an empty
// JSON object, and a username too short to exist, all of which every route refuses at once.
func fastEvent(fn samtemplate.Function) []byte {
	r := fn.Routes[0]
	path := strings.ReplaceAll(r.Path, "{username}", "x")
	ev := map[string]any{
		"version": "2.0", "routeKey": r.Method + " " + r.Path, "rawPath": path, "rawQueryString": "",
		"headers":        map[string]string{"content-type": "application/json"},
		"pathParameters": map[string]string{"username": "x"},
		"requestContext": map[string]any{
			"http":      map[string]string{"method": r.Method, "path": path, "sourceIp": "127.0.0.1"},
			"requestId": "bench", "routeKey": r.Method + " " + r.Path, "stage": "$default",
		},
		"body": "{}", "isBase64Encoded": false,
	}
	b, _ := json.Marshal(ev)
	return b
}

// firstRequests starts bin n times against DynamoDB Local and returns, for each start, the
// time from process start to the answer of its first request (cold start, init, the SDK's
// connection set-up and first call), less the password hash the request paid (a dummy
// verification for the unknown names in the event), with the round trips the log reports.
func firstRequests(bin string, env []string, event []byte, n int) (times []time.Duration, calls int, err error) {
	for range n {
		stub, err := newRuntimeStub()
		if err != nil {
			return nil, 0, err
		}
		cmd := exec.Command(bin)
		cmd.Env = append(benchEnv(stub.ln.Addr().String()), env...)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			stub.close()
			return nil, 0, err
		}
		lines := make(chan logLine, 4)
		start := time.Now()
		if err := cmd.Start(); err != nil {
			stub.close()
			return nil, 0, err
		}
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				var l logLine
				if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "request" {
					lines <- l
				}
			}
		}()
		stop := func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); stub.close() }
		select {
		case stub.events <- event:
		case <-time.After(10 * time.Second):
			stop()
			return nil, 0, fmt.Errorf("%s: no /next within 10 s", bin)
		}
		answered := <-stub.answered
		var l logLine
		select {
		case l = <-lines:
		case <-time.After(5 * time.Second):
			stop()
			return nil, 0, fmt.Errorf("%s: no request log line", bin)
		}
		stop()
		times = append(times, answered.Sub(start)-time.Duration(l.KDFMS*float64(time.Millisecond)))
		calls = max(calls, l.DynamoCalls)
	}
	return times, calls, nil
}

// dynamoEvent is a request each function answers after at least one DynamoDB call where
// it can: names that do not exist, credentials that are wrong, a well-formed session.
func dynamoEvent(fn samtemplate.Function) []byte {
	r := fn.Routes[0]
	const name = "first-request-nobody"
	path := strings.ReplaceAll(r.Path, "{username}", name)
	// A well-formed session token of a session that does not exist: the session routes
	// look it up.
	session, _, _ := account.NewSessionToken(rand.Reader, 1)
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(name+":wrong-password-1"))
	if strings.HasPrefix(r.Path, "/users/") {
		auth = "Bearer " + session
	}
	ct, body := "application/json", fmt.Sprintf(`{"username":%q,"password":"wrong-password-1","email":"%s@example.com","userhash":"%s","OTP":"123456","reqid":"00000000-0000-4000-8000-000000000000","uuid":"00000000-0000-4000-8000-000000000000","newPassword":"new-password-1"}`, name, name, strings.Repeat("0", 64))
	if strings.HasPrefix(r.Path, "/api/user/v1/") { // Account v1 reads forms
		ct = "application/x-www-form-urlencoded"
		body = "name=Bench&email=" + name + "%40example.com&password=wrong-password-1&oldpassword=wrong-password-1&newpassword=new-password-1"
	}
	ev := map[string]any{
		"version": "2.0", "routeKey": r.Method + " " + r.Path, "rawPath": path, "rawQueryString": "",
		"headers": map[string]string{
			"content-type": ct, "authorization": auth, "cookie": "TOKEN=" + session,
		},
		"pathParameters": map[string]string{"username": name},
		"requestContext": map[string]any{
			"http":      map[string]string{"method": r.Method, "path": path, "sourceIp": "127.0.0.1"},
			"requestId": "bench", "routeKey": r.Method + " " + r.Path, "stage": "$default",
		},
		"body":            body,
		"isBase64Encoded": false,
	}
	b, _ := json.Marshal(ev)
	return b
}
