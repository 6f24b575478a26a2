package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/infra/local/emulators"
	"github.com/gatehouse/gatehouse/infra/local/samtemplate"
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
	e, err := emulators.StartDynamoDB(ctx, emulators.DynamoDBOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Stop)
	root, err := emulators.FindRepoRoot("")
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const table = "local-admin"
	client := emulators.DynamoDBClient(e.Endpoint)
	if err := samtemplate.CreateTable(ctx, client, tmpl, "AccountsTable", table); err != nil {
		t.Fatal(err)
	}
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
