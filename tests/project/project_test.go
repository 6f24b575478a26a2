// Package project checks that the template, the Makefile, the function sources and the
// API contract (docs/API.md) agree with each other.
package project

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/infra/local/emulators"
	"github.com/gatehouse/gatehouse/infra/local/samtemplate"
)

// implemented are the API families whose every route must have a function by now.
var implemented = []string{"/users/", "/user/", "/api/user/v1/", "/api/v2/users"}

// authorizers are the functions that guard other stacks' routes (Lambda authorizers):
// they have no route of their own.
var authorizers = []string{"SessionAuthorizerFunction"}

func repo(t *testing.T) (string, *samtemplate.Template) {
	t.Helper()
	root, err := emulators.FindRepoRoot("")
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return root, tmpl
}

// TestEveryFunctionHasSourceAndBuildTarget: for every function of the template, its
// directory under functions/ holds a main package, and `make build-<LogicalId>` (what sam
// build calls) builds exactly that directory into $(ARTIFACTS_DIR)/bootstrap.
func TestEveryFunctionHasSourceAndBuildTarget(t *testing.T) {
	root, tmpl := repo(t)
	if len(tmpl.Functions) == 0 {
		t.Fatal("no functions in template.yaml")
	}
	var dirs []string
	for _, fn := range tmpl.Functions {
		if _, err := os.Stat(filepath.Join(root, fn.Dir, "main.go")); err != nil {
			t.Errorf("%s: %v", fn.LogicalID, err)
		}
		dirs = append(dirs, filepath.Base(fn.Dir))
		out, err := exec.Command("make", "-s", "-n", "-C", root, "build-"+fn.LogicalID, "ARTIFACTS_DIR=/tmp/artifacts").CombinedOutput()
		if err != nil {
			t.Errorf("make build-%s: %v\n%s", fn.LogicalID, err, out)
			continue
		}
		if !strings.Contains(string(out), "./"+fn.Dir) || !strings.Contains(string(out), "/tmp/artifacts/bootstrap") ||
			!strings.Contains(string(out), "GOARCH=arm64") || !strings.Contains(string(out), "lambda.norpc") {
			t.Errorf("make build-%s does not build ./%s for arm64 into ARTIFACTS_DIR:\n%s", fn.LogicalID, fn.Dir, out)
		}
		switch {
		case slices.Contains(authorizers, fn.LogicalID) && len(fn.Routes) != 0:
			t.Errorf("%s is an authorizer for other stacks' APIs, but is routed on Gatehouse's: %v", fn.LogicalID, fn.Routes)
		case !slices.Contains(authorizers, fn.LogicalID) && len(fn.Routes) == 0:
			t.Errorf("%s has no HttpApi event", fn.LogicalID)
		}
	}
	// `make build` builds the same set.
	out, err := exec.Command("make", "-s", "-n", "-C", root, "build").CombinedOutput()
	if err != nil {
		t.Fatalf("make -n build: %v\n%s", err, out)
	}
	for _, d := range dirs {
		if !strings.Contains(string(out), "./functions/"+d) {
			t.Errorf("make build does not build functions/%s", d)
		}
	}
	// And no function source is left out of the template.
	entries, _ := os.ReadDir(filepath.Join(root, "functions"))
	for _, e := range entries {
		if e.IsDir() && !slices.Contains(dirs, e.Name()) {
			t.Errorf("functions/%s is not in template.yaml", e.Name())
		}
	}
}

var (
	heading  = regexp.MustCompile(`(?m)^### (GET|POST|PUT|PATCH|DELETE) (/\S+)`)
	tableRow = regexp.MustCompile("(?m)^\\| `(GET|POST|PUT|PATCH|DELETE) (/[^` ]+)`")
	inline   = regexp.MustCompile("`(GET|POST|PUT|PATCH|DELETE) (/[^` ]+)`")
)

// apiRoutes reads every route the contract documents.
func apiRoutes(t *testing.T, root string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "docs", "API.md"))
	if err != nil {
		t.Fatal(err)
	}
	var routes []string
	for _, re := range []*regexp.Regexp{heading, tableRow, inline} {
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			r := m[1] + " " + m[2]
			if !slices.Contains(routes, r) {
				routes = append(routes, r)
			}
		}
	}
	return routes
}

// TestAPIRoutesHaveFunctions: every route of docs/API.md in an implemented family has a
// function with that HttpApi event, and every template route is documented.
func TestAPIRoutesHaveFunctions(t *testing.T) {
	root, tmpl := repo(t)
	served := map[string]string{}
	for _, fn := range tmpl.Functions {
		for _, r := range fn.Routes {
			key := strings.ToUpper(r.Method) + " " + r.Path
			if other, dup := served[key]; dup {
				t.Errorf("%s served by %s and %s", key, other, fn.LogicalID)
			}
			served[key] = fn.LogicalID
		}
	}
	documented := apiRoutes(t, root)
	if len(documented) < 20 {
		t.Fatalf("found only %d routes in docs/API.md: %v", len(documented), documented)
	}
	for _, r := range documented {
		path := strings.SplitN(r, " ", 2)[1]
		for _, prefix := range implemented {
			if strings.HasPrefix(path, prefix) && served[r] == "" {
				t.Errorf("%s (docs/API.md) has no function in template.yaml", r)
			}
		}
	}
	for r, fn := range served {
		if !slices.Contains(documented, r) {
			t.Errorf("%s (%s) is not documented in docs/API.md", r, fn)
		}
	}
}
