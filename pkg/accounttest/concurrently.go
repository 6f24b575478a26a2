package accounttest

import (
	"errors"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// concurrently calls try(i) for every i below n at once and counts the calls that
// succeeded and those refused with an error that refused accepts (nil accepts none); any
// other error fails the test.
func concurrently(t *testing.T, n int, try func(i int) error, refused func(error) bool) (won, lost int) {
	t.Helper()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = try(i) })
	}
	wg.Wait()
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case refused != nil && refused(err):
			lost++
		default:
			t.Errorf("call %d: unexpected error: %v", i, err)
		}
	}
	return won, lost
}

// is accepts target's errors.
func is(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}

// toldToWait accepts "too many attempts" without a retry time: a caller that lost a race
// for the last free attempt, not one that is locked out.
func toldToWait(err error) bool {
	var e *account.Error
	return errors.As(err, &e) && e.Code == account.CodeTooManyAttempts && e.RetryAfter == 0
}

// tooMany accepts every "too many attempts".
func tooMany(err error) bool { return account.ErrorCode(err) == account.CodeTooManyAttempts }

// anyError accepts every error.
func anyError(error) bool { return true }
