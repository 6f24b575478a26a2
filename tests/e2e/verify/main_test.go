package verify_test

import (
	"testing"

	"github.com/gatehouse/gatehouse/tests/e2e"
)

// TestMain runs the package's tests against a local stack of their own (e2e.Main).
func TestMain(m *testing.M) { e2e.Main(m) }
