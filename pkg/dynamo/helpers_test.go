package dynamo_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/accounttest"
	"github.com/gatehouse/gatehouse/pkg/dynamo"
)

// The helpers shared by this package's tests (the DynamoDB Local and its tables are in
// store_test.go).

// newService is a service on a fresh table through api, with the test hasher.
func newService(t *testing.T, api dynamo.API, mailer account.Mailer, cfg account.Config) *account.Service {
	t.Helper()
	return account.NewService(dynamo.New(api, newTable(t)), accounttest.NewHasher(), mailer, cfg, nil)
}

// frozen returns a service on a fresh table whose clock stands still, so a lock set
// during a test lasts for all of it.
func frozen(t *testing.T, api dynamo.API, cfg account.Config) (*account.Service, *accounttest.Mailer) {
	t.Helper()
	mailer := &accounttest.Mailer{}
	cfg.AllowRegistration = true
	svc := newService(t, api, mailer, cfg)
	now := time.Now().UTC()
	svc.Now = func() time.Time { return now }
	return svc, mailer
}

// counting counts the requests the store sends (each is one round trip).
type counting struct {
	dynamo.API
	n atomic.Int64
}

// newCounting is a client of the package's DynamoDB Local that counts its requests.
func newCounting() *counting {
	c := &counting{}
	c.API = dynamodb.New(client.Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Initialize.Add(middleware.InitializeMiddlewareFunc("count", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				c.n.Add(1)
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
		})
	})
	return c
}

// measure runs fn, failing the test on its error, and returns the round trips it cost.
func measure(t *testing.T, api *counting, name string, fn func() error) int64 {
	t.Helper()
	api.n.Store(0)
	if err := fn(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	got := api.n.Load()
	t.Logf("%-55s %d round trip(s)", name, got)
	return got
}

// withinBudget measures fn and fails the test when it costs more than budget round trips.
func withinBudget(t *testing.T, api *counting, name string, budget int64, fn func() error) {
	t.Helper()
	if got := measure(t, api, name, fn); got > budget {
		t.Errorf("%s: %d round trips, budget %d", name, got, budget)
	}
}
