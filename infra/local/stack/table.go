package stack

import (
	"context"
	"errors"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/gatehouse/gatehouse/infra/local/emulators"
	"github.com/gatehouse/gatehouse/infra/local/samtemplate"
)

// StartTable starts DynamoDB Local in memory with the repository template's table created
// as name, for the tests of tools that work on the table itself (gatehouse-admin,
// gatehouse-local's admin). Stop the emulator when done.
func StartTable(ctx context.Context, name string) (*emulators.Emulator, *dynamodb.Client, error) {
	root, err := emulators.FindRepoRoot("")
	if err != nil {
		return nil, nil, err
	}
	tmpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		return nil, nil, err
	}
	if len(tmpl.Tables) != 1 {
		return nil, nil, errors.New("stack: the template does not have one table")
	}
	e, err := emulators.StartDynamoDB(ctx, emulators.DynamoDBOptions{})
	if err != nil {
		return nil, nil, err
	}
	client := emulators.DynamoDBClient(e.Endpoint)
	if err := samtemplate.CreateTable(ctx, client, tmpl, tmpl.Tables[0].LogicalID, name); err != nil {
		e.Stop()
		return nil, nil, err
	}
	return e, client, nil
}
