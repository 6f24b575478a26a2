package dynamo

import (
	"context"
	"errors"
	"maps"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gatehouse/gatehouse/pkg/account"
)

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
	return st.changeWithHints(ctx, c, h)
}

// changeWithHints writes c, refreshing stale hints and trying again (retry).
func (st *Store) changeWithHints(ctx context.Context, c account.CredentialChange, h hints) error {
	return st.retry(ctx, func() error {
		err := st.changeCredentials(ctx, c, h)
		var stale *staleHints
		if !errors.As(err, &stale) {
			return err
		}
		h = stale.hints
		return tryAgain(stale)
	}, func(error) error {
		return account.Internal("change credentials of %d: the account keeps changing", c.UserID)
	})
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
	update.set(attrUpdatedAt, stamp(c.Now))
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
	setOrRemove(attrPasswordHash, c.PasswordHash)
	if c.PasswordHash != nil {
		update.remove(attrFailed)
		update.remove(attrLock)
		update.remove(attrGuessTimes) // a new password starts a fresh guess budget
	}
	setOrRemove(attrTokenHash, c.TokenHash)
	if c.SecretHash == nil && newPassword && c.KeepSecret == "" {
		setOrRemove(attrSecretHash, aws.String(""))
	} else {
		setOrRemove(attrSecretHash, c.SecretHash)
	}
	if c.Role != nil {
		update.set(attrRole, s(string(*c.Role)))
	}
	if !c.KeepSessions {
		update.add(attrCredVersion, n(1))
	}
	if c.ConsumeReset != "" || newPassword {
		update.remove(attrResetHash)
	}
	cond := itemPresent
	if c.IfPasswordHash != nil {
		if *c.IfPasswordHash == "" {
			cond += " AND " + absent(attrPasswordHash)
		} else {
			cond += " AND " + attrPasswordHash + " = :ifpw"
			update.values[":ifpw"] = s(*c.IfPasswordHash)
		}
	}
	// The items that go with the change, those whose condition can fail first (in the
	// order their failure is reported), then the account, then plain deletions.
	var first, deletes []txItem
	if c.ConsumeOTP != "" {
		// Marked used rather than deleted, so that a reuse answers "expired" rather than
		// "unknown request"; TTL removes it with its expiry.
		first = append(first, txItem{types.TransactWriteItem{Update: &types.Update{
			TableName:                 st.table,
			Key:                       otpKey(c.UserID),
			UpdateExpression:          aws.String("SET " + attrUsedAt + " = :now"),
			ConditionExpression:       aws.String(attrReqIDHash + " = :rh AND " + absent(attrUsedAt)),
			ExpressionAttributeValues: map[string]types.AttributeValue{":rh": s(c.ConsumeOTP), ":now": stamp(c.Now)},
		}}, account.ErrOTPExpired})
	} else if c.ConsumeReset != "" {
		first = append(first, txItem{types.TransactWriteItem{Delete: &types.Delete{
			TableName:           st.table,
			Key:                 resetKey(c.ConsumeReset),
			ConditionExpression: aws.String(itemPresent),
		}}, account.ErrTokenNotFound})
	}
	if newPassword {
		cond += " AND " + resetCond(h.resetHash)
		maps.Copy(update.values, resetValues(h.resetHash))
		if c.ConsumeOTP == "" {
			deletes = append(deletes, txItem{TransactWriteItem: st.remove(otpKey(c.UserID))})
		}
		if h.resetHash != "" && h.resetHash != c.ConsumeReset {
			deletes = append(deletes, txItem{TransactWriteItem: st.remove(resetKey(h.resetHash))})
		}
		if c.KeepSecret != "" {
			cond += " AND " + attrSecretHash + " = :keep"
			update.values[":keep"] = s(c.KeepSecret)
		}
	}
	if c.VerifyEmail && c.ReleaseEmail == "" {
		// The code or token was mailed to the account's address: it proves control of it.
		update.set(attrEmailVerified, &types.AttributeValueMemberBOOL{Value: true})
	}
	if c.ReleaseEmail != "" {
		if h.emailKey == "" {
			cond += " AND " + absent(attrEmailKey)
		} else {
			cond += " AND " + attrEmailKey + " = :ek"
			update.values[":ek"] = s(h.emailKey)
			update.remove(attrEmail)
			update.remove(attrEmailKey)
			update.remove(attrEmailVerified)
			deletes = append(deletes, txItem{TransactWriteItem: st.remove(emailKey(h.emailKey))})
		}
	}
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
			deletes = append(deletes, txItem{TransactWriteItem: st.tokenIndexDelete(prev)})
		}
		if next != "" && next != prev {
			first = append(first, txItem{st.tokenIndexPut(next, c.UserID), account.ErrTokenInUse})
		}
	}
	if c.Role != nil {
		cond += " AND #role = :oldrole"
		update.names["#role"] = attrRole
		update.values[":oldrole"] = s(string(h.role))
		was, is := h.role == account.RoleAdmin, *c.Role == account.RoleAdmin
		if was != is {
			if err := st.ensureAdminCount(ctx); err != nil {
				return err
			}
			delta, onFail := int64(1), error(account.Internal("change credentials of %d: admin count missing", c.UserID))
			if was {
				delta, onFail = -1, account.ErrLastAdmin
			}
			first = append(first, txItem{st.adminCountItem(delta), onFail})
		}
	}
	upd := st.accountUpdate(c.UserID, update, cond)
	var err error
	if len(first) == 0 && len(deletes) == 0 {
		err = st.single(ctx, types.TransactWriteItem{Update: upd}, errAccountCondition, func() error {
			_, err := st.updateItem(ctx, upd, types.ReturnValueNone)
			if err != nil && !isConditionFailed(err) {
				return account.Internal("change credentials of %d: %w", c.UserID, err)
			}
			if err != nil {
				return errAccountCondition
			}
			return nil
		})
	} else {
		items := append(first, txItem{types.TransactWriteItem{Update: upd}, errAccountCondition})
		err = st.transact(ctx, append(items, deletes...))
	}
	if errors.Is(err, errAccountCondition) {
		return st.whyChangeFailed(ctx, c, h)
	}
	return err
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
