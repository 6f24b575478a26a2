package dynamo

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// UpdateProfile is one conditional UpdateItem that SETs the given fields and REMOVEs
// those given as "" (empty optional attributes are left out, as accountItem does),
// returning the account as written. Writing only the given attributes is what keeps
// concurrent updates of other fields; the condition on cred_version also keeps a gone
// account from being recreated by the update. With audit records (account.WithAudit) it
// is one transaction of the update and their Puts, which returns no item: the answer is
// then c.Base with the change applied. Round trips: 1.
func (st *Store) UpdateProfile(ctx context.Context, c account.ProfileChange) (*account.Account, error) {
	update := newExpr()
	update.set(attrUpdatedAt, stamp(c.Now))
	for _, f := range []struct {
		attr string
		v    *string
	}{{attrName, c.Profile.Name}, {attrBio, c.Profile.Bio}, {attrWebsite, c.Profile.Website}, {attrPronounce, c.Profile.Pronounce}} {
		switch {
		case f.v == nil:
		case *f.v == "":
			update.remove(f.attr)
		default:
			update.set(f.attr, s(*f.v))
		}
	}
	cv := update.placeholder(attrCredVersion)
	update.values[":cv"] = n(c.CredVersion)
	upd := &types.Update{
		TableName:                 st.table,
		Key:                       accountKey(c.UserID),
		UpdateExpression:          aws.String(update.String()),
		ConditionExpression:       aws.String(cv + " = :cv"),
		ExpressionAttributeNames:  update.names,
		ExpressionAttributeValues: update.values,
	}
	var item map[string]types.AttributeValue
	err := st.single(ctx, types.TransactWriteItem{Update: upd}, account.ErrNotFound, func() error {
		var err error
		item, err = st.updateItem(ctx, upd, types.ReturnValueAllNew)
		if isConditionFailed(err) {
			return account.ErrNotFound
		}
		if err != nil {
			return account.Internal("update profile of %d: %w", c.UserID, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if item != nil {
		return parseAccount(item)
	}
	// With audit records the update was a transaction, which returns no item.
	if c.Base == nil {
		return nil, account.Internal("update profile of %d: audit records without the base account", c.UserID)
	}
	return c.Apply(c.Base), nil
}
