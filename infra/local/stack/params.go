package stack

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/gatehouse/gatehouse/infra/local/emulators"
	"github.com/gatehouse/gatehouse/infra/local/gateway"
	"github.com/gatehouse/gatehouse/infra/local/samtemplate"
)

// ParameterEnvName is the host variable that sets a template parameter in the local
// stack: the name in upper snake case, so CorsAllowedOrigins is CORS_ALLOWED_ORIGINS.
func ParameterEnvName(param string) string {
	return strings.ToUpper(strings.Join(samtemplate.Words(param), "_"))
}

// ParameterOverrides returns the template parameters that environ sets through their
// ParameterEnvName, by parameter name.
func ParameterOverrides(tmpl *samtemplate.Template, environ []string) map[string]string {
	host := environMap(environ)
	out := map[string]string{}
	for name := range tmpl.Parameters {
		if v, ok := host[ParameterEnvName(name)]; ok {
			out[name] = v
		}
	}
	return out
}

// parameters returns the parameter values of this stack: LocalParameters, then those the
// host environment sets, then Options.Parameters.
func (s *Stack) parameters() map[string]string {
	params := LocalParameters()
	for k, v := range ParameterOverrides(s.Template, s.opts.Environ) {
		params[k] = v
	}
	for k, v := range s.opts.Parameters {
		params[k] = v
	}
	return params
}

// gatewayCORS resolves the HttpApi's CorsConfiguration for the gateway.
func (s *Stack) gatewayCORS() (*gateway.CORS, error) {
	c, err := s.Template.CORS(samtemplate.Resolver{Parameters: s.parameters(), Refs: s.Tables, Region: emulators.Region})
	if err != nil || c == nil {
		return nil, err
	}
	return &gateway.CORS{
		AllowOrigins:     c.AllowOrigins,
		AllowMethods:     c.AllowMethods,
		AllowHeaders:     c.AllowHeaders,
		ExposeHeaders:    c.ExposeHeaders,
		MaxAge:           c.MaxAge,
		AllowCredentials: c.AllowCredentials,
	}, nil
}

// FunctionEnv returns the environment the stack gives the function with this logical ID
// (the template's, resolved, with the emulators' endpoints), for running its binary under
// another runtime (tests/rie).
func (s *Stack) FunctionEnv(logicalID string) (map[string]string, error) {
	fn, ok := s.Template.Function(logicalID)
	if !ok {
		return nil, fmt.Errorf("no function %s in the template", logicalID)
	}
	return s.functionEnv(fn)
}

// FunctionBinary returns the path of the function's binary built for this host.
func (s *Stack) FunctionBinary(logicalID string) string {
	return filepath.Join(s.binDir, filepath.Base(samtemplate.FunctionDir(logicalID)))
}
