package dynamo

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// attrEmailVerified is the account's email_verified flag: a BOOL present only when true,
// so accounts from before the flag read as unverified.
const attrEmailVerified = "email_verified"

func boolean(it map[string]types.AttributeValue, name string) bool {
	v, ok := it[name].(*types.AttributeValueMemberBOOL)
	return ok && v.Value
}

// ListAccounts pages GSI1 (which projects only the username, and a projection cannot
// change on a deployed index) for the accounts' keys, then reads those accounts with one
// BatchGetItem. Both reads are eventually consistent: an export is a snapshot of a moving
// table either way, and they cost half. Round trips: 2 (more only for unprocessed keys).
func (st *Store) ListAccounts(ctx context.Context, after string, limit int) ([]*account.Account, string, error) {
	if limit <= 0 || limit > account.MaxListAccounts {
		limit = account.MaxListAccounts
	}
	cond := "GSI1PK = :p"
	vals := map[string]types.AttributeValue{":p": s(accountsGSIPK)}
	if after != "" {
		cond += " AND GSI1SK > :a"
		vals[":a"] = s(after)
	}
	out, err := st.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 st.table,
		IndexName:                 aws.String(GSI1),
		KeyConditionExpression:    aws.String(cond),
		ExpressionAttributeValues: vals,
		ProjectionExpression:      aws.String("PK, GSI1SK"),
		Limit:                     aws.Int32(int32(limit)),
	})
	if err != nil {
		return nil, "", account.Internal("list accounts: %w", err)
	}
	if len(out.Items) == 0 {
		return nil, "", nil
	}
	keys := make([]map[string]types.AttributeValue, len(out.Items))
	for i, it := range out.Items {
		keys[i] = key(str(it, pk), skAccount)
	}
	byPK, err := st.batchGetAccounts(ctx, keys)
	if err != nil {
		return nil, "", err
	}
	accts := make([]*account.Account, 0, len(out.Items))
	for _, it := range out.Items {
		if a := byPK[str(it, pk)]; a != nil { // gone since the index saw it: skipped
			accts = append(accts, a)
		}
	}
	next := ""
	if out.LastEvaluatedKey != nil {
		next = str(out.Items[len(out.Items)-1], "GSI1SK")
	}
	return accts, next, nil
}

// batchGetAccounts reads up to 100 account items, retrying unprocessed keys, by PK.
func (st *Store) batchGetAccounts(ctx context.Context, keys []map[string]types.AttributeValue) (map[string]*account.Account, error) {
	byPK := make(map[string]*account.Account, len(keys))
	for attempt := 1; len(keys) > 0; attempt++ {
		if attempt > 1 {
			if attempt > maxTxnAttempts {
				return nil, account.Internal("list accounts: keys left unprocessed")
			}
			if err := sleep(ctx, time.Duration(attempt*attempt)*20*time.Millisecond); err != nil {
				return nil, account.Internal("list accounts: %w", err)
			}
		}
		out, err := st.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
			RequestItems: map[string]types.KeysAndAttributes{*st.table: {Keys: keys}},
		})
		if err != nil {
			return nil, account.Internal("list accounts: %w", err)
		}
		for _, it := range out.Responses[*st.table] {
			a, err := parseAccount(it)
			if err != nil {
				return nil, err
			}
			byPK[str(it, pk)] = a
		}
		keys = out.UnprocessedKeys[*st.table].Keys
	}
	return byPK, nil
}
