package dynamo_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/accounttest"
	"github.com/gatehouse/gatehouse/pkg/dynamo"
)

// TestLoginThrottleRaceOnDynamoDB: 50 concurrent wrong passwords against DynamoDB Local
// get at most 5 password checks; the rest are refused without one.
func TestLoginThrottleRaceOnDynamoDB(t *testing.T) {
	ctx := context.Background()
	hasher := accounttest.NewHasher()
	svc := account.NewService(dynamo.New(client, newTable(t)), hasher, nil, account.Config{AllowRegistration: true}, nil)
	// A clock that stands still: on a loaded machine the first lock (1 s) could otherwise
	// end while the 50 are still running, and a check after it is allowed.
	now := time.Now()
	svc.Now = func() time.Time { return now }
	if _, err := svc.Register(ctx, account.NewAccount{Username: "target", Password: "right-password"}); err != nil {
		t.Fatal(err)
	}
	codes := map[account.Code]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			_, _, err := svc.Login(ctx, "target", "wrong-password")
			mu.Lock()
			codes[account.ErrorCode(err)]++
			mu.Unlock()
		})
	}
	wg.Wait()
	checks := hasher.Verifies.Load() - hasher.Dummies.Load()
	t.Logf("50 concurrent wrong passwords: %d password checks, answers %v", checks, codes)
	if checks > 5 || codes[account.CodeInvalidCredentials] > 5 || codes[account.CodeTooManyAttempts]+codes[account.CodeInvalidCredentials] != 50 {
		t.Fatalf("%d checks, answers %v; want at most 5 checks and the rest refused", checks, codes)
	}
	a, err := svc.AccountByUsername(ctx, "target")
	if err != nil || a.FailedLogins > 5 {
		t.Fatalf("stored count %d, %v", a.FailedLogins, err)
	}
}
