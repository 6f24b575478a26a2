package e2e

import (
	"testing"

	"github.com/gatehouse/gatehouse/infra/local/stack"
)

// protectedRoutes are the test-only routes of this test binary's stack (MainProtected).
var protectedRoutes []stack.ProtectedRoute

// MainProtected is Main for a package that also needs test-only routes behind one of the
// template's functions as Lambda authorizer (stack.ProtectedRoute): a consumer's API, in
// the local gateway. Those routes are not Gatehouse's API and not in docs/openapi.yaml, so
// the package's tests call them with a client of their own, not Do.
func MainProtected(m *testing.M, routes ...stack.ProtectedRoute) {
	protectedRoutes = routes
	Main(m)
}
