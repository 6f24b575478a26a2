// Package stack composes Gatehouse's local stack from the SAM template: DynamoDB Local and
// SES local, the table, every function built natively and run under the local Lambda
// runtime, and the HTTP API gateway in front of them. `make run` and the end-to-end tests
// both start it through Start.
package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/infra/local/apidocs"
	"github.com/gatehouse/gatehouse/infra/local/emulators"
	"github.com/gatehouse/gatehouse/infra/local/gateway"
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
	// TableName is the name of the template's table (with several tables, each gets
	// TableName-<logical id>); "" means gatehouse-local.
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

	// AfterTable runs after the tables exist and before the gateway serves, e.g. to seed
	// data.
	AfterTable func(ctx context.Context, dynamoEndpoint, tableName string) error

	// ReuseEmulatorsFrom starts only a new gateway and function instances against another
	// stack's emulators, tables and built functions; see (*Stack).NewGateway.
	ReuseEmulatorsFrom *Stack

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

// Stack is a running local stack.
type Stack struct {
	// URL is the gateway's base URL, http://127.0.0.1:PORT.
	URL string
	// DynamoEndpoint and SESEndpoint are the emulators' base URLs.
	DynamoEndpoint string
	SESEndpoint    string
	// TableName is the first (in Gatehouse, the only) table's name; Tables maps every
	// table's logical ID to its name.
	TableName string
	Tables    map[string]string
	// Template is the parsed SAM template.
	Template *samtemplate.Template
	// TokenIndexKey is the token-index key the admin functions get.
	TokenIndexKey string

	opts      Options
	log       io.Writer
	fnLog     io.Writer
	parent    *Stack
	dynamo    *emulators.Emulator // nil when reused
	ses       *emulators.Emulator // nil when reused
	binDir    string
	ownBinDir bool
	functions []*lambdart.Function
	server    *http.Server
	served    chan struct{}

	failed   chan struct{} // closed on the first unexpected failure
	failOnce sync.Once
	failErr  error

	mu       sync.Mutex
	children map[*Stack]struct{}
	stopped  bool
	stopErr  error
	watchers sync.WaitGroup
	quit     chan struct{}

	// The functions' DynamoDB guards (iam.go) and what they refused.
	guardMu sync.Mutex
	guards  []*http.Server
	denials []string
}

// Start starts a stack. On error, everything started so far is stopped again.
func Start(ctx context.Context, opts Options) (*Stack, error) {
	s := &Stack{
		opts:     opts,
		log:      syncWriter(opts.LogWriter),
		fnLog:    syncWriter(opts.FunctionLogWriter),
		failed:   make(chan struct{}),
		quit:     make(chan struct{}),
		children: map[*Stack]struct{}{},
		Tables:   map[string]string{},
	}
	if err := s.start(ctx); err != nil {
		_ = s.Stop(context.Background())
		return nil, err
	}
	return s, nil
}

// NewGateway starts another gateway with its own function instances against this stack's
// emulators, tables and built functions, with envOverrides applied on top of this stack's
// EnvOverrides; it costs no emulator start or build. Stop it on its own, or it stops with
// this stack.
func (s *Stack) NewGateway(ctx context.Context, envOverrides map[string]string) (*Stack, error) {
	opts := s.opts
	opts.Port = 0
	opts.AfterTable = nil
	opts.ReuseEmulatorsFrom = s
	opts.EnvOverrides = map[string]string{}
	for k, v := range s.opts.EnvOverrides {
		opts.EnvOverrides[k] = v
	}
	for k, v := range envOverrides {
		opts.EnvOverrides[k] = v
	}
	return Start(ctx, opts)
}

func (s *Stack) start(ctx context.Context) error {
	if err := s.setTokenIndexKey(); err != nil {
		return err
	}
	if p := s.opts.ReuseEmulatorsFrom; p != nil {
		if err := s.adopt(p); err != nil {
			return err
		}
	} else if err := s.prepare(); err != nil {
		return err
	}
	// Hold the gateway port from the start, so a taken port fails before slow work.
	ln, err := listen(s.opts.Port, "gateway")
	if err != nil {
		return err
	}
	s.URL = "http://" + ln.Addr().String()
	gw, err := s.bringUp(ctx)
	if err != nil {
		ln.Close()
		return err
	}
	s.serve(ln, gw)
	s.watchEmulators()
	fmt.Fprintf(s.log, "[stack] gateway at %s with %d functions\n", s.URL, len(s.functions))
	return nil
}

// bringUp starts the emulators and builds (unless reusing another stack's), makes sure the
// tables exist, runs the AfterTable hook and creates the functions and the gateway.
func (s *Stack) bringUp(ctx context.Context) (http.Handler, error) {
	if s.parent == nil {
		if err := s.startBackends(ctx); err != nil {
			return nil, err
		}
	}
	if err := s.ensureTables(ctx); err != nil {
		return nil, err
	}
	if s.opts.AfterTable != nil {
		if err := s.opts.AfterTable(ctx, s.DynamoEndpoint, s.TableName); err != nil {
			return nil, fmt.Errorf("after table setup: %w", err)
		}
	}
	return s.startFunctions()
}

// prepare loads the template and runs the cheap checks before anything starts, so a
// missing tool or a taken port fails in one clear line.
func (s *Stack) prepare() error {
	root := s.opts.RepoRoot
	if root == "" {
		r, err := emulators.FindRepoRoot("")
		if err != nil {
			return err
		}
		root = r
	}
	s.opts.RepoRoot = root
	if s.opts.TemplatePath == "" {
		s.opts.TemplatePath = filepath.Join(root, "template.yaml")
	}
	tmpl, err := samtemplate.Load(s.opts.TemplatePath)
	if err != nil {
		return fmt.Errorf("reading the SAM template: %w", err)
	}
	s.Template = tmpl
	s.nameTables()
	// Resolve every function's environment now (the endpoints are not known yet and do
	// not matter) so that a parameter problem fails before anything starts.
	for _, fn := range tmpl.Functions {
		if _, err := s.functionEnv(fn); err != nil {
			return err
		}
	}
	if _, err := s.gatewayCORS(); err != nil {
		return err
	}

	if err := emulators.CheckJava(); err != nil {
		return err
	}
	if err := emulators.CheckNode(); err != nil {
		return err
	}
	if _, _, err := emulators.DynamoDBLocalPaths(root); err != nil {
		return err
	}
	if _, err := emulators.SESCLIPath(root); err != nil {
		return err
	}
	checks := []struct {
		port int
		what string
	}{
		{s.opts.DynamoDBPort, "DynamoDB Local"},
		{s.opts.SESPort, "SES local"},
	}
	for _, c := range checks {
		if err := emulators.CheckPortFree(c.port, c.what); err != nil {
			return err
		}
	}
	return nil
}

// adopt takes the template, emulators, tables and binaries of parent.
func (s *Stack) adopt(parent *Stack) error {
	parent.mu.Lock()
	defer parent.mu.Unlock()
	if parent.stopped {
		return errors.New("stack: ReuseEmulatorsFrom is a stopped stack")
	}
	s.parent = parent
	s.Template = parent.Template
	s.DynamoEndpoint, s.SESEndpoint = parent.DynamoEndpoint, parent.SESEndpoint
	s.TableName = parent.TableName
	for k, v := range parent.Tables {
		s.Tables[k] = v
	}
	s.binDir = parent.binDir
	parent.children[s] = struct{}{}
	return nil
}

func (s *Stack) nameTables() {
	base := s.opts.TableName
	if base == "" {
		base = DefaultTableName
	}
	for i, t := range s.Template.Tables {
		name := base
		if len(s.Template.Tables) > 1 {
			name = base + "-" + strings.ToLower(t.LogicalID)
		}
		s.Tables[t.LogicalID] = name
		if i == 0 {
			s.TableName = name
		}
	}
}

// startBackends starts both emulators and builds the functions, all at once; the first
// failure cancels the rest.
func (s *Stack) startBackends(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	run := func(f func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(ctx); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
					cancel()
				}
				mu.Unlock()
			}
		}()
	}
	run(func(ctx context.Context) error {
		e, err := emulators.StartDynamoDB(ctx, emulators.DynamoDBOptions{
			Port: s.opts.DynamoDBPort, DataDir: s.opts.DynamoDBDataDir, RepoRoot: s.opts.RepoRoot, Log: s.log,
		})
		if err == nil {
			s.dynamo, s.DynamoEndpoint = e, e.Endpoint
		}
		return err
	})
	run(func(ctx context.Context) error {
		e, err := emulators.StartSES(ctx, emulators.SESOptions{Port: s.opts.SESPort, RepoRoot: s.opts.RepoRoot, Log: s.log})
		if err == nil {
			s.ses, s.SESEndpoint = e, e.Endpoint
		}
		return err
	})
	run(s.build)
	wg.Wait()
	return firstErr
}

func (s *Stack) ensureTables(ctx context.Context) error {
	client := emulators.DynamoDBClient(s.DynamoEndpoint)
	for _, t := range s.Template.Tables {
		if err := samtemplate.CreateTable(ctx, client, s.Template, t.LogicalID, s.Tables[t.LogicalID]); err != nil {
			return err
		}
	}
	return nil
}

// startFunctions creates a lambdart.Function per template function (instances start on
// first use) and the gateway routing to them.
func (s *Stack) startFunctions() (http.Handler, error) {
	var routes []gateway.Route
	for _, fn := range s.Template.Functions {
		env, err := s.functionEnv(fn)
		if err != nil {
			return nil, err
		}
		if err := s.guard(fn, env); err != nil {
			return nil, err
		}
		f, err := lambdart.New(lambdart.Config{
			Name:         fn.LogicalID,
			Binary:       filepath.Join(s.binDir, filepath.Base(fn.Dir)),
			Env:          env,
			Timeout:      fn.Timeout,
			MemoryMB:     fn.MemorySize,
			Region:       emulators.Region,
			MaxInstances: s.opts.MaxInstances,
			IdleTimeout:  s.opts.IdleTimeout,
			Log:          prefixed(s.log, "["+fn.LogicalID+"] "),
			Output:       s.fnLog,
		})
		if err != nil {
			return nil, err
		}
		s.functions = append(s.functions, f)
		for _, r := range fn.Routes {
			routes = append(routes, gateway.Route{Method: r.Method, Path: r.Path, Function: f})
		}
	}
	protected, err := s.protectedRoutes()
	if err != nil {
		return nil, err
	}
	routes = append(routes, protected...)
	cors, err := s.gatewayCORS()
	if err != nil {
		return nil, err
	}
	gw, err := gateway.New(routes, gateway.Options{AccessLog: prefixed(s.log, "[gateway] "), CORS: cors})
	if err != nil {
		return nil, err
	}
	return gw, nil
}

// functionEnv resolves fn's template environment and layers the local settings on top.
func (s *Stack) functionEnv(fn samtemplate.Function) (map[string]string, error) {
	env, err := s.Template.Env(fn, samtemplate.Resolver{
		Parameters: s.parameters(),
		Refs:       s.Tables,
		Region:     emulators.Region,
	})
	if err != nil {
		return nil, err
	}
	local := map[string]string{
		// The Go SDK sends a service's calls to AWS_ENDPOINT_URL_<SERVICE> when set.
		"AWS_ENDPOINT_URL_DYNAMODB": s.DynamoEndpoint,
		"AWS_ENDPOINT_URL_SESV2":    s.SESEndpoint,
		"AWS_ACCESS_KEY_ID":         "local",
		"AWS_SECRET_ACCESS_KEY":     "local",
		"AWS_EC2_METADATA_DISABLED": "true",
		// DynamoDB Local on a busy machine can take seconds (pkg/awsenv/bounds.go).
		"AWS_RESPONSE_TIMEOUT": "30s",
	}
	for k, v := range local {
		// The template declares the endpoints empty (for sam local); empty is unset.
		if cur, declared := env[k]; !declared || cur == "" {
			env[k] = v
		}
	}
	localTokenIndexEnv(env, s.opts.TokenIndexKey)
	host := environMap(s.opts.Environ)
	for k := range fn.Environment {
		if v, ok := host[k]; ok {
			env[k] = v
		}
	}
	for k, v := range s.opts.EnvOverrides {
		env[k] = v
	}
	return env, nil
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

func (s *Stack) serve(ln net.Listener, gw http.Handler) {
	// The API's documentation (GET /openapi.yaml, /docs) is served beside the routes.
	s.server = &http.Server{Handler: apidocs.Handler(s.opts.RepoRoot, gw), ReadHeaderTimeout: 10 * time.Second}
	s.served = make(chan struct{})
	go func() {
		defer close(s.served)
		if err := s.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.fail(fmt.Errorf("gateway: %w", err))
		}
	}()
}

// watchEmulators reports an emulator that exits on its own through Done and Err.
func (s *Stack) watchEmulators() {
	for _, e := range []*emulators.Emulator{s.dynamo, s.ses} {
		if e == nil {
			continue
		}
		s.watchers.Add(1)
		go func() {
			defer s.watchers.Done()
			select {
			case <-e.Done():
				if err := e.Err(); err != nil {
					s.fail(err)
				}
			case <-s.quit:
			}
		}()
	}
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
	out := make([]lambdart.Stats, 0, len(s.functions))
	for _, f := range s.functions {
		out = append(out, f.Stats())
	}
	return out
}

// PIDs returns the process IDs the stack runs: its own emulators and its functions'
// instances (a gateway started with NewGateway lists only its instances).
func (s *Stack) PIDs() []int {
	var pids []int
	for _, e := range []*emulators.Emulator{s.dynamo, s.ses} {
		if e != nil {
			pids = append(pids, e.PID)
		}
	}
	for _, f := range s.functions {
		pids = append(pids, f.Stats().PIDs...)
	}
	return pids
}

// Stop stops the gateways started from this stack, the gateway, every function instance
// and the emulators this stack started, and removes a temporary build directory. It waits
// for every process to exit. Calling it again returns the first result.
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
	errs = append(errs, s.stopGateway(ctx))
	close(s.quit)
	s.watchers.Wait()
	s.closeFunctions()
	s.stopGuards()
	s.stopEmulators()
	if s.ownBinDir && s.binDir != "" {
		errs = append(errs, os.RemoveAll(s.binDir))
	}
	if p := s.parent; p != nil {
		p.mu.Lock()
		delete(p.children, s)
		p.mu.Unlock()
	}
	err := errors.Join(errs...)
	s.mu.Lock()
	s.stopErr = err
	s.mu.Unlock()
	return err
}

func (s *Stack) stopGateway(ctx context.Context) error {
	if s.server == nil {
		return nil
	}
	// In-flight requests may finish (they are bounded by the function timeouts); after
	// ctx ends, connections are cut.
	err := s.server.Shutdown(ctx)
	if err != nil {
		_ = s.server.Close()
		err = nil // cutting connections at shutdown is not a failure worth reporting
	}
	<-s.served
	return err
}

func (s *Stack) closeFunctions() {
	var wg sync.WaitGroup
	for _, f := range s.functions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = f.Close()
		}()
	}
	wg.Wait()
}

func (s *Stack) stopEmulators() {
	var wg sync.WaitGroup
	for _, e := range []*emulators.Emulator{s.dynamo, s.ses} {
		if e == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.Stop()
		}()
	}
	wg.Wait()
}

func listen(port int, what string) (net.Listener, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		if cerr := emulators.CheckPortFree(port, what); cerr != nil {
			return nil, cerr
		}
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return ln, nil
}
