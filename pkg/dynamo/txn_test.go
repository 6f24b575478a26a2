package dynamo

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// scripted answers TransactWriteItems with one error after another (nil once they run out).
type scripted struct {
	API
	errs  []error
	calls int
}

func (f *scripted) TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	f.calls++
	if len(f.errs) == 0 {
		return &dynamodb.TransactWriteItemsOutput{}, nil
	}
	err := f.errs[0]
	f.errs = f.errs[1:]
	return nil, err
}

// cancel is a TransactionCanceledException with one reason code per item.
func cancel(codes ...string) error {
	tce := &types.TransactionCanceledException{}
	for _, c := range codes {
		tce.CancellationReasons = append(tce.CancellationReasons, types.CancellationReason{Code: &c})
	}
	return tce
}

// fakeStore is a Store on f whose sleep only counts.
func fakeStore(f API) (*Store, *int) {
	st := New(f, "t")
	sleeps := new(int)
	st.sleep = func(ctx context.Context, d time.Duration) error {
		*sleeps++
		return ctx.Err()
	}
	return st, sleeps
}

var (
	errFirst  = errors.New("first item")
	errSecond = errors.New("second item")
	errThird  = errors.New("third item")
)

func threeItems() []txItem {
	return []txItem{{onFail: errFirst}, {onFail: errSecond}, {onFail: errThird}}
}

func TestTransactMapsEachItemsOwnError(t *testing.T) {
	for _, tc := range []struct {
		name  string
		codes []string
		want  error
	}{
		{"first item", []string{"ConditionalCheckFailed", "None", "None"}, errFirst},
		{"second item", []string{"None", "ConditionalCheckFailed", "None"}, errSecond},
		{"last item", []string{"None", "None", "ConditionalCheckFailed"}, errThird},
		{"two items: the first listed", []string{"None", "ConditionalCheckFailed", "ConditionalCheckFailed"}, errSecond},
		{"a failed condition wins over a conflict", []string{"TransactionConflict", "None", "ConditionalCheckFailed"}, errThird},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &scripted{errs: []error{cancel(tc.codes...)}}
			st, sleeps := fakeStore(f)
			if err := st.transact(context.Background(), threeItems()); err != tc.want {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if f.calls != 1 || *sleeps != 0 {
				t.Fatalf("%d calls, %d sleeps; a failed condition is final", f.calls, *sleeps)
			}
		})
	}
}

func TestTransactInternalErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"condition of an item without one", cancel("None", "ConditionalCheckFailed")},
		{"throttled", cancel("ThrottlingError", "None")},
		{"not a cancellation", errors.New("connection reset")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &scripted{errs: []error{tc.err}}
			st, sleeps := fakeStore(f)
			err := st.transact(context.Background(), []txItem{{onFail: errFirst}, {}})
			if account.ErrorCode(err) != account.CodeInternal {
				t.Fatalf("got %v, want an internal error", err)
			}
			if f.calls != 1 || *sleeps != 0 {
				t.Fatalf("%d calls, %d sleeps; want no retry", f.calls, *sleeps)
			}
		})
	}
}

func TestTransactRetriesConflicts(t *testing.T) {
	f := &scripted{errs: []error{cancel("TransactionConflict", "None"), cancel("None", "TransactionConflict")}}
	st, sleeps := fakeStore(f)
	if err := st.transact(context.Background(), threeItems()[:2]); err != nil {
		t.Fatal(err)
	}
	if f.calls != 3 || *sleeps != 2 {
		t.Fatalf("%d calls, %d sleeps; want 3 and 2", f.calls, *sleeps)
	}
}

func TestTransactConflictsForever(t *testing.T) {
	f := &scripted{}
	for range maxAttempts + 1 {
		f.errs = append(f.errs, cancel("TransactionConflict"))
	}
	st, sleeps := fakeStore(f)
	err := st.transact(context.Background(), threeItems()[:1])
	if account.ErrorCode(err) != account.CodeInternal {
		t.Fatalf("got %v, want an internal error", err)
	}
	if f.calls != maxAttempts || *sleeps != maxAttempts-1 {
		t.Fatalf("%d calls, %d sleeps; want %d and %d", f.calls, *sleeps, maxAttempts, maxAttempts-1)
	}
}

func TestRetry(t *testing.T) {
	errGaveUp := errors.New("gave up")
	giveUp := func(reason error) error { return errors.Join(errGaveUp, reason) }
	errReason := errors.New("not yet")
	t.Run("until success", func(t *testing.T) {
		st, sleeps := fakeStore(nil)
		tries := 0
		err := st.retry(context.Background(), func() error {
			if tries++; tries < 3 {
				return tryAgain(errReason)
			}
			return nil
		}, giveUp)
		if err != nil || tries != 3 || *sleeps != 2 {
			t.Fatalf("%v after %d tries, %d sleeps", err, tries, *sleeps)
		}
	})
	t.Run("other errors are final", func(t *testing.T) {
		st, sleeps := fakeStore(nil)
		tries := 0
		err := st.retry(context.Background(), func() error { tries++; return account.ErrNotFound }, giveUp)
		if err != account.ErrNotFound || tries != 1 || *sleeps != 0 {
			t.Fatalf("%v after %d tries, %d sleeps", err, tries, *sleeps)
		}
	})
	t.Run("bounded", func(t *testing.T) {
		st, sleeps := fakeStore(nil)
		tries := 0
		err := st.retry(context.Background(), func() error { tries++; return tryAgain(errReason) }, giveUp)
		if !errors.Is(err, errGaveUp) || !errors.Is(err, errReason) || tries != maxAttempts || *sleeps != maxAttempts-1 {
			t.Fatalf("%v after %d tries, %d sleeps", err, tries, *sleeps)
		}
	})
	t.Run("no wait past the deadline", func(t *testing.T) {
		st, sleeps := fakeStore(nil)
		ctx, cancel := context.WithDeadline(context.Background(), time.Now())
		defer cancel()
		tries := 0
		err := st.retry(ctx, func() error { tries++; return tryAgain(errReason) }, giveUp)
		if !errors.Is(err, errGaveUp) || !errors.Is(err, context.DeadlineExceeded) || tries != 1 || *sleeps != 0 {
			t.Fatalf("%v after %d tries, %d sleeps", err, tries, *sleeps)
		}
	})
	t.Run("cancelled while waiting", func(t *testing.T) {
		st, sleeps := fakeStore(nil)
		ctx, cancel := context.WithCancel(context.Background())
		tries := 0
		err := st.retry(ctx, func() error { tries++; cancel(); return tryAgain(errReason) }, giveUp)
		if !errors.Is(err, errGaveUp) || !errors.Is(err, context.Canceled) || tries != 1 || *sleeps != 1 {
			t.Fatalf("%v after %d tries, %d sleeps", err, tries, *sleeps)
		}
	})
}

func TestSleepEndsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("sleep on a cancelled context: %v", err)
	}
}
