package stack

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/gatehouse/gatehouse/infra/local/emulators"
	"github.com/gatehouse/gatehouse/infra/local/gateway"
	"github.com/gatehouse/gatehouse/infra/local/lambdart"
)

// ProtectedRoute is a route the template does not have: Dir's function behind the
// template function Authorizer as the route's Lambda authorizer, the way another stack's
// HttpApi attaches Gatehouse's exported authorizer. The end-to-end tests use it with the
// echo test function to see what a consumer receives.
type ProtectedRoute struct {
	Method, Path string
	// Dir is the function's main package, relative to the template's directory, e.g.
	// infra/local/testdata/functions/echo. It gets no AWS settings: it stands for a
	// consumer's function, not one of Gatehouse's.
	Dir string
	// Authorizer is the logical ID of a template function.
	Authorizer string
}

// protectedRouteDirs are the packages the build adds for ProtectedRoutes.
func (s *Stack) protectedRouteDirs() []string {
	var dirs []string
	for _, p := range s.opts.ProtectedRoutes {
		dirs = append(dirs, "./"+filepath.ToSlash(filepath.Clean(p.Dir)))
	}
	return dirs
}

// protectedRoutes creates the functions of ProtectedRoutes; startFunctions has created the
// template's, authorizers included (with their IAM guard).
func (s *Stack) protectedRoutes() ([]gateway.Route, error) {
	var routes []gateway.Route
	for _, p := range s.opts.ProtectedRoutes {
		var authorizer *lambdart.Function
		for i, fn := range s.Template.Functions {
			if fn.LogicalID == p.Authorizer {
				authorizer = s.functions[len(s.functions)-len(s.Template.Functions)+i]
			}
		}
		if authorizer == nil {
			return nil, fmt.Errorf("protected route %s %s: no function %s in the template", p.Method, p.Path, p.Authorizer)
		}
		name := filepath.Base(p.Dir)
		f, err := lambdart.New(lambdart.Config{
			Name:         "ProtectedRoute-" + name,
			Binary:       filepath.Join(s.binDir, name),
			Env:          map[string]string{},
			Timeout:      10 * time.Second, // the template's, on a busy machine
			Region:       emulators.Region,
			MaxInstances: s.opts.MaxInstances,
			IdleTimeout:  s.opts.IdleTimeout,
			Log:          prefixed(s.log, "[ProtectedRoute-"+name+"] "),
			Output:       s.fnLog,
		})
		if err != nil {
			return nil, err
		}
		s.functions = append(s.functions, f)
		routes = append(routes, gateway.Route{Method: p.Method, Path: p.Path, Function: f, Authorizer: authorizer})
	}
	return routes, nil
}
