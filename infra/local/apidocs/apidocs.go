// Package apidocs serves the API's OpenAPI document and a page that renders it with
// Swagger UI, next to the local gateway: GET /openapi.yaml and GET /docs. Swagger UI comes
// from the npm package swagger-ui-dist (installed by infra/local's lock file) and is served
// from disk, so the page works offline.
package apidocs

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// Paths of the local stack's documentation; no route of the API uses them.
const (
	DocumentPath = "/openapi.yaml"
	PagePath     = "/docs"
)

// DocumentFile is the OpenAPI document, relative to the repository root.
const DocumentFile = "docs/openapi.yaml"

// swaggerDir is the npm package's directory, relative to the repository root.
const swaggerDir = "infra/local/node_modules/swagger-ui-dist"

// assets are the files of swagger-ui-dist the page loads, by the URL path it loads them at.
var assets = map[string]struct{ file, contentType string }{
	PagePath + "/swagger-ui.css":       {"swagger-ui.css", "text/css; charset=utf-8"},
	PagePath + "/swagger-ui-bundle.js": {"swagger-ui-bundle.js", "text/javascript; charset=utf-8"},
}

// page renders the document at DocumentPath. Its script is inline and its assets local, so
// nothing is fetched from a CDN.
const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Gatehouse API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({url: "/openapi.yaml", dom_id: "#swagger-ui", deepLinking: true});
</script>
</body>
</html>
`

// Handler answers the documentation paths from the repository at root and passes every
// other request to next. Files are read on each request, so an edited document shows on
// reload.
func Handler(root string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		switch p := r.URL.Path; {
		case p == DocumentPath:
			serveFile(w, r, filepath.Join(root, DocumentFile), "application/yaml; charset=utf-8",
				"docs/openapi.yaml is missing")
		case p == PagePath || p == PagePath+"/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-cache")
			_, _ = w.Write([]byte(page))
		case assets[p].file != "":
			a := assets[p]
			serveFile(w, r, filepath.Join(root, swaggerDir, a.file), a.contentType,
				"swagger-ui-dist is not installed: run make deps")
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func serveFile(w http.ResponseWriter, r *http.Request, path, contentType, missing string) {
	b, err := os.ReadFile(path)
	if err != nil {
		http.Error(w, "gatehouse-local: "+missing, http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-cache")
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(b)
}

// Check fetches the document, the page and the page's assets from base (a running gateway)
// and reports each that does not answer 200 with its content type.
func Check(base string) error {
	var errs []error
	for _, c := range []struct{ path, contentType, contains string }{
		{DocumentPath, "application/yaml; charset=utf-8", "openapi: 3.1"},
		{PagePath, "text/html; charset=utf-8", `src="/docs/swagger-ui-bundle.js"`},
		{PagePath + "/swagger-ui-bundle.js", "text/javascript; charset=utf-8", "SwaggerUIBundle"},
		{PagePath + "/swagger-ui.css", "text/css; charset=utf-8", ".swagger-ui"},
	} {
		resp, err := http.Get(base + c.path)
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != c.contentType || !strings.Contains(string(b), c.contains) {
			errs = append(errs, fmt.Errorf("GET %s: %d %q (%d bytes), want 200 %q containing %q",
				c.path, resp.StatusCode, resp.Header.Get("Content-Type"), len(b), c.contentType, c.contains))
		}
	}
	return errors.Join(errs...)
}
