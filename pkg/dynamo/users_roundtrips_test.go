package dynamo_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/accounttest"
	"github.com/gatehouse/gatehouse/pkg/api/users"
	"github.com/gatehouse/gatehouse/pkg/dynamo"
)

// TestUsersRoundTrips holds the Users routes, as MMDL's front end calls them, to their
// budgets: a session check with Basic userhash:ssid is one round trip, a login at most
// three, whichever way it fails.
func TestUsersRoundTrips(t *testing.T) {
	ctx := context.Background()
	api := &counting{API: client}
	svc := account.NewService(dynamo.New(api, newTable(t)), accounttest.NewHasher(), nil, account.Config{AllowRegistration: true}, nil)
	h := users.New(svc, slog.New(slog.DiscardHandler))
	if _, err := svc.Register(ctx, account.NewAccount{Username: "mmdl", Password: "mmdl-password", SelfService: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Register(ctx, account.NewAccount{Username: "robot", Token: "robot-token-123"}); err != nil {
		t.Fatal(err)
	}
	login := func(body string) *events.APIGatewayV2HTTPRequest {
		return &events.APIGatewayV2HTTPRequest{Headers: map[string]string{"content-type": "application/json"}, Body: body}
	}
	var ssid string
	for _, tc := range []struct {
		name   string
		budget int64
		status int
		call   func() events.APIGatewayV2HTTPResponse
	}{
		{"login (POST /login)", 3, 200, func() events.APIGatewayV2HTTPResponse {
			r := h.Serve(h.Login)(ctx, login(`{"password":"mmdl-password","username":"mmdl"}`))
			var b struct {
				Data struct{ Message struct{ SSID string } }
			}
			if err := jsonUnmarshal(r.Body, &b); err != nil {
				t.Fatal(err)
			}
			ssid = b.Data.Message.SSID
			return r
		}},
		{"session check, Basic userhash:ssid (GET /users/info)", 1, 200, func() events.APIGatewayV2HTTPResponse {
			raw := account.UserHash("mmdl") + ":" + ssid
			return h.Serve(h.Info)(ctx, &events.APIGatewayV2HTTPRequest{Headers: map[string]string{"authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(raw))}})
		}},
		{"login without a password (LOGIN_WITH_PASSWORD)", 3, 401, func() events.APIGatewayV2HTTPResponse {
			return h.Serve(h.Login)(ctx, login(`{"username":"mmdl"}`))
		}},
		{"login, password outside the rules", 3, 401, func() events.APIGatewayV2HTTPResponse {
			return h.Serve(h.Login)(ctx, login(`{"username":"robot","password":"short"}`))
		}},
		{"login of an account without a password", 3, 401, func() events.APIGatewayV2HTTPResponse {
			return h.Serve(h.Login)(ctx, login(`{"username":"robot","password":"robot-token-123"}`))
		}},
	} {
		api.n.Store(0)
		r := tc.call()
		if r.StatusCode != tc.status {
			t.Fatalf("%s: %d %s", tc.name, r.StatusCode, r.Body)
		}
		got := api.n.Load()
		t.Logf("%-55s %d round trip(s)", tc.name, got)
		if got > tc.budget {
			t.Errorf("%s: %d round trips, budget %d", tc.name, got, tc.budget)
		}
	}
}

func jsonUnmarshal(s string, v any) error {
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("decode %q: %w", s, err)
	}
	return nil
}
