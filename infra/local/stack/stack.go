// Package stack composes Gatehouse's local stack from the SAM template out of two parts:
// the backends (DynamoDB Local and the SES emulator, the template's table, every function
// built natively; backends.go, build.go) and API gateways in front of them (the HTTP API
// routing to the functions run under the local Lambda runtime, their Lambda authorizers and
// per-function IAM guards; apigateway.go). Start brings up both; NewGateway adds another
// gateway on the same backends. `make run` and the end-to-end tests both start it through
// Start. docs/DESIGN.md describes the stack as a whole.
package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/infra/local/lambdart"
	"github.com/gatehouse/gatehouse/infra/local/samtemplate"
)

// The fixed ports and names of `make run`.
const (
	DefaultGatewayPort  = 3000
	DefaultDynamoDBPort = 8000
	DefaultSESPort      = 8005
	DefaultTableName    = "gatehouse-local"
	// DefaultDataDir is DynamoDB Local's data directory for `make run`, relative to the
	// repository root.
	DefaultDataDir = ".local/dynamodb"
	// DefaultBinDir is where `make run` builds the functions, relative to the repository.
	DefaultBinDir = ".local/bin"
)

// LocalParameters are the template parameter values of the local stack; Options.Parameters
// add to and override them.
func LocalParameters() map[string]string {
	return map[string]string{"SenderEmail": "no-reply@gatehouse.local"}
}

// Options configure Start. The zero value is what tests want: free ports, DynamoDB in
// memory, functions built into a temporary directory.
type Options struct {
	// RepoRoot is the repository root; "" finds it from the working directory.
	RepoRoot string
	// TemplatePath defaults to <RepoRoot>/template.yaml. Function sources are resolved
	// relative to the template's directory.
	TemplatePath string

	// Ports on 127.0.0.1; 0 picks a free port.
	Port         int
	DynamoDBPort int
	SESPort      int
	// DynamoDBDataDir keeps DynamoDB's data across runs; "" keeps it in memory.
	DynamoDBDataDir string
	// BinDir receives the built functions; "" uses a temporary directory removed by Stop.
	BinDir string
	// TableName is the name of the template's table (the local stack runs at most one);
	// "" means gatehouse-local.
	TableName string

	// Parameters override template parameters on top of LocalParameters.
	Parameters map[string]string
	// Environ is the host environment (os.Environ() for `make run`): a variable that the
	// template declares for a function and that is set here overrides the template's value,
	// so `ALLOW_REGISTRATION=false make run` works; a template parameter's ParameterEnvName
	// set here sets the parameter (CORS_ALLOWED_ORIGINS). Other host variables never reach
	// the functions.
	Environ []string
	// EnvOverrides is applied last, to every function, whatever the template declares.
	EnvOverrides map[string]string

	// LogWriter receives the stack's own lines, the gateway's access log, the emulators'
	// output and the functions' START/END/REPORT lines; FunctionLogWriter receives the
	// functions' stdout and stderr. nil discards.
	LogWriter         io.Writer
	FunctionLogWriter io.Writer

	// AfterTable runs after the table exists and before the gateway serves, e.g. to seed
	// data.
	AfterTable func(ctx context.Context, dynamoEndpoint, tableName string) error

	// MaxInstances caps concurrent instances per function (0 means lambdart's default, 16);
	// IdleTimeout reaps idle instances (0 means lambdart's default, 5 minutes).
	MaxInstances int
	IdleTimeout  time.Duration

	// TokenIndexKey is the admin functions' token-index key (tokenindex.go); "" takes the
	// one kept in DynamoDBDataDir, or a new one for a stack in memory.
	TokenIndexKey string

	// ProtectedRoutes are test-only routes, not in the template, each served by a function
	// outside it behind one of the template's functions as Lambda authorizer (protected.go).
	ProtectedRoutes []ProtectedRoute
}

// Stack is a running local stack: a gateway, and the backends it either started (Start)
// or shares with the stack it came from (NewGateway).
type Stack struct {
	// URL is the gateway's base URL, http://127.0.0.1:PORT.
	URL string
	// DynamoEndpoint and SESEndpoint are the emulators' base URLs.
	DynamoEndpoint string
	SESEndpoint    string
	// TableName is the table's name.
	TableName string
	// Template is the parsed SAM template.
	Template *samtemplate.Template
	// TokenIndexKey is the token-index key the admin functions get.
	TokenIndexKey string

	b      *backends
	gw     *apiGateway
	parent *Stack // nil when this stack owns b

	failed   chan struct{} // closed on the first unexpected failure
	failOnce sync.Once
	failErr  error

	mu       sync.Mutex
	children map[*Stack]struct{}
	stopped  bool
	stopErr  error
}

func newStack(b *backends, parent *Stack) *Stack {
	return &Stack{
		DynamoEndpoint: b.dynamoEndpoint, SESEndpoint: b.sesEndpoint, TableName: b.tableName,
		Template: b.template, TokenIndexKey: b.tokenIndexKey,
		b: b, parent: parent, failed: make(chan struct{}), children: map[*Stack]struct{}{},
	}
}

// Start starts a stack. On error, everything started so far is stopped again.
func Start(ctx context.Context, opts Options) (*Stack, error) {
	b, err := loadBackends(opts)
	if err != nil {
		return nil, err
	}
	s := newStack(b, nil)
	b.onFail = s.fail
	s.gw = &apiGateway{b: b, opts: opts, onFail: s.fail}
	if err := s.start(ctx); err != nil {
		_ = s.Stop(context.Background())
		return nil, err
	}
	return s, nil
}

func (s *Stack) start(ctx context.Context) error {
	// The cheap checks first, so a template problem, a missing tool or a taken port fails
	// in one clear line before anything slow starts.
	if err := s.gw.check(); err != nil {
		return err
	}
	if err := s.b.checkTools(); err != nil {
		return err
	}
	if err := s.gw.listen(); err != nil {
		return err
	}
	s.URL = s.gw.url
	if err := s.b.start(ctx); err != nil {
		return err
	}
	s.DynamoEndpoint, s.SESEndpoint = s.b.dynamoEndpoint, s.b.sesEndpoint
	if hook := s.gw.opts.AfterTable; hook != nil {
		if err := hook(ctx, s.DynamoEndpoint, s.TableName); err != nil {
			return fmt.Errorf("after table setup: %w", err)
		}
	}
	if err := s.gw.start(); err != nil {
		return err
	}
	s.b.watch()
	fmt.Fprintf(s.b.log, "[stack] gateway at %s with %d functions\n", s.URL, len(s.gw.functions))
	return nil
}

// NewGateway starts another gateway with its own function instances against this stack's
// backends (emulators, table, built functions), with envOverrides applied on top of this
// stack's EnvOverrides; it costs no emulator start or build. Stop it on its own, or it
// stops with this stack.
func (s *Stack) NewGateway(ctx context.Context, envOverrides map[string]string) (*Stack, error) {
	return s.newGateway(envOverrides, nil)
}

// NewGatewayEnviron is NewGateway for a host environment (as make run passes os.Environ):
// the template's parameters and variables it names apply to the new gateway's functions.
func (s *Stack) NewGatewayEnviron(ctx context.Context, environ []string) (*Stack, error) {
	return s.newGateway(nil, environ)
}

func (s *Stack) newGateway(envOverrides map[string]string, environ []string) (*Stack, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil, errors.New("stack: NewGateway on a stopped stack")
	}
	opts := s.gw.opts
	opts.Port = 0
	opts.AfterTable = nil
	if environ != nil {
		opts.Environ = environ
	}
	opts.EnvOverrides = map[string]string{}
	for _, m := range []map[string]string{s.gw.opts.EnvOverrides, envOverrides} {
		for k, v := range m {
			opts.EnvOverrides[k] = v
		}
	}
	c := newStack(s.b, s)
	c.gw = &apiGateway{b: s.b, opts: opts, onFail: c.fail}
	err := c.gw.check()
	if err == nil {
		err = c.gw.listen()
	}
	if err == nil {
		c.URL = c.gw.url
		err = c.gw.start()
	}
	if err != nil {
		_ = c.gw.stop(context.Background())
		return nil, err
	}
	s.children[c] = struct{}{}
	return c, nil
}

func (s *Stack) fail(err error) {
	s.failOnce.Do(func() {
		s.failErr = err
		close(s.failed)
	})
}

// Done is closed when the stack fails while running (an emulator died, the gateway
// stopped serving); Err then says why. Stop does not close it.
func (s *Stack) Done() <-chan struct{} { return s.failed }

// Err returns the failure that closed Done, or nil.
func (s *Stack) Err() error {
	select {
	case <-s.failed:
		return s.failErr
	default:
		return nil
	}
}

// Stats returns each function's statistics (instances, invocations, cold starts) in
// template order.
func (s *Stack) Stats() []lambdart.Stats {
	out := make([]lambdart.Stats, 0, len(s.gw.functions))
	for _, f := range s.gw.functions {
		out = append(out, f.Stats())
	}
	return out
}

// PIDs returns the process IDs the stack runs: its own emulators and its functions'
// instances (a gateway started with NewGateway lists only its instances).
func (s *Stack) PIDs() []int {
	var pids []int
	if s.parent == nil {
		pids = s.b.pids()
	}
	for _, st := range s.Stats() {
		pids = append(pids, st.PIDs...)
	}
	return pids
}

// Denials lists the DynamoDB and SES calls the functions' policies refused so far, through any
// gateway on these backends: a call the code makes that template.yaml does not allow.
func (s *Stack) Denials() []string { return s.b.deniedCalls() }

// FunctionEnv returns the environment the stack gives the function with this logical ID
// (the template's, resolved, with the emulators' endpoints), for running its binary under
// another runtime (tests/rie).
func (s *Stack) FunctionEnv(logicalID string) (map[string]string, error) {
	fn, ok := s.Template.Function(logicalID)
	if !ok {
		return nil, fmt.Errorf("no function %s in the template", logicalID)
	}
	return s.gw.functionEnv(fn)
}

// FunctionBinary returns the path of the function's binary built for this host.
func (s *Stack) FunctionBinary(logicalID string) string {
	return s.b.binary(samtemplate.FunctionDir(logicalID))
}

// Stop stops the gateways started from this stack, the gateway, every function instance
// and, for a stack from Start, the backends. It waits for every process to exit. Calling
// it again returns the first result.
func (s *Stack) Stop(ctx context.Context) error {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return s.stopErr
	}
	s.stopped = true
	children := make([]*Stack, 0, len(s.children))
	for c := range s.children {
		children = append(children, c)
	}
	s.mu.Unlock()

	var errs []error
	for _, c := range children {
		errs = append(errs, c.Stop(ctx))
	}
	if s.gw != nil {
		errs = append(errs, s.gw.stop(ctx))
	}
	if p := s.parent; p != nil {
		p.mu.Lock()
		delete(p.children, s)
		p.mu.Unlock()
	} else {
		errs = append(errs, s.b.stop())
	}
	err := errors.Join(errs...)
	s.mu.Lock()
	s.stopErr = err
	s.mu.Unlock()
	return err
}

// HostOverrides lists the template variables that environ overrides for any function, as
// NAME=value, for the banner of `make run`.
func HostOverrides(tmpl *samtemplate.Template, environ []string) []string {
	host := environMap(environ)
	seen := map[string]bool{}
	var out []string
	for _, fn := range tmpl.Functions {
		for k := range fn.Environment {
			if v, ok := host[k]; ok && !seen[k] {
				seen[k] = true
				out = append(out, k+"="+v)
			}
		}
	}
	for name, v := range ParameterOverrides(tmpl, environ) {
		if k := ParameterEnvName(name); !seen[k] {
			seen[k] = true
			out = append(out, k+"="+v+" (parameter "+name+")")
		}
	}
	sort.Strings(out)
	return out
}

func environMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}
