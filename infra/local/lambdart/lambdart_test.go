package lambdart

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gatehouse/gatehouse/infra/local/internal/proc"
	"github.com/gatehouse/gatehouse/infra/local/internal/testlambda"
	"github.com/gatehouse/gatehouse/internal/syncbuf"
)

var echoBinary string

func TestMain(m *testing.M) {
	testlambda.Main(m, func(bins map[string]string) { echoBinary = bins["echo"] })
}

type testFunc struct {
	*Function
	log, out *syncbuf.Buffer
}

// newFunc starts a Function of the echo Lambda; cleanup closes it and checks that no
// instance process and no goroutine of it survives.
func newFunc(t *testing.T, cfg Config) *testFunc {
	t.Helper()
	goroutines := runtime.NumGoroutine()
	tf := &testFunc{log: &syncbuf.Buffer{}, out: &syncbuf.Buffer{}}
	if cfg.Name == "" {
		cfg.Name = "Echo"
	}
	if cfg.Binary == "" {
		cfg.Binary = echoBinary
	}
	cfg.Log, cfg.Output = tf.log, tf.out
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tf.Function = f
	var seen []int
	t.Cleanup(func() {
		for _, cs := range f.Stats().ColdStarts {
			seen = append(seen, cs.PID)
		}
		if err := f.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		for _, pid := range seen {
			if proc.Alive(pid) {
				t.Errorf("instance process %d still alive after Close", pid)
			}
		}
		waitFor(t, 3*time.Second, "goroutines to finish", func() bool {
			return runtime.NumGoroutine() <= goroutines
		})
		if t.Failed() {
			t.Logf("platform log:\n%s\nfunction output:\n%s", tf.log, tf.out)
		}
	})
	return tf
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Errorf("timed out waiting for %s", what)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// event returns an API Gateway event whose query string drives the echo Lambda.
func event(query map[string]string) []byte {
	b, _ := json.Marshal(events.APIGatewayV2HTTPRequest{Version: "2.0", QueryStringParameters: query})
	return b
}

type echoReply struct {
	PID      int               `json:"pid"`
	Env      map[string]string `json:"env"`
	Deadline int64             `json:"deadline"`
}

func invokeEcho(t *testing.T, f *testFunc, query map[string]string) echoReply {
	t.Helper()
	out, err := f.Invoke(context.Background(), event(query))
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("response %s: %v", out, err)
	}
	var r echoReply
	if err := json.Unmarshal([]byte(resp.Body), &r); err != nil {
		t.Fatalf("body %s: %v", resp.Body, err)
	}
	return r
}

var reportRE = regexp.MustCompile(`^REPORT RequestId: [0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 256 MB\tMax Memory Used: [1-9]\d* MB(\tInit Duration: \d+\.\d\d ms)?(\tStatus: \w+.*)?$`)

func reportLines(log string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.HasPrefix(l, "REPORT ") {
			out = append(out, l)
		}
	}
	return out
}

func TestColdStartThenWarmReuse(t *testing.T) {
	f := newFunc(t, Config{MemoryMB: 256})
	first := invokeEcho(t, f, nil)
	second := invokeEcho(t, f, nil)
	if first.PID != second.PID {
		t.Errorf("warm invocation ran in a new instance (pid %d, then %d)", first.PID, second.PID)
	}

	log := f.log.String()
	if n := strings.Count(log, "START RequestId: "); n != 2 {
		t.Errorf("%d START lines, want 2", n)
	}
	if n := strings.Count(log, "END RequestId: "); n != 2 {
		t.Errorf("%d END lines, want 2", n)
	}
	if !strings.Contains(log, " Version: $LATEST\n") {
		t.Errorf("START line lacks Version: $LATEST")
	}
	reports := reportLines(log)
	if len(reports) != 2 {
		t.Fatalf("REPORT lines: %q", reports)
	}
	for _, r := range reports {
		if !reportRE.MatchString(r) {
			t.Errorf("malformed REPORT line %q", r)
		}
	}
	if !strings.Contains(reports[0], "\tInit Duration: ") {
		t.Errorf("cold start REPORT lacks Init Duration: %q", reports[0])
	}
	if strings.Contains(reports[1], "Init Duration") {
		t.Errorf("warm REPORT has Init Duration: %q", reports[1])
	}

	st := f.Stats()
	if len(st.ColdStarts) != 1 || st.ColdStarts[0].PID != first.PID || st.ColdStarts[0].InitDuration <= 0 {
		t.Errorf("ColdStarts = %+v", st.ColdStarts)
	}
	if st.Invocations != 2 || st.Errors != 0 || st.Running != 1 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestEnvironmentIsLambdas(t *testing.T) {
	t.Setenv("GATEHOUSE_HOST_ONLY", "must not leak")
	timeout := 7 * time.Second
	f := newFunc(t, Config{
		Name:     "EnvFunction",
		MemoryMB: 512,
		Timeout:  timeout,
		Region:   "eu-west-1",
		Env: map[string]string{
			"TABLE_NAME":               "gatehouse-local",
			"AWS_LAMBDA_FUNCTION_NAME": "cannot-override",
		},
	})
	before := time.Now()
	r := invokeEcho(t, f, nil)

	want := map[string]string{
		"TABLE_NAME":                      "gatehouse-local",
		"AWS_LAMBDA_FUNCTION_NAME":        "EnvFunction",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/EnvFunction",
		"_HANDLER":                        "bootstrap",
		"AWS_REGION":                      "eu-west-1",
		"AWS_DEFAULT_REGION":              "eu-west-1",
		"TZ":                              ":UTC",
	}
	for k, v := range want {
		if got := r.Env[k]; got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if _, ok := r.Env["GATEHOUSE_HOST_ONLY"]; ok {
		t.Error("host environment leaked into the function")
	}
	if api := r.Env["AWS_LAMBDA_RUNTIME_API"]; !strings.HasPrefix(api, "127.0.0.1:") {
		t.Errorf("AWS_LAMBDA_RUNTIME_API = %q, want a loopback address", api)
	}
	if !regexp.MustCompile(`^\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}$`).MatchString(r.Env["AWS_LAMBDA_LOG_STREAM_NAME"]) {
		t.Errorf("AWS_LAMBDA_LOG_STREAM_NAME = %q", r.Env["AWS_LAMBDA_LOG_STREAM_NAME"])
	}
	if r.Env["_X_AMZN_TRACE_ID"] == "" {
		t.Error("the trace ID header did not reach the function")
	}
	deadline := time.UnixMilli(r.Deadline)
	if deadline.Before(before.Add(timeout-time.Second)) || deadline.After(time.Now().Add(timeout)) {
		t.Errorf("deadline %v is not about %v from now", deadline, timeout)
	}
}

func TestOverlappingInvocationsStartMoreInstances(t *testing.T) {
	f := newFunc(t, Config{})
	pids := invokeConcurrently(t, f, 4, map[string]string{"sleep": "400ms"})
	if len(pids) != 4 {
		t.Errorf("4 overlapping invocations ran in %d instances, want 4", len(pids))
	}
	if n := len(f.Stats().ColdStarts); n != 4 {
		t.Errorf("%d cold starts, want 4", n)
	}
	// The idle instances are reused: no new cold starts.
	again := invokeConcurrently(t, f, 4, map[string]string{"sleep": "200ms"})
	for pid := range again {
		if !pids[pid] {
			t.Errorf("pid %d is a new instance although 4 were idle", pid)
		}
	}
	if n := len(f.Stats().ColdStarts); n != 4 {
		t.Errorf("%d cold starts after reuse, want 4", n)
	}
}

func TestInstanceCapQueuesInvocations(t *testing.T) {
	f := newFunc(t, Config{MaxInstances: 2})
	pids := invokeConcurrently(t, f, 5, map[string]string{"sleep": "150ms"})
	if len(pids) > 2 {
		t.Errorf("%d instances, want at most 2", len(pids))
	}
	if st := f.Stats(); st.Invocations != 5 || st.Running > 2 {
		t.Errorf("Stats = %+v", st)
	}
}

// invokeConcurrently runs n invocations at once and returns the set of PIDs that ran them.
func invokeConcurrently(t *testing.T, f *testFunc, n int, query map[string]string) map[int]bool {
	t.Helper()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		pids = map[int]bool{}
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := f.Invoke(context.Background(), event(query))
			if err != nil {
				t.Errorf("Invoke: %v", err)
				return
			}
			var resp events.APIGatewayV2HTTPResponse
			var r echoReply
			if json.Unmarshal(out, &resp) != nil || json.Unmarshal([]byte(resp.Body), &r) != nil {
				t.Errorf("bad response %s", out)
				return
			}
			mu.Lock()
			pids[r.PID] = true
			mu.Unlock()
		}()
	}
	wg.Wait()
	return pids
}

func TestTimeoutKillsInstanceAndNextInvocationColdStarts(t *testing.T) {
	f := newFunc(t, Config{Timeout: 500 * time.Millisecond})
	first := invokeEcho(t, f, nil)

	start := time.Now()
	_, err := f.Invoke(context.Background(), event(map[string]string{"sleep": "5s"}))
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("timeout took %v", d)
	}
	waitFor(t, 2*time.Second, "the timed-out instance to die", func() bool { return !proc.Alive(first.PID) })
	if !strings.Contains(f.log.String(), "Task timed out after 0.50 seconds") {
		t.Errorf("no timeout line in log:\n%s", f.log)
	}

	next := invokeEcho(t, f, nil)
	if next.PID == first.PID {
		t.Error("the invocation after a timeout reused the killed instance")
	}
	reports := reportLines(f.log.String())
	if last := reports[len(reports)-1]; !strings.Contains(last, "Init Duration") {
		t.Errorf("invocation on the replacement instance is not a cold start: %q", last)
	}
	if st := f.Stats(); st.Timeouts != 1 || st.Errors != 1 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestCrashFailsInvocationAndRecovers(t *testing.T) {
	f := newFunc(t, Config{})
	first := invokeEcho(t, f, nil)
	_, err := f.Invoke(context.Background(), event(map[string]string{"crash": "1"}))
	if !errors.Is(err, ErrExited) {
		t.Fatalf("err = %v, want the runtime-exited error", err)
	}
	if !strings.Contains(err.Error(), "exit status 2") {
		t.Errorf("err = %v, want the exit status", err)
	}
	next := invokeEcho(t, f, nil)
	if next.PID == first.PID {
		t.Error("crashed instance was reused")
	}
	if !strings.Contains(f.log.String(), "Runtime.ExitError") {
		t.Errorf("log lacks Runtime.ExitError:\n%s", f.log)
	}
}

func TestFunctionErrorsKeepOrReplaceInstance(t *testing.T) {
	f := newFunc(t, Config{})
	first := invokeEcho(t, f, nil)

	_, err := f.Invoke(context.Background(), event(map[string]string{"error": "boom"}))
	var ie *InvokeError
	if !errors.As(err, &ie) || ie.Message != "boom" || ie.Type != "errorString" || len(ie.Payload) == 0 {
		t.Fatalf("err = %#v, want the function's error", err)
	}
	if again := invokeEcho(t, f, nil); again.PID != first.PID {
		t.Error("a handled error must not replace the instance")
	}

	_, err = f.Invoke(context.Background(), event(map[string]string{"panic": "1"}))
	if !errors.As(err, &ie) || !strings.Contains(ie.Message, "panicking as asked") {
		t.Fatalf("err = %v, want the panic", err)
	}
	invokeEcho(t, f, nil) // works again, in whatever instance
}

func TestInitFailureFailsInvocationsInsteadOfHanging(t *testing.T) {
	f := newFunc(t, Config{Env: map[string]string{"ECHO_CRASH_ON_INIT": "1"}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.Invoke(ctx, event(nil))
			var ie *InvokeError
			if !errors.As(err, &ie) || ie.Type != ErrorTypeInit {
				t.Errorf("err = %v, want an init error", err)
			}
		}()
	}
	wg.Wait()
	if !strings.Contains(f.out.String(), "[Echo] echo: crashing during init as asked") {
		t.Errorf("init output not forwarded:\n%s", f.out)
	}
}

func TestInitTimeout(t *testing.T) {
	f := newFunc(t, Config{InitTimeout: 300 * time.Millisecond, Env: map[string]string{"ECHO_INIT_SLEEP": "10s"}})
	start := time.Now()
	_, err := f.Invoke(context.Background(), event(nil))
	var ie *InvokeError
	if !errors.As(err, &ie) || ie.Type != ErrorTypeInit || !strings.Contains(ie.Message, "init did not finish within 300ms") {
		t.Errorf("err = %v, want an init timeout", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("init timeout took %v", d)
	}
}

func TestMissingBinaryFails(t *testing.T) {
	f := newFunc(t, Config{Binary: "/nonexistent/bootstrap"})
	if _, err := f.Invoke(context.Background(), event(nil)); err == nil {
		t.Fatal("Invoke succeeded without a binary")
	}
}

func TestOutputIsForwardedWithPrefix(t *testing.T) {
	f := newFunc(t, Config{})
	invokeEcho(t, f, map[string]string{"print": "hello there"})
	waitFor(t, time.Second, "output", func() bool { return strings.Contains(f.out.String(), "stderr: hello there") })
	out := f.out.String()
	if !strings.Contains(out, "[Echo] stdout: hello there\n") {
		t.Errorf("stdout not forwarded with prefix:\n%s", out)
	}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(l, "[Echo] ") {
			t.Errorf("line without prefix: %q", l)
		}
	}
}

func TestIdleInstancesAreReaped(t *testing.T) {
	f := newFunc(t, Config{IdleTimeout: 300 * time.Millisecond})
	r := invokeEcho(t, f, nil)
	waitFor(t, 5*time.Second, "the idle instance to be reaped", func() bool { return f.Stats().Running == 0 })
	if proc.Alive(r.PID) {
		t.Errorf("reaped instance %d is still alive", r.PID)
	}
	if again := invokeEcho(t, f, nil); again.PID == r.PID {
		t.Error("invocation after reaping reused the old pid")
	}
}

func TestCloseEndsRunningAndQueuedInvocations(t *testing.T) {
	f := newFunc(t, Config{MaxInstances: 1, Timeout: 30 * time.Second})
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := f.Invoke(context.Background(), event(map[string]string{"sleep": "20s"}))
			errs <- err
		}()
	}
	waitFor(t, 5*time.Second, "an instance to run", func() bool { return f.Stats().Running == 1 })
	time.Sleep(100 * time.Millisecond)
	pids := f.Stats().PIDs
	start := time.Now()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := <-errs; err == nil {
			t.Error("an invocation succeeded although the function was closed")
		}
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Close took %v", d)
	}
	for _, pid := range pids {
		if proc.Alive(pid) {
			t.Errorf("pid %d alive after Close", pid)
		}
	}
	if _, err := f.Invoke(context.Background(), event(nil)); !errors.Is(err, ErrClosed) {
		t.Errorf("Invoke after Close: %v, want ErrClosed", err)
	}
}

func TestCallerContextEndsWhileQueued(t *testing.T) {
	f := newFunc(t, Config{MaxInstances: 1})
	done := make(chan error, 1)
	go func() {
		_, err := f.Invoke(context.Background(), event(map[string]string{"sleep": "600ms"}))
		done <- err
	}()
	waitFor(t, 5*time.Second, "the first invocation to start", func() bool {
		return strings.Contains(f.log.String(), "START ")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := f.Invoke(ctx, event(nil)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("queued Invoke: %v, want DeadlineExceeded", err)
	}
	if err := <-done; err != nil {
		t.Errorf("first invocation: %v", err)
	}
	// The abandoned invocation never reached the function.
	if n := strings.Count(f.log.String(), "START "); n != 1 {
		t.Errorf("%d START lines, want 1", n)
	}
}

func TestPayloadLimit(t *testing.T) {
	f := newFunc(t, Config{})
	big := []byte(`"` + strings.Repeat("x", MaxPayloadSize) + `"`)
	if _, err := f.Invoke(context.Background(), big); !errors.Is(err, ErrPayloadTooLarge) {
		t.Errorf("err = %v, want ErrPayloadTooLarge", err)
	}
}

func TestRequestIDFormat(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id := requestID()
		if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(id) || seen[id] {
			t.Fatalf("bad or repeated request ID %q", id)
		}
		seen[id] = true
	}
	if got := billedMS(1234567 * time.Nanosecond); got != 2 {
		t.Errorf("billedMS(1.23ms) = %d, want 2", got)
	}
	if got := fmtMS(1234567 * time.Nanosecond); got != "1.23 ms" {
		t.Errorf("fmtMS = %q", got)
	}
}
