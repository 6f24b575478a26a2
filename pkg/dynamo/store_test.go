package dynamo_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/gatehouse/gatehouse/infra/local/emulators"
	"github.com/gatehouse/gatehouse/infra/local/samtemplate"
	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/accounttest"
	"github.com/gatehouse/gatehouse/pkg/dynamo"
)

var (
	client *dynamodb.Client
	tmpl   *samtemplate.Template
	tables atomic.Int64
)

// TestMain runs one DynamoDB Local (in memory, free loopback port) for the package.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx := context.Background()
	root, err := emulators.FindRepoRoot("")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if tmpl, err = samtemplate.Load(filepath.Join(root, "template.yaml")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ddb, err := emulators.StartDynamoDB(ctx, emulators.DynamoDBOptions{RepoRoot: root})
	if err != nil {
		fmt.Fprintln(os.Stderr, "DynamoDB Local is needed for these tests (make deps installs it):", err)
		return 1
	}
	defer ddb.Stop()
	client = emulators.DynamoDBClient(ddb.Endpoint)
	return m.Run()
}

// newTable creates a fresh table from template.yaml's own definition.
func newTable(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("contract-%d", tables.Add(1))
	if err := samtemplate.CreateTable(context.Background(), client, tmpl, "AccountsTable", name); err != nil {
		t.Fatal(err)
	}
	return name
}

func TestStoreContract(t *testing.T) {
	accounttest.StoreContract(t, func(t *testing.T) account.Store {
		return dynamo.New(client, newTable(t))
	})
}
