package project

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

// samLocalEnvFiles are the committed --env-vars files of `sam local start-api` (README,
// "sam local"): Docker Desktop reaches the host's emulators at host.docker.internal, Linux
// with --docker-network host at 127.0.0.1.
var samLocalEnvFiles = map[string]string{
	"infra/local/sam-local-env.json":         "host.docker.internal",
	"infra/local/sam-local-env-hostnet.json": "127.0.0.1",
}

// endpointVars are what the functions read to reach DynamoDB and SES elsewhere than AWS.
var endpointVars = []string{"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SESV2"}

// TestSamLocalEnvFiles: sam local only overrides variables the template declares for a
// function (aws-sam-cli#6145), so every section of the files must name a function of the
// template (or be Parameters, for all of them) and every variable must be declared there;
// the endpoint variables are declared for every function, empty so AWS is untouched, and
// the files point them at the emulators' ports of make emulators.
func TestSamLocalEnvFiles(t *testing.T) {
	root, tmpl := repo(t)
	declared := map[string]map[string]bool{}
	anyFunction := map[string]bool{}
	for _, fn := range tmpl.Functions {
		declared[fn.LogicalID] = map[string]bool{}
		for name := range fn.Environment {
			declared[fn.LogicalID][name] = true
			anyFunction[name] = true
		}
		for _, v := range endpointVars {
			e, ok := fn.Environment[v]
			if !ok || !e.IsLiteral() || e.String() != `""` {
				t.Errorf("%s: %s is %q, want declared as \"\" (Globals)", fn.LogicalID, v, e.String())
			}
		}
	}
	for file, host := range samLocalEnvFiles {
		data, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		var sections map[string]map[string]string
		if err := json.Unmarshal(data, &sections); err != nil {
			t.Fatalf("%s: not an object of objects of strings: %v", file, err)
		}
		for section, vars := range sections {
			known := anyFunction
			if section != "Parameters" {
				if known = declared[section]; known == nil {
					t.Errorf("%s: section %s is neither Parameters nor a function of the template", file, section)
					continue
				}
			}
			for name := range vars {
				if !known[name] {
					t.Errorf("%s: %s.%s is not declared in the template, so sam local would ignore it", file, section, name)
				}
			}
		}
		params := sections["Parameters"]
		want := map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": "8000", "AWS_ENDPOINT_URL_SESV2": "8005"}
		for name, port := range want {
			u, err := url.Parse(params[name])
			if err != nil || u.Scheme != "http" || u.Hostname() != host || u.Port() != port {
				t.Errorf("%s: %s = %q, want http://%s:%s", file, name, params[name], host, port)
			}
		}
		if params["TABLE_NAME"] != "gatehouse-local" {
			t.Errorf("%s: TABLE_NAME = %q, want make emulators' table gatehouse-local", file, params["TABLE_NAME"])
		}
	}
}
