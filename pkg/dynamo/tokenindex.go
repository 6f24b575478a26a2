package dynamo

import (
	"context"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// The token index (Admin v2 Bearer tokens):
//
//	TOKEN#<index>      / TOKEN              unique API token index -> user_id
//
// <index> is the HMAC of the token under the stack's token-index key (computed by the
// domain; the store never sees the key or the token). The account item keeps the index of
// its token in token_index, so every write that changes or clears the token, or deletes the
// account, also deletes the old index item, in the same transaction.
const (
	skToken        = "TOKEN"
	attrTokenIndex = "token_index"
	// maxTokenAttempts bounds the re-reads when the account's token moves under a change.
	maxTokenAttempts = 4
)

func tokenPK(index string) string { return "TOKEN#" + index }

// AccountByTokenIndex reads the index item, then the account. Round trips: 2. An index
// item whose account no longer points at it (a write in flight) is not found.
func (st *Store) AccountByTokenIndex(ctx context.Context, index string) (*account.Account, error) {
	if index == "" {
		return nil, account.ErrNotFound
	}
	item, err := st.get(ctx, key(tokenPK(index), skToken))
	if err != nil {
		return nil, err
	}
	id, ok := num(item, "user_id")
	if !ok {
		return nil, account.ErrNotFound
	}
	a, err := st.AccountByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if a.TokenIndex != index {
		return nil, account.ErrNotFound
	}
	return a, nil
}

// tokenIndexPut creates the index item of a token for account id, provided no account
// holds it.
func (st *Store) tokenIndexPut(index string, id int64) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{
		TableName:           st.table,
		Item:                map[string]types.AttributeValue{pk: s(tokenPK(index)), sk: s(skToken), "user_id": n(id)},
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	}}
}

func (st *Store) tokenIndexDelete(index string) types.TransactWriteItem {
	return types.TransactWriteItem{Delete: &types.Delete{TableName: st.table, Key: key(tokenPK(index), skToken)}}
}

// tokenIndexCond holds a write of the account item to the token index it was read with,
// so that an index item created meanwhile is never left behind.
func tokenIndexCond(index string) string {
	if index == "" {
		return "attribute_not_exists(" + attrTokenIndex + ")"
	}
	return attrTokenIndex + " = :ti"
}

// withTokenIndexValue adds the value of tokenIndexCond to vals (which may be nil).
func withTokenIndexValue(vals map[string]types.AttributeValue, index string) map[string]types.AttributeValue {
	if index == "" {
		return vals
	}
	out := maps.Clone(vals)
	if out == nil {
		out = map[string]types.AttributeValue{}
	}
	out[":ti"] = s(index)
	return out
}

// changeCredentialsWithToken is ChangeCredentials for a change of the API token: it reads
// the account's current token index, then updates the account (held to that index), deletes
// the old index item and creates the new one in one transaction, with the OTP or reset
// token to consume if any. A concurrent token change makes it read and try again. Round
// trips: 2.
func (st *Store) changeCredentialsWithToken(ctx context.Context, c account.CredentialChange, update *expr, cond string, consume *types.TransactWriteItem, consumedErr error) error {
	next := ""
	if c.TokenIndex != nil {
		next = *c.TokenIndex
	}
	for attempt := 1; ; attempt++ {
		item, err := st.get(ctx, key(userPK(c.UserID), skAccount))
		if err != nil {
			return err
		}
		if item == nil {
			return account.ErrNotFound
		}
		prev := str(item, attrTokenIndex)

		e := update.clone()
		if next == "" {
			e.remove(attrTokenIndex)
		} else {
			e.set(attrTokenIndex, s(next))
		}
		var items []types.TransactWriteItem
		if consume != nil {
			items = append(items, *consume)
		}
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName:                 st.table,
			Key:                       key(userPK(c.UserID), skAccount),
			UpdateExpression:          aws.String(e.String()),
			ConditionExpression:       aws.String(cond + " AND " + tokenIndexCond(prev)),
			ExpressionAttributeNames:  e.names,
			ExpressionAttributeValues: withTokenIndexValue(e.values, prev),
		}})
		if prev != "" && prev != next {
			items = append(items, st.tokenIndexDelete(prev))
		}
		put := -1
		if next != "" && next != prev {
			put = len(items)
			items = append(items, st.tokenIndexPut(next, c.UserID))
		}
		failed, err := st.transact(ctx, items)
		switch {
		case err != nil:
			return err
		case failed == nil:
			return nil
		case put >= 0 && failed[put]:
			return account.ErrTokenInUse
		case consume != nil && failed[0]:
			return consumedErr
		}
		// The account condition failed: the account is gone, IfPasswordHash is stale, or
		// the token moved since the read (then read again).
		cur, err := st.get(ctx, key(userPK(c.UserID), skAccount))
		if err != nil {
			return err
		}
		if cur == nil {
			return account.ErrNotFound
		}
		if str(cur, attrTokenIndex) == prev {
			return account.ErrConflict
		}
		if attempt == maxTokenAttempts {
			return account.Internal("change credentials of %d: token keeps changing", c.UserID)
		}
	}
}

func (e *expr) clone() *expr {
	return &expr{
		sets: slices.Clone(e.sets), adds: slices.Clone(e.adds), removes: slices.Clone(e.removes),
		names: maps.Clone(e.names), values: maps.Clone(e.values),
	}
}
