package stack

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gatehouse/gatehouse/infra/local/internal/proc"
)

// build compiles every template function for this host with one `go build`, so the
// packages they share compile once. Binaries are named after their directory.
func (b *backends) build(ctx context.Context) error {
	if b.opts.BinDir == "" {
		dir, err := os.MkdirTemp("", "gatehouse-local-bin-")
		if err != nil {
			return err
		}
		b.binDir, b.ownBinDir = dir, true
	} else {
		b.binDir = b.opts.BinDir
		if !filepath.IsAbs(b.binDir) {
			b.binDir = filepath.Join(b.opts.RepoRoot, b.binDir)
		}
		if err := os.MkdirAll(b.binDir, 0o755); err != nil {
			return fmt.Errorf("build directory: %w", err)
		}
	}
	if len(b.template.Functions) == 0 {
		return nil
	}
	args := []string{"build", "-tags", "lambda.norpc", "-trimpath", "-o", b.binDir + string(filepath.Separator)}
	for _, fn := range b.template.Functions {
		args = append(args, "./"+filepath.ToSlash(fn.Dir))
	}
	args = append(args, protectedRouteDirs(b.opts.ProtectedRoutes)...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = filepath.Dir(b.opts.TemplatePath)
	// On cancellation, stop the compilers and linker go started, not just go itself.
	proc.Prepare(cmd)
	cmd.Cancel = func() error { return proc.Signal(cmd, syscall.SIGKILL) }
	// Lambda's provided runtimes get static binaries; build the same way locally.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out

	start := time.Now()
	fmt.Fprintf(b.log, "[stack] building %d functions\n", len(b.template.Functions))
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("building the functions failed (go %s):\n%s", strings.Join(args, " "), strings.TrimSpace(out.String()))
	}
	fmt.Fprintf(b.log, "[stack] built %d functions in %s\n", len(b.template.Functions), time.Since(start).Round(time.Millisecond))
	return nil
}
