package main

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/infra/local/stack"
	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/accounttest"
	"github.com/gatehouse/gatehouse/pkg/dynamo"
)

// TestLocalAdminRestarts: the local admin is (re)made at every start, with the password of
// that start, also when an account named admin exists as a plain user (the bootstrap
// command refuses that without --promote-existing; the local stack is the operator's own).
func TestLocalAdminRestarts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const table = "local-admin"
	e, client, err := stack.StartTable(ctx, table)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Stop)
	svc := account.NewService(dynamo.New(client, table), accounttest.NewHasher(), nil, account.Config{}, nil)
	if _, err := svc.Register(ctx, account.NewAccount{Username: "Admin", Password: "a-user-password", Email: "someone@example.com"}); err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{"first-start-pw", "second-start-pw"} {
		if err := ensureLocalAdmin(ctx, e.Endpoint, table, pw); err != nil {
			t.Fatalf("start with %s: %v", pw, err)
		}
		a, err := svc.AuthenticateAdmin(ctx, "admin", pw)
		if err != nil || a.Role != account.RoleAdmin || a.Email != "" {
			t.Fatalf("after the start with %s: %+v %v", pw, a, err)
		}
	}
}
