package e2e

import "testing"

// WantCounts checks the tallies of got (from Count or CountUsers) that want names: each
// must be exactly want's.
func WantCounts(t testing.TB, what string, got, want map[string]int) {
	t.Helper()
	for k, n := range want {
		if got[k] != n {
			t.Fatalf("%s: %v, want %v", what, got, want)
		}
	}
}
