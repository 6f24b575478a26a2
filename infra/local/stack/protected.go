package stack

import (
	"fmt"
	"path/filepath"
	"time"

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

// protectedRouteDirs are the packages the build adds for routes.
func protectedRouteDirs(routes []ProtectedRoute) []string {
	var dirs []string
	for _, p := range routes {
		dirs = append(dirs, "./"+filepath.ToSlash(filepath.Clean(p.Dir)))
	}
	return dirs
}

// protectedRoutes creates the functions of ProtectedRoutes; start has created the
// template's, authorizers included (with their IAM guard).
func (g *apiGateway) protectedRoutes() ([]gateway.Route, error) {
	var routes []gateway.Route
	for _, p := range g.opts.ProtectedRoutes {
		var authorizer *lambdart.Function
		for i, fn := range g.b.template.Functions {
			if fn.LogicalID == p.Authorizer {
				authorizer = g.functions[i]
			}
		}
		if authorizer == nil {
			return nil, fmt.Errorf("protected route %s %s: no function %s in the template", p.Method, p.Path, p.Authorizer)
		}
		// No AWS settings: it stands for a consumer's function, not one of Gatehouse's;
		// the template's timeout, on a busy machine.
		f, err := g.newFunction("ProtectedRoute-"+filepath.Base(p.Dir), p.Dir, map[string]string{}, 10*time.Second, 0)
		if err != nil {
			return nil, err
		}
		routes = append(routes, gateway.Route{Method: p.Method, Path: p.Path, Function: f, Authorizer: authorizer})
	}
	return routes, nil
}
