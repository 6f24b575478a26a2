package dynamo_test

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/accounttest"
	"github.com/gatehouse/gatehouse/pkg/api/admin"
	"github.com/gatehouse/gatehouse/pkg/api/family"
	"github.com/gatehouse/gatehouse/pkg/dynamo"
)

// adminCaller calls the Admin v2 handler as API Gateway does, counting round trips.
type adminCaller struct {
	t   *testing.T
	api *counting
	h   *admin.Handler
	svc *account.Service
}

func newAdminCaller(t *testing.T, table string, ttl time.Duration) *adminCaller {
	api := newCounting()
	cfg := account.Config{AllowRegistration: true, AdminAuthTTL: ttl, TokenIndexKey: []byte("0123456789abcdef0123456789abcdef")}
	svc := account.NewService(dynamo.New(api, table), accounttest.NewHasher(), nil, cfg, nil)
	return &adminCaller{t: t, api: api, h: admin.New(svc, slog.New(slog.DiscardHandler)), svc: svc}
}

// call runs one route with Basic user:secret (user "": Bearer secret, as Nebula's SDK
// and CLI send) and returns its status and round trips.
func (c *adminCaller) call(route family.Route, user, secret, target, body string) (int, int64) {
	// As in a function: the source is known, so the per-source limit applies.
	ctx := account.WithSourceIP(context.Background(), "203.0.113.9")
	authz := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+secret))
	if user == "" {
		authz = "Bearer " + secret
	}
	req := &events.APIGatewayV2HTTPRequest{
		Headers:        map[string]string{"authorization": authz, "content-type": "application/json"},
		PathParameters: map[string]string{"username": target},
		Body:           body,
	}
	c.api.n.Store(0)
	r := c.h.Serve(route)(ctx, req)
	return r.StatusCode, c.api.n.Load()
}

func adminTable(t *testing.T) string {
	t.Helper()
	table := newTable(t)
	setup := newAdminCaller(t, table, -1)
	for _, name := range []string{"root", "second"} {
		if _, _, err := setup.svc.EnsureAdmin(context.Background(), name, name+"-password"); err != nil {
			t.Fatal(err)
		}
	}
	return table
}

// TestAdminRouteRoundTrips holds the Admin v2 routes to their budgets (issue 15): the acting
// admin is read in the route's own BatchGetItem, so a remembered credential costs at most
// 2 round trips (delete 3). A miss adds the counted check (reservation, clearing).
func TestAdminRouteRoundTrips(t *testing.T) {
	table := adminTable(t)
	c := newAdminCaller(t, table, time.Minute)
	// Bearer: the function remembers the user id of the token's index, as of a name.
	token := "root-chosen-api-token-0123456789"
	if _, err := c.svc.UpdateCredentials(context.Background(), "root", nil, &token); err != nil {
		t.Fatal(err)
	}
	bearerTargets := []string{"bearer-get", "bearer-upd", "bearer-ref", "bearer-del"}
	for _, name := range bearerTargets {
		if _, err := c.svc.Register(context.Background(), account.NewAccount{Username: name, Password: name + "-password"}); err != nil {
			t.Fatal(err)
		}
	}
	if st, n := c.call(c.h.GetUser, "", token, bearerTargets[0], ""); st != http.StatusOK || n > 2 {
		t.Errorf("Bearer GET, nothing remembered: status %d, %d round trips (budget 2)", st, n)
	}
	for _, target := range bearerTargets[1:] {
		c.call(c.h.GetUser, "", token, target, "")
	}
	for _, tc := range []struct {
		name         string
		route        family.Route
		target, body string
		budget       int64
	}{
		{"get", c.h.GetUser, bearerTargets[0], "", 1},
		{"list", c.h.ListUsers, "", "", 2},
		{"update", c.h.UpdateUser, bearerTargets[1], `{"password":"a-new-password"}`, 2},
		{"refresh", c.h.RefreshToken, bearerTargets[2], `{}`, 2},
		{"delete", c.h.DeleteUser, bearerTargets[3], "", 3},
	} {
		st, n := c.call(tc.route, "", token, tc.target, tc.body)
		t.Logf("bearer %-8s %d round trip(s)", tc.name, n)
		if st != http.StatusOK || n > tc.budget {
			t.Errorf("Bearer %s: status %d, %d round trips (budget %d)", tc.name, st, n, tc.budget)
		}
	}
	for _, miss := range []bool{false, true} {
		ttl := time.Minute
		if miss {
			ttl = -1 // never remembered: every call checks the hash
		}
		c := newAdminCaller(t, table, ttl)
		h := c.h
		pre := map[bool]string{false: "hit-", true: "miss-"}[miss]
		targets := []string{pre + "get", pre + "upd", pre + "ref", pre + "del"}
		for _, name := range targets {
			if _, err := c.svc.Register(context.Background(), account.NewAccount{Username: name, Password: name + "-password"}); err != nil {
				t.Fatal(err)
			}
		}
		// Warm: the function has served this admin (and, for the remembered ids, these
		// names) before.
		for _, target := range targets {
			if st, _ := c.call(h.GetUser, "root", "root-password", target, ""); st != http.StatusOK {
				t.Fatalf("warm-up GET %s: %d", target, st)
			}
		}
		budget := map[string]int64{"get": 2, "list": 2, "update": 2, "refresh": 2, "delete": 3}
		if miss {
			// The counted check's reservation comes on top, and its clearing where the
			// route makes no write of its own to carry it (get, list).
			budget = map[string]int64{"get": 3, "list": 4, "update": 3, "refresh": 3, "delete": 4}
		}
		for _, tc := range []struct {
			name         string
			route        family.Route
			target, body string
		}{
			{"get", h.GetUser, targets[0], ""},
			{"list", h.ListUsers, "", ""},
			{"update", h.UpdateUser, targets[1], `{"password":"a-new-password"}`},
			{"refresh", h.RefreshToken, targets[2], `{}`},
			{"delete", h.DeleteUser, targets[3], ""},
		} {
			st, n := c.call(tc.route, "root", "root-password", tc.target, tc.body)
			t.Logf("miss=%v %-8s %d round trip(s)", miss, tc.name, n)
			if st != http.StatusOK {
				t.Errorf("miss=%v %s: status %d", miss, tc.name, st)
			}
			if n > budget[tc.name] {
				t.Errorf("miss=%v %s: %d round trips, budget %d", miss, tc.name, n, budget[tc.name])
			}
		}
	}
	// A name not seen before by this function costs one read more (its username key).
	c = newAdminCaller(t, table, time.Minute)
	c.call(c.h.ListUsers, "root", "root-password", "", "")
	if st, n := c.call(c.h.GetUser, "root", "root-password", "second", ""); st != http.StatusOK || n > 2 {
		t.Errorf("GET of a name not seen before: status %d, %d round trips (budget 2)", st, n)
	}
	// A delete reads the account it deletes with the Query of its partition, so a name not
	// seen before costs nothing more: the key item comes in the first BatchGetItem.
	for _, name := range []string{"unseen-del", "unseen-del-2"} {
		if _, err := c.svc.Register(context.Background(), account.NewAccount{Username: name, Password: name + "-password"}); err != nil {
			t.Fatal(err)
		}
	}
	if st, n := c.call(c.h.DeleteUser, "root", "root-password", "unseen-del", ""); st != http.StatusOK || n > 3 {
		t.Errorf("DELETE of a name not seen before: status %d, %d round trips (budget 3)", st, n)
	}
	c.call(c.h.Status, "", token, "", "") // the function knows the token's index
	if st, n := c.call(c.h.DeleteUser, "", token, "unseen-del-2", ""); st != http.StatusOK || n > 3 {
		t.Errorf("Bearer DELETE of a name not seen before: status %d, %d round trips (budget 3)", st, n)
	}
	if st, _ := c.call(c.h.DeleteUser, "root", "root-password", "unseen-del", ""); st != http.StatusForbidden {
		t.Errorf("DELETE of a deleted name: status %d, want 403", st)
	}
	if _, err := c.svc.AccountByUsername(context.Background(), "unseen-del"); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("the deleted account: %v", err)
	}
	// A miss on a name not seen before: the reservation comes on top, its clearing rides.
	m := newAdminCaller(t, table, -1)
	m.call(m.h.DeleteUser, "root", "root-password", "unseen-del", "") // the function knows root's id
	if _, err := c.svc.Register(context.Background(), account.NewAccount{Username: "unseen-del-3", Password: "unseen-del-3-password"}); err != nil {
		t.Fatal(err)
	}
	if st, n := m.call(m.h.DeleteUser, "root", "root-password", "unseen-del-3", ""); st != http.StatusOK || n > 4 {
		t.Errorf("DELETE on a miss, name not seen before: status %d, %d round trips (budget 4)", st, n)
	}
}

// TestAdminWarmCacheRefusals: a remembered credential dies at once when the admin's
// password changes, its token changes, it is demoted or deleted, although the function's
// cache is warm (the acting admin is read on every call, and its hashes, credential
// version and role decide).
func TestAdminWarmCacheRefusals(t *testing.T) {
	ctx := context.Background()
	table := adminTable(t)
	c := newAdminCaller(t, table, time.Hour)
	other := newAdminCaller(t, table, -1) // another function instance, doing the change
	steps := []struct {
		name   string
		setup  func()
		change func() error
		user   string
		secret string
		want   int
	}{
		{"new password", func() { c.svc.EnsureAdmin(ctx, "pw-admin", "pw-admin-password") }, func() error {
			_, err := other.svc.UpdateCredentials(ctx, "pw-admin", ptr("pw-admin-changed"), nil)
			return err
		}, "pw-admin", "pw-admin-password", http.StatusUnauthorized},
		{"new token", func() {
			c.svc.EnsureAdmin(ctx, "tok-admin", "tok-admin-password")
			other.svc.UpdateCredentials(ctx, "tok-admin", nil, ptr("tok-admin-token-1"))
		}, func() error {
			_, err := other.svc.UpdateCredentials(ctx, "tok-admin", nil, ptr("tok-admin-token-2"))
			return err
		}, "tok-admin", "tok-admin-token-1", http.StatusUnauthorized},
		{"deleted", func() { c.svc.EnsureAdmin(ctx, "del-admin", "del-admin-password") }, func() error {
			return other.svc.DeleteUser(ctx, nil, "del-admin")
		}, "del-admin", "del-admin-password", http.StatusUnauthorized},
		{"demoted", func() { c.svc.EnsureAdmin(ctx, "dem-admin", "dem-admin-password") }, func() error {
			a, err := other.svc.AccountByUsername(ctx, "dem-admin")
			if err != nil {
				return err
			}
			role := account.RoleUser
			return dynamo.New(client, table).ChangeCredentials(ctx, account.CredentialChange{UserID: a.UserID, Role: &role, Now: time.Now()})
		}, "dem-admin", "dem-admin-password", http.StatusForbidden},
	}
	for _, s := range steps {
		s.setup()
		for i := 0; i < 2; i++ { // the second call is served from the warm cache
			if st, _ := c.call(c.h.GetUser, s.user, s.secret, "root", ""); st != http.StatusOK {
				t.Fatalf("%s: before the change: status %d", s.name, st)
			}
		}
		if err := s.change(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		for _, route := range []family.Route{c.h.GetUser, c.h.ListUsers, c.h.Status} {
			if st, _ := c.call(route, s.user, s.secret, "root", ""); st != s.want {
				t.Errorf("%s: next call answered %d, want %d", s.name, st, s.want)
			}
		}
	}
}

func ptr(s string) *string { return &s }

// TestAdminCheckClearedWithTheRoute: after a failed check, the next successful one ends the
// admin's run of failures in the route's own write (update, refresh, delete, create), on its
// own where the route writes nothing or its write did not happen (get, a refused delete),
// and also when the route writes the admin's own account item (DynamoDB refuses two writes
// of one item in a transaction).
func TestAdminCheckClearedWithTheRoute(t *testing.T) {
	ctx := context.Background()
	table := adminTable(t)
	c := newAdminCaller(t, table, -1) // every call checks the hash
	for _, name := range []string{"clr-upd", "clr-ref", "clr-del"} {
		if _, err := c.svc.Register(ctx, account.NewAccount{Username: name, Password: name + "-password"}); err != nil {
			t.Fatal(err)
		}
		c.call(c.h.GetUser, "root", "root-password", name, "") // the function knows the name's id
	}
	for _, tc := range []struct {
		name         string
		route        family.Route
		target, body string
		want         int
		trips        int64 // a clearing of its own would cost one more where a write carries it
	}{
		{"update", c.h.UpdateUser, "clr-upd", `{"password":"a-new-password"}`, http.StatusOK, 3},
		{"refresh", c.h.RefreshToken, "clr-ref", `{}`, http.StatusOK, 3},
		{"delete", c.h.DeleteUser, "clr-del", "", http.StatusOK, 4},
		{"create", c.h.CreateUser, "clr-new", `{"password":"clr-new-password"}`, http.StatusOK, 4},
		{"get", c.h.GetUser, "root", "", http.StatusOK, 3},
		{"refused delete", c.h.DeleteUser, "root", "", http.StatusBadRequest, 3},
		{"own update", c.h.UpdateUser, "root", `{"token":"root-own-token-0123456789"}`, http.StatusOK, 4},
	} {
		if st, _ := c.call(c.h.GetUser, "root", "wrong-password", "root", ""); st != http.StatusUnauthorized {
			t.Fatalf("%s: wrong password answered %d", tc.name, st)
		}
		if a, _ := c.svc.AccountByUsername(ctx, "root"); a.FailedLogins != 1 {
			t.Fatalf("%s: failed logins after a wrong password = %d, want 1", tc.name, a.FailedLogins)
		}
		st, n := c.call(tc.route, "root", "root-password", tc.target, tc.body)
		if st != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, st, tc.want)
		}
		if n > tc.trips {
			t.Errorf("%s: %d round trips, budget %d", tc.name, n, tc.trips)
		}
		if a, _ := c.svc.AccountByUsername(ctx, "root"); a.FailedLogins != 0 || !a.LockedUntil.IsZero() {
			t.Errorf("%s: failed logins after the successful check = %d (lock %v), want cleared", tc.name, a.FailedLogins, a.LockedUntil)
		}
	}
}
