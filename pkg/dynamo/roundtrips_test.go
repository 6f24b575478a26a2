package dynamo_test

// The DynamoDB round-trip budgets of the use cases (DESIGN.md): the latency floor of
// every route.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/accounttest"
	"github.com/gatehouse/gatehouse/pkg/api/users"
)

// TestRoundTrips holds each use case to its DynamoDB round-trip budget (docs/DESIGN.md): the
// latency floor of every route.
func TestRoundTrips(t *testing.T) {
	// As in a function: the request's source IP is known, so the per-source limit applies.
	ctx := account.WithSourceIP(context.Background(), "203.0.113.1")
	api := newCounting()
	mailer := &accounttest.Mailer{}
	svc := newService(t, api, mailer, account.Config{AllowRegistration: true})
	var a *account.Account
	var token, reqID string
	withinBudget(t, api, "register (POST /users/register)", 2, func() error {
		c, err := svc.Register(ctx, account.NewAccount{Username: "roundtrip", Email: "rt@example.com", Password: "rt-password", SelfService: true})
		if c != nil {
			a = c.Account
		}
		return err
	})
	withinBudget(t, api, "login (POST /users/login)", 3, func() (err error) {
		_, token, err = svc.Login(ctx, "roundtrip", "rt-password")
		return err
	})
	// A failure also counts against the source: one write more than a success's session.
	withinBudget(t, api, "wrong password (POST /users/login)", 3, func() error {
		if _, _, err := svc.Login(ctx, "roundtrip", "wrong-password"); err != account.ErrInvalidCredentials {
			return err
		}
		return nil
	})
	withinBudget(t, api, "unknown username (POST /users/login)", 3, func() error {
		if _, _, err := svc.Login(ctx, "no-such-user", "wrong-password"); err != account.ErrInvalidCredentials {
			return err
		}
		return nil
	})
	withinBudget(t, api, "session check (GET /users/info)", 1, func() error {
		_, _, err := svc.Authorize(ctx, token)
		return err
	})
	withinBudget(t, api, "request OTP (POST /users/requestotp)", 4, func() (err error) {
		_, reqID, err = svc.RequestOTP(ctx, "roundtrip")
		return err
	})
	mail, _ := mailer.LastOTP()
	// The source's count, the code's try, the account's guess budget, the change.
	withinBudget(t, api, "change password (POST /users/modifypassword)", 4, func() error {
		return svc.ChangePasswordWithOTP(ctx, a.UserHash(), reqID, mail.Code, "new-password")
	})
	later := time.Now().Add(account.DefaultMailInterval) // one mail a minute per account
	svc.Now = func() time.Time { return later }
	withinBudget(t, api, "reset token request", 4, func() error { return svc.RequestPasswordReset(ctx, "RT@example.com") })
	reset, _ := mailer.LastReset()
	withinBudget(t, api, "reset with token", 2, func() error { return svc.ResetPasswordWithToken(ctx, strings.ToUpper(reset.Token), "newer-password") })
}

// TestRoundTripsVoiding measures the routes whose writes now also void pending records or
// keep the admin count: the voiding rides in the same transaction, so changepassword keeps
// its 3 round trips with a reset token pending.
func TestRoundTripsVoiding(t *testing.T) {
	ctx := context.Background()
	api := newCounting()
	mailer := &accounttest.Mailer{}
	svc := newService(t, api, mailer, account.Config{AllowRegistration: true})
	if _, err := svc.Register(ctx, account.NewAccount{Username: "voider", Email: "voider@example.com", Password: "old-password", SelfService: true}); err != nil {
		t.Fatal(err)
	}
	if err := svc.RequestPasswordReset(ctx, "voider@example.com"); err != nil {
		t.Fatal(err)
	}
	withinBudget(t, api, "v1 changepassword, reset token pending", 3, func() error {
		return svc.ChangePasswordByEmail(ctx, "voider@example.com", "old-password", "new-password")
	})
	root, _, err := svc.EnsureAdmin(ctx, "root", "root-password")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.EnsureAdmin(ctx, "second", "second-password"); err != nil {
		t.Fatal(err)
	}
	withinBudget(t, api, "admin deletes an admin", 5, func() error { return svc.DeleteUser(ctx, root, "second") })
}

// TestAdminRoundTrips: an admin Bearer check costs at most one read beyond a Basic check
// (in fact it costs no more: the token's index item and the account, and no write), and
// the token writes keep the index in their one transaction.
func TestAdminRoundTrips(t *testing.T) {
	ctx := context.Background()
	api := newCounting()
	key := []byte("roundtrip-token-index-key-0123456789abcdef")
	svc := newService(t, api, nil, account.Config{TokenIndexKey: key})
	if _, _, err := svc.EnsureAdmin(ctx, "rt-admin", "rt-admin-password"); err != nil {
		t.Fatal(err)
	}
	budget := func(name string, got, max int64) {
		t.Helper()
		if got > max {
			t.Errorf("%s: %d round trips, budget %d", name, got, max)
		}
	}
	basicFirst := measure(t, api, "admin Basic check, first", func() error {
		_, err := svc.AuthenticateAdmin(ctx, "rt-admin", "rt-admin-password")
		return err
	})
	basicWarm := measure(t, api, "admin Basic check, remembered", func() error {
		_, err := svc.AuthenticateAdmin(ctx, "rt-admin", "rt-admin-password")
		return err
	})
	var token string
	budget("refresh token (POST .../refresh)", measure(t, api, "refresh token (POST .../refresh)", func() (err error) {
		token, err = svc.RefreshToken(ctx, "rt-admin")
		return err
	}), 4)
	for _, what := range []string{"first", "remembered"} {
		got := measure(t, api, "admin Bearer check, "+what, func() error {
			_, err := svc.AuthenticateAdminToken(ctx, token)
			return err
		})
		budget("admin Bearer check, "+what, got, min(basicFirst, basicWarm)+1)
		budget("admin Bearer check, "+what, got, 2)
	}
	chosen := "rt-chosen-token"
	budget("set a token (PUT .../update)", measure(t, api, "set a token (PUT .../update)", func() error {
		_, err := svc.UpdateCredentials(ctx, "rt-admin", nil, &chosen)
		return err
	}), 4)
	other := "rt-other-token"
	budget("create with a token (POST /api/v2/users/{u})", measure(t, api, "create with a token (POST /api/v2/users/{u})", func() error {
		_, err := svc.CreateUser(ctx, "rt-robot", nil, &other)
		return err
	}), 2)
	budget("unknown Bearer token", measure(t, api, "unknown Bearer token", func() error {
		if _, err := svc.AuthenticateAdminToken(ctx, "rt-unknown-token"); err != account.ErrInvalidCredentials {
			return err
		}
		return nil
	}), 1)
}

// TestUsersRoundTrips holds the Users routes, as MMDL's front end calls them, to their
// budgets: a session check with Basic userhash:ssid is one round trip, a login at most
// three, whichever way it fails.
func TestUsersRoundTrips(t *testing.T) {
	ctx := context.Background()
	api := newCounting()
	svc := newService(t, api, nil, account.Config{AllowRegistration: true})
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

// Registration with its verification mail stays 2 round trips (the verification and the
// mail's counters ride in its transaction); verifying is the read and the write; an email
// change request is (after the session) the key read, the source count, the reserved check, clearing it, the quota and the verification.
func TestRoundTripsVerification(t *testing.T) {
	ctx := account.WithSourceIP(context.Background(), "203.0.113.9")
	api := newCounting()
	mailer := &accounttest.Mailer{}
	svc := newService(t, api, mailer, account.Config{AllowRegistration: true})
	var a *account.Account
	withinBudget(t, api, "register with verification mail", 2, func() error {
		c, err := svc.Register(ctx, account.NewAccount{Username: "verifier", Email: "verifier@example.com", Password: "v-password", SelfService: true})
		if c != nil {
			a = c.Account
		}
		return err
	})
	v, err := mailer.LastVerification()
	if err != nil || v.To != "verifier@example.com" {
		t.Fatalf("verification mail %+v, %v", v, err)
	}
	withinBudget(t, api, "verify email (POST /user/verify-email)", 2, func() error { return svc.VerifyEmail(ctx, v.Token) })
	if got, _ := svc.Store.AccountByID(ctx, a.UserID); !got.EmailVerified {
		t.Fatal("not verified")
	}
	later := time.Now().Add(account.DefaultMailInterval)
	svc.Now = func() time.Time { return later }
	withinBudget(t, api, "email change (PUT /user/email, after the session check)", 6, func() error {
		return svc.RequestEmailChange(ctx, a, "Verifier@New.example", "v-password")
	})
	v, _ = mailer.LastVerification()
	withinBudget(t, api, "verify email change", 3, func() error { return svc.VerifyEmail(ctx, v.Token) })
	got, _ := svc.Store.AccountByID(ctx, a.UserID)
	if !strings.EqualFold(got.Email, "verifier@new.example") || !got.EmailVerified {
		t.Fatalf("after the change: %+v", got)
	}
}
