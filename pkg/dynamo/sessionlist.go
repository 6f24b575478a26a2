package dynamo

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// What a session item records for its owner (GET /user/sessions). The last-seen time is epoch
// milliseconds (last_seen_ms), a number, so that the touch's condition can compare it.
const (
	attrLastSeen  = "last_seen_ms"
	attrIP        = "ip"
	attrUserAgent = "user_agent"
)

// sessionItem is the stored form of x.
func sessionItem(x *account.Session) map[string]types.AttributeValue {
	item := sessionKey(x.UserID, x.TokenHash)
	item[attrCredVersion] = n(x.CredVersion)
	item[attrCreatedAt] = stamp(x.CreatedAt)
	item[attrExpiresAt] = n(x.ExpiresAt.Unix())
	if !x.LastSeenAt.IsZero() {
		item[attrLastSeen] = n(x.LastSeenAt.UnixMilli())
	}
	if x.IP != "" {
		item[attrIP] = s(x.IP)
	}
	if x.UserAgent != "" {
		item[attrUserAgent] = s(x.UserAgent)
	}
	return item
}

// parseSession reads a session item of account id.
func parseSession(id int64, it map[string]types.AttributeValue) *account.Session {
	cv, _ := num(it, attrCredVersion)
	x := &account.Session{
		UserID: id, TokenHash: strings.TrimPrefix(str(it, sk), sessionPrefix), CredVersion: cv,
		CreatedAt: parseTime(str(it, attrCreatedAt)), ExpiresAt: expiry(it),
		IP: str(it, attrIP), UserAgent: str(it, attrUserAgent),
	}
	if ms, ok := num(it, attrLastSeen); ok {
		x.LastSeenAt = time.UnixMilli(ms).UTC()
	}
	return x
}

// ListSessions is one consistent Query of the account's partition for its session items
// (more pages only past 1 MB of sessions). Round trips: 1.
func (st *Store) ListSessions(ctx context.Context, id int64) ([]*account.Session, error) {
	var out []*account.Session
	err := st.eachSessionPage(ctx, id, nil, func(items []map[string]types.AttributeValue) error {
		for _, it := range items {
			out = append(out, parseSession(id, it))
		}
		return nil
	})
	return out, err
}

// eachSessionPage queries the session items of account id, page by page; projection nil
// reads whole items.
func (st *Store) eachSessionPage(ctx context.Context, id int64, projection *string, fn func([]map[string]types.AttributeValue) error) error {
	var start map[string]types.AttributeValue
	for {
		out, err := st.db.Query(ctx, &dynamodb.QueryInput{
			TableName:                 st.table,
			KeyConditionExpression:    aws.String(pk + " = :pk AND begins_with(" + sk + ", :sp)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(userPK(id)), ":sp": s(sessionPrefix)},
			ProjectionExpression:      projection,
			ConsistentRead:            aws.Bool(true),
			ExclusiveStartKey:         start,
		})
		if err != nil {
			return account.Internal("query sessions of %d: %w", id, err)
		}
		if err := fn(out.Items); err != nil {
			return err
		}
		if out.LastEvaluatedKey == nil {
			return nil
		}
		start = out.LastEvaluatedKey
	}
}

// TouchSession is one conditional UpdateItem; a failed condition (touched meanwhile, or
// gone) is not an error. Round trips: 1.
func (st *Store) TouchSession(ctx context.Context, id int64, hash string, now, staleAt time.Time) error {
	_, err := st.updateItem(ctx, &types.Update{
		Key:              sessionKey(id, hash),
		UpdateExpression: aws.String("SET " + attrLastSeen + " = :now"),
		ConditionExpression: aws.String(itemPresent + " AND (" + absent(attrLastSeen) +
			" OR " + attrLastSeen + " <= :stale)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": n(now.UnixMilli()), ":stale": n(staleAt.UnixMilli()),
		},
	}, types.ReturnValueNone)
	if err != nil && !isConditionFailed(err) {
		return account.Internal("touch session of %d: %w", id, err)
	}
	return nil
}
