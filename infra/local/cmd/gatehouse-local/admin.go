package main

import (
	"context"
	"fmt"

	"github.com/gatehouse/gatehouse/infra/local/emulators"
	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/dynamo"
	"github.com/gatehouse/gatehouse/pkg/password"
)

// localAdmin is the username of the local stack's admin account.
const localAdmin = "admin"

// ensureLocalAdmin makes sure the local table holds the admin account with this password,
// through the same domain and store code the functions use, at every start.
//
// It promotes an existing account named admin if need be (PromoteAdmin): the local stack
// and its data are the operator's own, served on loopback only, so an account of that name
// is the operator's too (say, one registered before the data folder was reset by hand, or
// demoted through the API), and refusing it would leave the stack without its admin. The
// promotion still removes that account's email, secrets and pending codes, like any.
func ensureLocalAdmin(ctx context.Context, dynamoEndpoint, table, pw string) error {
	hasher, err := password.New(password.OWASP)
	if err != nil {
		return err
	}
	store := dynamo.New(emulators.DynamoDBClient(dynamoEndpoint), table)
	svc := account.NewService(store, hasher, nil, account.Config{}, nil)
	if _, _, err := svc.PromoteAdmin(ctx, localAdmin, pw); err != nil {
		return fmt.Errorf("local admin account: %w", err)
	}
	return nil
}
