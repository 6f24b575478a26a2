package dynamo

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gatehouse/gatehouse/pkg/account"
)

var errUnprocessed = errors.New("keys left unprocessed")

// batchGet reads keys (at most 100) with consistent BatchGetItem calls, retrying
// unprocessed keys; with attrs, only those attributes.
func (st *Store) batchGet(ctx context.Context, keys []map[string]types.AttributeValue, attrs ...string) ([]map[string]types.AttributeValue, error) {
	ka := types.KeysAndAttributes{ConsistentRead: aws.Bool(true)}
	if len(attrs) > 0 {
		ka.ExpressionAttributeNames = map[string]string{}
		names := make([]string, len(attrs))
		for i, a := range attrs {
			names[i] = "#p" + strconv.Itoa(i)
			ka.ExpressionAttributeNames[names[i]] = a
		}
		ka.ProjectionExpression = aws.String(strings.Join(names, ", "))
	}
	var items []map[string]types.AttributeValue
	if len(keys) == 0 {
		return nil, nil
	}
	err := st.retry(ctx, func() error {
		ka.Keys = keys
		out, err := st.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{*st.table: ka}})
		if err != nil {
			return account.Internal("batch read: %w", err)
		}
		items = append(items, out.Responses[*st.table]...)
		if keys = out.UnprocessedKeys[*st.table].Keys; len(keys) > 0 {
			return tryAgain(errUnprocessed)
		}
		return nil
	}, func(err error) error { return account.Internal("batch read: %w", err) })
	return items, err
}

// batchWrite runs write requests (at most 25), retrying unprocessed ones.
func (st *Store) batchWrite(ctx context.Context, reqs []types.WriteRequest) error {
	pending := map[string][]types.WriteRequest{*st.table: reqs}
	return st.retry(ctx, func() error {
		out, err := st.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
		if err != nil {
			return account.Internal("batch write: %w", err)
		}
		if pending = out.UnprocessedItems; len(pending[*st.table]) > 0 {
			return tryAgain(errUnprocessed)
		}
		return nil
	}, func(err error) error { return account.Internal("batch write: %w", err) })
}
