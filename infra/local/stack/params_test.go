package stack

import (
	"reflect"
	"testing"

	"github.com/gatehouse/gatehouse/infra/local/samtemplate"
)

func TestParameterEnvName(t *testing.T) {
	for in, want := range map[string]string{
		"CorsAllowedOrigins": "CORS_ALLOWED_ORIGINS",
		"SessionTTL":         "SESSION_TTL",
		"AllowRegistration":  "ALLOW_REGISTRATION",
		"LogRetentionDays":   "LOG_RETENTION_DAYS",
		"SESConfigSet":       "SES_CONFIG_SET",
	} {
		if got := ParameterEnvName(in); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}

func TestParameterOverridesFromEnvironment(t *testing.T) {
	tmpl, err := samtemplate.Load("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	environ := []string{"CORS_ALLOWED_ORIGINS=http://localhost:5173", "UNRELATED=x", "SESSION_TTL=1h"}
	got := ParameterOverrides(tmpl, environ)
	want := map[string]string{"CorsAllowedOrigins": "http://localhost:5173", "SessionTTL": "1h"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParameterOverrides = %v, want %v", got, want)
	}
	// make run prints what the environment changes.
	banner := HostOverrides(tmpl, environ)
	wantBanner := []string{"CORS_ALLOWED_ORIGINS=http://localhost:5173 (parameter CorsAllowedOrigins)", "SESSION_TTL=1h"}
	if !reflect.DeepEqual(banner, wantBanner) {
		t.Errorf("HostOverrides = %q, want %q", banner, wantBanner)
	}
	cors, err := testGateway(t, tmpl, Options{Environ: environ}).cors()
	if err != nil || cors == nil || !reflect.DeepEqual(cors.AllowOrigins, []string{"http://localhost:5173"}) || !cors.AllowCredentials {
		t.Errorf("gateway CORS from the environment: %+v, %v", cors, err)
	}
}

// The template declares the endpoint variables empty (for sam local); the local stack must
// still point every function at its emulators.
func TestDeclaredEmptyEndpointsGetTheEmulators(t *testing.T) {
	tmpl, err := samtemplate.Load("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	g := testGateway(t, tmpl, Options{TableName: "t"})
	g.b.dynamoEndpoint, g.b.sesEndpoint = "http://127.0.0.1:1", "http://127.0.0.1:2"
	s := newStack(g.b, nil)
	s.gw = g
	for _, fn := range tmpl.Functions {
		if e, ok := fn.Environment["AWS_ENDPOINT_URL_DYNAMODB"]; !ok || e.String() != `""` {
			t.Fatalf("%s: the template does not declare AWS_ENDPOINT_URL_DYNAMODB empty", fn.LogicalID)
		}
		env, err := s.FunctionEnv(fn.LogicalID)
		if err != nil {
			t.Fatal(err)
		}
		if env["AWS_ENDPOINT_URL_DYNAMODB"] != s.DynamoEndpoint || env["AWS_ENDPOINT_URL_SESV2"] != s.SESEndpoint {
			t.Errorf("%s: endpoints %q %q", fn.LogicalID, env["AWS_ENDPOINT_URL_DYNAMODB"], env["AWS_ENDPOINT_URL_SESV2"])
		}
	}
}

// testGateway is a gateway on backends with tmpl that never started, for what needs no
// process: environments, policies, CORS.
func testGateway(t *testing.T, tmpl *samtemplate.Template, opts Options) *apiGateway {
	t.Helper()
	b := &backends{opts: opts, template: tmpl, tokenIndexKey: opts.TokenIndexKey}
	if err := b.nameTable(); err != nil {
		t.Fatal(err)
	}
	return &apiGateway{b: b, opts: opts}
}
