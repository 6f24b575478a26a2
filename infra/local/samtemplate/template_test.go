package samtemplate

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	realTemplate = filepath.Join("..", "..", "..", "template.yaml")
	testTemplate = filepath.Join("..", "testdata", "template.yaml")
)

func load(t *testing.T, path string) *Template {
	t.Helper()
	tmpl, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func TestFunctionDir(t *testing.T) {
	for id, want := range map[string]string{
		"UsersLoginFunction":          "functions/users-login",
		"UsersRequestOtpFunction":     "functions/users-request-otp",
		"UsersModifyPasswordFunction": "functions/users-modify-password",
		"UsersInfoFunction":           "functions/users-info",
		"AdminHTTPUsersFunction":      "functions/admin-http-users",
		"V2UsersFunction":             "functions/v2-users",
		"Users2faFunction":            "functions/users2fa",
		"HelloWorld":                  "functions/hello-world",
	} {
		if got := FunctionDir(id); got != want {
			t.Errorf("FunctionDir(%q) = %q, want %q", id, got, want)
		}
	}
}

// TestRealTemplate checks Gatehouse's template.yaml. It asserts the functions known when
// it was written and properties every function must have, so it keeps passing as the
// template grows.
func TestRealTemplate(t *testing.T) {
	tmpl := load(t, realTemplate)
	// Login and requestotp also serve MMDL's own ways in, as second events.
	known := map[string][]Route{
		"UsersLoginFunction":          {{"POST", "/users/login"}, {"POST", "/login"}},
		"UsersRegisterFunction":       {{"POST", "/users/register"}},
		"UsersRequestOtpFunction":     {{"POST", "/users/requestotp"}, {"GET", "/users/requestotp"}},
		"UsersModifyPasswordFunction": {{"POST", "/users/modifypassword"}},
		"UsersInfoFunction":           {{"GET", "/users/info"}},
	}
	routeKeys := map[string]string{}
	for _, fn := range tmpl.Functions {
		if fn.Dir != FunctionDir(fn.LogicalID) || !strings.HasPrefix(fn.Dir, "functions/") {
			t.Errorf("%s: Dir = %q", fn.LogicalID, fn.Dir)
		}
		if fn.Timeout <= 0 || fn.MemorySize <= 0 {
			t.Errorf("%s: Timeout %v MemorySize %d", fn.LogicalID, fn.Timeout, fn.MemorySize)
		}
		for _, r := range fn.Routes {
			if other, dup := routeKeys[r.Key()]; dup {
				t.Errorf("route %s belongs to %s and %s", r.Key(), other, fn.LogicalID)
			}
			routeKeys[r.Key()] = fn.LogicalID
		}
		if _, ok := fn.Environment["TABLE_NAME"]; !ok {
			t.Errorf("%s: no TABLE_NAME", fn.LogicalID)
		}
	}
	for id, route := range known {
		fn, ok := tmpl.Function(id)
		if !ok {
			t.Errorf("function %s missing", id)
			continue
		}
		if !slices.Equal(fn.Routes, route) {
			t.Errorf("%s: routes %v, want %v", id, fn.Routes, route)
		}
		// Globals give 10 s and 1024 MB; functions that hash no password override 256 MB.
		wantMem := 1024
		if id == "UsersInfoFunction" || id == "UsersRequestOtpFunction" {
			wantMem = 256
		}
		if fn.Timeout != 10*time.Second || fn.MemorySize != wantMem {
			t.Errorf("%s: Timeout %v MemorySize %d, want 10s/%d", id, fn.Timeout, fn.MemorySize, wantMem)
		}
	}

	p := tmpl.Parameters["AllowRegistration"]
	if !p.HasDefault || p.Default != "true" || strings.Join(p.AllowedValues, ",") != "true,false" {
		t.Errorf("AllowRegistration = %+v", p)
	}
	if p := tmpl.Parameters["SenderEmail"]; p.HasDefault {
		t.Errorf("SenderEmail has a default: %+v", p)
	}

	tb, ok := tmpl.Table("AccountsTable")
	if !ok {
		t.Fatal("no AccountsTable")
	}
	tp := tb.Properties
	if tp.BillingMode != "PAY_PER_REQUEST" || len(tp.KeySchema) != 2 || len(tp.GlobalSecondaryIndexes) != 1 ||
		tp.GlobalSecondaryIndexes[0].Projection.ProjectionType != "INCLUDE" ||
		tp.TimeToLiveSpecification == nil || tp.TimeToLiveSpecification.AttributeName != "expires_at" {
		t.Errorf("AccountsTable = %+v", tp)
	}
}

func TestRealTemplateEnv(t *testing.T) {
	tmpl := load(t, realTemplate)
	r := Resolver{
		Parameters: map[string]string{"SenderEmail": "no-reply@gatehouse.local", "AllowRegistration": "false"},
		Refs:       map[string]string{"AccountsTable": "gatehouse-local"},
	}
	for _, fn := range tmpl.Functions {
		env, err := tmpl.Env(fn, r)
		if err != nil {
			t.Errorf("%s: %v", fn.LogicalID, err)
			continue
		}
		if env["TABLE_NAME"] != "gatehouse-local" || env["ALLOW_REGISTRATION"] != "false" ||
			env["SESSION_TTL"] != "168h" || env["LOG_LEVEL"] != "INFO" {
			t.Errorf("%s: env = %v", fn.LogicalID, env)
		}
	}
	otp, _ := tmpl.Function("UsersRequestOtpFunction")
	env, err := tmpl.Env(otp, r)
	if err != nil || env["SENDER_EMAIL"] != "no-reply@gatehouse.local" {
		t.Errorf("SENDER_EMAIL: %v %v", env, err)
	}
	if e := otp.Environment["SENDER_EMAIL"]; e.String() != "!Ref SenderEmail" || e.IsLiteral() {
		t.Errorf("unresolved SENDER_EMAIL = %q", e)
	}

	// SenderEmail has no Default: leaving it out must name it.
	if _, err := tmpl.Env(otp, Resolver{Refs: r.Refs}); err == nil || !strings.Contains(err.Error(), "SenderEmail") {
		t.Errorf("missing SenderEmail: err = %v", err)
	}
	// Values are checked against AllowedValues and AllowedPattern.
	bad := Resolver{Parameters: map[string]string{"SenderEmail": "x@y.z", "AllowRegistration": "maybe"}, Refs: r.Refs}
	if _, err := tmpl.Env(otp, bad); err == nil || !strings.Contains(err.Error(), "AllowRegistration") {
		t.Errorf("AllowRegistration=maybe: err = %v", err)
	}
	bad = Resolver{Parameters: map[string]string{"SenderEmail": "not an address"}, Refs: r.Refs}
	if _, err := tmpl.Env(otp, bad); err == nil || !strings.Contains(err.Error(), "bare email address") {
		t.Errorf("bad SenderEmail: err = %v", err)
	}
	// The table needs a name from the resolver.
	if _, err := tmpl.Env(otp, Resolver{Parameters: r.Parameters}); err == nil || !strings.Contains(err.Error(), "AccountsTable") {
		t.Errorf("no table name: err = %v", err)
	}
}

func TestTestdataTemplate(t *testing.T) {
	tmpl := load(t, testTemplate)
	if len(tmpl.Functions) != 2 {
		t.Fatalf("functions = %+v", tmpl.Functions)
	}
	echo, hello := tmpl.Functions[0], tmpl.Functions[1]
	if echo.LogicalID != "EchoFunction" || echo.Dir != "functions/echo" || hello.Dir != "functions/hello-world" {
		t.Errorf("ids/dirs = %s %s %s", echo.LogicalID, echo.Dir, hello.Dir)
	}
	wantRoutes := []Route{{"GET", "/echo"}, {"POST", "/echo/{proxy+}"}, {"ANY", "/items/{id}"}}
	if len(echo.Routes) != len(wantRoutes) {
		t.Fatalf("echo routes = %v (the Schedule event must be ignored)", echo.Routes)
	}
	for i, r := range wantRoutes {
		if echo.Routes[i] != r {
			t.Errorf("route %d = %v, want %v", i, echo.Routes[i], r)
		}
	}
	if echo.Timeout != 2*time.Second || echo.MemorySize != 256 {
		t.Errorf("echo: %v %d, want the Globals", echo.Timeout, echo.MemorySize)
	}
	if hello.Timeout != 5*time.Second || hello.MemorySize != 1024 {
		t.Errorf("hello: %v %d, want its own values", hello.Timeout, hello.MemorySize)
	}

	env, err := tmpl.Env(echo, Resolver{
		Parameters: map[string]string{"SenderEmail": "a@b.c"},
		Refs:       map[string]string{"Table": "tbl"},
		Region:     "eu-central-1",
		AccountID:  "000000000000",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"TABLE_NAME":     "tbl",
		"GREETING":       "hi",
		"FLAG":           "function", // the function's value wins over Globals
		"PLAIN_NUMBER":   "42",
		"SENDER_EMAIL":   "a@b.c",
		"TABLE_ARN":      "arn:aws:dynamodb:eu-central-1:000000000000:table/tbl",
		"TABLE_ARN_LONG": "arn:aws:dynamodb:eu-central-1:000000000000:table/tbl",
		"LONG_SUB":       "eu-central-1/hi/000000000000",
		"SUB_VARS":       "hi-${Literal}-tbl",
		"JOINED":         "a,hi,c",
		"API_ID":         "Api",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	if len(env) != len(want) {
		t.Errorf("env has %d variables, want %d: %v", len(env), len(want), env)
	}

	helloEnv, err := tmpl.Env(hello, Resolver{Parameters: map[string]string{"Greeting": "hello"}, Refs: map[string]string{"Table": "tbl"}})
	if err != nil || helloEnv["GREETING"] != "hello" || helloEnv["FLAG"] != "global" {
		t.Errorf("hello env = %v, %v", helloEnv, err)
	}
}

func TestLambdaDefaultsWithoutGlobals(t *testing.T) {
	tmpl, err := Parse([]byte(`
Resources:
  PingFunction:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Any:
          Type: HttpApi
`))
	if err != nil {
		t.Fatal(err)
	}
	fn := tmpl.Functions[0]
	if fn.Timeout != 3*time.Second || fn.MemorySize != 128 {
		t.Errorf("defaults = %v %d", fn.Timeout, fn.MemorySize)
	}
	if len(fn.Routes) != 1 || fn.Routes[0] != (Route{"ANY", "$default"}) || fn.Routes[0].Key() != "$default" {
		t.Errorf("routes = %v, want the $default route", fn.Routes)
	}
}

func TestParseErrors(t *testing.T) {
	for name, src := range map[string]string{
		"not a mapping":  `[1, 2]`,
		"no resources":   `Parameters: {}`,
		"bad timeout":    "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties: {Timeout: soon}\n",
		"ref timeout":    "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties: {Timeout: !Ref T}\n",
		"bad path":       "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Events: {E: {Type: HttpApi, Properties: {Method: GET, Path: nope}}}\n",
		"table no keys":  "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties: {BillingMode: PAY_PER_REQUEST}\n",
		"invalid yaml":   "Resources: [",
		"resource shape": "Resources:\n  F: 3\n",
	} {
		if _, err := Parse([]byte(src)); err == nil {
			t.Errorf("%s: Parse succeeded", name)
		}
	}
}

func TestResolveErrors(t *testing.T) {
	tmpl, err := Parse([]byte(`
Parameters:
  P: {Type: String, Default: x}
Resources:
  T:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{AttributeName: PK, KeyType: HASH}]
  F:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          UNKNOWN_REF: !Ref Nope
          UNSUPPORTED: !If [Cond, a, b]
          BAD_ATTR: !GetAtt T.Whatever
          UNTERMINATED: !Sub "${P"
`))
	if err != nil {
		t.Fatal(err)
	}
	fn := tmpl.Functions[0]
	r := Resolver{Refs: map[string]string{"T": "t"}}
	for name, wantInErr := range map[string]string{
		"UNKNOWN_REF":  "Nope",
		"UNSUPPORTED":  "Fn::If",
		"BAD_ATTR":     "Whatever",
		"UNTERMINATED": "unterminated",
	} {
		_, err := tmpl.Resolve(fn.Environment[name], r)
		if err == nil || !strings.Contains(err.Error(), wantInErr) {
			t.Errorf("%s: err = %v, want it to mention %q", name, err, wantInErr)
		}
	}
	if _, err := tmpl.Env(fn, r); err == nil || !strings.Contains(err.Error(), "F: environment variable") {
		t.Errorf("Env error = %v, want it to name the function and variable", err)
	}
}
