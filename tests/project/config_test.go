package project

import (
	"testing"

	"github.com/gatehouse/gatehouse/infra/local/stack"
	"github.com/gatehouse/gatehouse/internal/routes"
	"github.com/gatehouse/gatehouse/pkg/config"
)

// TestSettingsAreTemplateParameters: every setting of pkg/config with a template parameter
// has it in template.yaml with the same default, the local stack's variable for it is the
// setting's own (so `OTP_TTL=1m make run` sets both), and every function that reads it
// (all, the mailing or the admin ones) gets it from that parameter, or from its resource.
func TestSettingsAreTemplateParameters(t *testing.T) {
	_, tmpl := repo(t)
	scope := map[string]config.Scope{}
	for _, f := range routes.Functions {
		scope[f.LogicalID()] = map[routes.Boot]config.Scope{routes.MailBoot: config.Mailing, routes.AdminBoot: config.Admins}[f.Boot]
	}
	for _, s := range config.Settings {
		ref := s.Parameter + s.Resource
		if ref == "" {
			continue
		}
		for _, fn := range tmpl.Functions {
			if s.Scope != config.Every && s.Scope != scope[fn.LogicalID] {
				continue
			}
			if got := fn.Environment[s.Env].String(); got != "!Ref "+ref {
				t.Errorf("%s: %s is %q, want !Ref %s", fn.LogicalID, s.Env, got, ref)
			}
		}
		if s.Parameter == "" {
			continue
		}
		p, ok := tmpl.Parameters[s.Parameter]
		switch {
		case !ok:
			t.Errorf("%s: no parameter %s in template.yaml", s.Env, s.Parameter)
			continue
		case s.Default != "" && (!p.HasDefault || p.Default != s.Default):
			t.Errorf("%s: parameter %s defaults to %q, pkg/config to %q", s.Env, s.Parameter, p.Default, s.Default)
		case stack.ParameterEnvName(s.Parameter) != s.Env:
			t.Errorf("%s: make run reads parameter %s from %s", s.Env, s.Parameter, stack.ParameterEnvName(s.Parameter))
		}
	}
}
