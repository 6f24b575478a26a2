package apidocs

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gatehouse/gatehouse/infra/local/emulators"
)

// TestHandler: the documentation paths answer from the repository, everything else
// (other paths, other methods) reaches the gateway.
func TestHandler(t *testing.T) {
	root, err := emulators.FindRepoRoot("")
	if err != nil {
		t.Fatal(err)
	}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	srv := httptest.NewServer(Handler(root, next))
	defer srv.Close()
	if err := Check(srv.URL); err != nil {
		t.Error(err)
	}
	for _, c := range []struct{ method, path string }{
		{"GET", "/users/info"}, {"POST", "/openapi.yaml"}, {"GET", "/docs/index.html"}, {"GET", "/openapi.json"},
	} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTeapot {
			t.Errorf("%s %s: %d, want it passed to the gateway", c.method, c.path, resp.StatusCode)
		}
	}
}
