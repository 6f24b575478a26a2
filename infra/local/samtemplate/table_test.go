package samtemplate_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gatehouse/gatehouse/infra/local/emulators"
	"github.com/gatehouse/gatehouse/infra/local/samtemplate"
)

func startDynamo(t *testing.T) *dynamodb.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e, err := emulators.StartDynamoDB(ctx, emulators.DynamoDBOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Stop)
	return emulators.DynamoDBClient(e.Endpoint)
}

func TestCreateTable(t *testing.T) {
	tmpl, err := samtemplate.Load("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	client := startDynamo(t)
	ctx := context.Background()

	t.Run("fresh", func(t *testing.T) {
		if err := samtemplate.CreateTable(ctx, client, tmpl, "AccountsTable", "fresh"); err != nil {
			t.Fatal(err)
		}
		// Idempotent: a second run finds the table and changes nothing.
		if err := samtemplate.CreateTable(ctx, client, tmpl, "AccountsTable", "fresh"); err != nil {
			t.Fatal(err)
		}
		desc := describe(t, client, "fresh")
		if desc.TableStatus != types.TableStatusActive {
			t.Errorf("status %s", desc.TableStatus)
		}
		if desc.BillingModeSummary == nil || desc.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
			t.Errorf("billing mode = %+v", desc.BillingModeSummary)
		}
		if len(desc.KeySchema) != 2 || aws.ToString(desc.KeySchema[0].AttributeName) != "PK" || desc.KeySchema[1].KeyType != types.KeyTypeRange {
			t.Errorf("key schema = %+v", desc.KeySchema)
		}
		checkGSI(t, desc)
		ttl, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("fresh")})
		if err != nil {
			t.Fatal(err)
		}
		if d := ttl.TimeToLiveDescription; d.TimeToLiveStatus != types.TimeToLiveStatusEnabled || aws.ToString(d.AttributeName) != "expires_at" {
			t.Errorf("TTL = %+v", d)
		}
	})

	t.Run("old table gains the missing index", func(t *testing.T) {
		_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName:   aws.String("old"),
			BillingMode: types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{
				{AttributeName: aws.String("PK"), AttributeType: types.ScalarAttributeTypeS},
				{AttributeName: aws.String("SK"), AttributeType: types.ScalarAttributeTypeS},
			},
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String("PK"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("SK"), KeyType: types.KeyTypeRange},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := samtemplate.CreateTable(ctx, client, tmpl, "AccountsTable", "old"); err != nil {
			t.Fatal(err)
		}
		checkGSI(t, describe(t, client, "old"))
	})

	t.Run("unknown logical id", func(t *testing.T) {
		if err := samtemplate.CreateTable(ctx, client, tmpl, "NoSuchTable", "x"); err == nil {
			t.Error("CreateTable of an unknown table succeeded")
		}
	})
}

func describe(t *testing.T, client *dynamodb.Client, name string) *types.TableDescription {
	t.Helper()
	out, err := client.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Table
}

func checkGSI(t *testing.T, desc *types.TableDescription) {
	t.Helper()
	if len(desc.GlobalSecondaryIndexes) != 1 {
		t.Fatalf("GSIs = %+v", desc.GlobalSecondaryIndexes)
	}
	g := desc.GlobalSecondaryIndexes[0]
	if aws.ToString(g.IndexName) != "GSI1" || g.IndexStatus != types.IndexStatusActive {
		t.Errorf("GSI = %s %s", aws.ToString(g.IndexName), g.IndexStatus)
	}
	if g.Projection == nil || g.Projection.ProjectionType != types.ProjectionTypeInclude ||
		len(g.Projection.NonKeyAttributes) != 1 || g.Projection.NonKeyAttributes[0] != "username" {
		t.Errorf("projection = %+v", g.Projection)
	}
	if len(g.KeySchema) != 2 || aws.ToString(g.KeySchema[0].AttributeName) != "GSI1PK" {
		t.Errorf("GSI key schema = %+v", g.KeySchema)
	}
}
