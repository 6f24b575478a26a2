package dynamo

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gatehouse/gatehouse/pkg/account"
)

func (st *Store) PutOTP(ctx context.Context, o *account.OTP) error {
	item := otpKey(o.UserID)
	item[attrReqIDHash] = s(o.ReqIDHash)
	item[attrUserHash] = s(o.UserHash)
	item[attrCodeMAC] = s(o.CodeMAC)
	item[attrAttempts] = n(int64(o.Attempts))
	item[attrCreatedAt] = stamp(o.CreatedAt)
	item[attrExpiresAt] = n(o.ExpiresAt.Unix())
	return st.single(ctx, types.TransactWriteItem{Put: &types.Put{TableName: st.table, Item: item}}, nil, func() error {
		if _, err := st.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: st.table, Item: item}); err != nil {
			return account.Internal("put otp: %w", err)
		}
		return nil
	})
}

// SpendOTPAttempt is one conditional UpdateItem; only a refusal costs a second read to
// say why. Round trips: 1.
func (st *Store) SpendOTPAttempt(ctx context.Context, id int64, reqHash, userHash string, now time.Time, max int) (*account.OTP, error) {
	out, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        st.table,
		Key:              otpKey(id),
		UpdateExpression: aws.String("ADD " + attrAttempts + " :one"),
		ConditionExpression: aws.String(attrReqIDHash + " = :rh AND " + attrUserHash + " = :uh AND " + absent(attrUsedAt) +
			" AND " + attrExpiresAt + " > :now AND " + attrAttempts + " < :max"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": n(1), ":rh": s(reqHash), ":uh": s(userHash), ":now": n(now.Unix()), ":max": n(int64(max)),
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	if isConditionFailed(err) {
		item, err := st.get(ctx, otpKey(id))
		if err != nil {
			return nil, err
		}
		if item == nil || str(item, attrReqIDHash) != reqHash || str(item, attrUserHash) != userHash {
			return nil, account.ErrInvalidRequest
		}
		return nil, account.ErrOTPExpired
	}
	if err != nil {
		return nil, account.Internal("spend otp attempt: %w", err)
	}
	it := out.Attributes
	attempts, _ := num(it, attrAttempts)
	return &account.OTP{
		UserID: id, ReqIDHash: reqHash, UserHash: userHash, CodeMAC: str(it, attrCodeMAC),
		Attempts: int(attempts), CreatedAt: parseTime(str(it, attrCreatedAt)), ExpiresAt: expiry(it),
	}, nil
}
