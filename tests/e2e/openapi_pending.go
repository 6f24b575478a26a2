package e2e

import (
	"net/http"
	"strings"
)

// pendingMismatch names an answer of this branch's service that docs/openapi.yaml (written
// from /work/shared/API.md) does not describe yet because a branch that makes the service
// follow API.md has not been merged: such an answer is counted as tolerated instead of
// failing the test. Delete each case when its branch lands; delete the file when none is
// left.
func pendingMismatch(req *http.Request, status int, body []byte) string {
	switch {
	// Admin v2: a non-admin's 403 gains "access_allowed":false (API.md, Admin v2 family).
	case strings.HasPrefix(req.URL.Path, "/api/v2/") && status == http.StatusForbidden && string(body) == `{"error":"forbidden"}`:
		return "admin 403 without access_allowed"
	}
	return ""
}
