package main

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/gatehouse/gatehouse/infra/local/emulators"
)

// TestEmulatorsOnly runs the command as `make emulators` does: DynamoDB Local with make
// run's table and the SES emulator, no gateway; SIGTERM stops it cleanly.
func TestEmulatorsOnly(t *testing.T) {
	c := startCommand(t, nil, "-emulators-only", "-dynamodb-port", "0", "-ses-port", "0", "-in-memory", "-quiet")
	dynamoRe := regexp.MustCompile(`DynamoDB\s+(http://127\.0\.0\.1:\d+)\s+table (\S+)`)
	inboxRe := regexp.MustCompile(`Inbox\s+(http://127\.0\.0\.1:\d+)`)
	var dynamoURL, table, inbox string
	if m := dynamoRe.FindStringSubmatch(c.banner); m != nil {
		dynamoURL, table = m[1], m[2]
	}
	if m := inboxRe.FindStringSubmatch(c.banner); m != nil {
		inbox = m[1]
	}
	if dynamoURL == "" || inbox == "" || table != "gatehouse-local" {
		t.Fatalf("banner:\n%s", c.banner)
	}
	if strings.Contains(c.banner, "API ") {
		t.Errorf("emulators only, but the banner names an API:\n%s", c.banner)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := emulators.DynamoDBClient(dynamoURL).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}); err != nil {
		t.Errorf("table %s: %v", table, err)
	}
	resp, err := http.Get(inbox + "/store")
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("inbox: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	c.stop(t)
}
