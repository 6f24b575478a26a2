package dynamo

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// failuresAttrs is the failed-login state a success clears.
const failuresAttrs = attrFailed + ", " + attrLock

// ReserveLoginAttempt is one conditional UpdateItem that returns the account (see
// reserveCheck in limits.go). Round trips: 1 (2 after a lock).
func (st *Store) ReserveLoginAttempt(ctx context.Context, id int64, now time.Time) (*account.Account, error) {
	item, err := st.reserveCheck(ctx, accountKey(id), now, false)
	if err != nil {
		return nil, err
	}
	return parseAccount(item)
}

// clearFailures is the update that ends account id's run of failed checks: on its own
// (ClearLoginFailures), with a new session, or with an admin route's write (txn.go).
func (st *Store) clearFailures(id int64) *types.Update {
	return &types.Update{
		TableName:           st.table,
		Key:                 accountKey(id),
		UpdateExpression:    aws.String("REMOVE " + failuresAttrs),
		ConditionExpression: aws.String(itemPresent),
	}
}

// LockAccount sets the first lock once the free-th failure is known. Round trips: 1.
func (st *Store) LockAccount(ctx context.Context, id int64, count int, until time.Time) error {
	return st.lockCheck(ctx, accountKey(id), count, until)
}

func (st *Store) ClearLoginFailures(ctx context.Context, id int64) error {
	_, err := st.updateItem(ctx, st.clearFailures(id), types.ReturnValueNone)
	if isConditionFailed(err) {
		return account.ErrNotFound
	}
	if err != nil {
		return account.Internal("clear login failures: %w", err)
	}
	return nil
}
