package emulators

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
)

// Region is the region the local stack pretends to run in.
const Region = "us-east-1"

// localCredentials are dummy keys: the emulators want a signed request but check nothing.
// Static credentials also keep the SDK away from the developer's real ~/.aws profiles.
var localCredentials = credentials.NewStaticCredentialsProvider("local", "local", "")

// DynamoDBClient returns a DynamoDB client for a local endpoint.
func DynamoDBClient(endpoint string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       Region,
		Credentials:  localCredentials,
		BaseEndpoint: aws.String(endpoint),
	})
}

// SESClient returns an SES v2 client for a local endpoint.
func SESClient(endpoint string) *sesv2.Client {
	return sesv2.New(sesv2.Options{
		Region:       Region,
		Credentials:  localCredentials,
		BaseEndpoint: aws.String(endpoint),
	})
}

// Mail is one message captured by SES local.
type Mail struct {
	MessageID   string   `json:"messageId"`
	From        string   `json:"from"`
	ReplyTo     []string `json:"replyTo"`
	Destination struct {
		To  []string `json:"to"`
		Cc  []string `json:"cc"`
		Bcc []string `json:"bcc"`
	} `json:"destination"`
	Subject string `json:"subject"`
	Body    struct {
		Text string `json:"text"`
		HTML string `json:"html"`
	} `json:"body"`
	// At is the send time in Unix seconds.
	At int64 `json:"at"`
}

// Mails returns the mails SES local has captured, oldest first.
func Mails(ctx context.Context, sesEndpoint string) ([]Mail, error) {
	var store struct {
		Emails []Mail `json:"emails"`
	}
	if err := sesCall(ctx, http.MethodGet, sesEndpoint+"/store", &store); err != nil {
		return nil, err
	}
	return store.Emails, nil
}

// ClearMails empties SES local's store.
func ClearMails(ctx context.Context, sesEndpoint string) error {
	return sesCall(ctx, http.MethodPost, sesEndpoint+"/clear-store", nil)
}

func sesCall(ctx context.Context, method, url string, into any) error {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return fmt.Errorf("%s %s: %s", method, url, resp.Status)
	}
	if into == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(into)
}
