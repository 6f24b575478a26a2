package project

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
)

func openAPI(t *testing.T, root string) *v3.Document {
	t.Helper()
	spec, err := os.ReadFile(filepath.Join(root, "docs", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		t.Fatal(err)
	}
	if v := doc.GetVersion(); !strings.HasPrefix(v, "3.1") {
		t.Fatalf("docs/openapi.yaml is OpenAPI %s, want 3.1", v)
	}
	m, err := doc.BuildV3Model()
	if err != nil {
		t.Fatalf("docs/openapi.yaml does not build: %v", err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("docs/openapi.yaml: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("docs/openapi.yaml is not a valid OpenAPI 3.1 document: %s: %s", e.Message, e.Reason)
			for _, f := range e.SchemaValidationErrors {
				t.Errorf("  %s at %s (line %d)", f.Reason, f.FieldPath, f.Line)
			}
		}
		t.FailNow()
	}
	return &m.Model
}

// TestOpenAPIDocumentIsValid: docs/openapi.yaml loads, builds (every $ref resolves) and
// validates against the OpenAPI 3.1 schema, and each operation carries what a client author
// needs: an operationId, a tag, every answer with a description and a JSON schema, 429s
// with Retry-After, and a 500 in the family's envelope.
func TestOpenAPIDocumentIsValid(t *testing.T) {
	root, _ := repo(t)
	doc := openAPI(t, root)
	for path, item := range doc.Paths.PathItems.FromOldest() {
		for method, op := range item.GetOperations().FromOldest() {
			key := strings.ToUpper(method) + " " + path
			if op.OperationId == "" || len(op.Tags) != 1 || op.Summary == "" {
				t.Errorf("%s: needs an operationId, one tag (its family) and a summary", key)
			}
			if op.Responses == nil || op.Responses.Default != nil {
				t.Errorf("%s: answers must be listed one by one (no default answer)", key)
				continue
			}
			for _, code := range []string{"200", "500"} {
				if _, ok := op.Responses.Codes.Get(code); !ok && !(code == "200" && hasCode(op, "201")) {
					t.Errorf("%s: no %s answer", key, code)
				}
			}
			for code, resp := range op.Responses.Codes.FromOldest() {
				mt, ok := resp.Content.Get("application/json")
				if resp.Description == "" || !ok || mt.Schema == nil {
					t.Errorf("%s %s: needs a description and an application/json schema", key, code)
				}
				if ok && mt.Example == nil && (mt.Examples == nil || mt.Examples.Len() == 0) {
					t.Errorf("%s %s: no example", key, code)
				}
				if code == "429" {
					if h, ok := resp.Headers.Get("Retry-After"); !ok || !h.Required {
						t.Errorf("%s 429: no required Retry-After header", key)
					}
				}
			}
		}
	}
}

func hasCode(op *v3.Operation, code string) bool {
	_, ok := op.Responses.Codes.Get(code)
	return ok
}

// TestOpenAPIRoutesAreTheTemplates: every HttpApi route of template.yaml is an operation of
// docs/openapi.yaml and every operation is a route of the template,
// with the same path variables.
func TestOpenAPIRoutesAreTheTemplates(t *testing.T) {
	root, tmpl := repo(t)
	doc := openAPI(t, root)
	var documented []string
	for path, item := range doc.Paths.PathItems.FromOldest() {
		for method := range item.GetOperations().FromOldest() {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	var routes []string
	for _, fn := range tmpl.Functions {
		for _, r := range fn.Routes {
			routes = append(routes, r.Key())
		}
	}
	if len(routes) == 0 || len(documented) == 0 {
		t.Fatalf("%d template routes, %d documented operations", len(routes), len(documented))
	}
	for _, r := range routes {
		if !slices.Contains(documented, r) {
			t.Errorf("template route %s is not in docs/openapi.yaml", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(routes, d) {
			t.Errorf("docs/openapi.yaml documents %s, which template.yaml does not route", d)
		}
	}
}
