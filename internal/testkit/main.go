package testkit

import (
	"context"
	"fmt"
	"os"
	"time"
)

// Stopped stops what a TestMain started (stop is, say, a local stack's Stop), giving it a
// minute, and reports on stderr, after prefix, whether it failed: a TestMain sets its exit
// code to 1 when it returns false.
func Stopped(prefix string, stop func(context.Context) error) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := stop(ctx); err != nil {
		fmt.Fprintln(os.Stderr, prefix+": stop:", err)
		return false
	}
	return true
}
