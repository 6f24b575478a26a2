package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/accounttest"
	"github.com/gatehouse/gatehouse/pkg/dynamo"
)

// TestAdminCountInitialised: a table from before the admin count (no count item) gets the
// count computed before the first write that changes the admins, so that write is exact
// and the last admin still cannot go.
func TestAdminCountInitialised(t *testing.T) {
	ctx := context.Background()
	table := newTable(t)
	st := dynamo.New(client, table)
	var admins []*account.Account
	for i := range 5 {
		role := account.RoleUser
		if i%2 == 0 {
			role = account.RoleAdmin
		}
		a := &account.Account{Username: fmt.Sprintf("old%d", i), UsernameKey: fmt.Sprintf("old%d", i), Role: role,
			PasswordHash: "h", CredVersion: 1, CreatedAt: time.Now(), UpdatedAt: time.Now()}
		if err := st.CreateAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
		if role == account.RoleAdmin {
			admins = append(admins, a)
		}
	}
	// What an installation from before the count looks like.
	forget := func() {
		t.Helper()
		if _, err := client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: "ADMINS"}, "SK": &types.AttributeValueMemberS{Value: "COUNT"},
		}}); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := st.AdminCount(ctx); ok {
			t.Fatal("count item still there")
		}
	}
	forget()
	if err := st.DeleteAccount(ctx, admins[0]); err != nil {
		t.Fatal(err)
	}
	if n, ok, err := st.AdminCount(ctx); err != nil || !ok || n != 2 {
		t.Fatalf("count after the first deletion: %d %v %v; want 2", n, ok, err)
	}
	forget()
	if err := st.DeleteAccount(ctx, admins[1]); err != nil {
		t.Fatal(err)
	}
	forget()
	if err := st.DeleteAccount(ctx, admins[2]); !errors.Is(err, account.ErrLastAdmin) {
		t.Fatalf("deleting the last admin with no count stored: %v", err)
	}
	// A new admin on a table without the count counts the old ones too.
	forget()
	a := &account.Account{Username: "new", UsernameKey: "new", Role: account.RoleAdmin, PasswordHash: "h", CredVersion: 1}
	if err := st.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := st.AdminCount(ctx); n != 2 {
		t.Fatalf("count after a new admin: %d; want 2", n)
	}
}

// TestRoundTripsVoiding measures the routes whose writes now also void pending records or
// keep the admin count: the voiding rides in the same transaction, so changepassword keeps
// its 3 round trips with a reset token pending.
func TestRoundTripsVoiding(t *testing.T) {
	ctx := context.Background()
	api := &counting{API: client}
	mailer := &accounttest.Mailer{}
	svc := account.NewService(dynamo.New(api, newTable(t)), accounttest.NewHasher(), mailer, account.Config{AllowRegistration: true}, nil)
	measure := func(name string, budget int64, fn func() error) {
		t.Helper()
		api.n.Store(0)
		if err := fn(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := api.n.Load()
		t.Logf("%-50s %d round trip(s)", name, got)
		if got > budget {
			t.Errorf("%s: %d round trips, budget %d", name, got, budget)
		}
	}
	if _, err := svc.Register(ctx, account.NewAccount{Username: "voider", Email: "voider@example.com", Password: "old-password", SelfService: true}); err != nil {
		t.Fatal(err)
	}
	if err := svc.RequestPasswordReset(ctx, "voider@example.com"); err != nil {
		t.Fatal(err)
	}
	measure("v1 changepassword, reset token pending", 3, func() error {
		return svc.ChangePasswordByEmail(ctx, "voider@example.com", "old-password", "new-password")
	})
	root, _, err := svc.EnsureAdmin(ctx, "root", "root-password")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.EnsureAdmin(ctx, "second", "second-password"); err != nil {
		t.Fatal(err)
	}
	measure("admin deletes an admin", 5, func() error { return svc.DeleteUser(ctx, root, "second") })
}
