package accounttest

import (
	"context"
	"errors"

	"github.com/gatehouse/gatehouse/pkg/account"
)

func (s *Store) ReadBatch(ctx context.Context, r account.BatchRead) (*account.BatchResult, error) {
	res := &account.BatchResult{Accounts: map[int64]*account.Account{}, UserIDs: map[string]int64{}}
	for _, id := range r.IDs {
		a, err := s.AccountByID(ctx, id)
		if err == nil {
			res.Accounts[id] = a
		} else if !errors.Is(err, account.ErrNotFound) {
			return nil, err
		}
	}
	for _, k := range r.UsernameKeys {
		id, err := s.UserIDByUsername(ctx, k)
		if err == nil {
			res.UserIDs[k] = id
		} else if !errors.Is(err, account.ErrNotFound) {
			return nil, err
		}
	}
	if r.Source != nil {
		res.SourceFailures, _ = s.SourceFailures(ctx, *r.Source)
	}
	return res, nil
}

// ChangeCredentialsFrom needs no hints here: the fake changes the account as it is.
func (s *Store) ChangeCredentialsFrom(ctx context.Context, _ *account.Account, c account.CredentialChange) error {
	return s.ChangeCredentials(ctx, c)
}
