package stack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/infra/local/apidocs"
	"github.com/gatehouse/gatehouse/infra/local/emulators"
	"github.com/gatehouse/gatehouse/infra/local/gateway"
	"github.com/gatehouse/gatehouse/infra/local/lambdart"
	"github.com/gatehouse/gatehouse/infra/local/samtemplate"
	"github.com/gatehouse/gatehouse/internal/logline"
)

// apiGateway is one HTTP API in front of the backends: a lambdart.Function per template
// function (instances start on first use), each with its DynamoDB guard, the protected
// test routes, and the gateway routing to them. Its options decide the functions'
// environment, so two gateways on the same backends can differ in it.
type apiGateway struct {
	b      *backends
	opts   Options
	onFail func(error)

	url       string
	ln        net.Listener
	functions []*lambdart.Function
	server    *http.Server
	served    chan struct{}

	guardMu sync.Mutex
	guards  []*http.Server
}

// check resolves every function's environment and the CORS settings (the endpoints are
// not known yet and do not matter) so that a parameter problem fails before anything
// starts.
func (g *apiGateway) check() error {
	for _, fn := range g.b.template.Functions {
		if _, err := g.functionEnv(fn); err != nil {
			return err
		}
	}
	_, err := g.cors()
	return err
}

// listen holds the gateway's port from the start, so a taken port fails before slow work.
func (g *apiGateway) listen() error {
	ln, err := listen(g.opts.Port, "gateway")
	if err != nil {
		return err
	}
	g.ln, g.url = ln, "http://"+ln.Addr().String()
	return nil
}

// start creates the functions and serves the gateway on the port listen holds.
func (g *apiGateway) start() error {
	var routes []gateway.Route
	for _, fn := range g.b.template.Functions {
		env, err := g.functionEnv(fn)
		if err != nil {
			return err
		}
		if err := g.guard(fn, env); err != nil {
			return err
		}
		f, err := g.newFunction(fn.LogicalID, fn.Dir, env, fn.Timeout, fn.MemorySize)
		if err != nil {
			return err
		}
		for _, r := range fn.Routes {
			routes = append(routes, gateway.Route{Method: r.Method, Path: r.Path, Function: f})
		}
	}
	protected, err := g.protectedRoutes()
	if err != nil {
		return err
	}
	routes = append(routes, protected...)
	cors, err := g.cors()
	if err != nil {
		return err
	}
	gw, err := gateway.New(routes, gateway.Options{AccessLog: logline.Prefixed(g.b.log, "[gateway] "), CORS: cors})
	if err != nil {
		return err
	}
	// The API's documentation (GET /openapi.yaml, /docs) is served beside the routes.
	g.server = &http.Server{Handler: apidocs.Handler(g.b.opts.RepoRoot, gw), ReadHeaderTimeout: 10 * time.Second}
	g.served = make(chan struct{})
	go func() {
		defer close(g.served)
		if err := g.server.Serve(g.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			g.onFail(fmt.Errorf("gateway: %w", err))
		}
	}()
	return nil
}

// newFunction creates the function name running the binary built from dir.
func (g *apiGateway) newFunction(name, dir string, env map[string]string, timeout time.Duration, memoryMB int) (*lambdart.Function, error) {
	f, err := lambdart.New(lambdart.Config{
		Name:         name,
		Binary:       g.b.binary(dir),
		Env:          env,
		Timeout:      timeout,
		MemoryMB:     memoryMB,
		Region:       emulators.Region,
		MaxInstances: g.opts.MaxInstances,
		IdleTimeout:  g.opts.IdleTimeout,
		Log:          logline.Prefixed(g.b.log, "["+name+"] "),
		Output:       g.b.fnLog,
	})
	if err == nil {
		g.functions = append(g.functions, f)
	}
	return f, err
}

// functionEnv resolves fn's template environment and layers the local settings on top.
func (g *apiGateway) functionEnv(fn samtemplate.Function) (map[string]string, error) {
	env, err := g.b.template.Env(fn, samtemplate.Resolver{
		Parameters: g.parameters(),
		Refs:       g.b.refs(),
		Region:     emulators.Region,
	})
	if err != nil {
		return nil, err
	}
	local := map[string]string{
		// The Go SDK sends a service's calls to AWS_ENDPOINT_URL_<SERVICE> when set.
		"AWS_ENDPOINT_URL_DYNAMODB": g.b.dynamoEndpoint,
		"AWS_ENDPOINT_URL_SESV2":    g.b.sesEndpoint,
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
	localTokenIndexEnv(env, g.b.tokenIndexKey)
	host := environMap(g.opts.Environ)
	for k := range fn.Environment {
		if v, ok := host[k]; ok {
			env[k] = v
		}
	}
	for k, v := range g.opts.EnvOverrides {
		env[k] = v
	}
	return env, nil
}

// stop stops serving (in-flight requests may finish, bounded by the function timeouts;
// after ctx ends, connections are cut), every function instance and the guards.
func (g *apiGateway) stop(ctx context.Context) error {
	if g.server != nil {
		if err := g.server.Shutdown(ctx); err != nil {
			_ = g.server.Close() // cutting connections at shutdown is not a failure worth reporting
		}
		<-g.served
	} else if g.ln != nil {
		g.ln.Close()
	}
	var wg sync.WaitGroup
	for _, f := range g.functions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = f.Close()
		}()
	}
	wg.Wait()
	g.guardMu.Lock()
	defer g.guardMu.Unlock()
	for _, s := range g.guards {
		_ = s.Shutdown(context.Background())
	}
	g.guards = nil
	return nil
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
