// Package testlambda builds the test Lambdas of infra/local/testdata for the local stack's
// own tests.
package testlambda

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/gatehouse/gatehouse/infra/local/emulators"
)

// TemplatePath returns infra/local/testdata/template.yaml, whose functions live in
// infra/local/testdata/functions.
func TemplatePath() (string, error) {
	root, err := emulators.FindRepoRoot("")
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "infra", "local", "testdata", "template.yaml"), nil
}

// Build compiles the test functions (echo, hello-world) into dir as Lambda builds them
// (-tags lambda.norpc) and returns the path of each binary by name.
func Build(dir string) (map[string]string, error) {
	root, err := emulators.FindRepoRoot("")
	if err != nil {
		return nil, err
	}
	names := []string{"echo", "hello-world"}
	args := []string{"build", "-tags", "lambda.norpc", "-trimpath", "-o", dir + string(filepath.Separator)}
	for _, n := range names {
		args = append(args, "./infra/local/testdata/functions/"+n)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building the test lambdas: %v\n%s", err, out)
	}
	bins := map[string]string{}
	for _, n := range names {
		bins[n] = filepath.Join(dir, n)
	}
	return bins, nil
}

// Main is the TestMain of packages that run the test functions: it builds them into a
// temporary directory, hands their paths to use, runs the tests and removes the directory.
func Main(m interface{ Run() int }, use func(bins map[string]string)) {
	dir, err := os.MkdirTemp("", "testlambda-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bins, err := Build(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	use(bins)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Do sends req and returns the answer with its body read, failing t on a transport error.
func Do(t testing.TB, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}
