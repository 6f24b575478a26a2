package dynamo

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gatehouse/gatehouse/pkg/account"
)

func sessionKey(id int64, hash string) map[string]types.AttributeValue {
	return key(userPK(id), sessionSK(hash))
}

// CreateSession is one PutItem, or, when it also clears failed logins, one transaction.
// Round trips: 1.
func (st *Store) CreateSession(ctx context.Context, x *account.Session, clearFailures bool) error {
	item := sessionItem(x)
	if !clearFailures {
		return st.single(ctx, types.TransactWriteItem{Put: &types.Put{TableName: st.table, Item: item}}, nil, func() error {
			if _, err := st.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: st.table, Item: item}); err != nil {
				return account.Internal("create session: %w", err)
			}
			return nil
		})
	}
	return st.transact(ctx, []txItem{
		{TransactWriteItem: types.TransactWriteItem{Put: &types.Put{TableName: st.table, Item: item}}},
		{types.TransactWriteItem{Update: st.clearFailures(x.UserID)}, account.ErrNotFound},
	})
}

// SessionWithAccount reads both items with one consistent BatchGetItem. Round trips: 1.
func (st *Store) SessionWithAccount(ctx context.Context, id int64, hash string) (*account.Session, *account.Account, error) {
	items, err := st.batchGet(ctx, []map[string]types.AttributeValue{sessionKey(id, hash), accountKey(id)})
	if err != nil {
		return nil, nil, err
	}
	var sess *account.Session
	var acc *account.Account
	for _, it := range items {
		switch k := str(it, sk); {
		case k == skAccount:
			a, err := parseAccount(it)
			if err != nil {
				return nil, nil, err
			}
			acc = a
		case k == sessionSK(hash):
			sess = parseSession(id, it)
		}
	}
	if sess == nil || acc == nil {
		return nil, nil, account.ErrNotFound
	}
	return sess, acc, nil
}

func (st *Store) DeleteSession(ctx context.Context, id int64, hash string) error {
	return st.single(ctx, types.TransactWriteItem{Delete: &types.Delete{TableName: st.table, Key: sessionKey(id, hash)}}, nil, func() error {
		_, err := st.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: st.table, Key: sessionKey(id, hash)})
		if err != nil {
			return account.Internal("delete session: %w", err)
		}
		return nil
	})
}

// partitionRest reads account id's partition with one consistent Query: the account item
// (nil: none), and the keys of its sessions and audit events (all but the account, OTP and
// verification items, which DeleteAccount's transaction names itself). Whole items are
// read, as a Query bills them whole anyway.
func (st *Store) partitionRest(ctx context.Context, id int64) (acct map[string]types.AttributeValue, keys []map[string]types.AttributeValue, err error) {
	var start map[string]types.AttributeValue
	for {
		out, err := st.db.Query(ctx, &dynamodb.QueryInput{
			TableName:                 st.table,
			KeyConditionExpression:    aws.String(pk + " = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(userPK(id))},
			ConsistentRead:            aws.Bool(true),
			ExclusiveStartKey:         start,
		})
		if err != nil {
			return nil, nil, account.Internal("query partition of %d: %w", id, err)
		}
		for _, it := range out.Items {
			switch str(it, sk) {
			case skAccount:
				acct = it
			case skOTP, skVerify:
			default:
				keys = append(keys, keyOf(it))
			}
		}
		if out.LastEvaluatedKey == nil {
			return acct, keys, nil
		}
		start = out.LastEvaluatedKey
	}
}

// maxRestInTxn bounds the sessions and events DeleteAccount deletes in its transaction
// (100 items at most, with the account's own few and the deletion's event).
const maxRestInTxn = 80

// deleteKeys deletes the items at keys, 25 to a BatchWriteItem.
func (st *Store) deleteKeys(ctx context.Context, keys []map[string]types.AttributeValue) error {
	for i := 0; i < len(keys); i += 25 {
		batch := keys[i:min(i+25, len(keys))]
		reqs := make([]types.WriteRequest, len(batch))
		for j, k := range batch {
			reqs[j] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}}
		}
		if err := st.batchWrite(ctx, reqs); err != nil {
			return err
		}
	}
	return nil
}
