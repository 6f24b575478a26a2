package dynamo

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// The admin count (item ADMINS / COUNT, attribute "admins") is the number of accounts with
// role admin. Every write that creates, promotes, demotes or deletes an admin updates it in
// the same transaction, and the ones that remove an admin are conditional on at least two,
// so two admins deleting each other at once cannot leave none.
//
// Installations from before the count have no item. It is computed the first time a
// write needs it, before that write, and stored only if still absent: every write that
// changes the admins needs the item first, so none can happen between the computation
// and its storing unnoticed, and the count starts out exact. Computing it reads every
// account's role (the list index, then the accounts), once per installation.
const (
	adminsPK   = "ADMINS"
	adminsSK   = "COUNT"
	attrAdmins = "admins"
)

// adminCountItem changes the admin count by delta (+1 or -1) within a transaction. A
// decrement needs at least two admins; the item must exist (see ensureAdminCount).
func (st *Store) adminCountItem(delta int64) types.TransactWriteItem {
	cond := itemPresent
	vals := map[string]types.AttributeValue{":d": n(delta)}
	if delta < 0 {
		cond = "#n > :one"
		vals[":one"] = n(1)
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                 st.table,
		Key:                       key(adminsPK, adminsSK),
		UpdateExpression:          aws.String("ADD #n :d"),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  map[string]string{"#n": attrAdmins},
		ExpressionAttributeValues: vals,
	}}
}

// ensureAdminCount makes sure the admin count item exists, computing it when it does not.
// Round trips: 1 once it exists.
func (st *Store) ensureAdminCount(ctx context.Context) error {
	item, err := st.get(ctx, key(adminsPK, adminsSK))
	if err != nil || item != nil {
		return err
	}
	count, err := st.countAdmins(ctx)
	if err != nil {
		return err
	}
	_, err = st.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           st.table,
		Item:                map[string]types.AttributeValue{pk: s(adminsPK), sk: s(adminsSK), attrAdmins: n(count)},
		ConditionExpression: aws.String(itemAbsent),
	})
	if err != nil && !isConditionFailed(err) { // a concurrent computation stored it first
		return account.Internal("store admin count: %w", err)
	}
	return nil
}

// countAdmins reads every account's role: the keys from the list index, the roles with
// consistent reads of the accounts.
func (st *Store) countAdmins(ctx context.Context) (int64, error) {
	var keys []map[string]types.AttributeValue
	var start map[string]types.AttributeValue
	for {
		out, err := st.db.Query(ctx, &dynamodb.QueryInput{
			TableName:                 st.table,
			IndexName:                 aws.String(GSI1),
			KeyConditionExpression:    aws.String(attrGSI1PK + " = :p"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": s(accountsGSIPK)},
			ProjectionExpression:      aws.String(pk + ", " + sk),
			ExclusiveStartKey:         start,
		})
		if err != nil {
			return 0, account.Internal("count admins: %w", err)
		}
		for _, it := range out.Items {
			keys = append(keys, keyOf(it))
		}
		if out.LastEvaluatedKey == nil {
			break
		}
		start = out.LastEvaluatedKey
	}
	var count int64
	for i := 0; i < len(keys); i += 100 {
		items, err := st.batchGet(ctx, keys[i:min(i+100, len(keys))], attrRole)
		if err != nil {
			return 0, err
		}
		for _, it := range items {
			if str(it, attrRole) == string(account.RoleAdmin) {
				count++
			}
		}
	}
	return count, nil
}

// AdminCount is the stored admin count, false when the item does not exist yet (tests).
func (st *Store) AdminCount(ctx context.Context) (int64, bool, error) {
	item, err := st.get(ctx, key(adminsPK, adminsSK))
	if err != nil || item == nil {
		return 0, false, err
	}
	v, ok := num(item, attrAdmins)
	return v, ok, nil
}

// ReadBatch reads accounts, username keys, token index items and a source's count with one consistent
// BatchGetItem: the admin routes read the acting admin and the account they name together
// (account.Service.AuthenticateAdminFor). Round trips: 1 (more only for unprocessed keys).
func (st *Store) ReadBatch(ctx context.Context, r account.BatchRead) (*account.BatchResult, error) {
	res := &account.BatchResult{Accounts: map[int64]*account.Account{}, UserIDs: map[string]int64{}, TokenIDs: map[string]int64{}}
	var keys []map[string]types.AttributeValue
	seen := map[string]bool{} // BatchGetItem refuses a key given twice
	add := func(p, k string) {
		if !seen[p+"\x00"+k] {
			seen[p+"\x00"+k] = true
			keys = append(keys, key(p, k))
		}
	}
	for _, id := range r.IDs {
		add(userPK(id), skAccount)
	}
	for _, k := range r.UsernameKeys {
		add(usernamePK(k), skUsername)
	}
	for _, idx := range r.TokenIndexes {
		add(tokenPK(idx), skToken)
	}
	var srcKey map[string]types.AttributeValue
	if r.Source != nil {
		srcKey = sourceKey(*r.Source)
		add(str(srcKey, pk), str(srcKey, sk))
	}
	if len(keys) == 0 {
		return res, nil
	}
	items, err := st.batchGet(ctx, keys)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		p := str(it, pk)
		switch {
		case srcKey != nil && p == str(srcKey, pk) && str(it, sk) == str(srcKey, sk):
			v, _ := num(it, attrFailures)
			res.SourceFailures = int(v)
		case str(it, sk) == skAccount:
			a, err := parseAccount(it)
			if err != nil {
				return nil, err
			}
			res.Accounts[a.UserID] = a
		case str(it, sk) == skUsername:
			if id, ok := num(it, attrUserID); ok {
				res.UserIDs[strings.TrimPrefix(p, usernamePK(""))] = id
			}
		case str(it, sk) == skToken:
			if id, ok := num(it, attrUserID); ok {
				res.TokenIDs[strings.TrimPrefix(p, tokenPK(""))] = id
			}
		}
	}
	return res, nil
}

// ChangeCredentialsFrom is ChangeCredentials for an account the caller has just read (cur):
// its state stands in for the read ChangeCredentials makes before a token or role change.
// The write's conditions hold it to that state, so a stale cur costs a read and another
// try, never a wrong write. Round trips: 1.
func (st *Store) ChangeCredentialsFrom(ctx context.Context, cur *account.Account, c account.CredentialChange) error {
	h := hintsOf(cur)
	if c.Role == nil && c.TokenHash == nil {
		h = hints{resetHash: c.ResetHash, emailKey: c.ReleaseEmail} // as ChangeCredentials
	}
	return st.changeWithHints(ctx, c, h)
}
