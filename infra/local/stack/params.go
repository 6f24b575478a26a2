package stack

import (
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
func (g *apiGateway) parameters() map[string]string {
	params := LocalParameters()
	for k, v := range ParameterOverrides(g.b.template, g.opts.Environ) {
		params[k] = v
	}
	for k, v := range g.opts.Parameters {
		params[k] = v
	}
	return params
}

// cors resolves the HttpApi's CorsConfiguration for the gateway.
func (g *apiGateway) cors() (*gateway.CORS, error) {
	c, err := g.b.template.CORS(samtemplate.Resolver{Parameters: g.parameters(), Refs: g.b.refs(), Region: emulators.Region})
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
