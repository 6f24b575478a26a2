// Command echo is the test Lambda of the local stack's own tests (not part of Gatehouse).
// It answers an API Gateway payload 2.0 event with the event, its environment and its PID,
// and its query string makes it misbehave on demand:
//
//	?print=text     print text to stdout and stderr
//	?sleep=250ms    sleep before answering
//	?crash=1        exit the process mid-invocation
//	?panic=1        panic in the handler
//	?error=msg      return an error
//	?raw=1          return a plain JSON object (no statusCode)
//	?binary=1       return a base64-encoded binary body
//	?status=201     answer with this status code
//	?setcookie=a=1|b=2  set these response cookies
//	?dynamo=1       list DynamoDB tables through the SDK's default configuration
//	?mail=to@x.y    send a mail from $SENDER_EMAIL through SES v2
//
// ECHO_CRASH_ON_INIT=1 in its environment makes it exit before serving anything;
// ECHO_INIT_SLEEP=5s makes its init that slow.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
)

func main() {
	if os.Getenv("ECHO_CRASH_ON_INIT") != "" {
		fmt.Fprintln(os.Stderr, "echo: crashing during init as asked")
		os.Exit(3)
	}
	if d, err := time.ParseDuration(os.Getenv("ECHO_INIT_SLEEP")); err == nil {
		time.Sleep(d)
	}
	lambda.Start(handle)
}

type reply struct {
	PID      int               `json:"pid"`
	Env      map[string]string `json:"env"`
	Deadline int64             `json:"deadline"`
	Event    json.RawMessage   `json:"event"`
}

func handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, err
	}
	q := ev.QueryStringParameters
	if v := q["print"]; v != "" {
		fmt.Println("stdout: " + v)
		log.Print("stderr: " + v)
	}
	if v := q["sleep"]; v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return nil, err
		}
		time.Sleep(d)
	}
	switch {
	case q["crash"] != "":
		os.Exit(2)
	case q["panic"] != "":
		panic("echo: panicking as asked")
	case q["error"] != "":
		return nil, errors.New(q["error"])
	case q["raw"] != "":
		return map[string]string{"hello": "world"}, nil
	case q["dynamo"] != "":
		return listTables(ctx)
	case q["mail"] != "":
		return sendMail(ctx, q["mail"])
	case q["binary"] != "":
		return events.APIGatewayV2HTTPResponse{
			StatusCode:      200,
			Headers:         map[string]string{"Content-Type": "application/octet-stream"},
			Body:            base64.StdEncoding.EncodeToString([]byte{0, 1, 2, 0xfe, 0xff}),
			IsBase64Encoded: true,
		}, nil
	}
	return echo(ctx, ev, raw)
}

func echo(ctx context.Context, ev events.APIGatewayV2HTTPRequest, raw json.RawMessage) (any, error) {
	r := reply{PID: os.Getpid(), Env: map[string]string{}, Event: raw}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		r.Env[k] = v
	}
	if dl, ok := ctx.Deadline(); ok {
		r.Deadline = dl.UnixMilli()
	}
	body, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	status := 200
	if s := ev.QueryStringParameters["status"]; s != "" {
		if status, err = strconv.Atoi(s); err != nil {
			return nil, err
		}
	}
	var cookies []string
	if c := ev.QueryStringParameters["setcookie"]; c != "" {
		cookies = strings.Split(c, "|")
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode:        status,
		Headers:           map[string]string{"Content-Type": "application/json", "X-Pid": strconv.Itoa(r.PID)},
		MultiValueHeaders: map[string][]string{"X-Multi": {"a", "b"}},
		Cookies:           cookies,
		Body:              string(body),
	}, nil
}

// awsConfig reads the region, credentials and endpoint overrides from the environment as
// the SDK's config package (and Gatehouse's pkg/awsenv) do.
func awsConfig() aws.Config {
	return aws.Config{
		Region: os.Getenv("AWS_REGION"),
		Credentials: credentials.NewStaticCredentialsProvider(
			os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN")),
	}
}

func endpoint(serviceID string) *string {
	if v := os.Getenv("AWS_ENDPOINT_URL_" + serviceID); v != "" {
		return aws.String(v)
	}
	return nil
}

// listTables proves that the environment the local stack gives a function (endpoint,
// credentials, region) reaches DynamoDB Local.
func listTables(ctx context.Context) (any, error) {
	client := dynamodb.NewFromConfig(awsConfig(), func(o *dynamodb.Options) { o.BaseEndpoint = endpoint("DYNAMODB") })
	out, err := client.ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil {
		return nil, err
	}
	return out.TableNames, nil
}

// sendMail does the same for SES v2.
func sendMail(ctx context.Context, to string) (any, error) {
	client := sesv2.NewFromConfig(awsConfig(), func(o *sesv2.Options) { o.BaseEndpoint = endpoint("SESV2") })
	out, err := client.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(os.Getenv("SENDER_EMAIL")),
		Destination:      &sestypes.Destination{ToAddresses: []string{to}},
		Content: &sestypes.EmailContent{Simple: &sestypes.Message{
			Subject: &sestypes.Content{Data: aws.String("echo test mail")},
			Body:    &sestypes.Body{Text: &sestypes.Content{Data: aws.String("sent by the echo test Lambda")}},
		}},
	})
	if err != nil {
		return nil, err
	}
	return map[string]string{"messageId": aws.ToString(out.MessageId)}, nil
}
