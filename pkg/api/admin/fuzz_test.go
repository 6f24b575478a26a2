package admin

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/api/family"
	"github.com/gatehouse/gatehouse/pkg/apigw"
)

// FuzzAdminParams: whatever the path username, Authorization header, query string and
// body, every route answers a JSON body with the family's Content-Type, never a 5xx and
// never the admin's secret; a 401 carries the Basic challenge. Each input runs on a fresh
// store (an admin and a plain user), so failures reproduce.
//
// auth selects the credentials: 0 the header as fuzzed, 1 "Basic " + base64 of the fuzzed
// text, 2 the admin's password, 3 a non-admin's password, 4 the admin's name with the
// fuzzed text as the secret, 5 "Bearer " + the fuzzed text, 6 the admin's API token as
// Bearer.
func FuzzAdminParams(f *testing.F) {
	adminToken := "root-admin-api-token"
	seeds := []struct {
		route      uint8
		username   string
		auth       uint8
		header     string
		ct, body   string
		query      string
		b64encoded bool
	}{
		// The seed document's requests.
		{4, "test123", 2, "", "application/json", "{\n    \"password\": \"<your_new_pass>\",\n    \"token\": \"<your_new_token>\"\n}", "", false},
		{2, "test123", 2, "", "application/json", `{"password":"<your_new_pass>","token":"<your_new_token>"}`, "", false},
		{5, "test123", 2, "", "application/json", `{}`, "", false},
		{3, "test123", 2, "", "application/json", "", "", false},
		{0, "", 2, "", "application/json", "", "", false},
		{1, "test123", 2, "", "application/json", "", "", false},
		// Paging and odd queries.
		{0, "", 2, "", "", "", "limit=1&cursor=cm9vdC1hZG1pbg", false},
		{0, "", 2, "", "", "", "limit=%zz;x", false},
		// Odd credentials and bodies.
		{1, "plain-user", 0, "Basic cm9vdC1hZG1pbjpyb290LWFkbWluLXBhc3N3b3Jk", "", "", "", false},
		{1, "plain-user", 0, "Basic !!!", "", "", "", false},
		{1, "plain-user", 1, "root-admin", "", "", "", false},
		{1, "plain-user", 1, ":", "", "", "", false},
		{1, "plain-user", 3, "", "", "", "", false},
		{1, "plain-user", 4, "root-admin-password", "", "", "", false},
		{2, "bad\xffname", 2, "", "application/json", `{"password":"\u0000\ud800xxxxxxxx"}`, "", false},
		{4, "plain-user", 2, "", "application/x-www-form-urlencoded", "password=a%ZZ", "", false},
		{4, "plain-user", 2, "", "", "eyJ0b2tlbiI6Inh4eHh4eHh4In0=", "", true},
		{3, "root-admin", 2, "", "", "", "", false},
		// Bearer tokens, and the status route.
		{6, "", 6, "", "application/json", "", "", false},
		{4, "plain-user", 6, "", "application/json", `{"token":"root-admin-api-token"}`, "", false},
		{2, "other-user", 6, "", "application/json", `{"token":"root-admin-api-token"}`, "", false},
		{1, "plain-user", 5, "root-admin-api-token", "", "", "", false},
		{1, "plain-user", 5, "", "", "", "", false},
		{1, "plain-user", 0, "Bearer \x00", "", "", "", false},
	}
	for _, s := range seeds {
		f.Add(s.route, s.username, s.auth, s.header, s.ct, s.body, s.query, s.b64encoded)
	}
	f.Fuzz(func(t *testing.T, route uint8, username string, auth uint8, header, ct, body, query string, b64 bool) {
		fx := newFixture(t)
		if _, err := fx.svc.Register(ctx, account.NewAccount{Username: "plain-user", Password: "plain-password"}); err != nil {
			t.Fatal(err)
		}
		if _, err := fx.svc.UpdateCredentials(ctx, adminName, nil, &adminToken); err != nil {
			t.Fatal(err)
		}
		routes := []family.Route{fx.h.ListUsers, fx.h.GetUser, fx.h.CreateUser, fx.h.DeleteUser, fx.h.UpdateUser, fx.h.RefreshToken, fx.h.Status}
		req := events.APIGatewayV2HTTPRequest{
			Headers:         map[string]string{},
			PathParameters:  map[string]string{"username": username},
			RawQueryString:  query,
			Body:            body,
			IsBase64Encoded: b64,
		}
		if ct != "" {
			req.Headers["content-type"] = ct
		}
		switch auth % 7 {
		case 0:
			if header != "" {
				req.Headers["authorization"] = header
			}
		case 1:
			req.Headers["authorization"] = "Basic " + base64.StdEncoding.EncodeToString([]byte(header))
		case 2:
			req.Headers["authorization"] = basic(adminName, adminPW)
		case 3:
			req.Headers["authorization"] = basic("plain-user", "plain-password")
		case 4:
			req.Headers["authorization"] = basic(adminName, header)
		case 5:
			req.Headers["authorization"] = "Bearer " + header
		case 6:
			req.Headers["authorization"] = "Bearer " + adminToken
		}
		resp, err := fx.h.Lambda(routes[int(route)%len(routes)])(context.Background(), req)
		if err != nil {
			t.Fatalf("handler error %v", err)
		}
		if resp.StatusCode >= 500 || resp.StatusCode < 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
		}
		var v map[string]any
		if json.Unmarshal([]byte(resp.Body), &v) != nil {
			t.Fatalf("body not a JSON object: %q", resp.Body)
		}
		if resp.Headers["content-type"] != apigw.ContentType {
			t.Fatalf("content-type %q", resp.Headers["content-type"])
		}
		if (resp.StatusCode == 401) != (resp.Headers["www-authenticate"] == challenge) {
			t.Fatalf("status %d with WWW-Authenticate %q", resp.StatusCode, resp.Headers["www-authenticate"])
		}
		// A created account's name may be anything, even a secret's text; the rest may not.
		delete(v, "user_name")
		rest, _ := json.Marshal(v)
		if strings.Contains(string(rest), adminPW) || strings.Contains(string(rest), "plain-password") || strings.Contains(string(rest), adminToken) {
			t.Fatalf("a secret in the answer: %s", resp.Body)
		}
	})
}
