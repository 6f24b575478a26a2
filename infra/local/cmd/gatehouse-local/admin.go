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
// through the same domain and store code the functions use.
func ensureLocalAdmin(ctx context.Context, dynamoEndpoint, table, pw string) error {
	hasher, err := password.New(password.OWASP)
	if err != nil {
		return err
	}
	store := dynamo.New(emulators.DynamoDBClient(dynamoEndpoint), table)
	svc := account.NewService(store, hasher, nil, account.Config{}, nil)
	if _, _, err := svc.EnsureAdmin(ctx, localAdmin, pw); err != nil {
		return fmt.Errorf("local admin account: %w", err)
	}
	return nil
}
