package dynamo

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// UpdateProfile is one conditional UpdateItem that SETs the given fields and REMOVEs
// those given as "" (empty optional attributes are left out, as accountItem does),
// returning the account as written. Writing only the given attributes is what keeps
// concurrent updates of other fields; the condition on cred_version also keeps a gone
// account from being recreated by the update.
//
// With audit records (account.WithAudit) it is one transaction of the update and their
// Puts, which returns no item: the answer is then c.Base with the change applied, and the
// write is also conditional on the fields it leaves alone being Base's, so that the
// answer is the profile as stored. A concurrent change of another field costs a read and
// another try. Round trips: 1 (3 after such a change).
func (st *Store) UpdateProfile(ctx context.Context, c account.ProfileChange) (*account.Account, error) {
	base := c.Base
	var out *account.Account
	err := st.retry(ctx, func() error {
		upd := st.profileUpdate(c, base)
		var item map[string]types.AttributeValue
		err := st.single(ctx, types.TransactWriteItem{Update: upd}, errProfileMoved, func() error {
			var err error
			item, err = st.updateItem(ctx, upd, types.ReturnValueAllNew)
			if isConditionFailed(err) {
				return errProfileMoved
			}
			if err != nil {
				return account.Internal("update profile of %d: %w", c.UserID, err)
			}
			return nil
		})
		if err == errProfileMoved {
			// Gone, its sessions ended (ErrNotFound), or another field moved: read, try again.
			cur, err := st.AccountByID(ctx, c.UserID)
			if err != nil {
				return err
			}
			if cur.CredVersion != c.CredVersion {
				return account.ErrNotFound
			}
			base = cur
			return tryAgain(errProfileMoved)
		}
		if err != nil {
			return err
		}
		if item != nil {
			out, err = parseAccount(item)
			return err
		}
		if base == nil {
			return account.Internal("update profile of %d: audit records without the base account", c.UserID)
		}
		out = c.Apply(base)
		return nil
	}, func(error) error {
		return account.Internal("update profile of %d: the profile keeps changing", c.UserID)
	})
	return out, err
}

// errProfileMoved: a profile update's condition failed; the caller reads to tell why.
var errProfileMoved = errors.New("the profile update's condition failed")

// profileUpdate is the conditional update of c, held to base's other fields (base nil: not).
func (st *Store) profileUpdate(c account.ProfileChange, base *account.Account) *types.Update {
	update := newExpr()
	update.set(attrUpdatedAt, stamp(c.Now))
	cv := update.placeholder(attrCredVersion)
	update.values[":cv"] = n(c.CredVersion)
	cond := cv + " = :cv"
	var was account.Account
	if base != nil {
		was = *base
	}
	for _, f := range []struct {
		attr string
		v    *string
		was  string
	}{{attrName, c.Profile.Name, was.Name}, {attrBio, c.Profile.Bio, was.Bio},
		{attrWebsite, c.Profile.Website, was.Website}, {attrPronounce, c.Profile.Pronounce, was.Pronounce}} {
		switch {
		case f.v == nil && base == nil:
		case f.v == nil && f.was == "":
			cond += " AND attribute_not_exists(" + update.placeholder(f.attr) + ")"
		case f.v == nil:
			val := fmt.Sprintf(":b%d", len(update.values))
			update.values[val] = s(f.was)
			cond += " AND " + update.placeholder(f.attr) + " = " + val
		case *f.v == "":
			update.remove(f.attr)
		default:
			update.set(f.attr, s(*f.v))
		}
	}
	return st.accountUpdate(c.UserID, update, cond)
}
