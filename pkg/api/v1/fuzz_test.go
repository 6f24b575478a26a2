package accountv1

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/api/family"
	"github.com/gatehouse/gatehouse/pkg/apigw"
)

// FuzzAccountV1Handlers: whatever the route, body, content type and Authorization header,
// the family answers with a JSend body and never a 5xx (against the in-memory store,
// which does not fail, every 5xx would be a bug). The corpus is the seed document's
// examples (002), as forms and as JSON objects.
func FuzzAccountV1Handlers(f *testing.F) {
	const (
		formCT = "application/x-www-form-urlencoded"
		jsonCT = "application/json"
	)
	seeds := []struct {
		route     uint8
		ct, body  string
		authorize string
	}{
		// The seed's bodies, literally and filled in.
		{0, formCT, "name=<name>&email=<email>&password=<password>", ""},
		{0, formCT, "name=Jane+Doe&email=jane%40example.com&password=s3cret-pass", ""},
		{0, jsonCT, `{"name":"Jane Doe","email":"jane@example.com","password":"s3cret-pass"}`, ""},
		{1, formCT, "email=<email>&oldpassword=<old password>&newpassword=<new password>", ""},
		{1, formCT, "email=known%40example.com&oldpassword=known-password&newpassword=changed-password", ""},
		{1, jsonCT, `{"email":"known@example.com","oldpassword":"known-password","newpassword":"changed-password"}`, ""},
		{2, formCT, "email=<email>", ""},
		{2, formCT, "email=known%40example.com", "Bearer " + knownSecret},
		{2, jsonCT, `{"email":"known@example.com"}`, basic("admin", "admin-password")},
		// Edges.
		{0, "", "name=%zz", ""},
		{0, jsonCT, `{"name":null,"email":12,"password":{"a":[1]}}`, ""},
		{1, "text/plain", `{"email":"a@b.c"}`, ""},
		{2, formCT, "email=a%40b.c&email=b%40c.d", "Basic Og=="},
	}
	for _, s := range seeds {
		f.Add(s.route, s.ct, s.body, s.authorize)
	}
	fx := newFixture(f)
	if _, _, err := fx.svc.EnsureAdmin(ctx, "admin", "admin-password"); err != nil {
		f.Fatal(err)
	}
	// The known account's user_secret comes from zero bytes, so that it is knownSecret and
	// the corpus reaches a successful reset.
	fx.svc.Rand = bytes.NewReader(make([]byte, 32))
	created, err := fx.svc.Register(ctx, account.NewAccount{
		Username: "known@example.com", Email: "known@example.com", Password: "known-password", WithUserSecret: true,
	})
	if err != nil || created.UserSecret != knownSecret {
		f.Fatal(err)
	}
	fx.svc.Rand = rand.Reader
	routes := []family.Route{fx.h.Register, fx.h.ChangePassword, fx.h.ResetPassword}

	f.Fuzz(func(t *testing.T, route uint8, ct, body, authorization string) {
		req := &events.APIGatewayV2HTTPRequest{Headers: map[string]string{"content-type": ct, "authorization": authorization}, Body: body}
		resp, err := fx.h.Lambda(routes[int(route)%len(routes)])(ctx, *req)
		if err != nil {
			t.Fatalf("error return: %v", err)
		}
		if resp.StatusCode >= 500 || resp.StatusCode < 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
		}
		if resp.Headers["content-type"] != apigw.ContentType {
			t.Fatalf("content-type %q", resp.Headers["content-type"])
		}
		checkJSend(t, resp)
	})
}

// knownSecret is the user_secret of the fixture's known account (32 zero bytes).
const knownSecret = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

// checkJSend asserts a JSend body: success with an optional data object; fail with a data
// object of string reasons; error with a message. Nothing else.
func checkJSend(t *testing.T, resp events.APIGatewayV2HTTPResponse) {
	t.Helper()
	var body map[string]json.RawMessage
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
		t.Fatalf("body is not a JSON object: %q", resp.Body)
	}
	var status string
	if err := json.Unmarshal(body["status"], &status); err != nil {
		t.Fatalf("no status: %s", resp.Body)
	}
	switch status {
	case "success":
		if resp.StatusCode != 200 && resp.StatusCode != 201 {
			t.Fatalf("success with status %d", resp.StatusCode)
		}
		for k := range body {
			if k != "status" && k != "data" {
				t.Fatalf("member %q in %s", k, resp.Body)
			}
		}
		if d, ok := body["data"]; ok {
			var data map[string]any
			if err := json.Unmarshal(d, &data); err != nil || data == nil {
				t.Fatalf("data is not an object: %s", resp.Body)
			}
		}
	case "fail":
		if resp.StatusCode < 400 || resp.StatusCode > 499 || len(body) != 2 {
			t.Fatalf("fail: %d %s", resp.StatusCode, resp.Body)
		}
		var data map[string]string
		if err := json.Unmarshal(body["data"], &data); err != nil || len(data) == 0 {
			t.Fatalf("fail data is not an object of reasons: %s", resp.Body)
		}
	case "error":
		var msg string
		if len(body) != 2 || json.Unmarshal(body["message"], &msg) != nil || msg == "" {
			t.Fatalf("error: %s", resp.Body)
		}
	default:
		t.Fatalf("status %q", status)
	}
}
