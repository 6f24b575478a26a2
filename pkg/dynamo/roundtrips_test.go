package dynamo_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/accounttest"
	"github.com/gatehouse/gatehouse/pkg/dynamo"
)

// counting counts the requests the store sends (each is one round trip).
type counting struct {
	dynamo.API
	n atomic.Int64
}

func (c *counting) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.n.Add(1)
	return c.API.GetItem(ctx, in, o...)
}
func (c *counting) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.n.Add(1)
	return c.API.PutItem(ctx, in, o...)
}
func (c *counting) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.n.Add(1)
	return c.API.UpdateItem(ctx, in, o...)
}
func (c *counting) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	c.n.Add(1)
	return c.API.DeleteItem(ctx, in, o...)
}
func (c *counting) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.n.Add(1)
	return c.API.Query(ctx, in, o...)
}
func (c *counting) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	c.n.Add(1)
	return c.API.BatchGetItem(ctx, in, o...)
}
func (c *counting) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	c.n.Add(1)
	return c.API.BatchWriteItem(ctx, in, o...)
}
func (c *counting) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.n.Add(1)
	return c.API.TransactWriteItems(ctx, in, o...)
}

// TestRoundTrips holds each use case to its DynamoDB round-trip budget (docs/DESIGN.md): the
// latency floor of every route.
func TestRoundTrips(t *testing.T) {
	// As in a function: the request's source IP is known, so the per-source limit applies.
	ctx := account.WithSourceIP(context.Background(), "203.0.113.1")
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
		t.Logf("%-40s %d round trip(s)", name, got)
		if got > budget {
			t.Errorf("%s: %d round trips, budget %d", name, got, budget)
		}
	}
	var a *account.Account
	var token, reqID string
	measure("register (POST /users/register)", 2, func() error {
		c, err := svc.Register(ctx, account.NewAccount{Username: "roundtrip", Email: "rt@example.com", Password: "rt-password", SelfService: true})
		if c != nil {
			a = c.Account
		}
		return err
	})
	measure("login (POST /users/login)", 3, func() (err error) {
		_, token, err = svc.Login(ctx, "roundtrip", "rt-password")
		return err
	})
	// A failure also counts against the source: one write more than a success's session.
	measure("wrong password (POST /users/login)", 3, func() error {
		if _, _, err := svc.Login(ctx, "roundtrip", "wrong-password"); err != account.ErrInvalidCredentials {
			return err
		}
		return nil
	})
	measure("unknown username (POST /users/login)", 3, func() error {
		if _, _, err := svc.Login(ctx, "no-such-user", "wrong-password"); err != account.ErrInvalidCredentials {
			return err
		}
		return nil
	})
	measure("session check (GET /users/info)", 1, func() error {
		_, _, err := svc.Authorize(ctx, token)
		return err
	})
	measure("request OTP (POST /users/requestotp)", 4, func() (err error) {
		_, reqID, err = svc.RequestOTP(ctx, "roundtrip")
		return err
	})
	mail, _ := mailer.LastOTP()
	// The source's count, the code's try, the account's guess budget, the change.
	measure("change password (POST /users/modifypassword)", 4, func() error {
		return svc.ChangePasswordWithOTP(ctx, a.UserHash(), reqID, mail.Code, "new-password")
	})
	later := time.Now().Add(account.DefaultMailInterval) // one mail a minute per account
	svc.Now = func() time.Time { return later }
	measure("reset token request", 4, func() error { return svc.RequestPasswordReset(ctx, "RT@example.com") })
	reset, _ := mailer.LastReset()
	measure("reset with token", 2, func() error { return svc.ResetPasswordWithToken(ctx, strings.ToUpper(reset.Token), "newer-password") })
}
