// Command gatehouse-local runs Gatehouse on this machine, as `make run` does: DynamoDB
// Local, SES local, and every function of template.yaml behind a local HTTP API gateway,
// all on 127.0.0.1. Data persists in .local/dynamodb between runs.
//
// Usage:
//
//	go run ./infra/local/cmd/gatehouse-local [-port 3000] [-dynamodb-port 8000] [-ses-port 8005]
//	    [-data-dir .local/dynamodb] [-in-memory] [-quiet] [-emulators-only]
//
// -emulators-only (make emulators) starts only DynamoDB Local with the table and the SES
// emulator, for sam local start-api.
//
// Template variables set in the environment override the template's values
// (ALLOW_REGISTRATION=false make run); LOCAL_ADMIN_PASSWORD sets the local admin's
// password, otherwise a random one is printed at startup.
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gatehouse/gatehouse/infra/local/emulators"
	"github.com/gatehouse/gatehouse/infra/local/stack"
)

// shutdownTimeout bounds a clean shutdown; in-flight requests get this long to finish.
const shutdownTimeout = 15 * time.Second

type config struct {
	port, dynamoPort, sesPort int
	dataDir                   string
	inMemory                  bool
	quiet                     bool
	emulatorsOnly             bool
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	cfg, err := parseFlags(args)
	if err != nil {
		return 2 // flag has printed the problem and usage
	}
	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	if cfg.emulatorsOnly {
		if err := runEmulators(ctx, cfg, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "gatehouse-local: "+err.Error())
			return 1
		}
		return 0
	}

	st, password, generated, err := start(ctx, cfg)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(os.Stderr, "gatehouse-local: interrupted during startup")
			return 130
		}
		fmt.Fprintln(os.Stderr, "gatehouse-local: "+err.Error())
		return 1
	}
	printBanner(os.Stdout, st, cfg, password, generated)

	code := 0
	select {
	case <-ctx.Done():
		fmt.Fprintln(os.Stderr, "gatehouse-local: shutting down")
	case <-st.Done():
		fmt.Fprintln(os.Stderr, "gatehouse-local: "+st.Err().Error())
		code = 1
	}
	// From here a second Ctrl-C kills the process at once; the children die with it
	// (Pdeathsig).
	stopSignals()
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := st.Stop(sctx); err != nil {
		fmt.Fprintln(os.Stderr, "gatehouse-local: shutdown: "+err.Error())
		code = 1
	}
	return code
}

func parseFlags(args []string) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("gatehouse-local", flag.ContinueOnError)
	fs.IntVar(&cfg.port, "port", stack.DefaultGatewayPort, "gateway (API) port on 127.0.0.1")
	fs.IntVar(&cfg.dynamoPort, "dynamodb-port", stack.DefaultDynamoDBPort, "DynamoDB Local port on 127.0.0.1")
	fs.IntVar(&cfg.sesPort, "ses-port", stack.DefaultSESPort, "SES local (and mail inbox) port on 127.0.0.1")
	fs.StringVar(&cfg.dataDir, "data-dir", stack.DefaultDataDir, "DynamoDB Local data directory, relative to the repository root")
	fs.BoolVar(&cfg.inMemory, "in-memory", false, "keep DynamoDB data in memory only (nothing survives a restart)")
	fs.BoolVar(&cfg.quiet, "quiet", false, "do not print the access log, Lambda REPORT lines and emulator output")
	fs.BoolVar(&cfg.emulatorsOnly, "emulators-only", false, "start only DynamoDB Local (with the table) and the SES emulator, for sam local")
	return cfg, fs.Parse(args)
}

// start starts the stack with the local admin hook and returns the admin password and
// whether it was generated.
func start(ctx context.Context, cfg config) (*stack.Stack, string, bool, error) {
	root, err := emulators.FindRepoRoot("")
	if err != nil {
		return nil, "", false, err
	}
	password, generated := os.Getenv("LOCAL_ADMIN_PASSWORD"), false
	if password == "" {
		password, generated = rand.Text(), true // 26 characters, 130 bits
	}
	var logw io.Writer = os.Stderr
	if cfg.quiet {
		logw = nil
	}
	opts := stack.Options{
		RepoRoot:          root,
		Port:              cfg.port,
		DynamoDBPort:      cfg.dynamoPort,
		SESPort:           cfg.sesPort,
		BinDir:            filepath.Join(root, stack.DefaultBinDir),
		Environ:           os.Environ(),
		LogWriter:         logw,
		FunctionLogWriter: os.Stderr,
		AfterTable: func(ctx context.Context, dynamoEndpoint, table string) error {
			return ensureLocalAdmin(ctx, dynamoEndpoint, table, password)
		},
	}
	if !cfg.inMemory {
		opts.DynamoDBDataDir = cfg.dataDir
		if !filepath.IsAbs(cfg.dataDir) {
			opts.DynamoDBDataDir = filepath.Join(root, cfg.dataDir)
		}
	}
	st, err := stack.Start(ctx, opts)
	return st, password, generated, err
}

func printBanner(w io.Writer, st *stack.Stack, cfg config, password string, generated bool) {
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Gatehouse is running locally.")
	fmt.Fprintf(w, "  API        %s\n", st.URL)
	for _, fn := range st.Template.Functions {
		for _, r := range fn.Routes {
			fmt.Fprintf(w, "               %-28s -> %s\n", r.Key(), fn.LogicalID)
		}
	}
	fmt.Fprintf(w, "  Inbox      %s   (mails the functions send; JSON at /store)\n", st.SESEndpoint)
	if cfg.inMemory {
		fmt.Fprintf(w, "  DynamoDB   %s   table %s, in memory\n", st.DynamoEndpoint, st.TableName)
	} else {
		fmt.Fprintf(w, "  DynamoDB   %s   table %s, data in %s\n", st.DynamoEndpoint, st.TableName, cfg.dataDir)
	}
	if generated {
		fmt.Fprintf(w, "  Admin      username %s, password %s   (random; set LOCAL_ADMIN_PASSWORD to choose one)\n", localAdmin, password)
	} else {
		fmt.Fprintf(w, "  Admin      username %s, password from $LOCAL_ADMIN_PASSWORD\n", localAdmin)
	}
	if o := stack.HostOverrides(st.Template, os.Environ()); len(o) > 0 {
		fmt.Fprintf(w, "  From env   %s\n", strings.Join(o, " "))
	}
	if !cfg.inMemory {
		fmt.Fprintf(w, "  Reset      stop, then make reset-local (deletes %s)\n", cfg.dataDir)
	}
	fmt.Fprintln(w, "Press Ctrl-C to stop.")
	fmt.Fprintln(w)
}
