package e2e

import (
	"context"
	"encoding/base64"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gatehouse/gatehouse/infra/local/emulators"
	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/accounttest"
	"github.com/gatehouse/gatehouse/pkg/dynamo"
)

// Access to the stack's table behind the API's back, for setting up state the API cannot
// make and for reading what it stored.

// DB returns a client of the stack's DynamoDB Local.
func DB() *dynamodb.Client { return emulators.DynamoDBClient(Stack.DynamoEndpoint) }

// Store returns the DynamoDB store of table ("" for the stack's table).
func Store(table string) *dynamo.Store {
	if table == "" {
		table = Stack.TableName
	}
	return dynamo.New(DB(), table)
}

// Service returns an account service on table ("" for the stack's table) with the tests'
// fast hasher and mailer (nil for none).
func Service(table string, mailer account.Mailer, cfg account.Config) *account.Service {
	return account.NewService(Store(table), accounttest.NewHasher(), mailer, cfg, nil)
}

// key is the primary key of the table's item pk, sk.
func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: sk}}
}

// Item returns the stack table's item pk, sk read consistently (nil when there is none).
func Item(t testing.TB, pk, sk string) map[string]types.AttributeValue {
	t.Helper()
	out, err := DB().GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(Stack.TableName), Key: key(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatalf("get %s %s: %v", pk, sk, err)
	}
	return out.Item
}

// DeleteItem deletes the stack table's item pk, sk.
func DeleteItem(t testing.TB, pk, sk string) {
	t.Helper()
	if _, err := DB().DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: aws.String(Stack.TableName), Key: key(pk, sk)}); err != nil {
		t.Fatalf("delete %s %s: %v", pk, sk, err)
	}
}

// Partition returns the stack table's items of partition pk, read consistently.
func Partition(t testing.TB, pk string) []map[string]types.AttributeValue {
	t.Helper()
	out, err := DB().Query(context.Background(), &dynamodb.QueryInput{
		TableName: aws.String(Stack.TableName), ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
	})
	if err != nil {
		t.Fatalf("query %s: %v", pk, err)
	}
	return out.Items
}

// Scan returns every item of the stack's table, read consistently.
func Scan(t testing.TB) []map[string]types.AttributeValue {
	t.Helper()
	var items []map[string]types.AttributeValue
	p := dynamodb.NewScanPaginator(DB(), &dynamodb.ScanInput{TableName: aws.String(Stack.TableName), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, page.Items...)
	}
	return items
}

// Strings calls fn with every string (and binary, as text and base64) inside v.
func Strings(v types.AttributeValue, fn func(string)) {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		fn(v.Value)
	case *types.AttributeValueMemberN:
		fn(v.Value)
	case *types.AttributeValueMemberB:
		fn(string(v.Value))
		fn(base64.StdEncoding.EncodeToString(v.Value))
	case *types.AttributeValueMemberSS:
		for _, s := range v.Value {
			fn(s)
		}
	case *types.AttributeValueMemberNS:
		for _, s := range v.Value {
			fn(s)
		}
	case *types.AttributeValueMemberBS:
		for _, b := range v.Value {
			fn(string(b))
			fn(base64.StdEncoding.EncodeToString(b))
		}
	case *types.AttributeValueMemberL:
		for _, e := range v.Value {
			Strings(e, fn)
		}
	case *types.AttributeValueMemberM:
		for _, e := range v.Value {
			Strings(e, fn)
		}
	}
}
