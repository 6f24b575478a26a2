package samtemplate

import (
	"reflect"
	"strings"
	"testing"
)

func TestRealTemplateCORS(t *testing.T) {
	tmpl := load(t, realTemplate)
	c, err := tmpl.CORS(Resolver{})
	if err != nil || c != nil {
		t.Fatalf("default CorsAllowedOrigins: %+v, %v; want no CORS", c, err)
	}
	c, err = tmpl.CORS(Resolver{Parameters: map[string]string{"CorsAllowedOrigins": "http://localhost:5173,https://app.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	want := &CORS{
		AllowOrigins:     []string{"http://localhost:5173", "https://app.example.com"},
		AllowMethods:     []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"},
		AllowHeaders:     []string{"authorization", "content-type"},
		ExposeHeaders:    []string{"retry-after"},
		MaxAge:           600,
		AllowCredentials: true,
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("CORS = %+v, want %+v", c, want)
	}
	if _, err := tmpl.CORS(Resolver{Parameters: map[string]string{"CorsAllowedOrigins": "localhost:5173"}}); err == nil {
		t.Error("an origin that breaks the parameter's AllowedPattern was accepted")
	}
}

func TestCORSConditions(t *testing.T) {
	const tmpl = `
Parameters:
  Env: {Type: String, Default: dev}
  Origins: {Type: String, Default: "https://a.test"}
Conditions:
  IsDev: !Equals [!Ref Env, dev]
  IsProd: !Not [!Condition IsDev]
  Both: !And [!Condition IsDev, !Or [!Equals [x, y], !Equals [!Ref Origins, "https://a.test"]]]
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      CorsConfiguration: !If
        - Both
        - AllowOrigins: [!Ref Origins, !If [IsProd, https://prod.test, !Ref AWS::NoValue]]
          MaxAge: !If [IsDev, 5, 10]
          AllowCredentials: false
        - !Ref AWS::NoValue
`
	parsed, err := Parse([]byte(tmpl))
	if err != nil {
		t.Fatal(err)
	}
	c, err := parsed.CORS(Resolver{})
	if err != nil {
		t.Fatal(err)
	}
	if want := (&CORS{AllowOrigins: []string{"https://a.test"}, MaxAge: 5}); !reflect.DeepEqual(c, want) {
		t.Errorf("dev: %+v, want %+v", c, want)
	}
	c, err = parsed.CORS(Resolver{Parameters: map[string]string{"Env": "prod"}})
	if err != nil || c != nil {
		t.Errorf("prod: %+v, %v; want none", c, err)
	}

	bad := strings.Replace(tmpl, "!If\n        - Both", "!If\n        - Missing", 1)
	parsed, err = Parse([]byte(bad))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parsed.CORS(Resolver{}); err == nil || !strings.Contains(err.Error(), "Missing") {
		t.Errorf("unknown condition: %v", err)
	}
}
