package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/syncbuf"
)

// command is gatehouse-local built and running for a test, its banner read.
type command struct {
	cmd    *exec.Cmd
	exited chan error
	stderr *syncbuf.Buffer
	banner string
}

// startCommand builds the command, starts it with args and env added to the environment,
// and reads its banner up to "Press Ctrl-C to stop". It is killed at the end of the test.
func startCommand(t *testing.T, env []string, args ...string) *command {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "gatehouse-local")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	c := &command{cmd: exec.Command(bin, args...), exited: make(chan error, 1), stderr: &syncbuf.Buffer{}}
	c.cmd.Env = append(os.Environ(), env...)
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c.cmd.Stderr = c.stderr
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("stderr:\n%s", c.stderr.String())
		}
	})
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.exited <- c.cmd.Wait() }()
	t.Cleanup(func() { _ = c.cmd.Process.Kill() })

	var banner strings.Builder
	lines := bufio.NewScanner(stdout)
	deadline := time.AfterFunc(3*time.Minute, func() { _ = c.cmd.Process.Kill() })
	for lines.Scan() {
		banner.WriteString(lines.Text() + "\n")
		if strings.Contains(lines.Text(), "Press Ctrl-C to stop") {
			break
		}
	}
	deadline.Stop()
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	c.banner = banner.String()
	return c
}

// stop sends SIGTERM and fails the test unless the command then exits 0 within 30 s.
func (c *command) stop(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-c.exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit 30 s after SIGTERM")
	}
}
