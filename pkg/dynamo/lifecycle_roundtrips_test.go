package dynamo_test

import (
	"context"
	"testing"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// TestLifecycleRoundTrips: a profile update is the session check and one conditional
// update (API.md, "Account lifecycle": 2).
func TestLifecycleRoundTrips(t *testing.T) {
	ctx := context.Background()
	api := newCounting()
	svc := newService(t, api, nil, account.Config{AllowRegistration: true})
	if _, err := svc.Register(ctx, account.NewAccount{Username: "profiler", Password: "profiler-password", SelfService: true}); err != nil {
		t.Fatal(err)
	}
	_, token, err := svc.Login(ctx, "profiler", "profiler-password")
	if err != nil {
		t.Fatal(err)
	}
	bio, none := "a bio", ""
	withinBudget(t, api, "profile update (PUT /user/profile)", 2, func() error {
		a, err := svc.UpdateOwnProfile(ctx, token, account.ProfileUpdate{Profile: account.Profile{Bio: &bio, Website: &none}})
		if err == nil && a.Bio != bio {
			t.Errorf("bio %q after the update", a.Bio)
		}
		return err
	})
	withinBudget(t, api, "delete own account (DELETE /user)", 6, func() error {
		return svc.DeleteOwnAccount(ctx, token, "profiler-password")
	})
}
