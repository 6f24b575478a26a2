package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/infra/local/stack"
	"github.com/gatehouse/gatehouse/internal/testkit"
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

// ConsumerPath is the consumer route MainConsumer puts behind the session authorizer.
const ConsumerPath = "/consumer/whoami"

// MainConsumer is MainProtected with one consumer route, GET ConsumerPath, served by the
// echo test function behind SessionAuthorizerFunction: another stack's API that trusts
// Gatehouse sessions.
func MainConsumer(m *testing.M) {
	MainProtected(m, stack.ProtectedRoute{
		Method: http.MethodGet, Path: ConsumerPath,
		Dir: "infra/local/testdata/functions/echo", Authorizer: "SessionAuthorizerFunction",
	})
}

// consumerClient calls the consumer route. Deliberately not Do: the route is not part of
// Gatehouse's API, so docs/openapi.yaml does not describe it, and its answers are the echo
// function's or API Gateway's own.
var consumerClient = &http.Client{Timeout: 60 * time.Second}

// CallConsumer sends GET ConsumerPath to the gateway at base with headers (name, value,
// …) and returns the whole answer.
func CallConsumer(t testing.TB, base string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	return testkit.Send(context.Background(), t, consumerClient, http.MethodGet, base+ConsumerPath, "", "", headers...)
}
