package admin

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/accounttest"
)

// barrierStore holds every DeleteAccount until n of them have arrived, so that concurrent
// deletions are all past their authentication when the store decides.
type barrierStore struct {
	*accounttest.Store
	arrived sync.WaitGroup
}

func (b *barrierStore) DeleteAccount(ctx context.Context, a *account.Account) error {
	b.arrived.Done()
	b.arrived.Wait()
	return b.Store.DeleteAccount(ctx, a)
}

// TestMutualDeleteLastAdmin: two admins deleting each other at the same moment cannot
// both succeed; the second answers 400 {"error":"last admin"} (issue 12, item 10).
func TestMutualDeleteLastAdmin(t *testing.T) {
	store := &barrierStore{Store: accounttest.NewStore()}
	store.arrived.Add(2)
	svc := account.NewService(store, accounttest.NewHasher(), nil, account.Config{}, nil)
	for _, name := range []string{"admin-one", "admin-two"} {
		if _, _, err := svc.EnsureAdmin(ctx, name, name+"-password"); err != nil {
			t.Fatal(err)
		}
	}
	h := New(svc, slog.New(slog.DiscardHandler))
	resps := make([]events.APIGatewayV2HTTPResponse, 2)
	var wg sync.WaitGroup
	wg.Go(func() {
		resps[0] = h.Serve(h.DeleteUser)(ctx, req("admin-two", basic("admin-one", "admin-one-password"), ""))
	})
	wg.Go(func() {
		resps[1] = h.Serve(h.DeleteUser)(ctx, req("admin-one", basic("admin-two", "admin-two-password"), ""))
	})
	wg.Wait()
	won := 0
	for _, r := range resps {
		switch {
		case r.StatusCode == 200:
			won++
		case r.StatusCode != 400 || r.Body != `{"error":"last admin"}`:
			t.Fatalf("mutual delete answered %d %s", r.StatusCode, r.Body)
		}
	}
	if won != 1 {
		t.Fatalf("%d of the mutual deletes succeeded; want 1", won)
	}
	names, _, _ := svc.ListUsers(ctx, "", 10)
	if len(names) != 1 {
		t.Fatalf("left: %v", names)
	}
}
