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
