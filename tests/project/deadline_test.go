package project

import (
	"testing"

	"github.com/gatehouse/gatehouse/pkg/apigw"
	"github.com/gatehouse/gatehouse/pkg/awsenv"
)

// TestAWSCallBoundsFitFunctionTimeout: one AWS call whose every attempt hangs at its worst
// (awsenv's connect, TLS and response timeouts, retries and backoff) gives up before the
// handler's own deadline, the function's Timeout less apigw's margin, so a lone hanging
// call is answered by the family's error even without the request context.
func TestAWSCallBoundsFitFunctionTimeout(t *testing.T) {
	_, tmpl := repo(t)
	for _, fn := range tmpl.Functions {
		budget := fn.Timeout - apigw.DeadlineMargin(fn.Timeout)
		if awsenv.MaxCall > budget {
			t.Errorf("%s: Timeout %v leaves the handler %v, less than one AWS call's worst case %v (pkg/awsenv/bounds.go)",
				fn.LogicalID, fn.Timeout, budget, awsenv.MaxCall)
		}
	}
}
