package user

import (
	"context"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/api/family"
	"github.com/gatehouse/gatehouse/pkg/apigw"
)

// FuzzUserHandlers: whatever the request — body, content type, query string, credentials,
// path parameter — every route of the family answers a 2xx or 4xx (the fake store and
// mailer never fail, so a 5xx can only be a bug) with exactly three string members, and
// never panics. The corpus starts from the seed document's examples.
func FuzzUserHandlers(f *testing.F) {
	fx := newFixture(f)
	if _, err := fx.svc.Register(ctx, account.NewAccount{Username: "seeduser", Email: "seed@example.com", Password: "seed-password", SelfService: true}); err != nil {
		f.Fatal(err)
	}
	_, token, err := fx.svc.Login(ctx, "seeduser", "seed-password")
	if err != nil {
		f.Fatal(err)
	}
	if err := fx.svc.RequestPasswordReset(ctx, "seed@example.com"); err != nil {
		f.Fatal(err)
	}
	m, _ := fx.mailer.LastReset()

	h := fx.h
	routes := []family.Route{
		h.Create, h.Auth, h.Logged,
		func(ctx context.Context, r *events.APIGatewayV2HTTPRequest) (apigw.Response, error) {
			r.PathParameters = map[string]string{"username": r.Body}
			return h.Profile(ctx, r)
		},
		h.PasswordResetToken, h.PasswordReset, h.Logout,
		h.UpdateProfile, h.DeleteAccount,
	}
	const (
		create = iota
		auth
		logged
		profile
		resetToken
		reset
		logout
		updateProfile
		deleteAccount
	)

	for _, s := range []struct {
		route                          uint8
		ct, body, query, authz, cookie string
	}{
		// The seed document's requests.
		{create, "application/json", `{"username":"alice","email":"alice@example.com","password":"alice-password","name":"Alice","bio":"hi","pronounce":"a-lis","website":"https://a.example"}`, "", "", ""},
		{create, "application/json", `{"username":"","email":"","password":"","name":"","bio":"","website":"","pronounce":""}`, "", "", ""},
		{create, "application/json", `{"username":null,"email":null,"password":null}`, "", "", ""},
		{create, "application/x-www-form-urlencoded", "username=bob&email=bob%40example.com&password=bob-password", "", "", ""},
		{auth, "application/json", `{"username":"seeduser","password":"seed-password"}`, "", "", ""},
		{auth, "application/json", `{"username":"a b","password":"1234567"}`, "", "", ""},
		{logged, "", "", "", "Bearer " + token, ""},
		{logged, "", "", "", "", "TOKEN=" + token},
		{logged, "", "", "", "", "ssid=nope"},
		{profile, "", "seeduser", "", "", ""},
		{profile, "", "nobody", "", "", ""},
		{resetToken, "", "", "email=seed%40example.com", "", ""},
		{resetToken, "application/json", `{"email":"seed@example.com"}`, "", "", ""},
		{resetToken, "application/x-www-form-urlencoded", "email=nobody%40example.com", "", "", ""},
		{reset, "application/json", `{"uuid":"` + m.Token + `","newPassword":"new-password"}`, "", "", ""},
		{reset, "application/json", `{"uuid":"1b4e28ba-2fa1-11d2-883f-0016d3cca427","newPassword":"new-password"}`, "", "", ""},
		{reset, "application/json", `{"uuid":"","newPassword":null}`, "", "", ""},
		{logout, "", "", "", "", "TOKEN=" + token},
		{updateProfile, "application/json", `{"name":"Seed User","bio":"","website":null,"username":"SEEDUSER"}`, "", "Bearer " + token, ""},
		{updateProfile, "application/x-www-form-urlencoded", "pronounce=seed&username=other", "", "", "TOKEN=" + token},
		{deleteAccount, "application/json", `{"password":"wrong-password"}`, "", "Bearer " + token, ""},
		// Bodies that are not what a route reads.
		{create, "application/json", `{"username":5,"email":true,"password":{"a":[1]}}`, "", "", ""},
		{auth, "", `{"a":{"b":[1,2,{"c":null}]},"d":1e999}`, "", "", ""},
		{reset, "text/plain", "uuid=%zz", "", "", ""},
		{create, "application/json", "{\"username\":\"\\ud800\"}", "", "", ""},
		{resetToken, "application/json", `[]`, "email=%", "Basic YTpi", "TOKEN"},
	} {
		f.Add(s.route, s.ct, s.body, s.query, s.authz, s.cookie, false)
	}

	f.Fuzz(func(t *testing.T, route uint8, ct, body, query, authz, cookie string, b64 bool) {
		req := &events.APIGatewayV2HTTPRequest{
			Headers:         map[string]string{"content-type": ct, "authorization": authz},
			Body:            body,
			IsBase64Encoded: b64,
			RawQueryString:  query,
		}
		if cookie != "" {
			req.Cookies = []string{cookie}
		}
		resp := h.Serve(routes[int(route)%len(routes)])(ctx, req)
		if resp.StatusCode < 200 || resp.StatusCode >= 500 {
			t.Fatalf("route %d: status %d: %s", int(route)%len(routes), resp.StatusCode, resp.Body)
		}
		checkShape(t, "fuzz", resp)
	})
}
