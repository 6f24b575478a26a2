package routes

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestGeneratedFilesAreCurrent: every file the route table produces is committed as it
// produces it, and functions/ holds no function the table lacks.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	root := filepath.Join("..", "..")
	files, err := Files(root)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range files {
		got, err := os.ReadFile(filepath.Join(root, path))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s differs from what internal/routes produces (err %v): run `make generate`", path, err)
		}
	}
	entries, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if _, ok := files[filepath.Join("functions", e.Name(), "main.go")]; e.IsDir() && !ok {
			t.Errorf("functions/%s is not in the route table (internal/routes): add its row, or remove it", e.Name())
		}
	}
}

// TestMarkersRequired: a file without its generated parts' markers is an error, not a
// file silently left as it is.
func TestMarkersRequired(t *testing.T) {
	for _, file := range []string{"template.yaml", "README.md"} {
		if _, err := Splice(file, []byte("Resources:\n")); err == nil {
			t.Errorf("Splice accepted a %s without markers", file)
		}
	}
}

// TestTable: logical ids and routes are unique, every function but the authorizer has a
// route and a handler, and every function has DynamoDB access with keys.
func TestTable(t *testing.T) {
	ids, routes := map[string]bool{}, map[string]string{}
	for _, f := range Functions {
		id := f.LogicalID()
		if ids[id] {
			t.Errorf("%s twice", id)
		}
		ids[id] = true
		if f.IsAuthorizer() != (len(f.Events) == 0) || f.IsAuthorizer() != (f.Handler == "") {
			t.Errorf("%s: only the authorizer has no events and no handler", id)
		}
		for _, e := range f.Events {
			key := e.Method + " " + e.Path
			if other, dup := routes[key]; dup {
				t.Errorf("%s served by %s and %s", key, other, id)
			}
			routes[key] = id
		}
		for _, g := range f.DynamoDB {
			if len(g.Actions) == 0 || len(g.Keys) == 0 {
				t.Errorf("%s: a DynamoDB grant without actions or keys", id)
			}
		}
	}
	if got := (Function{Dir: "users-request-otp"}).LogicalID(); got != "UsersRequestOtpFunction" {
		t.Errorf("LogicalID = %s", got)
	}
}
