package dynamo

import (
	"context"
	"maps"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// putNew is a transaction item creating item, provided its key is free.
func (st *Store) putNew(item map[string]types.AttributeValue) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{TableName: st.table, Item: item, ConditionExpression: aws.String(itemAbsent)}}
}

// remove is a transaction item deleting the item at k, whether or not it exists.
func (st *Store) remove(k map[string]types.AttributeValue) types.TransactWriteItem {
	return types.TransactWriteItem{Delete: &types.Delete{TableName: st.table, Key: k}}
}

// pointer is a unique key item (username, email, token index) pointing at account id.
func pointer(k map[string]types.AttributeValue, id int64) map[string]types.AttributeValue {
	item := maps.Clone(k)
	item[attrUserID] = n(id)
	return item
}

// CreateAccount takes an id from the counter, then writes the account and its unique
// keys in one transaction. Round trips: 2.
func (st *Store) CreateAccount(ctx context.Context, a *account.Account) error {
	items, err := st.createItems(ctx, a)
	if err != nil {
		return err
	}
	// The account's creation events are bound to its new id (account.AuditRecords).
	return st.transact(account.WithAudit(ctx, account.AuditRecords(ctx, a.UserID)...), items)
}

// createItems takes an id from the counter for a and returns the transaction that writes
// it with its unique keys (and the admin count).
func (st *Store) createItems(ctx context.Context, a *account.Account) ([]txItem, error) {
	id, err := st.nextID(ctx)
	if err != nil {
		return nil, err
	}
	a.UserID = id
	items := []txItem{{st.putNew(pointer(usernameKey(a.UsernameKey), id)), account.ErrUsernameTaken}}
	if a.EmailKey != "" {
		items = append(items, txItem{st.putNew(pointer(emailKey(a.EmailKey), id)), account.ErrEmailTaken})
	}
	if a.TokenIndex != "" {
		items = append(items, txItem{st.tokenIndexPut(a.TokenIndex, id), account.ErrTokenInUse})
	}
	fresh := account.Internal("create account %d: transaction cancelled on the account item", id)
	items = append(items, txItem{st.putNew(accountItem(a)), fresh})
	if a.Role == account.RoleAdmin { // a new admin counts (see admins.go)
		if err := st.ensureAdminCount(ctx); err != nil {
			return nil, err
		}
		items = append(items, txItem{st.adminCountItem(1), fresh})
	}
	return items, nil
}

func (st *Store) nextID(ctx context.Context) (int64, error) {
	out, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 st.table,
		Key:                       key(counterPK, counterSK),
		UpdateExpression:          aws.String("ADD #v :one"),
		ExpressionAttributeNames:  map[string]string{"#v": attrCounter},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": n(1)},
		ReturnValues:              types.ReturnValueUpdatedNew,
	})
	if err != nil {
		return 0, account.Internal("user_id counter: %w", err)
	}
	id, ok := num(out.Attributes, attrCounter)
	if !ok || id <= 0 {
		return 0, account.Internal("user_id counter returned no value")
	}
	return id, nil
}

func (st *Store) AccountByID(ctx context.Context, id int64) (*account.Account, error) {
	item, err := st.getOr(ctx, accountKey(id), account.ErrNotFound)
	if err != nil {
		return nil, err
	}
	return parseAccount(item)
}

// AccountByUsername reads the username key, then the account. Round trips: 2.
func (st *Store) AccountByUsername(ctx context.Context, k string) (*account.Account, error) {
	return st.accountVia(ctx, usernameKey(k))
}

// AccountByEmail reads the email key, then the account. Round trips: 2.
func (st *Store) AccountByEmail(ctx context.Context, k string) (*account.Account, error) {
	return st.accountVia(ctx, emailKey(k))
}

func (st *Store) accountVia(ctx context.Context, k map[string]types.AttributeValue) (*account.Account, error) {
	id, err := st.userIDVia(ctx, k)
	if err != nil {
		return nil, err
	}
	// A key item without its account is a deletion in progress: not found.
	return st.AccountByID(ctx, id)
}

func (st *Store) UserIDByUsername(ctx context.Context, k string) (int64, error) {
	return st.userIDVia(ctx, usernameKey(k))
}

func (st *Store) UserIDByEmail(ctx context.Context, k string) (int64, error) {
	return st.userIDVia(ctx, emailKey(k))
}

func (st *Store) userIDVia(ctx context.Context, k map[string]types.AttributeValue) (int64, error) {
	item, err := st.get(ctx, k)
	if err != nil {
		return 0, err
	}
	id, ok := num(item, attrUserID)
	if !ok {
		return 0, account.ErrNotFound
	}
	return id, nil
}

// whyAccountCondition tells a missing account from a stale IfPasswordHash after a failed
// condition (rare path, one extra read).
func (st *Store) whyAccountCondition(ctx context.Context, id int64) error {
	item, err := st.get(ctx, accountKey(id))
	if err != nil {
		return err
	}
	if item == nil {
		return account.ErrNotFound
	}
	return account.ErrConflict
}

// accountUpdate is the update e of account id's item under the condition cond.
func (st *Store) accountUpdate(id int64, e *expr, cond string) *types.Update {
	return &types.Update{
		TableName:                 st.table,
		Key:                       accountKey(id),
		UpdateExpression:          aws.String(e.String()),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  e.names,
		ExpressionAttributeValues: e.values,
	}
}

// DeleteAccount removes the account, its keys, its OTP and its pending reset record in one
// transaction (conditional on the reset pointer read, so a token created meanwhile is not
// left behind), then deletes its sessions, which are already dead without their account.
func (st *Store) DeleteAccount(ctx context.Context, a *account.Account) error {
	// Its sessions and audit events, found first so that most go in the transaction; the
	// rest follow in BatchWriteItem, already dead without their account.
	_, rest, err := st.partitionRest(ctx, a.UserID)
	if err != nil {
		return err
	}
	return st.deleteWithRest(ctx, a, rest)
}

// DeleteAccountNamed reads the account with user id id in the Query that finds its
// sessions and events, and deletes it as DeleteAccount does if it is still the account of
// usernameKey (else ErrNotFound). Audit records ctx carries about it that lack its
// username get it from that read. Round trips: those of DeleteAccount.
func (st *Store) DeleteAccountNamed(ctx context.Context, id int64, usernameKey string) (*account.Account, error) {
	item, rest, err := st.partitionRest(ctx, id)
	if err != nil {
		return nil, err
	}
	if item == nil {
		return nil, account.ErrNotFound
	}
	a, err := parseAccount(item)
	if err != nil {
		return nil, err
	}
	if a.UsernameKey != usernameKey {
		return nil, account.ErrNotFound
	}
	return a, st.deleteWithRest(account.WithAuditNamed(ctx, a), a, rest)
}

// deleteWithRest is DeleteAccount once the partition's other items are known.
func (st *Store) deleteWithRest(ctx context.Context, a *account.Account, rest []map[string]types.AttributeValue) error {
	inTxn := rest[:min(len(rest), maxRestInTxn)]
	cur := a
	err := st.retry(ctx, func() error {
		err := st.deleteAccount(ctx, cur, inTxn)
		if err != errAccountCondition {
			return err
		}
		// The account is gone, or its reset pointer or role moved: re-read and try again.
		if cur, err = st.AccountByID(ctx, a.UserID); err != nil {
			return err
		}
		return tryAgain(errAccountCondition)
	}, func(error) error {
		return account.Internal("delete account %d: reset pointer keeps changing", a.UserID)
	})
	if err != nil {
		return err
	}
	return st.deleteKeys(ctx, rest[len(inTxn):])
}

// deleteAccount is one try of DeleteAccount with the account as read.
func (st *Store) deleteAccount(ctx context.Context, cur *account.Account, rest []map[string]types.AttributeValue) error {
	var items []txItem
	if cur.Role == account.RoleAdmin {
		// Deleting an admin takes the admin count down in the same write, and only while
		// another admin remains (first: that failure wins over a moved account).
		if err := st.ensureAdminCount(ctx); err != nil {
			return err
		}
		items = append(items, txItem{st.adminCountItem(-1), account.ErrLastAdmin})
	}
	// Conditional on the role read too, for the admin count.
	vals := map[string]types.AttributeValue{":role": s(string(cur.Role))}
	maps.Copy(vals, resetValues(cur.ResetHash))
	items = append(items, txItem{types.TransactWriteItem{Delete: &types.Delete{
		TableName:                 st.table,
		Key:                       accountKey(cur.UserID),
		ConditionExpression:       aws.String(itemPresent + " AND #role = :role AND " + resetCond(cur.ResetHash) + " AND " + tokenIndexCond(cur.TokenIndex)),
		ExpressionAttributeNames:  map[string]string{"#role": attrRole},
		ExpressionAttributeValues: withTokenIndexValue(vals, cur.TokenIndex),
	}}, errAccountCondition},
		txItem{TransactWriteItem: st.remove(usernameKey(cur.UsernameKey))},
		txItem{TransactWriteItem: st.remove(otpKey(cur.UserID))},
		txItem{TransactWriteItem: st.remove(verifyKey(cur.UserID))}, // a pending verification dies with it
	)
	if cur.EmailKey != "" {
		items = append(items, txItem{TransactWriteItem: st.remove(emailKey(cur.EmailKey))})
	}
	if cur.ResetHash != "" {
		items = append(items, txItem{TransactWriteItem: st.remove(resetKey(cur.ResetHash))})
	}
	if cur.TokenIndex != "" {
		items = append(items, txItem{TransactWriteItem: st.tokenIndexDelete(cur.TokenIndex)})
	}
	for _, k := range rest {
		items = append(items, txItem{TransactWriteItem: st.remove(k)})
	}
	return st.transact(ctx, items)
}

// ListUsernames queries GSI1 (sorted by canonical username). Round trips: 1.
func (st *Store) ListUsernames(ctx context.Context, after string, limit int) ([]string, string, error) {
	if limit <= 0 {
		limit = 1000
	}
	cond := attrGSI1PK + " = :p"
	vals := map[string]types.AttributeValue{":p": s(accountsGSIPK)}
	if after != "" {
		cond += " AND " + attrGSI1SK + " > :a"
		vals[":a"] = s(after)
	}
	var names, keys []string
	var start map[string]types.AttributeValue
	// Ask for one more than needed to know whether another page exists.
	for len(names) <= limit {
		out, err := st.db.Query(ctx, &dynamodb.QueryInput{
			TableName:                 st.table,
			IndexName:                 aws.String(GSI1),
			KeyConditionExpression:    aws.String(cond),
			ExpressionAttributeValues: vals,
			Limit:                     aws.Int32(int32(limit + 1 - len(names))),
			ExclusiveStartKey:         start,
		})
		if err != nil {
			return nil, "", account.Internal("list usernames: %w", err)
		}
		for _, it := range out.Items {
			names = append(names, str(it, attrUsername))
			keys = append(keys, str(it, attrGSI1SK))
		}
		if out.LastEvaluatedKey == nil {
			break
		}
		start = out.LastEvaluatedKey
	}
	if len(names) > limit {
		return names[:limit], keys[limit-1], nil
	}
	return names, "", nil
}
