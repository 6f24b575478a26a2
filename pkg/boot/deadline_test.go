package boot_test

import (
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gatehouse/gatehouse/internal/hanging"
	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/accounttest"
	"github.com/gatehouse/gatehouse/pkg/api/admin"
	"github.com/gatehouse/gatehouse/pkg/api/user"
	"github.com/gatehouse/gatehouse/pkg/api/users"
	v1 "github.com/gatehouse/gatehouse/pkg/api/v1"
	"github.com/gatehouse/gatehouse/pkg/apigw"
	"github.com/gatehouse/gatehouse/pkg/apigw/apigwtest"
	"github.com/gatehouse/gatehouse/pkg/awsenv"
	"github.com/gatehouse/gatehouse/pkg/boot"
	"github.com/gatehouse/gatehouse/pkg/dynamo"
	"github.com/gatehouse/gatehouse/pkg/ses"
)

// runtime builds the functions' Runtime as boot.Init does, from an environment whose
// DynamoDB endpoint is dynamoURL.
func runtime(t *testing.T, dynamoURL string) *boot.Runtime {
	t.Helper()
	env := map[string]string{
		"TABLE_NAME": "gatehouse-test", "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
		"AWS_ENDPOINT_URL_DYNAMODB": dynamoURL, "SENDER_EMAIL": "no-reply@example.com",
		"LOG_LEVEL": "ERROR",
	}
	rt, err := boot.New(context.Background(), func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	rt.Log = slog.New(slog.DiscardHandler)
	return rt
}

// familyCase is one route of a family whose first DynamoDB call hangs.
type familyCase struct {
	name    string
	handler func(rt *boot.Runtime) (route, serverError apigw.LambdaHandler)
	req     events.APIGatewayV2HTTPRequest
}

func jsonReq(body string) events.APIGatewayV2HTTPRequest {
	return events.APIGatewayV2HTTPRequest{Headers: map[string]string{"content-type": "application/json"}, Body: body}
}

func formReq(body string) events.APIGatewayV2HTTPRequest {
	return events.APIGatewayV2HTTPRequest{Headers: map[string]string{"content-type": "application/x-www-form-urlencoded"}, Body: body}
}

// panics stands for any route: the family's wrapper answers a panic with the family's
// documented server error, which is the answer a hanging store must get too.
func panics(context.Context, *events.APIGatewayV2HTTPRequest) (apigw.Response, error) { panic("test") }

// loginServerError is the Users family's server error on login, whose success member is a
// string (docs/API.md); the family's wrapper answers other routes' panics with a boolean.
func loginServerError(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return events.APIGatewayV2HTTPResponse{StatusCode: 500, Body: `{"success":"false","data":{"message":"ERROR_GENERIC"}}`}, nil
}

var familyCases = []familyCase{
	{"users login", func(rt *boot.Runtime) (apigw.LambdaHandler, apigw.LambdaHandler) {
		h := users.New(rt.Service, rt.Log)
		return h.Lambda(h.Login), loginServerError
	}, jsonReq(`{"username":"alice","password":"alice-password"}`)},
	{"users register", func(rt *boot.Runtime) (apigw.LambdaHandler, apigw.LambdaHandler) {
		h := users.New(rt.Service, rt.Log)
		return h.Lambda(h.Register), h.Lambda(panics)
	}, jsonReq(`{"username":"alice","password":"alice-password"}`)},
	{"user auth", func(rt *boot.Runtime) (apigw.LambdaHandler, apigw.LambdaHandler) {
		h := user.New(rt.Service, rt.Log)
		return h.Lambda(h.Auth), h.Lambda(panics)
	}, jsonReq(`{"username":"alice","password":"alice-password"}`)},
	{"user profile", func(rt *boot.Runtime) (apigw.LambdaHandler, apigw.LambdaHandler) {
		h := user.New(rt.Service, rt.Log)
		return h.Lambda(h.Profile), h.Lambda(panics)
	}, events.APIGatewayV2HTTPRequest{PathParameters: map[string]string{"username": "alice"}}},
	{"v1 changepassword", func(rt *boot.Runtime) (apigw.LambdaHandler, apigw.LambdaHandler) {
		h := v1.New(rt.Service, rt.Log)
		return h.Lambda(h.ChangePassword), h.Lambda(panics)
	}, formReq(`email=alice%40example.com&oldpassword=alice-password&newpassword=alice-password-2`)},
	{"v1 register", func(rt *boot.Runtime) (apigw.LambdaHandler, apigw.LambdaHandler) {
		h := v1.New(rt.Service, rt.Log)
		return h.Lambda(h.Register), h.Lambda(panics)
	}, formReq(`name=alice&email=alice%40example.com&password=alice-password`)},
	{"admin list", func(rt *boot.Runtime) (apigw.LambdaHandler, apigw.LambdaHandler) {
		h := admin.New(rt.Service, rt.Log)
		return h.Lambda(h.ListUsers), h.Lambda(panics)
	}, events.APIGatewayV2HTTPRequest{Headers: map[string]string{
		"authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("root:root-password"))}}},
	{"admin get", func(rt *boot.Runtime) (apigw.LambdaHandler, apigw.LambdaHandler) {
		h := admin.New(rt.Service, rt.Log)
		return h.Lambda(h.GetUser), h.Lambda(panics)
	}, events.APIGatewayV2HTTPRequest{
		PathParameters: map[string]string{"username": "alice"},
		Headers:        map[string]string{"authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("root:root-password"))}}},
}

// invokeBefore calls h with a context whose deadline is in d, as the Lambda runtime does,
// and fails the test unless the answer came before that deadline passed.
func invokeBefore(t *testing.T, h apigw.LambdaHandler, req events.APIGatewayV2HTTPRequest, d time.Duration) apigw.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	resp, err := h(ctx, req)
	if err != nil {
		t.Fatalf("handler returned an error (API Gateway would answer its own 500): %v", err)
	}
	if ctx.Err() != nil {
		t.Fatalf("answered %d after the invocation's deadline had passed: Lambda would have stopped the function", resp.StatusCode)
	}
	return resp
}

// TestHangingDynamoDBAnswersFamilyErrorBeforeDeadline: with DynamoDB accepting connections
// and never answering, each family's handler, through the SDK client built as in
// production, answers its own documented server error before the invocation's deadline.
func TestHangingDynamoDBAnswersFamilyErrorBeforeDeadline(t *testing.T) {
	rt := runtime(t, hanging.Endpoint(t))
	for _, c := range familyCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			route, broken := c.handler(rt)
			want, _ := broken(context.Background(), events.APIGatewayV2HTTPRequest{})
			resp := invokeBefore(t, route, c.req, 2*time.Second)
			apigwtest.Expect(t, c.name, resp, want.StatusCode, want.Body)
			if want.StatusCode != 500 {
				t.Fatalf("family server error is %d", want.StatusCode)
			}
		})
	}
}

// TestHangingSESAnswersMailFailureBeforeDeadline: with SES accepting connections and never
// answering, the mailing routes answer their documented mail failure before the
// invocation's deadline (the same answer as a mail service that refuses at once).
func TestHangingSESAnswersMailFailureBeforeDeadline(t *testing.T) {
	cases := []struct {
		name  string
		route func(svc *account.Service) apigw.LambdaHandler
		req   events.APIGatewayV2HTTPRequest
	}{
		{"users requestotp", func(svc *account.Service) apigw.LambdaHandler {
			h := users.New(svc, slog.New(slog.DiscardHandler))
			return h.Lambda(h.RequestOTP)
		}, jsonReq(`{"username":"alice"}`)},
		{"user password-reset-token", func(svc *account.Service) apigw.LambdaHandler {
			h := user.New(svc, slog.New(slog.DiscardHandler))
			return h.Lambda(h.PasswordResetToken)
		}, jsonReq(`{"email":"alice@example.com"}`)},
	}
	sesURL := hanging.Endpoint(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			// A mail service that fails at once gives the answer to expect.
			refusing := service(t, &accounttest.Mailer{Fail: io.ErrUnexpectedEOF})
			want, _ := c.route(refusing)(context.Background(), c.req)
			if want.StatusCode != 500 {
				t.Fatalf("mail failure is %d %s", want.StatusCode, want.Body)
			}

			rt := runtime(t, "http://127.0.0.1:9")
			mailer := ses.New(ses.NewClient(rt.AWS, &sesURL), rt.Config.SenderEmail)
			resp := invokeBefore(t, c.route(service(t, mailer)), c.req, 2*time.Second)
			apigwtest.Expect(t, c.name, resp, want.StatusCode, want.Body)
		})
	}
}

// service is a Service on the in-memory store holding alice (with an email), mailing
// through mailer.
func service(t *testing.T, mailer account.Mailer) *account.Service {
	t.Helper()
	svc := account.NewService(accounttest.NewStore(), accounttest.NewHasher(), mailer, account.Config{AllowRegistration: true}, nil)
	if _, err := svc.Register(context.Background(), account.NewAccount{Username: "alice", Email: "alice@example.com", Password: "alice-password"}); err != nil {
		t.Fatal(err)
	}
	return svc
}

// TestHangingEndpointGivesUpAfterBoundedAttempts: without a request deadline, a call to an
// endpoint that never answers still ends, after awsenv.MaxAttempts attempts, each on a
// fresh connection, with the SDK's error rather than the caller's context running out.
func TestHangingEndpointGivesUpAfterBoundedAttempts(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 16)
	go func() {
		defer close(accepted)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
			go func() { _, _ = io.Copy(io.Discard, c) }()
		}
	}()
	rt := runtime(t, "http://127.0.0.1:9")
	endpoint := "http://" + ln.Addr().String()
	client := dynamo.NewClient(rt.AWS, &endpoint)
	// Only a safety net for the old code, which waited forever: far beyond awsenv.MaxCall.
	ctx, cancel := context.WithTimeout(context.Background(), 4*awsenv.MaxCall)
	defer cancel()
	_, err = client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String("gatehouse-test"),
		Key:       map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "COUNTER"}, "SK": &types.AttributeValueMemberS{Value: "USER_ID"}},
	})
	if err == nil || ctx.Err() != nil {
		t.Fatalf("call did not give up on its own: err %v, context %v", err, ctx.Err())
	}
	ln.Close()
	n := 0
	for c := range accepted {
		c.Close()
		n++
	}
	if n != awsenv.MaxAttempts {
		t.Fatalf("%d connections for %d attempts (%v)", n, awsenv.MaxAttempts, err)
	}
}
