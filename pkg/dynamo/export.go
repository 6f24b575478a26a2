package dynamo

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// ListAccounts pages GSI1 (which projects only the username, and a projection cannot
// change on a deployed index) for the accounts' keys, then reads those accounts with one
// BatchGetItem (the store's consistent batch read; the index query is eventually
// consistent, an export being a snapshot of a moving table either way). Round trips: 2 (more only for unprocessed keys).
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
		next = str(out.Items[len(out.Items)-1], attrGSI1SK)
	}
	return accts, next, nil
}

// batchGetAccounts reads up to 100 account items (batchGet), by PK.
func (st *Store) batchGetAccounts(ctx context.Context, keys []map[string]types.AttributeValue) (map[string]*account.Account, error) {
	items, err := st.batchGet(ctx, keys)
	if err != nil {
		return nil, err
	}
	byPK := make(map[string]*account.Account, len(items))
	for _, it := range items {
		a, err := parseAccount(it)
		if err != nil {
			return nil, err
		}
		byPK[str(it, pk)] = a
	}
	return byPK, nil
}
