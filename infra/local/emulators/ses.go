package emulators

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// SESOptions configure StartSES.
type SESOptions struct {
	// Port to listen on (127.0.0.1 only); 0 picks a free port.
	Port int
	// RepoRoot is the repository holding infra/local; "" finds it from the working
	// directory.
	RepoRoot string
	// Log receives the emulator's output, prefixed; nil discards.
	Log io.Writer
	// StartTimeout bounds startup; 0 means 30 s.
	StartTimeout time.Duration
}

const sesReadyPrefix = "aws-ses-v2-local: server running at "

// SESCLIPath returns aws-ses-v2-local's CLI script.
func SESCLIPath(repoRoot string) (string, error) {
	cli := filepath.Join(NodeModules(repoRoot), "aws-ses-v2-local", "dist", "cli.js")
	if _, err := os.Stat(cli); err != nil {
		return "", errNotInstalled("aws-ses-v2-local")
	}
	return cli, nil
}

// StartSES starts aws-ses-v2-local on 127.0.0.1 and waits until it answers. Its web inbox
// is at Endpoint; GET /store returns the sent mails as JSON, POST /clear-store clears them.
func StartSES(ctx context.Context, opts SESOptions) (*Emulator, error) {
	root, err := repoRoot(opts.RepoRoot)
	if err != nil {
		return nil, err
	}
	if err := CheckNode(); err != nil {
		return nil, err
	}
	cli, err := SESCLIPath(root)
	if err != nil {
		return nil, err
	}
	if err := CheckPortFree(opts.Port, "SES local"); err != nil {
		return nil, err
	}
	cmd := exec.Command("node", cli, "--host", "127.0.0.1", "--port", strconv.Itoa(opts.Port))
	cmd.Dir = root
	// SMTP_TRANSPORT would make the emulator relay mails to a real SMTP server; a local
	// stack must never send real mail.
	cmd.Env = withoutVar(os.Environ(), "SMTP_TRANSPORT")

	return start(ctx, startSpec{
		name:    "SES local",
		cmd:     cmd,
		ready:   sesReady,
		timeout: orDefault(opts.StartTimeout, 30*time.Second),
		log:     opts.Log,
		probe:   sesHealthy,
	})
}

// sesReady parses "aws-ses-v2-local: server running at http://localhost:PORT".
func sesReady(line string) (int, bool) {
	rest, ok := strings.CutPrefix(line, sesReadyPrefix)
	if !ok {
		return 0, false
	}
	i := strings.LastIndexByte(rest, ':')
	if i < 0 {
		return 0, false
	}
	port, err := strconv.Atoi(strings.TrimRight(rest[i+1:], "/ "))
	return port, err == nil && port > 0
}

func sesHealthy(ctx context.Context, endpoint string) error {
	return sesCall(ctx, http.MethodGet, endpoint+"/health-check", nil)
}

func withoutVar(env []string, name string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}
