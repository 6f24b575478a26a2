package dynamo

import (
	"context"
	"maps"

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
const skToken = "TOKEN"

func tokenPK(index string) string { return "TOKEN#" + index }

func tokenKey(index string) map[string]types.AttributeValue { return key(tokenPK(index), skToken) }

// AccountByTokenIndex reads the index item, then the account. Round trips: 2. An index
// item whose account no longer points at it (a write in flight) is not found.
func (st *Store) AccountByTokenIndex(ctx context.Context, index string) (*account.Account, error) {
	if index == "" {
		return nil, account.ErrNotFound
	}
	id, err := st.userIDVia(ctx, tokenKey(index))
	if err != nil {
		return nil, err
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
	return st.putNew(pointer(tokenKey(index), id))
}

func (st *Store) tokenIndexDelete(index string) types.TransactWriteItem {
	return st.remove(tokenKey(index))
}

// tokenIndexCond holds a write of the account item to the token index it was read with,
// so that an index item created meanwhile is never left behind.
func tokenIndexCond(index string) string {
	if index == "" {
		return absent(attrTokenIndex)
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
