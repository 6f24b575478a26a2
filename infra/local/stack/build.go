package stack

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gatehouse/gatehouse/infra/local/internal/proc"
)

// build compiles every template function for this host with one `go build`, so the
// packages they share compile once. Binaries are named after their directory.
func (s *Stack) build(ctx context.Context) error {
	if s.opts.BinDir == "" {
		dir, err := os.MkdirTemp("", "gatehouse-local-bin-")
		if err != nil {
			return err
		}
		s.binDir, s.ownBinDir = dir, true
	} else {
		s.binDir = s.opts.BinDir
		if !filepath.IsAbs(s.binDir) {
			s.binDir = filepath.Join(s.opts.RepoRoot, s.binDir)
		}
		if err := os.MkdirAll(s.binDir, 0o755); err != nil {
			return fmt.Errorf("build directory: %w", err)
		}
	}
	if len(s.Template.Functions) == 0 {
		return nil
	}
	args := []string{"build", "-tags", "lambda.norpc", "-trimpath", "-o", s.binDir + string(filepath.Separator)}
	for _, fn := range s.Template.Functions {
		args = append(args, "./"+filepath.ToSlash(fn.Dir))
	}
	args = append(args, s.protectedRouteDirs()...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = filepath.Dir(s.opts.TemplatePath)
	// On cancellation, stop the compilers and linker go started, not just go itself.
	proc.Prepare(cmd)
	cmd.Cancel = func() error { return proc.Signal(cmd, syscall.SIGKILL) }
	// Lambda's provided runtimes get static binaries; build the same way locally.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out

	start := time.Now()
	fmt.Fprintf(s.log, "[stack] building %d functions\n", len(s.Template.Functions))
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("building the functions failed (go %s):\n%s", strings.Join(args, " "), strings.TrimSpace(out.String()))
	}
	fmt.Fprintf(s.log, "[stack] built %d functions in %s\n", len(s.Template.Functions), time.Since(start).Round(time.Millisecond))
	return nil
}

// syncWriter serialises writes to w, which many instances and goroutines share; nil
// becomes io.Discard.
func syncWriter(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return &lockedWriter{w: w}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// prefixed writes each Write (lambdart and the gateway write whole lines) with prefix on
// every line.
func prefixed(w io.Writer, prefix string) io.Writer {
	return &prefixWriter{w: w, prefix: prefix}
}

type prefixWriter struct {
	w      io.Writer
	prefix string
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	lines := strings.SplitAfter(string(b), "\n")
	var buf strings.Builder
	for _, l := range lines {
		if l != "" {
			buf.WriteString(p.prefix)
			buf.WriteString(l)
		}
	}
	if _, err := io.WriteString(p.w, buf.String()); err != nil {
		return 0, err
	}
	return len(b), nil
}
