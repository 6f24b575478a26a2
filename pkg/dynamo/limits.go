package dynamo

// Limits beyond the account's failed logins (account/limits.go). Item layout:
//
//	IP#<network>       / FAILED#<hour>      failed checks of a source in a clock hour (expires_at = TTL)
//	FAIL#<hash>        / FAIL               failed checks of an identifier without an account (expires_at = TTL)
//	USER#<id>          / ACCOUNT            guess_times: the account's recent code/token guesses

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gatehouse/gatehouse/pkg/account"
)

const skFail = "FAIL"

func sourceKey(src account.Source) map[string]types.AttributeValue {
	return key("IP#"+src.Net, "FAILED#"+strconv.FormatInt(src.Window.Unix(), 10))
}

func unknownKey(hash string) map[string]types.AttributeValue { return key("FAIL#"+hash, skFail) }

// UserIDByUsernameFrom reads the username key and the source's count with one
// BatchGetItem. Round trips: 1.
func (st *Store) UserIDByUsernameFrom(ctx context.Context, k string, src account.Source) (int64, int, error) {
	return st.userIDFrom(ctx, key(usernamePK(k), skUsername), src)
}

// UserIDByEmailFrom is UserIDByUsernameFrom by email key. Round trips: 1.
func (st *Store) UserIDByEmailFrom(ctx context.Context, k string, src account.Source) (int64, int, error) {
	return st.userIDFrom(ctx, key(emailPK(k), skEmail), src)
}

func (st *Store) userIDFrom(ctx context.Context, k map[string]types.AttributeValue, src account.Source) (int64, int, error) {
	sk := sourceKey(src)
	items, err := st.batchGet(ctx, []map[string]types.AttributeValue{k, sk})
	if err != nil {
		return 0, 0, err
	}
	var id int64
	var failures int
	for _, it := range items {
		if str(it, pk) == str(sk, pk) {
			v, _ := num(it, attrFailures)
			failures = int(v)
		} else if v, ok := num(it, attrUserID); ok {
			id = v
		}
	}
	if id == 0 {
		return 0, failures, account.ErrNotFound
	}
	return id, failures, nil
}

// SourceFailures is one GetItem. Round trips: 1.
func (st *Store) SourceFailures(ctx context.Context, src account.Source) (int, error) {
	item, err := st.get(ctx, sourceKey(src))
	if err != nil {
		return 0, err
	}
	v, _ := num(item, attrFailures)
	return int(v), nil
}

// AddSourceFailure is one UpdateItem (ADD). Round trips: 1.
func (st *Store) AddSourceFailure(ctx context.Context, src account.Source, expires time.Time) error {
	u := &types.Update{
		TableName:                 st.table,
		Key:                       sourceKey(src),
		UpdateExpression:          aws.String("ADD " + attrFailures + " :one SET " + attrExpiresAt + " = :exp"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": n(1), ":exp": n(expires.Unix())},
	}
	return st.single(ctx, types.TransactWriteItem{Update: u}, nil, func() error {
		if _, err := st.updateItem(ctx, u, types.ReturnValueNone); err != nil {
			return account.Internal("add source failure: %w", err)
		}
		return nil
	})
}

// ReserveUnknownAttempt is ReserveLoginAttempt on the identifier's own record, which the
// first reservation creates. Round trips: 1 (2 after a lock).
func (st *Store) ReserveUnknownAttempt(ctx context.Context, hash string, now time.Time) (*account.Account, error) {
	item, err := st.reserveCheck(ctx, unknownKey(hash), now, true)
	if err != nil {
		return nil, err
	}
	return parseFailures(item), nil
}

// LockUnknown is LockAccount on the identifier's record. Round trips: 1.
func (st *Store) LockUnknown(ctx context.Context, hash string, count int, until time.Time) error {
	return st.lockCheck(ctx, unknownKey(hash), count, until)
}

// reserveCheck is the failed-check reservation of ReserveLoginAttempt on the item at k:
// one conditional UpdateItem that returns the item, for any number of concurrent callers
// while free checks remain. When the condition fails, DynamoDB hands back the item as it
// is, so telling "locked" from "free checks taken" costs no read; only the check after a
// lock (or after a forgotten run) needs a second, optimistic write. With record, the item
// need not exist (an unknown identifier's record) and gets an expiry.
func (st *Store) reserveCheck(ctx context.Context, k map[string]types.AttributeValue, now time.Time, record bool) (map[string]types.AttributeValue, error) {
	vals := map[string]types.AttributeValue{
		":zero": n(0), ":one": n(1), ":now": n(now.UnixMilli()), ":free": n(int64(account.FreeLoginAttempts)),
		":forget": n(now.Add(-account.FailureMemory).UnixMilli()),
	}
	set := "SET " + attrFailed + " = if_not_exists(" + attrFailed + ", :zero) + :one, " + attrLast + " = :now"
	cond := absent(attrLock) + " AND (" + absent(attrFailed) + " OR " + attrFailed + " < :free) AND " +
		"(" + absent(attrLast) + " OR " + attrLast + " > :forget)"
	if record {
		set += ", " + attrExpiresAt + " = :exp"
		// Kept as long as it is remembered (rounded up to the TTL's whole seconds).
		vals[":exp"] = n(now.Add(account.FailureMemory + time.Second - 1).Unix())
	} else {
		cond = itemPresent + " AND " + cond
	}
	out, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           st.table,
		Key:                                 k,
		UpdateExpression:                    aws.String(set),
		ConditionExpression:                 aws.String(cond),
		ExpressionAttributeValues:           vals,
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return out.Attributes, nil
	}
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		return nil, account.Internal("reserve login attempt: %w", err)
	}
	item := ccf.Item
	if item == nil { // an emulator that does not return the item
		if item, err = st.get(ctx, k); err != nil {
			return nil, err
		}
	}
	if item == nil {
		if record { // deleted since the condition failed: try again soon
			return nil, &account.Error{Code: account.CodeTooManyAttempts}
		}
		return nil, account.ErrNotFound
	}
	cur := parseFailures(item)
	forgotten := cur.FailedLogins > 0 && now.Sub(cur.LastAttempt) >= account.FailureMemory
	if !forgotten {
		switch {
		case now.Before(cur.LockedUntil):
			return nil, &account.Error{Code: account.CodeTooManyAttempts, RetryAfter: cur.LockedUntil.Sub(now)}
		case cur.FailedLogins < account.FreeLoginAttempts && cur.LockedUntil.IsZero():
			// Changed since the condition failed (a success cleared it): try again soon.
			return nil, &account.Error{Code: account.CodeTooManyAttempts}
		case cur.LockedUntil.IsZero() && now.Sub(cur.LastAttempt) < account.StaleAttempt:
			return nil, &account.Error{Code: account.CodeTooManyAttempts} // the free-th check is in flight
		}
	}
	// The lock is over (or its check died before setting one, or the run is forgotten):
	// one caller gets the next check, with the next lock set in the same write.
	next := cur.FailedLogins + 1
	vals = map[string]types.AttributeValue{":n": n(int64(next)), ":c": n(int64(cur.FailedLogins)), ":now": n(now.UnixMilli())}
	set = "SET " + attrFailed + " = :n, " + attrLast + " = :now"
	cond = attrFailed + " = :c AND "
	switch {
	case forgotten:
		vals[":n"], vals[":l"] = n(1), n(cur.LastAttempt.UnixMilli())
		cond += attrLast + " = :l"
	case cur.LockedUntil.IsZero():
		cond += absent(attrLock)
	default:
		cond += attrLock + " <= :now"
	}
	if !forgotten {
		set += ", " + attrLock + " = :lock"
		vals[":lock"] = n(now.Add(account.Lockout(next)).UnixMilli())
	}
	if record {
		set += ", " + attrExpiresAt + " = :exp"
		vals[":exp"] = n(now.Add(account.FailureMemory + time.Second - 1).Unix())
	}
	if forgotten {
		set += " REMOVE " + attrLock
	}
	item, err = st.updateItem(ctx, &types.Update{
		Key: k, UpdateExpression: aws.String(set), ConditionExpression: aws.String(cond), ExpressionAttributeValues: vals,
	}, types.ReturnValueAllNew)
	if isConditionFailed(err) {
		return nil, &account.Error{Code: account.CodeTooManyAttempts} // another caller took it
	}
	if err != nil {
		return nil, account.Internal("reserve login attempt: %w", err)
	}
	return item, nil
}

// lockCheck sets the first lock of the item at k once the free-th failure is known, if it
// still has count failures and no lock. Round trips: 1.
func (st *Store) lockCheck(ctx context.Context, k map[string]types.AttributeValue, count int, until time.Time) error {
	u := &types.Update{
		TableName:                 st.table,
		Key:                       k,
		UpdateExpression:          aws.String("SET " + attrLock + " = :lock"),
		ConditionExpression:       aws.String(attrFailed + " = :n AND " + absent(attrLock)),
		ExpressionAttributeValues: map[string]types.AttributeValue{":lock": n(until.UnixMilli()), ":n": n(int64(count))},
	}
	// A failed condition is another check's lock already: no lock of ours, and no event.
	err := st.single(ctx, types.TransactWriteItem{Update: u}, errLockedAlready, func() error {
		_, err := st.updateItem(ctx, u, types.ReturnValueNone)
		if err != nil && !isConditionFailed(err) {
			return account.Internal("lock account: %w", err)
		}
		return nil
	})
	if errors.Is(err, errLockedAlready) {
		return nil
	}
	return err
}

var errLockedAlready = errors.New("locked already")

// ReserveGuess appends now to the account's list of recent guesses while it holds fewer
// than max (one UpdateItem); a full list comes back with the failed condition, and only
// then are guesses older than the window dropped, in a compare-and-swap, so racing guesses
// cannot exceed the budget. Round trips: 1 (2 once the list is full).
func (st *Store) ReserveGuess(ctx context.Context, id int64, now time.Time, max int, window time.Duration) error {
	now = now.Truncate(time.Second)
	nowList := &types.AttributeValueMemberL{Value: []types.AttributeValue{n(now.Unix())}}
	return st.retry(ctx, func() error {
		_, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:        st.table,
			Key:              accountKey(id),
			UpdateExpression: aws.String("SET " + attrGuessTimes + " = list_append(if_not_exists(" + attrGuessTimes + ", :empty), :now)"),
			ConditionExpression: aws.String(itemPresent + " AND (" + absent(attrGuessTimes) + " OR size(" +
				attrGuessTimes + ") < :max)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":empty": &types.AttributeValueMemberL{Value: []types.AttributeValue{}}, ":now": nowList, ":max": n(int64(max)),
			},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		if err == nil {
			return nil
		}
		var ccf *types.ConditionalCheckFailedException
		if !errors.As(err, &ccf) {
			return account.Internal("reserve guess: %w", err)
		}
		item := ccf.Item
		if item == nil {
			if item, err = st.get(ctx, accountKey(id)); err != nil {
				return err
			}
		}
		if item == nil {
			return account.ErrNotFound
		}
		old, _ := item[attrGuessTimes].(*types.AttributeValueMemberL)
		if old == nil {
			return tryAgain(errGuessRace) // changed meanwhile (a new password emptied it)
		}
		var recent []types.AttributeValue
		var times []time.Time
		for _, v := range old.Value {
			if x, ok := v.(*types.AttributeValueMemberN); ok {
				if sec, err := strconv.ParseInt(x.Value, 10, 64); err == nil && now.Sub(time.Unix(sec, 0)) < window {
					recent = append(recent, v)
					times = append(times, time.Unix(sec, 0))
				}
			}
		}
		if len(times) >= max {
			slices.SortFunc(times, time.Time.Compare)
			return &account.Error{Code: account.CodeTooManyAttempts, RetryAfter: times[len(times)-max].Add(window).Sub(now)}
		}
		_, err = st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:           st.table,
			Key:                 accountKey(id),
			UpdateExpression:    aws.String("SET " + attrGuessTimes + " = :next"),
			ConditionExpression: aws.String(attrGuessTimes + " = :old"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":next": &types.AttributeValueMemberL{Value: append(recent, nowList.Value[0])}, ":old": old,
			},
		})
		if err == nil {
			return nil
		}
		if !isConditionFailed(err) {
			return account.Internal("reserve guess: %w", err)
		}
		return tryAgain(errGuessRace) // another guess won the swap: look again
	}, func(error) error { return &account.Error{Code: account.CodeTooManyAttempts, RetryAfter: time.Second} })
}

var errGuessRace = errors.New("the list of guesses changed meanwhile")
