package dynamo

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// Hourly mail counters (account.MailQuota):
//
//	MAILTO#<recipient key> / HOUR#<unix hour>   mails to one recipient in that hour
//	MAILBUDGET#<unix hour> / MAILBUDGET         mails of the installation in that hour
//
// The recipient key is already a SHA-256 (account.RecipientKey): no address is stored.
// Each counter is one item per hour, so a counter never needs resetting, and TTL removes
// it an hour after its hour.
const (
	mailToPrefix     = "MAILTO#"
	mailBudgetPrefix = "MAILBUDGET#"
	skMailBudget     = "MAILBUDGET"
)

func mailToKey(recipient string, hour int64) map[string]types.AttributeValue {
	return key(mailToPrefix+recipient, "HOUR#"+strconv.FormatInt(hour, 10))
}

func mailBudgetKey(hour int64) map[string]types.AttributeValue {
	return key(mailBudgetPrefix+strconv.FormatInt(hour, 10), skMailBudget)
}

var (
	errRecipientLimit = errors.New("mails to this recipient this hour at the limit")
	errMailBudget     = errors.New("installation mail budget of this hour spent")
)

// ReserveMailQuota swaps the account's list of recent mails and adds one to the
// recipient's and the installation's counters of the hour, each conditional (the list
// still prev, each counter below its limit), in one transaction: a request that any limit
// refuses costs no other, and racing requests never exceed one. It takes the place of
// ReserveMail's single write, so a mail request keeps its round trips. Round trips: 1
// (2 when the account's condition fails, to tell a gone account from a stale list).
//
// Every mail of the installation touches the budget item; transactions on one item that
// overlap are cancelled and retried (transact), which at the budget's rates (1000 an hour
// by default) is rare.
func (st *Store) ReserveMailQuota(ctx context.Context, id int64, prev, next []time.Time, q account.MailQuota) error {
	err := st.transact(ctx, append([]txItem{
		{types.TransactWriteItem{Update: st.mailSentSwap(id, prev, next)}, errAccountCondition},
	}, st.mailCounts(q)...))
	if err == errAccountCondition {
		return st.whyAccountCondition(ctx, id)
	}
	return err
}

// mailCounts are the transaction items that count one mail against q's recipient and
// installation counters, each refused (CodeTooManyAttempts) at its limit.
func (st *Store) mailCounts(q account.MailQuota) []txItem {
	hour := q.Hour.UTC().Truncate(time.Hour)
	expires := hour.Add(2 * time.Hour).Unix()
	count := func(k map[string]types.AttributeValue, limit int) types.TransactWriteItem {
		return types.TransactWriteItem{Update: &types.Update{
			TableName:                 st.table,
			Key:                       k,
			UpdateExpression:          aws.String("ADD #m :one SET " + attrExpiresAt + " = :exp"),
			ConditionExpression:       aws.String(absent("#m") + " OR #m < :max"),
			ExpressionAttributeNames:  map[string]string{"#m": attrMails},
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": n(1), ":max": n(int64(limit)), ":exp": n(expires)},
		}}
	}
	return []txItem{
		{count(mailToKey(q.Recipient, hour.Unix()), q.PerRecipient), account.E(account.CodeTooManyAttempts, errRecipientLimit)},
		{count(mailBudgetKey(hour.Unix()), q.Budget), account.E(account.CodeTooManyAttempts, errMailBudget)},
	}
}

// mailSentSwap is the compare-and-swap of the account's list of recent mails from prev
// to next.
func (st *Store) mailSentSwap(id int64, prev, next []time.Time) *types.Update {
	cond := itemPresent + " AND "
	vals := map[string]types.AttributeValue{":next": s(encodeTimes(next))}
	if len(prev) == 0 {
		cond += absent(attrMailSent)
	} else {
		cond += attrMailSent + " = :prev"
		vals[":prev"] = s(encodeTimes(prev))
	}
	return &types.Update{
		TableName:                 st.table,
		Key:                       accountKey(id),
		UpdateExpression:          aws.String("SET " + attrMailSent + " = :next"),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeValues: vals,
	}
}

// ReserveMail compares and swaps the account's list of recent mails. Round trips: 1.
func (st *Store) ReserveMail(ctx context.Context, id int64, prev, next []time.Time) error {
	_, err := st.updateItem(ctx, st.mailSentSwap(id, prev, next), types.ReturnValueNone)
	if isConditionFailed(err) {
		return st.whyAccountCondition(ctx, id)
	}
	if err != nil {
		return account.Internal("reserve mail: %w", err)
	}
	return nil
}
