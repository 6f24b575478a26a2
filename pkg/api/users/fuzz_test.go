package users

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/api/family"
)

// FuzzUsersHandlers: whatever the request — body or query string, content type, base64
// flag, credentials — every route of the family answers 2xx or 4xx (the fake store and
// mailer never fail, so a 5xx is a bug) in MMDL's envelope
// {"success":bool,"data":{"message":CODE or object}} ("success" a "true"/"false" string on
// login; INVALID_INPUT with a details string), and a 4xx writes no account. The corpus
// starts from the seed document's and MMDL's requests.
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
	routes := []family.Route{h.Login, h.Register, h.RequestOTP, h.ModifyPassword, h.Info, h.Logout}
	uh := account.UserHash("seeduser")
	basic := func(raw string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(raw)) }
	for _, s := range []struct {
		route     uint8
		ct, body  string
		authorize string
		get       bool
	}{
		{0, "application/json", `{"username":"seeduser","password":"seed-password"}`, "", false},
		{0, "application/x-www-form-urlencoded", "username=seeduser&password=wrong", "", false},
		{1, "application/json", `{"username":"newuser","password":"new-password","email":"new@example.com"}`, "", false},
		{1, "application/x-www-form-urlencoded", "username=a+b&password=1", "", false},
		{2, "application/json", `{"username":"seeduser"}`, "", false},
		{3, "application/json", `{"userhash":"` + uh + `","OTP":"` + mail.Code + `","reqid":"` + reqID + `","password":"next-password"}`, "", false},
		{3, "application/json", `{"userhash":"` + uh + `","OTP":123456,"reqid":"` + reqID + `","password":"p"}`, "", false},
		{4, "", "", "Bearer x", false},
		{5, "", "", "Bearer " + reqID, false},
		{0, "application/json", "{\"username\":\"\xff\",\"password\":\"\\u0000\"}", "", false},
		{1, "application/json", `{"username":{"__proto__":1},"password":[1e999]}`, "", false},
		{0, "application/json", `{"username":"seeduser"}`, "", false},
		{2, "", "username=seeduser", "", true},
		{3, "application/json", `{"otp":"` + mail.Code + `","reqid":"` + reqID + `","userhash":"` + uh + `","password":"next-password"}`, "", false},
		{4, "", "", basic(uh + ":" + reqID), true},
		{4, "", "", basic(uh), true},
		{5, "", "", basic(":"), false},
	} {
		f.Add(s.route, s.ct, s.body, false, s.authorize, s.get)
	}
	f.Fuzz(func(t *testing.T, route uint8, ct, body string, b64 bool, authorize string, get bool) {
		req := &events.APIGatewayV2HTTPRequest{
			Headers: map[string]string{"content-type": ct, "authorization": authorize}, Body: body, IsBase64Encoded: b64,
		}
		if get {
			req.RequestContext.HTTP.Method = "GET"
			req.RawQueryString, req.Body = body, ""
		}
		names, _, err := fx.svc.ListUsers(context.Background(), "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		resp := h.Serve(routes[int(route)%len(routes)])(context.Background(), req)
		if resp.StatusCode >= 500 || resp.StatusCode < 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
		}
		var b struct {
			Success any
			Data    map[string]any
		}
		if err := json.Unmarshal([]byte(resp.Body), &b); err != nil {
			t.Fatalf("not JSON: %q", resp.Body)
		}
		if s, ok := b.Success.(string); int(route)%len(routes) == 0 && (!ok || (s != "true") != (resp.StatusCode >= 400) || s != "true" && s != "false") {
			t.Fatalf("login success is not its string: %s", resp.Body)
		}
		// A refusal is never a success; a 200 may be one that is not (a taken username, no
		// email on the account: the seed's 200 rows with success false).
		if ok, isBool := b.Success.(bool); int(route)%len(routes) != 0 && (!isBool || ok && resp.StatusCode >= 300) {
			t.Fatalf("success is not a boolean matching the status: %d %s", resp.StatusCode, resp.Body)
		}
		switch m := b.Data["message"].(type) {
		case map[string]any:
			if resp.StatusCode != 200 {
				t.Fatalf("an object in a refusal: %s", resp.Body)
			}
		case string:
			if _, ok := b.Data["details"].(string); (m == "INVALID_INPUT") != ok || (m == "INVALID_INPUT") != (resp.StatusCode == 422) {
				t.Fatalf("INVALID_INPUT without details or 422: %d %s", resp.StatusCode, resp.Body)
			}
		default:
			t.Fatalf("no data.message: %s", resp.Body)
		}
		if resp.StatusCode >= 400 {
			after, _, _ := fx.svc.ListUsers(context.Background(), "", 1000)
			if len(after) != len(names) {
				t.Fatalf("a %d answer created an account: %s", resp.StatusCode, resp.Body)
			}
		}
	})
}
