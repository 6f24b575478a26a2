package dynamo

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// Audit events live in their account's partition:
//
//	USER#<id> / EVENT#<time ns, 20 digits>#<random>   the event as JSON (expires_at = TTL)
//
// so listing them newest first is one Query (ScanIndexForward false), and deleting the
// account takes them along with its sessions. They are written as extra Puts of the write
// a use case makes anyway (account.WithAudit): transact appends them, and the single-item
// writes become a transaction when there are any (single), so no event costs a round trip
// of its own where a write is made anyway.

const eventPrefix = "EVENT#"

const attrEvent = "event"

func auditItem(r account.AuditRecord) (map[string]types.AttributeValue, error) {
	b, err := json.Marshal(r.Event)
	if err != nil {
		return nil, account.Internal("encode event: %w", err)
	}
	item := key(userPK(r.Under), eventPrefix+r.SortKey())
	item[attrEvent] = s(string(b))
	item[attrExpiresAt] = n(r.Expires.Unix())
	return item, nil
}

// auditPuts are the transaction items of the records ctx carries, created binding those
// of a new account. Records under no account (0) are not stored.
func (st *Store) auditPuts(ctx context.Context, created int64) ([]txItem, error) {
	var items []txItem
	for _, r := range account.AuditRecords(ctx, created) {
		if r.Under == 0 {
			continue
		}
		item, err := auditItem(r)
		if err != nil {
			return nil, err
		}
		items = append(items, txItem{TransactWriteItem: types.TransactWriteItem{Put: &types.Put{TableName: st.table, Item: item}}})
	}
	return items, nil
}

// single runs one write: plain when ctx carries no audit records and no clearing, else it
// as the first item of a transaction with them (onFail: what its condition failing means).
func (st *Store) single(ctx context.Context, it types.TransactWriteItem, onFail error, plain func() error) error {
	puts, err := st.auditPuts(ctx, 0)
	if err != nil {
		return err
	}
	if len(puts) == 0 && st.clearingItem(ctx, []txItem{{it, onFail}}) == nil {
		return plain()
	}
	return st.transact(withoutAudit(ctx), append([]txItem{{it, onFail}}, puts...))
}

// withoutAudit is ctx without records, so that transact does not add them twice.
func withoutAudit(ctx context.Context) context.Context { return account.WithAudit(ctx) }

// PutAudit is one PutItem, or one transaction for several records. Round trips: 1.
func (st *Store) PutAudit(ctx context.Context, recs []account.AuditRecord) error {
	ctx = account.WithAudit(ctx, recs...)
	puts, err := st.auditPuts(ctx, 0)
	if err != nil || len(puts) == 0 {
		return err
	}
	if len(puts) > 1 {
		return st.transact(ctx, nil)
	}
	if _, err := st.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: st.table, Item: puts[0].Put.Item}); err != nil {
		return account.Internal("put audit event: %w", err)
	}
	return nil
}

// Events is one Query of the account's partition, newest first. One more item than asked
// is read so that the last page has no cursor. Round trips: 1.
func (st *Store) Events(ctx context.Context, id int64, after string, limit int) ([]account.Event, string, error) {
	in := &dynamodb.QueryInput{
		TableName:                 st.table,
		KeyConditionExpression:    aws.String(pk + " = :pk AND begins_with(" + sk + ", :ep)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(userPK(id)), ":ep": s(eventPrefix)},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(limit + 1)),
		ConsistentRead:            aws.Bool(true),
	}
	if after != "" {
		in.ExclusiveStartKey = key(userPK(id), eventPrefix+after)
	}
	out, err := st.db.Query(ctx, in)
	if err != nil {
		return nil, "", account.Internal("query events of %d: %w", id, err)
	}
	evs := make([]account.Event, 0, min(len(out.Items), limit))
	next := ""
	for i, it := range out.Items {
		if i == limit {
			next = str(out.Items[i-1], sk)[len(eventPrefix):]
			break
		}
		var ev account.Event
		if err := json.Unmarshal([]byte(str(it, attrEvent)), &ev); err != nil {
			return nil, "", account.Internal("decode event %s of %d: %w", str(it, sk), id, err)
		}
		evs = append(evs, ev)
	}
	return evs, next, nil
}
