// Package emulators starts the local stand-ins for AWS services that Gatehouse uses:
// DynamoDB Local (Java) and aws-ses-v2-local (Node), both installed as npm packages under
// infra/local/node_modules. Every emulator listens on 127.0.0.1 only.
package emulators

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gatehouse/gatehouse/infra/local/internal/proc"
	"github.com/gatehouse/gatehouse/internal/logline"
)

// Emulator is a running emulator process.
type Emulator struct {
	// Name is "DynamoDB Local" or "SES local".
	Name string
	// Endpoint is the base URL, http://127.0.0.1:PORT.
	Endpoint string
	Port     int
	PID      int

	cmd      *exec.Cmd
	exited   chan struct{}
	waitErr  error
	stopOnce sync.Once
	stopping chan struct{}
	tail     *tailBuffer
}

// stopGrace is how long Stop waits after SIGTERM before SIGKILL; the JVM's shutdown hooks
// finish well within it.
const stopGrace = 5 * time.Second

// Stop terminates the emulator and waits for it; it is safe to call more than once.
func (e *Emulator) Stop() {
	e.stopOnce.Do(func() {
		close(e.stopping)
		proc.Terminate(e.cmd, e.exited, stopGrace)
	})
	<-e.exited
}

// Done is closed when the emulator process has exited, whether stopped or crashed.
func (e *Emulator) Done() <-chan struct{} { return e.exited }

// Err explains an exit that Stop did not ask for; nil while running or after Stop.
func (e *Emulator) Err() error {
	select {
	case <-e.exited:
	default:
		return nil
	}
	select {
	case <-e.stopping:
		return nil
	default:
	}
	return fmt.Errorf("%s exited unexpectedly (%v)%s", e.Name, e.waitErr, e.tail.suffix())
}

// startSpec describes how to launch an emulator and recognise that it is ready.
type startSpec struct {
	name string
	cmd  *exec.Cmd
	// ready parses one line of the emulator's stdout and returns the port it listens on
	// once the line says the server is up.
	ready   func(line string) (port int, ok bool)
	timeout time.Duration
	log     io.Writer
	// probe, if set, must succeed before the emulator counts as ready.
	probe func(ctx context.Context, endpoint string) error
}

// start launches spec.cmd and waits until it reports its port, exits, or ctx ends.
func start(ctx context.Context, spec startSpec) (*Emulator, error) {
	cmd := spec.cmd
	proc.Prepare(cmd)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	e := &Emulator{Name: spec.name, cmd: cmd, exited: make(chan struct{}), stopping: make(chan struct{}), tail: &tailBuffer{}}
	logw := spec.log
	if logw == nil {
		logw = io.Discard
	}
	prefix := "[" + strings.ToLower(strings.ReplaceAll(spec.name, " ", "-")) + "] "
	cmd.Stderr = io.MultiWriter(e.tail, logline.Prefixed(logw, prefix))
	// The reader goroutine below owns stdout; Wait must not block on grandchildren that
	// inherited the pipe.
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", spec.name, err)
	}
	e.PID = cmd.Process.Pid

	ports := make(chan int, 1)
	outDone := make(chan struct{})
	go func() {
		defer close(outDone)
		scanOutput(stdout, e.tail, logw, prefix, spec.ready, ports)
	}()
	go func() {
		<-outDone
		e.waitErr = cmd.Wait()
		close(e.exited)
	}()

	ctx, cancel := context.WithTimeout(ctx, spec.timeout)
	defer cancel()
	select {
	case port := <-ports:
		e.Port = port
		e.Endpoint = fmt.Sprintf("http://127.0.0.1:%d", port)
	case <-e.exited:
		return nil, fmt.Errorf("%s exited during startup (%v)%s", spec.name, e.waitErr, e.tail.suffix())
	case <-ctx.Done():
		e.Stop()
		return nil, fmt.Errorf("%s did not start within %s%s", spec.name, spec.timeout, e.tail.suffix())
	}
	if spec.probe != nil {
		if err := spec.probe(ctx, e.Endpoint); err != nil {
			e.Stop()
			return nil, fmt.Errorf("%s started but does not answer: %w", spec.name, err)
		}
	}
	return e, nil
}

// scanOutput forwards stdout lines to the log and reports the port from the ready line.
func scanOutput(r io.Reader, tail *tailBuffer, logw io.Writer, prefix string, ready func(string) (int, bool), ports chan<- int) {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 64*1024), 1024*1024)
	reported := false
	for s.Scan() {
		line := s.Text()
		_, _ = tail.Write([]byte(line + "\n"))
		_, _ = io.WriteString(logw, prefix+line+"\n")
		if !reported {
			if port, ok := ready(line); ok {
				ports <- port
				reported = true
			}
		}
	}
	_, _ = io.Copy(io.Discard, r) // keep draining after an over-long line
}

// CheckPortFree fails with a clear message if port is taken on 127.0.0.1. Port 0 always
// passes.
func CheckPortFree(port int, what string) error {
	if port == 0 {
		return nil
	}
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("port %d (%s) is already in use on 127.0.0.1: stop whatever is using it or choose another port", port, what)
		}
		return fmt.Errorf("port %d (%s): %w", port, what, err)
	}
	return ln.Close()
}

// FindRepoRoot walks up from dir (the working directory if empty) to the directory that
// holds go.mod and template.yaml: the nested modules (tests/bench, infra/local/tools)
// have a go.mod of their own but are not the root.
func FindRepoRoot(dir string) (string, error) {
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		dir = wd
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(d, "template.yaml")); err == nil {
				return d, nil
			}
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod in %s or any parent: run this from inside the Gatehouse repository", dir)
		}
	}
}

// NodeModules returns infra/local/node_modules of the repository at repoRoot.
func NodeModules(repoRoot string) string {
	return filepath.Join(repoRoot, "infra", "local", "node_modules")
}

func errNotInstalled(what string) error {
	return fmt.Errorf("the local stack's npm packages are not installed (%s is missing): run `make deps` or `npm ci --prefix infra/local`", what)
}

// lookTool finds an executable on PATH or explains what the local stack needs it for.
func lookTool(name, purpose string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not found on PATH: %s", name, purpose)
	}
	return p, nil
}

// CheckJava fails if java is not on PATH or is older than MinJavaVersion.
func CheckJava() error {
	p, err := lookTool("java", "DynamoDB Local needs Java 17 or newer (a JDK, e.g. apt-get install openjdk-17-jdk-headless)")
	if err != nil {
		return err
	}
	return checkJavaVersion(p)
}

// CheckNode fails if node is not on PATH.
func CheckNode() error {
	_, err := lookTool("node", "aws-ses-v2-local and DynamoDB Local come from npm and need Node.js 20 or newer")
	return err
}

// tailBuffer keeps the last lines of an emulator's output for error messages.
type tailBuffer struct {
	mu    sync.Mutex
	lines []string
	part  string
}

const tailLines = 5

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.part += string(p)
	for {
		i := strings.IndexByte(t.part, '\n')
		if i < 0 {
			break
		}
		if line := strings.TrimSpace(t.part[:i]); line != "" {
			t.lines = append(t.lines, line)
			if len(t.lines) > tailLines {
				t.lines = t.lines[1:]
			}
		}
		t.part = t.part[i+1:]
	}
	return len(p), nil
}

// suffix is ": <last meaningful line>" for an error message, or "".
func (t *tailBuffer) suffix() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := append([]string(nil), t.lines...)
	if p := strings.TrimSpace(t.part); p != "" {
		lines = append(lines, p)
	}
	// Prefer a line that looks like an error over a stack-trace frame.
	for i := len(lines) - 1; i >= 0; i-- {
		l := lines[i]
		if strings.Contains(l, "Exception") || strings.Contains(strings.ToLower(l), "error") {
			return ": " + l
		}
	}
	if len(lines) > 0 {
		return ": " + lines[len(lines)-1]
	}
	return ""
}
