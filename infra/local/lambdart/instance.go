package lambdart

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/gatehouse/gatehouse/infra/local/internal/proc"
	"github.com/gatehouse/gatehouse/internal/logline"
)

type instanceState int

const (
	stateStarting  instanceState = iota // process started, no /next yet
	stateIdle                           // blocked in /next
	stateBusy                           // running an invocation
	stateFinishing                      // answered; about to ask for the next invocation
	stateDead                           // killed or exited; never handed work again
)

// instance is one execution environment: a process and its Runtime API listener.
type instance struct {
	f       *Function
	seq     int
	cmd     *exec.Cmd
	srv     *http.Server
	started time.Time
	exited  chan struct{} // closed after cmd.Wait returned and the instance was removed
	// initTimer kills an instance stuck in init; set before the wait goroutine starts.
	initTimer *time.Timer

	// Guarded by f.mu.
	state     instanceState
	current   *invocation   // the invocation the process is running
	cold      bool          // the next invocation is the instance's first
	initDur   time.Duration // process start to first /next
	initError string        // what the function posted to /runtime/init/error
	maxMemMB  int           // last peak RSS read, for REPORT after the process is gone
}

const runtimeAPIPrefix = "/2018-06-01/runtime"

// startInstanceLocked starts a process of the function with its own Runtime API listener.
func (f *Function) startInstanceLocked() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("lambdart: %s: runtime API listener: %w", f.cfg.Name, err)
	}
	f.nextSeq++
	in := &instance{f: f, seq: f.nextSeq, exited: make(chan struct{}), state: stateStarting}

	mux := http.NewServeMux()
	mux.HandleFunc("GET "+runtimeAPIPrefix+"/invocation/next", in.handleNext)
	mux.HandleFunc("POST "+runtimeAPIPrefix+"/invocation/{id}/response", in.handleResponse)
	mux.HandleFunc("POST "+runtimeAPIPrefix+"/invocation/{id}/error", in.handleError)
	mux.HandleFunc("POST "+runtimeAPIPrefix+"/init/error", in.handleInitError)
	in.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	cmd := exec.Command(f.cfg.Binary)
	cmd.Dir = filepath.Dir(f.cfg.Binary)
	cmd.Env = append(append([]string(nil), f.baseEnv...),
		"AWS_LAMBDA_RUNTIME_API="+ln.Addr().String(),
		"AWS_LAMBDA_LOG_STREAM_NAME="+logStreamName(),
	)
	prefix := "[" + f.cfg.Name + "] "
	stdout, stderr := logline.Prefixed(f.cfg.Output, prefix), logline.Prefixed(f.cfg.Output, prefix)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// A function that forks must not keep Wait blocked on its inherited pipes forever.
	cmd.WaitDelay = time.Second
	proc.Prepare(cmd)
	in.cmd = cmd

	in.started = time.Now()
	if err := cmd.Start(); err != nil {
		ln.Close()
		return fmt.Errorf("lambdart: %s: start %s: %w", f.cfg.Name, f.cfg.Binary, err)
	}
	f.instances[in] = struct{}{}
	in.watchInit()

	f.wg.Add(2)
	go func() {
		defer f.wg.Done()
		_ = in.srv.Serve(ln) // returns when the instance exits and closes it
	}()
	go func() {
		defer f.wg.Done()
		in.wait(stdout, stderr)
	}()
	return nil
}

// watchInit arms the init timeout: an instance that has not reached /next by then is
// killed, and its exit fails a waiting invocation.
func (in *instance) watchInit() {
	in.initTimer = time.AfterFunc(in.f.cfg.InitTimeout, func() {
		in.f.mu.Lock()
		stuck := in.state == stateStarting
		if stuck {
			in.initError = fmt.Sprintf("init did not finish within %s", in.f.cfg.InitTimeout)
		}
		in.f.mu.Unlock()
		if stuck {
			in.kill()
		}
	})
}

// wait reaps the process and cleans up: removes the instance, fails the invocation it was
// running, and starts a replacement if invocations are waiting.
func (in *instance) wait(stdout, stderr *logline.Prefixer) {
	waitErr := in.cmd.Wait()
	in.initTimer.Stop()
	// Kill whatever the function may have forked into its group.
	_ = proc.Signal(in.cmd, syscall.SIGKILL)
	stdout.Flush()
	stderr.Flush()
	f := in.f

	f.mu.Lock()
	wasStarting := in.state == stateStarting
	in.state = stateDead
	delete(f.instances, in)
	inv := in.current
	in.current = nil
	initError := in.initError
	f.mu.Unlock()
	close(in.exited)
	_ = in.srv.Close()

	exitMsg := exitMessage(waitErr)
	if inv != nil {
		in.finish(inv, outcome{err: &InvokeError{
			Type:    ErrorTypeExit,
			Message: "Runtime exited with error: " + exitMsg,
		}})
	}
	if wasStarting {
		msg := "Runtime exited with error: " + exitMsg
		if initError != "" {
			msg = initError
		}
		fmt.Fprintf(f.cfg.Log, "INIT_REPORT Init Duration: %s\tPhase: init\tStatus: error\tError Type: Runtime.ExitError\n", fmtMS(time.Since(in.started)))
		f.failOneWaiter(&InvokeError{Type: ErrorTypeInit, Message: fmt.Sprintf("%s: init failed: %s", f.cfg.Name, msg)})
	}

	f.mu.Lock()
	err := f.scaleLocked()
	f.mu.Unlock()
	if err != nil {
		f.failOneWaiter(err)
	}
}

func exitMessage(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return "signal: " + ws.Signal().String()
		}
		return fmt.Sprintf("exit status %d", ee.ExitCode())
	}
	if err != nil {
		return err.Error()
	}
	return "exit status 0"
}

// terminate stops the process: SIGTERM, then SIGKILL after grace.
func (in *instance) terminate(grace time.Duration) {
	in.f.mu.Lock()
	in.state = stateDead // never hand it work again
	in.f.mu.Unlock()
	proc.Terminate(in.cmd, in.exited, grace)
}

// kill stops the process at once, as Lambda does to an environment that timed out.
func (in *instance) kill() {
	_ = proc.Signal(in.cmd, syscall.SIGKILL)
}

func (in *instance) readMemory() {
	mb := proc.PeakRSSMiB(in.cmd.Process.Pid)
	if mb == 0 {
		return
	}
	in.f.mu.Lock()
	in.maxMemMB = mb
	in.f.mu.Unlock()
}

// outcome is how an invocation ended.
type outcome struct {
	payload []byte
	err     error
	status  string // "" (success), "error" or "timeout", for the REPORT line
}

// finish delivers the outcome to the caller and writes END and REPORT. Only the goroutine
// that took inv out of in.current may call it.
func (in *instance) finish(inv *invocation, out outcome) {
	// Callers have claimed inv by clearing in.current under f.mu, so this runs once.
	inv.timer.Stop()
	d := time.Since(inv.start)
	f := in.f
	f.mu.Lock()
	mem := in.maxMemMB
	f.stats.Invocations++
	if out.err != nil {
		f.stats.Errors++
	}
	if out.status == "timeout" {
		f.stats.Timeouts++
	}
	f.mu.Unlock()

	var ie *InvokeError
	if errors.As(out.err, &ie) && ie.Type == ErrorTypeExit {
		fmt.Fprintf(f.cfg.Log, "RequestId: %s Error: %s\n%s\n", inv.id, ie.Message, ie.Type)
		out.status = "error"
	}
	// Report before answering, so a caller that got its answer finds the REPORT logged.
	f.writeReport(inv, d, mem, out.status, ie)
	inv.result <- result{payload: out.payload, err: out.err}
}

func (f *Function) writeReport(inv *invocation, d time.Duration, memMB int, status string, ie *InvokeError) {
	billed := d
	if inv.cold {
		// provided.al2023 bills the init phase with the first invocation.
		billed += inv.initDur
	}
	line := fmt.Sprintf("END RequestId: %s\nREPORT RequestId: %s\tDuration: %s\tBilled Duration: %d ms\tMemory Size: %d MB\tMax Memory Used: %d MB",
		inv.id, inv.id, fmtMS(d), billedMS(billed), f.cfg.MemoryMB, memMB)
	if inv.cold {
		line += "\tInit Duration: " + fmtMS(inv.initDur)
	}
	if status != "" {
		line += "\tStatus: " + status
		if ie != nil && status == "error" && ie.Type == ErrorTypeExit {
			line += "\tError Type: " + ie.Type
		}
	}
	fmt.Fprintln(f.cfg.Log, line)
}

func fmtMS(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + " ms"
}

// billedMS rounds up to the next millisecond, as Lambda bills.
func billedMS(d time.Duration) int64 {
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}

// baseEnv builds the environment every instance of f gets, apart from the per-instance
// AWS_LAMBDA_RUNTIME_API and AWS_LAMBDA_LOG_STREAM_NAME.
func baseEnv(cfg Config) []string {
	env := map[string]string{
		// Lambda runs functions in UTC whatever the host's zone; TZ=":UTC" is its value.
		"TZ":   ":UTC",
		"LANG": "en_US.UTF-8",
		"PATH": os.Getenv("PATH"),
	}
	for k, v := range cfg.Env {
		env[k] = v
	}
	// Reserved variables: Lambda does not let a function set these.
	reserved := map[string]string{
		"AWS_REGION":                      cfg.Region,
		"AWS_DEFAULT_REGION":              cfg.Region,
		"AWS_LAMBDA_FUNCTION_NAME":        cfg.Name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(cfg.MemoryMB),
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + cfg.Name,
		"_HANDLER":                        "bootstrap",
		"LAMBDA_TASK_ROOT":                filepath.Dir(cfg.Binary),
	}
	for k, v := range reserved {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// logStreamName mimics Lambda's "2024/01/31/[$LATEST]<32 hex>".
func logStreamName() string {
	return time.Now().UTC().Format("2006/01/02") + "/[$LATEST]" + randomHex(16)
}
