package dynamo

import (
	"context"
	"maps"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// PutResetToken writes the token, moves the account's pointer to it and deletes the token
// it replaces, in one transaction. Round trips: 1.
func (st *Store) PutResetToken(ctx context.Context, r *account.ResetToken, replaces string) error {
	vals := map[string]types.AttributeValue{":new": s(r.TokenHash)}
	maps.Copy(vals, resetValues(replaces))
	item := resetKey(r.TokenHash)
	item[attrUserID] = n(r.UserID)
	item[attrCreatedAt] = stamp(r.CreatedAt)
	item[attrExpiresAt] = n(r.ExpiresAt.Unix())
	items := []txItem{
		{types.TransactWriteItem{Update: &types.Update{
			TableName:                 st.table,
			Key:                       accountKey(r.UserID),
			UpdateExpression:          aws.String("SET " + attrResetHash + " = :new"),
			ConditionExpression:       aws.String(itemPresent + " AND " + resetCond(replaces)),
			ExpressionAttributeValues: vals,
		}}, errAccountCondition},
		{st.putNew(item), account.Internal("put reset token: token hash collision")},
	}
	if replaces != "" {
		items = append(items, txItem{TransactWriteItem: st.remove(resetKey(replaces))})
	}
	err := st.transact(ctx, items)
	if err == errAccountCondition {
		return st.whyAccountCondition(ctx, r.UserID)
	}
	return err
}

func (st *Store) ResetToken(ctx context.Context, hash string) (*account.ResetToken, error) {
	item, err := st.getOr(ctx, resetKey(hash), account.ErrTokenNotFound)
	if err != nil {
		return nil, err
	}
	id, _ := num(item, attrUserID)
	return &account.ResetToken{TokenHash: hash, UserID: id, CreatedAt: parseTime(str(item, attrCreatedAt)), ExpiresAt: expiry(item)}, nil
}

// resetCond holds a write of the account item to the reset pointer it was read with.
func resetCond(hash string) string {
	if hash == "" {
		return absent(attrResetHash)
	}
	return attrResetHash + " = :rh"
}

func resetValues(hash string) map[string]types.AttributeValue {
	if hash == "" {
		return nil
	}
	return map[string]types.AttributeValue{":rh": s(hash)}
}
