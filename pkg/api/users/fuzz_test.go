package users

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/apigw"
)

// FuzzUsersHandlers: whatever the request — body, content type, base64 flag,
// credentials — every route of the family answers 2xx or 4xx (the fake store and mailer
// never fail, so a 5xx is a bug) with {"success":bool,"message":string,...}, and a 4xx
// writes no account. The corpus starts from the seed document's requests.
func FuzzUsersHandlers(f *testing.F) {
	fx := newFixture(f)
	if _, err := fx.svc.Register(ctx, account.NewAccount{Username: "seeduser", Email: "seed@example.com", Password: "seed-password", SelfService: true}); err != nil {
		f.Fatal(err)
	}
	_, reqID, err := fx.svc.RequestOTP(ctx, "seeduser")
	if err != nil {
		f.Fatal(err)
	}
	mail, _ := fx.mailer.LastOTP()
	h := fx.h
	routes := []apigw.HandlerFunc{h.Login, h.Register, h.RequestOTP, h.ModifyPassword, h.Info, h.Logout}
	uh := account.UserHash("seeduser")
	for _, s := range []struct {
		route     uint8
		ct, body  string
		authorize string
	}{
		{0, "application/json", `{"username":"seeduser","password":"seed-password"}`, ""},
		{0, "application/x-www-form-urlencoded", "username=seeduser&password=wrong", ""},
		{1, "application/json", `{"username":"newuser","password":"new-password","email":"new@example.com"}`, ""},
		{1, "application/x-www-form-urlencoded", "username=a+b&password=1", ""},
		{2, "application/json", `{"username":"seeduser"}`, ""},
		{3, "application/json", `{"userhash":"` + uh + `","OTP":"` + mail.Code + `","reqid":"` + reqID + `","password":"next-password"}`, ""},
		{3, "application/json", `{"userhash":"` + uh + `","OTP":123456,"reqid":"` + reqID + `","password":"p"}`, ""},
		{4, "", "", "Bearer x"},
		{5, "", "", "Bearer " + reqID},
		{0, "application/json", "{\"username\":\"\xff\",\"password\":\"\\u0000\"}", ""},
		{1, "application/json", `{"username":{"__proto__":1},"password":[1e999]}`, ""},
	} {
		f.Add(s.route, s.ct, s.body, false, s.authorize)
	}
	f.Fuzz(func(t *testing.T, route uint8, ct, body string, b64 bool, authorize string) {
		req := &events.APIGatewayV2HTTPRequest{
			Headers: map[string]string{"content-type": ct, "authorization": authorize}, Body: body, IsBase64Encoded: b64,
		}
		names, _, err := fx.svc.ListUsers(context.Background(), "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		resp := routes[int(route)%len(routes)](context.Background(), req)
		if resp.StatusCode >= 500 || resp.StatusCode < 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
		}
		var b map[string]any
		if err := json.Unmarshal([]byte(resp.Body), &b); err != nil {
			t.Fatalf("not JSON: %q", resp.Body)
		}
		if _, ok := b["success"].(bool); !ok {
			t.Fatalf("no success member: %s", resp.Body)
		}
		if _, ok := b["message"].(string); !ok {
			t.Fatalf("no message member: %s", resp.Body)
		}
		if resp.StatusCode >= 400 {
			after, _, _ := fx.svc.ListUsers(context.Background(), "", 1000)
			if len(after) != len(names) {
				t.Fatalf("a %d answer created an account: %s", resp.StatusCode, resp.Body)
			}
		}
	})
}
