package dynamo

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// Pending email verifications (account.EmailVerification):
//
//	USER#<id> / VERIFY   verify_hash, email, email_key, cred_version, created_at, expires_at
//
// In the account's partition, so reading it goes with the account in one BatchGetItem
// and deleting the account takes it along.
const (
	skVerify       = "VERIFY"
	attrVerifyHash = "verify_hash"
)

func verifyKey(id int64) map[string]types.AttributeValue { return key(userPK(id), skVerify) }

func verificationItem(v *account.EmailVerification) map[string]types.AttributeValue {
	item := verifyKey(v.UserID)
	item[attrVerifyHash] = s(v.TokenHash)
	item[attrEmail] = s(v.Email)
	item[attrEmailKey] = s(v.EmailKey)
	item[attrCredVersion] = n(v.CredVersion)
	item[attrCreatedAt] = stamp(v.CreatedAt)
	item[attrExpiresAt] = n(v.ExpiresAt.Unix())
	return item
}

// CreateAccountWithVerification is CreateAccount's transaction with the verification and
// the mail's two counters in it. Round trips: 2 (3 when a mail counter is at its limit:
// the account is then written without them, under the id already taken).
func (st *Store) CreateAccountWithVerification(ctx context.Context, a *account.Account, v *account.EmailVerification, q account.MailQuota) (bool, error) {
	items, err := st.createItems(ctx, a)
	if err != nil {
		return false, err
	}
	v.UserID = a.UserID
	// The account's creation events are bound to its new id (account.AuditRecords).
	ctx = account.WithAudit(ctx, account.AuditRecords(ctx, a.UserID)...)
	withMail := append(append(items[:len(items):len(items)],
		txItem{TransactWriteItem: types.TransactWriteItem{Put: &types.Put{TableName: st.table, Item: verificationItem(v)}}}),
		st.mailCounts(q)...)
	err = st.transact(ctx, withMail)
	if account.ErrorCode(err) != account.CodeTooManyAttempts {
		return err == nil, err
	}
	return false, st.transact(ctx, items)
}

// PutVerification replaces the account's pending verification, in one transaction with
// the audit records ctx carries (single). Round trips: 1.
func (st *Store) PutVerification(ctx context.Context, v *account.EmailVerification) error {
	item := verificationItem(v)
	return st.single(ctx, types.TransactWriteItem{Put: &types.Put{TableName: st.table, Item: item}}, nil, func() error {
		if _, err := st.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: st.table, Item: item}); err != nil {
			return account.Internal("put verification: %w", err)
		}
		return nil
	})
}

// VerificationWithAccount reads both in one consistent BatchGetItem. Round trips: 1.
func (st *Store) VerificationWithAccount(ctx context.Context, id int64) (*account.EmailVerification, *account.Account, error) {
	items, err := st.batchGet(ctx, []map[string]types.AttributeValue{verifyKey(id), accountKey(id)})
	if err != nil {
		return nil, nil, err
	}
	var v *account.EmailVerification
	var a *account.Account
	for _, it := range items {
		switch str(it, sk) {
		case skAccount:
			if a, err = parseAccount(it); err != nil {
				return nil, nil, err
			}
		case skVerify:
			cv, _ := num(it, attrCredVersion)
			v = &account.EmailVerification{
				UserID: id, TokenHash: str(it, attrVerifyHash), Email: str(it, attrEmail), EmailKey: str(it, attrEmailKey),
				CredVersion: cv, CreatedAt: parseTime(str(it, attrCreatedAt)), ExpiresAt: expiry(it),
			}
		}
	}
	if v == nil || a == nil {
		return nil, nil, account.ErrNotFound
	}
	return v, a, nil
}

// ConfirmEmail is one transaction: the verification consumed (held to its hash), the
// account marked verified (held to the email key and credential version read), and for a
// change the new key reserved and the old one released; the audit records ctx carries go
// in it too (transact). Round trips: 1.
func (st *Store) ConfirmEmail(ctx context.Context, v *account.EmailVerification, cur *account.Account, now time.Time) error {
	update := newExpr()
	update.set(attrEmailVerified, &types.AttributeValueMemberBOOL{Value: true})
	update.set(attrUpdatedAt, stamp(now))
	update.values[":cv"] = n(cur.CredVersion)
	cond := itemPresent + " AND " + attrCredVersion + " = :cv AND "
	if cur.EmailKey == "" {
		cond += absent(attrEmailKey)
	} else {
		cond += attrEmailKey + " = :oldkey"
		update.values[":oldkey"] = s(cur.EmailKey)
	}
	items := []txItem{{types.TransactWriteItem{Delete: &types.Delete{
		TableName:                 st.table,
		Key:                       verifyKey(v.UserID),
		ConditionExpression:       aws.String(attrVerifyHash + " = :h"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":h": s(v.TokenHash)},
	}}, account.ErrTokenNotFound}}
	change := v.EmailKey != cur.EmailKey
	if change {
		update.set(attrEmail, s(v.Email))
		update.set(attrEmailKey, s(v.EmailKey))
		items = append(items, txItem{st.putNew(pointer(emailKey(v.EmailKey), v.UserID)), account.ErrEmailTaken})
	}
	items = append(items, txItem{types.TransactWriteItem{Update: st.accountUpdate(v.UserID, update, cond)}, account.ErrTokenNotFound})
	if change && cur.EmailKey != "" {
		items = append(items, txItem{types.TransactWriteItem{Delete: &types.Delete{
			TableName:                 st.table,
			Key:                       emailKey(cur.EmailKey),
			ConditionExpression:       aws.String(attrUserID + " = :id"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":id": n(v.UserID)},
		}}, account.ErrTokenNotFound})
	}
	return st.transact(ctx, items)
}
