// Package dynamo implements account.Store on one DynamoDB table (aws-sdk-go-v2).
//
// Item layout (PK / SK):
//
//	USER#<id>          / ACCOUNT            the account (GSI1: ACCOUNTS / <username key>)
//	USER#<id>          / SESSION#<hash>     a session            (expires_at = TTL)
//	USER#<id>          / OTP                the pending OTP      (expires_at = TTL)
//	USERNAME#<key>     / USERNAME           unique username -> user_id
//	EMAIL#<key>        / EMAIL              unique email    -> user_id
//	RESET#<hash>       / RESET              a reset token        (expires_at = TTL)
//	TOKEN#<index>      / TOKEN              unique API token index -> user_id (tokenindex.go)
//	COUNTER            / USER_ID            the user_id counter
//	ADMINS             / COUNT              the number of admins (admins.go)
//	IP#… and FAIL#…                         failed-check counters (limits.go)
//
// Sessions and the OTP live in their account's partition, so a session check reads the
// session and the account in one BatchGetItem, and deleting an account finds all its
// records with one query.
package dynamo

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// API is the part of the DynamoDB client the store uses.
type API interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Store is account.Store on DynamoDB.
type Store struct {
	db    API
	table *string
}

var _ account.Store = (*Store)(nil)

// New returns a Store on table.
func New(db API, table string) *Store {
	return &Store{db: db, table: aws.String(table)}
}

// GSI1 is the index that lists accounts sorted by canonical username.
const GSI1 = "GSI1"

const (
	pk, sk         = "PK", "SK"
	skAccount      = "ACCOUNT"
	skOTP          = "OTP"
	skUsername     = "USERNAME"
	skEmail        = "EMAIL"
	skReset        = "RESET"
	sessionPrefix  = "SESSION#"
	accountsGSIPK  = "ACCOUNTS"
	counterPK      = "COUNTER"
	counterSK      = "USER_ID"
	maxTxnAttempts = 6
)

func userPK(id int64) string          { return "USER#" + strconv.FormatInt(id, 10) }
func usernamePK(key string) string    { return "USERNAME#" + key }
func emailPK(key string) string       { return "EMAIL#" + key }
func resetPK(hash string) string      { return "RESET#" + hash }
func sessionSK(hash string) string    { return sessionPrefix + hash }
func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func key(p, k string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{pk: s(p), sk: s(k)}
}

// ------------------------------------------------------------------------- accounts

// CreateAccount takes an id from the counter, then writes the account and its unique
// keys in one transaction. Round trips: 2.
func (st *Store) CreateAccount(ctx context.Context, a *account.Account) error {
	id, err := st.nextID(ctx)
	if err != nil {
		return err
	}
	a.UserID = id
	items := []types.TransactWriteItem{
		{Put: &types.Put{
			TableName:           st.table,
			Item:                map[string]types.AttributeValue{pk: s(usernamePK(a.UsernameKey)), sk: s(skUsername), "user_id": n(id)},
			ConditionExpression: aws.String("attribute_not_exists(PK)"),
		}},
	}
	if a.EmailKey != "" {
		items = append(items, types.TransactWriteItem{Put: &types.Put{
			TableName:           st.table,
			Item:                map[string]types.AttributeValue{pk: s(emailPK(a.EmailKey)), sk: s(skEmail), "user_id": n(id)},
			ConditionExpression: aws.String("attribute_not_exists(PK)"),
		}})
	}
	items = append(items, types.TransactWriteItem{Put: &types.Put{
		TableName:           st.table,
		Item:                accountItem(a),
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	}})
	tokenAt := -1
	if a.TokenIndex != "" {
		tokenAt = len(items)
		items = append(items, st.tokenIndexPut(a.TokenIndex, id))
	}
	if a.Role == account.RoleAdmin { // a new admin counts (see admins.go)
		if err := st.ensureAdminCount(ctx); err != nil {
			return err
		}
		items = append(items, st.adminCountItem(1))
	}
	failed, err := st.transact(ctx, items)
	switch {
	case err != nil:
		return err
	case failed == nil:
		return nil
	case failed[0]:
		return account.ErrUsernameTaken
	case a.EmailKey != "" && failed[1]:
		return account.ErrEmailTaken
	case tokenAt >= 0 && failed[tokenAt]:
		return account.ErrTokenInUse
	default:
		return account.Internal("create account %d: transaction cancelled on the account item", id)
	}
}

func (st *Store) nextID(ctx context.Context) (int64, error) {
	out, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 st.table,
		Key:                       key(counterPK, counterSK),
		UpdateExpression:          aws.String("ADD #v :one"),
		ExpressionAttributeNames:  map[string]string{"#v": "value"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": n(1)},
		ReturnValues:              types.ReturnValueUpdatedNew,
	})
	if err != nil {
		return 0, account.Internal("user_id counter: %w", err)
	}
	id, ok := num(out.Attributes, "value")
	if !ok || id <= 0 {
		return 0, account.Internal("user_id counter returned no value")
	}
	return id, nil
}

// transact runs a transaction, retrying transaction conflicts (concurrent transactions on
// the same items) with jitter. failed is nil on success, else it marks the items whose
// condition failed.
func (st *Store) transact(ctx context.Context, items []types.TransactWriteItem) (failed []bool, err error) {
	for attempt := 1; ; attempt++ {
		_, err = st.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return nil, nil
		}
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) {
			return nil, account.Internal("transact: %w", err)
		}
		failed = make([]bool, len(items))
		conflict, anyFailed := false, false
		for i, r := range tce.CancellationReasons {
			switch aws.ToString(r.Code) {
			case "ConditionalCheckFailed":
				if i < len(failed) {
					failed[i], anyFailed = true, true
				}
			case "TransactionConflict":
				conflict = true
			}
		}
		if anyFailed {
			return failed, nil
		}
		if !conflict || attempt == maxTxnAttempts {
			return nil, account.Internal("transact: %w", err)
		}
		if err := sleep(ctx, time.Duration(attempt*attempt)*5*time.Millisecond+time.Duration(rand.IntN(10))*time.Millisecond); err != nil {
			return nil, account.Internal("transact: %w", err)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (st *Store) get(ctx context.Context, k map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	out, err := st.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: st.table, Key: k, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, account.Internal("get item: %w", err)
	}
	return out.Item, nil
}

func (st *Store) AccountByID(ctx context.Context, id int64) (*account.Account, error) {
	item, err := st.get(ctx, key(userPK(id), skAccount))
	if err != nil {
		return nil, err
	}
	if item == nil {
		return nil, account.ErrNotFound
	}
	return parseAccount(item)
}

// AccountByUsername reads the username key, then the account. Round trips: 2.
func (st *Store) AccountByUsername(ctx context.Context, k string) (*account.Account, error) {
	return st.accountVia(ctx, key(usernamePK(k), skUsername))
}

// AccountByEmail reads the email key, then the account. Round trips: 2.
func (st *Store) AccountByEmail(ctx context.Context, k string) (*account.Account, error) {
	return st.accountVia(ctx, key(emailPK(k), skEmail))
}

func (st *Store) accountVia(ctx context.Context, k map[string]types.AttributeValue) (*account.Account, error) {
	item, err := st.get(ctx, k)
	if err != nil {
		return nil, err
	}
	id, ok := num(item, "user_id")
	if !ok {
		return nil, account.ErrNotFound
	}
	// A key item without its account is a deletion in progress: not found.
	return st.AccountByID(ctx, id)
}

// ChangeCredentials is one UpdateItem, or a transaction when it also consumes an OTP or a
// reset token, voids what a new password voids, releases the email, moves the token's index
// item or changes the admin count. Round trips: 1 (a role or token change first reads the
// account, and a stale hint costs a read and another try).
func (st *Store) ChangeCredentials(ctx context.Context, c account.CredentialChange) error {
	h := hints{resetHash: c.ResetHash, emailKey: c.ReleaseEmail}
	if c.Role != nil || c.TokenHash != nil {
		cur, err := st.AccountByID(ctx, c.UserID)
		if err != nil {
			return err
		}
		h = hintsOf(cur)
	}
	for attempt := 1; ; attempt++ {
		err := st.changeCredentials(ctx, c, h)
		var stale *staleHints
		if !errors.As(err, &stale) {
			return err
		}
		if attempt == maxTxnAttempts {
			return account.Internal("change credentials of %d: the account keeps changing", c.UserID)
		}
		h = stale.hints
	}
}

// hints are what a credential change must know of the account's current state to void
// and release within one write; conditions on them catch a stale value.
type hints struct {
	resetHash string
	emailKey  string
	role      account.Role // "" = unknown (no role change)
	// tokenIndex is the account's token index as read (used only when the token changes).
	tokenIndex string
}

func hintsOf(a *account.Account) hints {
	return hints{resetHash: a.ResetHash, emailKey: a.EmailKey, role: a.Role, tokenIndex: a.TokenIndex}
}

// staleHints is a try that failed only because the account moved on; hints are fresh.
type staleHints struct{ hints hints }

func (e *staleHints) Error() string { return "stale hints" }

func (st *Store) changeCredentials(ctx context.Context, c account.CredentialChange, h hints) error {
	// A new password voids the pending OTP and reset token and the user_secret (see
	// account.CredentialChange); a rehash (KeepSessions) is the same password.
	newPassword := c.PasswordHash != nil && !c.KeepSessions
	update := newExpr()
	update.set("updated_at", s(c.Now.UTC().Format(time.RFC3339Nano)))
	setOrRemove := func(name string, v *string) {
		if v == nil {
			return
		}
		if *v == "" {
			update.remove(name)
		} else {
			update.set(name, s(*v))
		}
	}
	setOrRemove("password_hash", c.PasswordHash)
	if c.PasswordHash != nil {
		update.remove(attrFailed)
		update.remove(attrLock)
		update.remove(attrGuessTimes) // a new password starts a fresh guess budget
	}
	setOrRemove("token_hash", c.TokenHash)
	if c.SecretHash == nil && newPassword && c.KeepSecret == "" {
		setOrRemove("secret_hash", aws.String(""))
	} else {
		setOrRemove("secret_hash", c.SecretHash)
	}
	if c.Role != nil {
		update.set("role", s(string(*c.Role)))
	}
	if !c.KeepSessions {
		update.add("cred_version", n(1))
	}
	if c.ConsumeReset != "" || newPassword {
		update.remove("reset_hash")
	}
	cond := "attribute_exists(PK)"
	if c.IfPasswordHash != nil {
		if *c.IfPasswordHash == "" {
			cond += " AND attribute_not_exists(password_hash)"
		} else {
			cond += " AND password_hash = :ifpw"
			update.values[":ifpw"] = s(*c.IfPasswordHash)
		}
	}
	var extra []types.TransactWriteItem // deletions that go with the change
	if newPassword {
		cond += " AND " + resetCond(h.resetHash)
		maps.Copy(update.values, resetValues(h.resetHash))
		if c.ConsumeOTP == "" {
			extra = append(extra, types.TransactWriteItem{Delete: &types.Delete{TableName: st.table, Key: key(userPK(c.UserID), skOTP)}})
		}
		if h.resetHash != "" && h.resetHash != c.ConsumeReset {
			extra = append(extra, types.TransactWriteItem{Delete: &types.Delete{TableName: st.table, Key: key(resetPK(h.resetHash), skReset)}})
		}
		if c.KeepSecret != "" {
			cond += " AND secret_hash = :keep"
			update.values[":keep"] = s(c.KeepSecret)
		}
	}
	if c.ReleaseEmail != "" {
		if h.emailKey == "" {
			cond += " AND attribute_not_exists(email_key)"
		} else {
			cond += " AND email_key = :ek"
			update.values[":ek"] = s(h.emailKey)
			update.remove("email")
			update.remove("email_key")
			update.remove(attrEmailVerified)
			extra = append(extra, types.TransactWriteItem{Delete: &types.Delete{TableName: st.table, Key: key(emailPK(h.emailKey), skEmail)}})
		}
	}
	countAt := -1
	if c.Role != nil {
		cond += " AND #role = :oldrole"
		update.names["#role"] = "role"
		update.values[":oldrole"] = s(string(h.role))
		was, is := h.role == account.RoleAdmin, *c.Role == account.RoleAdmin
		if was != is {
			if err := st.ensureAdminCount(ctx); err != nil {
				return err
			}
			delta := int64(1)
			if was {
				delta = -1
			}
			countAt = len(extra)
			extra = append(extra, st.adminCountItem(delta))
		}
	}
	putAt := -1
	if c.TokenHash != nil {
		// The token's index item moves with it (tokenindex.go), held to the index read.
		next, prev := "", h.tokenIndex
		if c.TokenIndex != nil {
			next = *c.TokenIndex
		}
		cond += " AND " + tokenIndexCond(prev)
		update.values = withTokenIndexValue(update.values, prev)
		if next == "" {
			update.remove(attrTokenIndex)
		} else {
			update.set(attrTokenIndex, s(next))
		}
		if prev != "" && prev != next {
			extra = append(extra, st.tokenIndexDelete(prev))
		}
		if next != "" && next != prev {
			putAt = len(extra)
			extra = append(extra, st.tokenIndexPut(next, c.UserID))
		}
	}
	upd := &types.Update{
		TableName:                 st.table,
		Key:                       key(userPK(c.UserID), skAccount),
		UpdateExpression:          aws.String(update.String()),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  update.names,
		ExpressionAttributeValues: update.values,
	}

	var consume types.TransactWriteItem
	var consumedErr error
	switch {
	case c.ConsumeOTP != "":
		// Marked used rather than deleted, so that a reuse answers "expired" rather than
		// "unknown request"; TTL removes it with its expiry.
		consume = types.TransactWriteItem{Update: &types.Update{
			TableName:                 st.table,
			Key:                       key(userPK(c.UserID), skOTP),
			UpdateExpression:          aws.String("SET used_at = :now"),
			ConditionExpression:       aws.String("reqid_hash = :rh AND attribute_not_exists(used_at)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":rh": s(c.ConsumeOTP), ":now": s(c.Now.UTC().Format(time.RFC3339Nano))},
		}}
		consumedErr = account.ErrOTPExpired
	case c.ConsumeReset != "":
		consume = types.TransactWriteItem{Delete: &types.Delete{
			TableName:           st.table,
			Key:                 key(resetPK(c.ConsumeReset), skReset),
			ConditionExpression: aws.String("attribute_exists(PK)"),
		}}
		consumedErr = account.ErrTokenNotFound
	}
	if consumedErr == nil && len(extra) == 0 {
		_, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: upd.TableName, Key: upd.Key, UpdateExpression: upd.UpdateExpression,
			ConditionExpression: upd.ConditionExpression, ExpressionAttributeNames: upd.ExpressionAttributeNames,
			ExpressionAttributeValues: upd.ExpressionAttributeValues,
		})
		if isConditionFailed(err) {
			return st.whyChangeFailed(ctx, c, h)
		}
		if err != nil {
			return account.Internal("change credentials of %d: %w", c.UserID, err)
		}
		return nil
	}
	items := []types.TransactWriteItem{{Update: upd}}
	if consumedErr != nil {
		items = append(items, consume)
	}
	items = append(items, extra...)
	failed, err := st.transact(ctx, items)
	switch {
	case err != nil:
		return err
	case failed == nil:
		return nil
	case consumedErr != nil && failed[1]:
		return consumedErr
	case putAt >= 0 && failed[len(items)-len(extra)+putAt]:
		return account.ErrTokenInUse
	case countAt >= 0 && failed[len(items)-len(extra)+countAt]:
		if *c.Role != account.RoleAdmin {
			return account.ErrLastAdmin
		}
		return account.Internal("change credentials of %d: admin count missing", c.UserID)
	default:
		return st.whyChangeFailed(ctx, c, h)
	}
}

// whyChangeFailed reads the account after its condition failed (rare path): gone is
// ErrNotFound, a stale IfPasswordHash or KeepSecret is ErrConflict, and anything else
// means the hints were stale: try again with the account as it is now.
func (st *Store) whyChangeFailed(ctx context.Context, c account.CredentialChange, h hints) error {
	cur, err := st.AccountByID(ctx, c.UserID)
	if err != nil {
		return err
	}
	if c.IfPasswordHash != nil && cur.PasswordHash != *c.IfPasswordHash {
		return account.ErrConflict
	}
	if c.KeepSecret != "" && c.PasswordHash != nil && !c.KeepSessions && cur.SecretHash != c.KeepSecret {
		return account.ErrConflict
	}
	fresh := hintsOf(cur)
	if h.role == "" && c.Role == nil {
		fresh.role = ""
	}
	return &staleHints{hints: fresh}
}

// whyAccountCondition tells a missing account from a stale IfPasswordHash after a failed
// condition (rare path, one extra read).
func (st *Store) whyAccountCondition(ctx context.Context, id int64) error {
	item, err := st.get(ctx, key(userPK(id), skAccount))
	if err != nil {
		return err
	}
	if item == nil {
		return account.ErrNotFound
	}
	return account.ErrConflict
}

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// DeleteAccount removes the account, its keys, its OTP and its pending reset record in one
// transaction (conditional on the reset pointer read, so a token created meanwhile is not
// left behind), then deletes its sessions, which are already dead without their account.
func (st *Store) DeleteAccount(ctx context.Context, a *account.Account) error {
	cur := a
	for attempt := 0; ; attempt++ {
		// Conditional on the role read too: deleting an admin takes the admin count down
		// in the same write, and only while another admin remains.
		vals := map[string]types.AttributeValue{":role": s(string(cur.Role))}
		maps.Copy(vals, resetValues(cur.ResetHash))
		items := []types.TransactWriteItem{
			{Delete: &types.Delete{
				TableName:                 st.table,
				Key:                       key(userPK(cur.UserID), skAccount),
				ConditionExpression:       aws.String("attribute_exists(PK) AND #role = :role AND " + resetCond(cur.ResetHash) + " AND " + tokenIndexCond(cur.TokenIndex)),
				ExpressionAttributeNames:  map[string]string{"#role": "role"},
				ExpressionAttributeValues: withTokenIndexValue(vals, cur.TokenIndex),
			}},
			{Delete: &types.Delete{TableName: st.table, Key: key(usernamePK(cur.UsernameKey), skUsername)}},
			{Delete: &types.Delete{TableName: st.table, Key: key(userPK(cur.UserID), skOTP)}},
		}
		if cur.EmailKey != "" {
			items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: st.table, Key: key(emailPK(cur.EmailKey), skEmail)}})
		}
		if cur.ResetHash != "" {
			items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: st.table, Key: key(resetPK(cur.ResetHash), skReset)}})
		}
		if cur.TokenIndex != "" {
			items = append(items, st.tokenIndexDelete(cur.TokenIndex))
		}
		if cur.Role == account.RoleAdmin {
			if err := st.ensureAdminCount(ctx); err != nil {
				return err
			}
			items = append(items, st.adminCountItem(-1))
		}
		failed, err := st.transact(ctx, items)
		if err != nil {
			return err
		}
		if failed == nil {
			break
		}
		if cur.Role == account.RoleAdmin && failed[len(items)-1] {
			return account.ErrLastAdmin
		}
		// The account is gone, or its reset pointer or role moved: re-read and try again.
		if cur, err = st.AccountByID(ctx, a.UserID); err != nil {
			return err
		}
		if attempt == 3 {
			return account.Internal("delete account %d: reset pointer keeps changing", a.UserID)
		}
	}
	return st.deleteSessions(ctx, a.UserID)
}

func resetCond(hash string) string {
	if hash == "" {
		return "attribute_not_exists(reset_hash)"
	}
	return "reset_hash = :rh"
}

func resetValues(hash string) map[string]types.AttributeValue {
	if hash == "" {
		return nil
	}
	return map[string]types.AttributeValue{":rh": s(hash)}
}

func (st *Store) deleteSessions(ctx context.Context, id int64) error {
	var start map[string]types.AttributeValue
	for {
		out, err := st.db.Query(ctx, &dynamodb.QueryInput{
			TableName:                 st.table,
			KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :sp)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(userPK(id)), ":sp": s(sessionPrefix)},
			ProjectionExpression:      aws.String("PK, SK"),
			ConsistentRead:            aws.Bool(true),
			ExclusiveStartKey:         start,
		})
		if err != nil {
			return account.Internal("query sessions of %d: %w", id, err)
		}
		for i := 0; i < len(out.Items); i += 25 {
			batch := out.Items[i:min(i+25, len(out.Items))]
			reqs := make([]types.WriteRequest, len(batch))
			for j, it := range batch {
				reqs[j] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: map[string]types.AttributeValue{pk: it[pk], sk: it[sk]}}}
			}
			if err := st.batchWrite(ctx, reqs); err != nil {
				return err
			}
		}
		if out.LastEvaluatedKey == nil {
			return nil
		}
		start = out.LastEvaluatedKey
	}
}

func (st *Store) batchWrite(ctx context.Context, reqs []types.WriteRequest) error {
	pending := map[string][]types.WriteRequest{*st.table: reqs}
	for attempt := 1; len(pending[*st.table]) > 0; attempt++ {
		out, err := st.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
		if err != nil {
			return account.Internal("batch write: %w", err)
		}
		pending = out.UnprocessedItems
		if len(pending[*st.table]) > 0 {
			if attempt == maxTxnAttempts {
				return account.Internal("batch write: items left unprocessed")
			}
			if err := sleep(ctx, time.Duration(attempt*attempt)*10*time.Millisecond); err != nil {
				return account.Internal("batch write: %w", err)
			}
		}
	}
	return nil
}

// ListUsernames queries GSI1 (sorted by canonical username). Round trips: 1.
func (st *Store) ListUsernames(ctx context.Context, after string, limit int) ([]string, string, error) {
	if limit <= 0 {
		limit = 1000
	}
	cond := "GSI1PK = :p"
	vals := map[string]types.AttributeValue{":p": s(accountsGSIPK)}
	if after != "" {
		cond += " AND GSI1SK > :a"
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
			names = append(names, str(it, "username"))
			keys = append(keys, str(it, "GSI1SK"))
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

// ------------------------------------------------------------------------- sessions

// CreateSession is one PutItem, or, when it also clears failed logins, one transaction.
// Round trips: 1.
func (st *Store) CreateSession(ctx context.Context, x *account.Session, clearFailures bool) error {
	item := map[string]types.AttributeValue{
		pk: s(userPK(x.UserID)), sk: s(sessionSK(x.TokenHash)),
		"cred_version": n(x.CredVersion),
		"created_at":   s(x.CreatedAt.UTC().Format(time.RFC3339Nano)),
		"expires_at":   n(x.ExpiresAt.Unix()),
	}
	if !clearFailures {
		if _, err := st.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: st.table, Item: item}); err != nil {
			return account.Internal("create session: %w", err)
		}
		return nil
	}
	failed, err := st.transact(ctx, []types.TransactWriteItem{
		{Put: &types.Put{TableName: st.table, Item: item}},
		{Update: &types.Update{
			TableName:           st.table,
			Key:                 key(userPK(x.UserID), skAccount),
			UpdateExpression:    aws.String("REMOVE " + failuresAttrs),
			ConditionExpression: aws.String("attribute_exists(PK)"),
		}},
	})
	switch {
	case err != nil:
		return err
	case failed != nil:
		return account.ErrNotFound
	}
	return nil
}

// The account's failed-login state: a count and a lock expiry (epoch milliseconds, since
// the first lockouts last a second).
const (
	attrFailed    = "failed_logins"
	attrLock      = "lock_until_ms"
	attrLast      = "last_attempt_ms"
	attrMailSent  = "mail_sent"
	failuresAttrs = attrFailed + ", " + attrLock
)

func (st *Store) UserIDByUsername(ctx context.Context, k string) (int64, error) {
	return st.userIDVia(ctx, key(usernamePK(k), skUsername))
}

func (st *Store) UserIDByEmail(ctx context.Context, k string) (int64, error) {
	return st.userIDVia(ctx, key(emailPK(k), skEmail))
}

func (st *Store) userIDVia(ctx context.Context, k map[string]types.AttributeValue) (int64, error) {
	item, err := st.get(ctx, k)
	if err != nil {
		return 0, err
	}
	id, ok := num(item, "user_id")
	if !ok {
		return 0, account.ErrNotFound
	}
	return id, nil
}

// ReserveLoginAttempt is one conditional UpdateItem that returns the account (see
// reserveCheck in limits.go). Round trips: 1 (2 after a lock).
func (st *Store) ReserveLoginAttempt(ctx context.Context, id int64, now time.Time) (*account.Account, error) {
	item, err := st.reserveCheck(ctx, key(userPK(id), skAccount), now, false)
	if err != nil {
		return nil, err
	}
	return parseAccount(item)
}

// LockAccount sets the first lock once the free-th failure is known. Round trips: 1.
func (st *Store) LockAccount(ctx context.Context, id int64, count int, until time.Time) error {
	return st.lockCheck(ctx, key(userPK(id), skAccount), count, until)
}

func (st *Store) ClearLoginFailures(ctx context.Context, id int64) error {
	_, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           st.table,
		Key:                 key(userPK(id), skAccount),
		UpdateExpression:    aws.String("REMOVE " + failuresAttrs),
		ConditionExpression: aws.String("attribute_exists(PK)"),
	})
	if isConditionFailed(err) {
		return account.ErrNotFound
	}
	if err != nil {
		return account.Internal("clear login failures: %w", err)
	}
	return nil
}

// mailSentSwap is the condition and values of a compare-and-swap of the account's list of
// recent mails from prev to next (":next" is the new list).
func mailSentSwap(prev, next []time.Time) (string, map[string]types.AttributeValue) {
	cond := "attribute_exists(PK) AND "
	vals := map[string]types.AttributeValue{":next": s(encodeTimes(next))}
	if len(prev) == 0 {
		cond += "attribute_not_exists(" + attrMailSent + ")"
	} else {
		cond += attrMailSent + " = :prev"
		vals[":prev"] = s(encodeTimes(prev))
	}
	return cond, vals
}

// ReserveMail compares and swaps the account's list of recent mails. Round trips: 1.
func (st *Store) ReserveMail(ctx context.Context, id int64, prev, next []time.Time) error {
	cond, vals := mailSentSwap(prev, next)
	_, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 st.table,
		Key:                       key(userPK(id), skAccount),
		UpdateExpression:          aws.String("SET " + attrMailSent + " = :next"),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeValues: vals,
	})
	if isConditionFailed(err) {
		return st.whyAccountCondition(ctx, id)
	}
	if err != nil {
		return account.Internal("reserve mail: %w", err)
	}
	return nil
}

// encodeTimes stores a short list of times as comma-separated Unix seconds: a plain
// string compares exactly in a condition.
func encodeTimes(ts []time.Time) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = strconv.FormatInt(t.Unix(), 10)
	}
	return strings.Join(parts, ",")
}

func decodeTimes(v string) []time.Time {
	if v == "" {
		return nil
	}
	var out []time.Time
	for _, p := range strings.Split(v, ",") {
		if x, err := strconv.ParseInt(p, 10, 64); err == nil {
			out = append(out, time.Unix(x, 0).UTC())
		}
	}
	return out
}

// SessionWithAccount reads both items with one consistent BatchGetItem. Round trips: 1.
func (st *Store) SessionWithAccount(ctx context.Context, id int64, hash string) (*account.Session, *account.Account, error) {
	keys := []map[string]types.AttributeValue{key(userPK(id), sessionSK(hash)), key(userPK(id), skAccount)}
	var items []map[string]types.AttributeValue
	for attempt := 1; len(keys) > 0; attempt++ {
		out, err := st.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
			RequestItems: map[string]types.KeysAndAttributes{*st.table: {Keys: keys, ConsistentRead: aws.Bool(true)}},
		})
		if err != nil {
			return nil, nil, account.Internal("session read: %w", err)
		}
		items = append(items, out.Responses[*st.table]...)
		keys = out.UnprocessedKeys[*st.table].Keys
		if len(keys) > 0 {
			if attempt == maxTxnAttempts {
				return nil, nil, account.Internal("session read: keys left unprocessed")
			}
			if err := sleep(ctx, time.Duration(attempt*attempt)*10*time.Millisecond); err != nil {
				return nil, nil, account.Internal("session read: %w", err)
			}
		}
	}
	var sess *account.Session
	var acc *account.Account
	for _, it := range items {
		switch k := str(it, sk); {
		case k == skAccount:
			a, err := parseAccount(it)
			if err != nil {
				return nil, nil, err
			}
			acc = a
		case k == sessionSK(hash):
			cv, _ := num(it, "cred_version")
			exp, _ := num(it, "expires_at")
			sess = &account.Session{
				UserID: id, TokenHash: hash, CredVersion: cv,
				CreatedAt: parseTime(str(it, "created_at")), ExpiresAt: time.Unix(exp, 0).UTC(),
			}
		}
	}
	if sess == nil || acc == nil {
		return nil, nil, account.ErrNotFound
	}
	return sess, acc, nil
}

func (st *Store) DeleteSession(ctx context.Context, id int64, hash string) error {
	_, err := st.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: st.table, Key: key(userPK(id), sessionSK(hash))})
	if err != nil {
		return account.Internal("delete session: %w", err)
	}
	return nil
}

// ------------------------------------------------------------------------------ OTP

func (st *Store) PutOTP(ctx context.Context, o *account.OTP) error {
	_, err := st.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: st.table,
		Item: map[string]types.AttributeValue{
			pk: s(userPK(o.UserID)), sk: s(skOTP),
			"reqid_hash": s(o.ReqIDHash),
			"userhash":   s(o.UserHash),
			"code_mac":   s(o.CodeMAC),
			"attempts":   n(int64(o.Attempts)),
			"created_at": s(o.CreatedAt.UTC().Format(time.RFC3339Nano)),
			"expires_at": n(o.ExpiresAt.Unix()),
		},
	})
	if err != nil {
		return account.Internal("put otp: %w", err)
	}
	return nil
}

// SpendOTPAttempt is one conditional UpdateItem; only a refusal costs a second read to
// say why. Round trips: 1.
func (st *Store) SpendOTPAttempt(ctx context.Context, id int64, reqHash, userHash string, now time.Time, max int) (*account.OTP, error) {
	out, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           st.table,
		Key:                 key(userPK(id), skOTP),
		UpdateExpression:    aws.String("ADD attempts :one"),
		ConditionExpression: aws.String("reqid_hash = :rh AND userhash = :uh AND attribute_not_exists(used_at) AND expires_at > :now AND attempts < :max"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": n(1), ":rh": s(reqHash), ":uh": s(userHash), ":now": n(now.Unix()), ":max": n(int64(max)),
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	if isConditionFailed(err) {
		item, err := st.get(ctx, key(userPK(id), skOTP))
		if err != nil {
			return nil, err
		}
		if item == nil || str(item, "reqid_hash") != reqHash || str(item, "userhash") != userHash {
			return nil, account.ErrInvalidRequest
		}
		return nil, account.ErrOTPExpired
	}
	if err != nil {
		return nil, account.Internal("spend otp attempt: %w", err)
	}
	it := out.Attributes
	attempts, _ := num(it, "attempts")
	exp, _ := num(it, "expires_at")
	return &account.OTP{
		UserID: id, ReqIDHash: reqHash, UserHash: userHash, CodeMAC: str(it, "code_mac"),
		Attempts: int(attempts), CreatedAt: parseTime(str(it, "created_at")), ExpiresAt: time.Unix(exp, 0).UTC(),
	}, nil
}

// ----------------------------------------------------------------------- reset tokens

// PutResetToken writes the token, moves the account's pointer to it and deletes the token
// it replaces, in one transaction. Round trips: 1.
func (st *Store) PutResetToken(ctx context.Context, r *account.ResetToken, replaces string) error {
	vals := map[string]types.AttributeValue{":new": s(r.TokenHash)}
	for k, v := range resetValues(replaces) {
		vals[k] = v
	}
	items := []types.TransactWriteItem{
		{Put: &types.Put{
			TableName: st.table,
			Item: map[string]types.AttributeValue{
				pk: s(resetPK(r.TokenHash)), sk: s(skReset),
				"user_id":    n(r.UserID),
				"created_at": s(r.CreatedAt.UTC().Format(time.RFC3339Nano)),
				"expires_at": n(r.ExpiresAt.Unix()),
			},
			ConditionExpression: aws.String("attribute_not_exists(PK)"),
		}},
		{Update: &types.Update{
			TableName:                 st.table,
			Key:                       key(userPK(r.UserID), skAccount),
			UpdateExpression:          aws.String("SET reset_hash = :new"),
			ConditionExpression:       aws.String("attribute_exists(PK) AND " + resetCond(replaces)),
			ExpressionAttributeValues: vals,
		}},
	}
	if replaces != "" {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: st.table, Key: key(resetPK(replaces), skReset)}})
	}
	failed, err := st.transact(ctx, items)
	switch {
	case err != nil:
		return err
	case failed == nil:
		return nil
	case failed[1]:
		return st.whyAccountCondition(ctx, r.UserID)
	default:
		return account.Internal("put reset token: token hash collision")
	}
}

func (st *Store) ResetToken(ctx context.Context, hash string) (*account.ResetToken, error) {
	item, err := st.get(ctx, key(resetPK(hash), skReset))
	if err != nil {
		return nil, err
	}
	if item == nil {
		return nil, account.ErrTokenNotFound
	}
	id, _ := num(item, "user_id")
	exp, _ := num(item, "expires_at")
	return &account.ResetToken{TokenHash: hash, UserID: id, CreatedAt: parseTime(str(item, "created_at")), ExpiresAt: time.Unix(exp, 0).UTC()}, nil
}

// ------------------------------------------------------------------------ encoding

func accountItem(a *account.Account) map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{
		pk: s(userPK(a.UserID)), sk: s(skAccount),
		"GSI1PK": s(accountsGSIPK), "GSI1SK": s(a.UsernameKey),
		"user_id":      n(a.UserID),
		"username":     s(a.Username),
		"username_key": s(a.UsernameKey),
		"role":         s(string(a.Role)),
		"cred_version": n(a.CredVersion),
		"created_at":   s(a.CreatedAt.UTC().Format(time.RFC3339Nano)),
		"updated_at":   s(a.UpdatedAt.UTC().Format(time.RFC3339Nano)),
	}
	// Empty optional attributes are left out rather than stored as "".
	for name, v := range map[string]string{
		"email": a.Email, "email_key": a.EmailKey,
		"password_hash": a.PasswordHash, "token_hash": a.TokenHash, "secret_hash": a.SecretHash,
		"name": a.Name, "bio": a.Bio, "website": a.Website, "pronounce": a.Pronounce,
		"reset_hash": a.ResetHash, attrTokenIndex: a.TokenIndex,
	} {
		if v != "" {
			item[name] = s(v)
		}
	}
	if a.EmailVerified {
		item[attrEmailVerified] = &types.AttributeValueMemberBOOL{Value: true}
	}
	return item
}

func parseAccount(it map[string]types.AttributeValue) (*account.Account, error) {
	id, ok := num(it, "user_id")
	if !ok {
		return nil, account.Internal("account item %s without user_id", str(it, pk))
	}
	cv, _ := num(it, "cred_version")
	failed, _ := num(it, attrFailed)
	var lock, last time.Time
	if ms, ok := num(it, attrLock); ok {
		lock = time.UnixMilli(ms).UTC()
	}
	if ms, ok := num(it, attrLast); ok {
		last = time.UnixMilli(ms).UTC()
	}
	return &account.Account{
		FailedLogins: int(failed),
		LockedUntil:  lock,
		LastAttempt:  last,
		MailSent:     decodeTimes(str(it, attrMailSent)),
		UserID:       id,
		Username:     str(it, "username"),
		UsernameKey:  str(it, "username_key"),
		Email:        str(it, "email"),
		EmailKey:     str(it, "email_key"),
		PasswordHash: str(it, "password_hash"),
		TokenHash:    str(it, "token_hash"),
		SecretHash:   str(it, "secret_hash"),
		Name:         str(it, "name"),
		Bio:          str(it, "bio"),
		Website:      str(it, "website"),
		Pronounce:    str(it, "pronounce"),
		Role:         account.Role(str(it, "role")),
		CredVersion:  cv,
		ResetHash:    str(it, "reset_hash"),
		CreatedAt:    parseTime(str(it, "created_at")),
		UpdatedAt:    parseTime(str(it, "updated_at")),
		TokenIndex:   str(it, attrTokenIndex),
		// Absent (false) on accounts from before the flag.
		EmailVerified: boolean(it, attrEmailVerified),
	}, nil
}

func str(it map[string]types.AttributeValue, name string) string {
	if v, ok := it[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func num(it map[string]types.AttributeValue, name string) (int64, bool) {
	v, ok := it[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, false
	}
	x, err := strconv.ParseInt(v.Value, 10, 64)
	return x, err == nil
}

func parseTime(v string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// expr builds an update expression with placeholder names (attribute names such as
// "name" and "role" are DynamoDB reserved words).
type expr struct {
	sets, adds, removes []string
	names               map[string]string
	values              map[string]types.AttributeValue
}

func newExpr() *expr {
	return &expr{names: map[string]string{}, values: map[string]types.AttributeValue{}}
}

func (e *expr) placeholder(attr string) string {
	p := fmt.Sprintf("#a%d", len(e.names))
	e.names[p] = attr
	return p
}

func (e *expr) set(attr string, v types.AttributeValue) {
	val := fmt.Sprintf(":v%d", len(e.values))
	e.values[val] = v
	e.sets = append(e.sets, e.placeholder(attr)+" = "+val)
}

func (e *expr) add(attr string, v types.AttributeValue) {
	val := fmt.Sprintf(":v%d", len(e.values))
	e.values[val] = v
	e.adds = append(e.adds, e.placeholder(attr)+" "+val)
}

func (e *expr) remove(attr string) { e.removes = append(e.removes, e.placeholder(attr)) }

func (e *expr) String() string {
	out := ""
	for _, part := range []struct {
		kw    string
		items []string
	}{{"SET", e.sets}, {"ADD", e.adds}, {"REMOVE", e.removes}} {
		if len(part.items) == 0 {
			continue
		}
		if out != "" {
			out += " "
		}
		out += part.kw + " " + strings.Join(part.items, ", ")
	}
	return out
}

// NewClient builds the DynamoDB client from an AWS config (once per cold start), with an
// optional endpoint override (nil for AWS's own).
func NewClient(cfg aws.Config, endpoint *string) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = endpoint
		// The CRC32 check of response bodies adds nothing over TLS, and the SDK wrongly
		// applies it to error responses without the header (aws-sdk-go-v2 #3545), logging a
		// spurious warning on every failed condition, which is a normal outcome here.
		o.DisableValidateResponseChecksum = true
		instrument(o)
	})
}
