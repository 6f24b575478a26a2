package dynamo_test

import (
	"context"
	"testing"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/accounttest"
	"github.com/gatehouse/gatehouse/pkg/dynamo"
)

// TestAdminRoundTrips: an admin Bearer check costs at most one read beyond a Basic check
// (in fact it costs no more: the token's index item and the account, and no write), and
// the token writes keep the index in their one transaction.
func TestAdminRoundTrips(t *testing.T) {
	ctx := context.Background()
	api := &counting{API: client}
	key := []byte("roundtrip-token-index-key-0123456789abcdef")
	svc := account.NewService(dynamo.New(api, newTable(t)), accounttest.NewHasher(), nil, account.Config{TokenIndexKey: key}, nil)
	if _, _, err := svc.EnsureAdmin(ctx, "rt-admin", "rt-admin-password"); err != nil {
		t.Fatal(err)
	}
	measure := func(name string, fn func() error) int64 {
		t.Helper()
		api.n.Store(0)
		if err := fn(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := api.n.Load()
		t.Logf("%-44s %d round trip(s)", name, got)
		return got
	}
	budget := func(name string, got, max int64) {
		t.Helper()
		if got > max {
			t.Errorf("%s: %d round trips, budget %d", name, got, max)
		}
	}
	basicFirst := measure("admin Basic check, first", func() error {
		_, err := svc.AuthenticateAdmin(ctx, "rt-admin", "rt-admin-password")
		return err
	})
	basicWarm := measure("admin Basic check, remembered", func() error {
		_, err := svc.AuthenticateAdmin(ctx, "rt-admin", "rt-admin-password")
		return err
	})
	var token string
	budget("refresh token (POST .../refresh)", measure("refresh token (POST .../refresh)", func() (err error) {
		token, err = svc.RefreshToken(ctx, "rt-admin")
		return err
	}), 4)
	for _, what := range []string{"first", "remembered"} {
		got := measure("admin Bearer check, "+what, func() error {
			_, err := svc.AuthenticateAdminToken(ctx, token)
			return err
		})
		budget("admin Bearer check, "+what, got, min(basicFirst, basicWarm)+1)
		budget("admin Bearer check, "+what, got, 2)
	}
	chosen := "rt-chosen-token"
	budget("set a token (PUT .../update)", measure("set a token (PUT .../update)", func() error {
		_, err := svc.UpdateCredentials(ctx, "rt-admin", nil, &chosen)
		return err
	}), 4)
	other := "rt-other-token"
	budget("create with a token (POST /api/v2/users/{u})", measure("create with a token (POST /api/v2/users/{u})", func() error {
		_, err := svc.CreateUser(ctx, "rt-robot", nil, &other)
		return err
	}), 2)
	budget("unknown Bearer token", measure("unknown Bearer token", func() error {
		if _, err := svc.AuthenticateAdminToken(ctx, "rt-unknown-token"); err != account.ErrInvalidCredentials {
			return err
		}
		return nil
	}), 1)
}
