package dynamo

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// txItem is one item of a transaction with what its condition failing means.
type txItem struct {
	types.TransactWriteItem
	// onFail is returned when this item's condition fails; nil for an item without a
	// condition (its failing would be a store bug, reported as internal).
	onFail error
}

// errAccountCondition is the onFail of an account item whose condition can fail for
// several reasons; the caller reads the account to tell which.
var errAccountCondition = errors.New("the account item's condition failed")

// transact runs one transaction. A cancellation whose reasons include a failed condition
// answers the onFail of the first such item (callers list the items whose failure should
// win first); one cancelled only by transaction conflicts (concurrent transactions on the
// same items) is retried; anything else is internal.
//
// The audit records ctx carries (account.WithAudit) are written as further items, and so
// is the clearing of an acting admin's failed checks (account.WithClearing), last.
func (st *Store) transact(ctx context.Context, items []txItem) error {
	puts, err := st.auditPuts(ctx, 0)
	if err != nil {
		return err
	}
	items = append(items[:len(items):len(items)], puts...)
	clearing := st.clearingItem(ctx, items)
	if clearing != nil {
		items = append(items, *clearing)
	}
	in := &dynamodb.TransactWriteItemsInput{TransactItems: make([]types.TransactWriteItem, len(items))}
	for i, it := range items {
		in.TransactItems[i] = it.TransactWriteItem
	}
	err = st.retry(ctx, func() error {
		_, err := st.db.TransactWriteItems(ctx, in)
		if err == nil {
			return nil
		}
		return cancelled(items, err)
	}, func(err error) error { return account.Internal("transact: %w", err) })
	if err == nil && clearing != nil {
		account.ClearingFrom(ctx).Done()
	}
	return err
}

// clearingItem is the item that clears the failed checks ctx's clearing names, or nil:
// none, or the transaction already writes that account item (DynamoDB refuses two
// operations on one item), which leaves the clearing to its own write. Its condition
// failing means the acting admin's account vanished during the call.
func (st *Store) clearingItem(ctx context.Context, items []txItem) *txItem {
	c := account.ClearingFrom(ctx)
	if c == nil {
		return nil
	}
	k := accountKey(c.UserID)
	for _, it := range items {
		if sameKey(opKey(it.TransactWriteItem), k) {
			return nil
		}
	}
	return &txItem{types.TransactWriteItem{Update: st.clearFailures(c.UserID)}, account.ErrInvalidCredentials}
}

// opKey is the key of a transaction item's operation.
func opKey(it types.TransactWriteItem) map[string]types.AttributeValue {
	switch {
	case it.Put != nil:
		return it.Put.Item
	case it.Update != nil:
		return it.Update.Key
	case it.Delete != nil:
		return it.Delete.Key
	case it.ConditionCheck != nil:
		return it.ConditionCheck.Key
	}
	return nil
}

func sameKey(a, b map[string]types.AttributeValue) bool {
	return str(a, pk) == str(b, pk) && str(a, sk) == str(b, sk)
}

// cancelled maps a failed TransactWriteItems to an error by its cancellation reasons,
// which DynamoDB lists one per item, in the items' order.
func cancelled(items []txItem, err error) error {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return account.Internal("transact: %w", err)
	}
	conflict := false
	for i, r := range tce.CancellationReasons {
		switch aws.ToString(r.Code) {
		case "ConditionalCheckFailed":
			if i >= len(items) {
				continue
			}
			if items[i].onFail == nil {
				return account.Internal("transact: the condition of item %d failed", i)
			}
			return items[i].onFail
		case "TransactionConflict":
			conflict = true
		}
	}
	if conflict {
		return tryAgain(err)
	}
	return account.Internal("transact: %w", err)
}

// maxAttempts bounds every retry loop of the store.
const maxAttempts = 6

// again marks a try that may succeed if repeated (see retry).
type again struct{ err error }

func (a *again) Error() string { return "try again: " + a.err.Error() }
func (a *again) Unwrap() error { return a.err }

func tryAgain(err error) error { return &again{err: err} }

// retry runs try until it returns anything but tryAgain(reason), at most maxAttempts
// times, waiting backoff(attempt) between tries. When the tries run out, or the next wait
// would outlast the context's deadline, it returns giveUp(the last reason).
func (st *Store) retry(ctx context.Context, try func() error, giveUp func(error) error) error {
	for attempt := 1; ; attempt++ {
		err := try()
		a, ok := err.(*again)
		if !ok {
			return err
		}
		if attempt == maxAttempts {
			return giveUp(a.err)
		}
		d := backoff(attempt)
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < d {
			return giveUp(context.DeadlineExceeded)
		}
		if err := st.sleep(ctx, d); err != nil {
			return giveUp(err)
		}
	}
}

// backoff is the wait after the attempt-th try: growing quadratically from 5 ms, with
// jitter so that racing callers spread out.
func backoff(attempt int) time.Duration {
	return time.Duration(attempt*attempt)*5*time.Millisecond + rand.N(10*time.Millisecond)
}

// sleep waits d, or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d): // collected once it fires or is dropped (Go 1.23)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
