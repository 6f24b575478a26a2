package testkit

import (
	"path/filepath"
	"testing"

	"github.com/gatehouse/gatehouse/infra/local/emulators"
	"github.com/gatehouse/gatehouse/infra/local/samtemplate"
)

// Template returns the root of the repository the test runs in and its template.yaml,
// loaded, failing the test when either cannot be had.
func Template(t testing.TB) (root string, tmpl *samtemplate.Template) {
	t.Helper()
	root, err := emulators.FindRepoRoot("")
	if err == nil {
		tmpl, err = samtemplate.Load(filepath.Join(root, "template.yaml"))
	}
	if err != nil {
		t.Fatal(err)
	}
	return root, tmpl
}
