package admin

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/pkg/apigw/apigwtest"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/accounttest"
	"github.com/gatehouse/gatehouse/pkg/apigw"
)

const (
	adminName = "root-admin"
	adminPW   = "root-admin-password"

	unauthorizedBody = `{"error":"unauthorized"}`
	forbiddenJSON    = `{"access_allowed":false,"error":"forbidden"}`
	notExists        = `{"user_exists":false}`
	alreadyExists    = `{"user_exists":true}`
)

var ctx = context.Background()

// testKey is the fixture's token-index key.
var testKey = []byte("admin-unit-test-token-index-key-0123456789")

// badBodyJSON is the 400 of a missing or unusable body.
func badBodyJSON(msg string) string {
	return fmt.Sprintf(`{"missing_parameters":true,"error":%q}`, msg)
}

type fixture struct {
	h     *Handler
	svc   *account.Service
	store *accounttest.Store
	admin *account.Account
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	store := accounttest.NewStore()
	svc := account.NewService(store, accounttest.NewHasher(), &accounttest.Mailer{}, account.Config{AllowRegistration: true, TokenIndexKey: testKey}, nil)
	a, created, err := svc.EnsureAdmin(ctx, adminName, adminPW)
	if err != nil || !created {
		t.Fatalf("admin: %v", err)
	}
	return &fixture{h: New(svc, slog.New(slog.DiscardHandler)), svc: svc, store: store, admin: a}
}

func basic(user, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+secret))
}

// req builds an event as API Gateway delivers it: the path variable decoded, header names
// in lower case.
func req(username, auth, body string) *events.APIGatewayV2HTTPRequest {
	r := &events.APIGatewayV2HTTPRequest{Headers: map[string]string{"content-type": "application/json"}, Body: body}
	if auth != "" {
		r.Headers["authorization"] = auth
	}
	if username != "" {
		r.PathParameters = map[string]string{"username": username}
	}
	return r
}

// as is a request of the fixture's admin.
func as(username, body string) *events.APIGatewayV2HTTPRequest {
	return req(username, basic(adminName, adminPW), body)
}

func list(auth, query string) *events.APIGatewayV2HTTPRequest {
	r := req("", auth, "")
	r.RawQueryString = query
	return r
}

// expect checks status, the exact body (as JSON), the Content-Type, and the challenge of
// a 401.
func expect(t *testing.T, what string, resp events.APIGatewayV2HTTPResponse, status int, body string) {
	t.Helper()
	apigwtest.Expect(t, what, resp, status, body)
	if got := resp.Headers["www-authenticate"]; (status == 401) != (got == `Basic realm="admin"`) {
		t.Fatalf("%s: status %d with WWW-Authenticate %q", what, status, got)
	}
}

func userJSON(a *account.Account) string {
	b, _ := json.Marshal(map[string]any{"user_id": a.UserID, "user_name": a.Username, "password": a.PasswordHash, "token": a.TokenHash, "email_verified": a.EmailVerified})
	return string(b)
}

func (f *fixture) account(t *testing.T, name string) *account.Account {
	t.Helper()
	a, err := f.svc.AccountByUsername(ctx, name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return a
}

// routes are the seven handlers, each with a request it can serve.
func (f *fixture) routes() []struct {
	name string
	fn   apigw.HandlerFunc
	body string
} {
	return []struct {
		name string
		fn   apigw.HandlerFunc
		body string
	}{
		{"list", f.h.Serve(f.h.ListUsers), ""},
		{"get", f.h.Serve(f.h.GetUser), ""},
		{"create", f.h.Serve(f.h.CreateUser), `{"password":"new-user-password"}`},
		{"update", f.h.Serve(f.h.UpdateUser), `{"password":"new-user-password"}`},
		{"refresh", f.h.Serve(f.h.RefreshToken), `{}`},
		{"delete", f.h.Serve(f.h.DeleteUser), ""},
		{"status", f.h.Serve(f.h.Status), ""},
	}
}

func TestCredentials(t *testing.T) {
	f := newFixture(t)
	if _, err := f.svc.Register(ctx, account.NewAccount{Username: "plain-user", Password: "plain-password"}); err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString
	bad := map[string]string{
		"no header":        "",
		"bearer":           "Bearer " + b64([]byte(adminName+":"+adminPW)),
		"digest":           `Digest username="root-admin"`,
		"scheme only":      "Basic",
		"scheme and space": "Basic ",
		"bad base64":       "Basic !!!not-base64!!!",
		"no colon":         "Basic " + b64([]byte(adminName+adminPW)),
		"empty user":       "Basic " + b64([]byte(":"+adminPW)),
		"empty secret":     "Basic " + b64([]byte(adminName+":")),
		"only a colon":     "Basic " + b64([]byte(":")),
		"invalid UTF-8":    "Basic " + b64([]byte(adminName+":\xff\xfe")),
		"invalid username": basic("a b", adminPW),
		"huge secret":      basic(adminName, strings.Repeat("x", 5000)),
	}
	for i, r := range f.routes() {
		for what, auth := range bad {
			expect(t, r.name+", "+what, r.fn(ctx, req("plain-user", auth, r.body)), 401, unauthorizedBody)
		}
		// A wrong password, each route on an admin of its own (failed checks count per
		// account).
		other := fmt.Sprintf("admin-%d", i)
		if _, _, err := f.svc.EnsureAdmin(ctx, other, adminPW); err != nil {
			t.Fatal(err)
		}
		expect(t, r.name+", wrong password", r.fn(ctx, req("plain-user", basic(other, "wrong-password"), r.body)), 401, unauthorizedBody)
		// Unknown usernames are counted like accounts, so each route gets its own.
		expect(t, r.name+", unknown user", r.fn(ctx, req("plain-user", basic("nobody-here-"+other, adminPW), r.body)), 401, unauthorizedBody)
		expect(t, r.name+", non-admin", r.fn(ctx, req("plain-user", basic("plain-user", "plain-password"), r.body)), 403, forbiddenJSON)
	}
	// Scheme name and user name in any case; the password, of course, exactly.
	expect(t, "lower-case scheme, upper-case name", f.h.Serve(f.h.GetUser)(ctx, req(adminName, "basic "+b64([]byte("ROOT-ADMIN:"+adminPW)), "")), 200, userJSON(f.admin))
	// Credentials come before anything else: a bad body or a huge one is not looked at.
	expect(t, "bad body, no credentials", f.h.Serve(f.h.CreateUser)(ctx, req("x", "", "{")), 401, unauthorizedBody)
	expect(t, "huge body, no credentials", f.h.Serve(f.h.CreateUser)(ctx, req("x", "", strings.Repeat("a", 70<<10))), 401, unauthorizedBody)
}

func TestTokenCredentials(t *testing.T) {
	f := newFixture(t)
	// An admin with a chosen token only.
	if _, err := f.svc.Register(ctx, account.NewAccount{Username: "robot", Token: "chosen-robot-token", Role: account.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	expect(t, "chosen token", f.h.Serve(f.h.ListUsers)(ctx, list(basic("robot", "chosen-robot-token"), "")), 200, `{"users":["robot","root-admin"]}`)
	expect(t, "password of a token-only account", f.h.Serve(f.h.ListUsers)(ctx, list(basic("robot", "robot-password-guess"), "")), 401, unauthorizedBody)

	// The fixture's admin refreshes its own token: then both the password and the token work.
	resp := f.h.Serve(f.h.RefreshToken)(ctx, as(adminName, `{}`))
	var tok struct{ Token string }
	if err := json.Unmarshal([]byte(resp.Body), &tok); err != nil || resp.StatusCode != 200 || len(tok.Token) != 43 {
		t.Fatalf("refresh: %d %s", resp.StatusCode, resp.Body)
	}
	expect(t, "refreshed token", f.h.Serve(f.h.GetUser)(ctx, req("robot", basic(adminName, tok.Token), "")), 200, userJSON(f.account(t, "robot")))
	expect(t, "password still", f.h.Serve(f.h.GetUser)(ctx, req("robot", basic(adminName, adminPW), "")), 200, userJSON(f.account(t, "robot")))

	// A second refresh: the old token is refused at once, even though it was remembered.
	second := f.h.Serve(f.h.RefreshToken)(ctx, as(adminName, ``))
	if second.StatusCode != 200 {
		t.Fatalf("second refresh: %s", second.Body)
	}
	expect(t, "old token after refresh", f.h.Serve(f.h.GetUser)(ctx, req("robot", basic(adminName, tok.Token), "")), 401, unauthorizedBody)

	// Changing the password through update: the old password is refused at once.
	resp = f.h.Serve(f.h.UpdateUser)(ctx, as(adminName, `{"password":"another-admin-password"}`))
	expect(t, "update own password", resp, 200, userJSON(f.account(t, adminName)))
	expect(t, "old password after update", f.h.Serve(f.h.GetUser)(ctx, req("robot", basic(adminName, adminPW), "")), 401, unauthorizedBody)
	expect(t, "new password", f.h.Serve(f.h.GetUser)(ctx, req("robot", basic(adminName, "another-admin-password"), "")), 200, userJSON(f.account(t, "robot")))

	// Demoted: the right secret now answers 403.
	role := account.RoleUser
	if err := f.store.ChangeCredentials(ctx, account.CredentialChange{UserID: f.account(t, "robot").UserID, Role: &role, KeepSessions: true}); err != nil {
		t.Fatal(err)
	}
	expect(t, "demoted robot", f.h.Serve(f.h.ListUsers)(ctx, list(basic("robot", "chosen-robot-token"), "")), 403, forbiddenJSON)
}

func TestCreate(t *testing.T) {
	f := newFixture(t)
	resp := f.h.Serve(f.h.CreateUser)(ctx, as("Carol", `{"password":"carol-password","token":"carol-chosen-token"}`))
	carol := f.account(t, "carol")
	expect(t, "created", resp, 200, userJSON(carol))
	if carol.Username != "Carol" || !strings.HasPrefix(carol.PasswordHash, "$argon2id$") || !strings.HasPrefix(carol.TokenHash, "$argon2id$") ||
		strings.Contains(resp.Body, "carol-password") || strings.Contains(resp.Body, "carol-chosen-token") || carol.Role != account.RoleUser {
		t.Fatalf("created: %+v %s", carol, resp.Body)
	}
	if _, err := f.svc.AuthenticateUsername(ctx, "carol", "carol-password"); err != nil {
		t.Fatal(err)
	}

	resp = f.h.Serve(f.h.CreateUser)(ctx, as("dave", `{"token":"dave-chosen-token"}`))
	dave := f.account(t, "dave")
	expect(t, "token only", resp, 200, userJSON(dave))
	if dave.PasswordHash != "" || !strings.Contains(resp.Body, `"password":""`) {
		t.Fatalf("token only: %s", resp.Body)
	}
	expect(t, "password only", f.h.Serve(f.h.CreateUser)(ctx, as("erin", `{"password":"erin-password","token":null}`)), 200, userJSON(f.account(t, "erin")))
	expect(t, "form body", f.h.Serve(f.h.CreateUser)(ctx, &events.APIGatewayV2HTTPRequest{
		Headers:        map[string]string{"authorization": basic(adminName, adminPW), "content-type": "application/x-www-form-urlencoded"},
		PathParameters: map[string]string{"username": "frank"},
		Body:           "password=frank-password",
	}), 200, userJSON(f.account(t, "frank")))

	for _, name := range []string{"carol", "CAROL", "Carol", adminName} {
		expect(t, "exists: "+name, f.h.Serve(f.h.CreateUser)(ctx, as(name, `{"password":"whatever-password"}`)), 403, alreadyExists)
	}

	for _, tc := range []struct{ name, body, msg string }{
		{"ab", `{"password":"12345678"}`, "username must be 3 to 100 characters"},
		{strings.Repeat("x", 101), `{"password":"12345678"}`, "username must be 3 to 100 characters"},
		{"white space", `{"password":"12345678"}`, "username contains white space"},
		{"", `{"password":"12345678"}`, "username is empty"},
		{"bad\u0007name", `{"password":"12345678"}`, "username is invalid"},
		{"ab", `{"password":""}`, "username must be 3 to 100 characters"},
		{"valid-name", `{"password":"1234567"}`, "password must be 8 to 200 characters"},
		{"valid-name", `{"password":"` + strings.Repeat("p", 201) + `"}`, "password must be 8 to 200 characters"},
		{"valid-name", `{"password":"12345678\u0000"}`, "password is invalid"},
		{"valid-name", `{"password":""}`, "password is empty"},
		{"valid-name", `{"password":"","token":"valid-token-1"}`, "password is empty"},
		{"valid-name", `{"password":"12345678","token":""}`, "token is empty"},
		{"valid-name", `{"token":"short"}`, "token must be 8 to 200 characters"},
		{"valid-name", `{"password":"1234567","token":"short"}`, "password must be 8 to 200 characters"},
		{"valid-name", `{"password":12345678}`, "password must be a string"},
		{"valid-name", `{"token":["x"]}`, "token must be a string"},
		{"valid-name", `{}`, "password or token required"},
		{"valid-name", ``, "password or token required"},
		{"valid-name", `{"password":null,"token":null}`, "password or token required"},
		{"valid-name", `{"passwd":"12345678"}`, "password or token required"},
		{"valid-name", `{"password":`, "invalid request body"},
		{"valid-name", `[{"password":"12345678"}]`, "invalid request body"},
		{"valid-name", `{"password":"12345678","password":"12345678"}`, "invalid request body"},
		{"valid-name", `{"password":"12345678"} x`, "invalid request body"},
		{"valid-name", `"12345678"`, "invalid request body"},
	} {
		want := badBodyJSON(tc.msg)
		if strings.HasPrefix(tc.msg, "username ") {
			want = fmt.Sprintf(`{"error":%q}`, tc.msg) // the path, not the body
		}
		expect(t, tc.name+" "+tc.body, f.h.Serve(f.h.CreateUser)(ctx, as(tc.name, tc.body)), 400, want)
	}
	expect(t, "huge body", f.h.Serve(f.h.CreateUser)(ctx, as("valid-name", `{"password":"`+strings.Repeat("a", 70<<10)+`"}`)), 413, `{"error":"request body too large"}`)
	r := as("valid-name", `{"password":"12345678"}`)
	r.Headers["content-type"] = "multipart/form-data; boundary=x"
	expect(t, "multipart", f.h.Serve(f.h.CreateUser)(ctx, r), 400, badBodyJSON("invalid request body"))
	if _, err := f.svc.AccountByUsername(ctx, "valid-name"); err == nil {
		t.Fatal("a refused request created the account")
	}
}

func TestUpdate(t *testing.T) {
	f := newFixture(t)
	if _, err := f.svc.Register(ctx, account.NewAccount{Username: "Gina", Password: "gina-password", Email: "gina@example.com"}); err != nil {
		t.Fatal(err)
	}
	gina := f.account(t, "gina")
	session, err := f.svc.StartSession(ctx, gina)
	if err != nil {
		t.Fatal(err)
	}

	resp := f.h.Serve(f.h.UpdateUser)(ctx, as("GINA", `{"token":"gina-chosen-token"}`))
	after := f.account(t, "gina")
	expect(t, "token set", resp, 200, userJSON(after))
	if after.PasswordHash != gina.PasswordHash || !strings.HasPrefix(after.TokenHash, "$argon2id$") || after.Username != "Gina" {
		t.Fatalf("token set: %+v", after)
	}
	if _, _, err := f.svc.Authorize(ctx, session); !errors.Is(err, account.ErrNotAuthenticated) {
		t.Fatalf("session after a token change: %v", err)
	}
	session, _ = f.svc.StartSession(ctx, after)
	resp = f.h.Serve(f.h.UpdateUser)(ctx, as("gina", `{"password":"gina-new-password","token":"gina-newer-token"}`))
	expect(t, "both set", resp, 200, userJSON(f.account(t, "gina")))
	if _, err := f.svc.AuthenticateUsername(ctx, "gina", "gina-new-password"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Authorize(ctx, session); err == nil {
		t.Fatal("session survived a password change")
	}

	expect(t, "unknown", f.h.Serve(f.h.UpdateUser)(ctx, as("nobody-here", `{"password":"12345678"}`)), 403, notExists)
	expect(t, "invalid name", f.h.Serve(f.h.UpdateUser)(ctx, as("a b", `{"password":"12345678"}`)), 403, notExists)
	expect(t, "no name", f.h.Serve(f.h.UpdateUser)(ctx, as("", `{"password":"12345678"}`)), 403, notExists)
	for _, tc := range []struct{ name, body, msg string }{
		{"gina", `{}`, "password or token required"},
		{"gina", `{"password":"short"}`, "password must be 8 to 200 characters"},
		{"gina", `{"password":""}`, "password is empty"},
		{"gina", `{"token":"short"}`, "token must be 8 to 200 characters"},
		{"gina", `{"token":true}`, "token must be a string"},
		{"gina", `{"password":`, "invalid request body"},
		// The body is checked before the account is looked up.
		{"nobody-here", `{"password":"short"}`, "password must be 8 to 200 characters"},
	} {
		expect(t, tc.name+" "+tc.body, f.h.Serve(f.h.UpdateUser)(ctx, as(tc.name, tc.body)), 400, badBodyJSON(tc.msg))
	}
}

func TestRefresh(t *testing.T) {
	f := newFixture(t)
	if _, err := f.svc.Register(ctx, account.NewAccount{Username: "hank", Password: "hank-password"}); err != nil {
		t.Fatal(err)
	}
	session, _ := f.svc.StartSession(ctx, f.account(t, "hank"))
	seen := map[string]bool{}
	for _, body := range []string{`{}`, ``, `not json at all`, `{"token":"ignored-token"}`} {
		resp := f.h.Serve(f.h.RefreshToken)(ctx, as("HANK", body))
		var m map[string]string
		if err := json.Unmarshal([]byte(resp.Body), &m); err != nil || resp.StatusCode != 200 || len(m) != 1 {
			t.Fatalf("refresh with %q: %d %s", body, resp.StatusCode, resp.Body)
		}
		tok := m["token"]
		if _, err := base64.RawURLEncoding.DecodeString(tok); err != nil || len(tok) != 43 || seen[tok] {
			t.Fatalf("token %q", tok)
		}
		seen[tok] = true
		hank := f.account(t, "hank")
		if hank.TokenHash != "$sha256$"+account.HashSecret(tok) {
			t.Fatalf("stored %q", hank.TokenHash)
		}
		expect(t, "get after refresh", f.h.Serve(f.h.GetUser)(ctx, as("hank", "")), 200, userJSON(hank))
	}
	if _, _, err := f.svc.Authorize(ctx, session); err == nil {
		t.Fatal("session survived a refresh")
	}
	expect(t, "unknown", f.h.Serve(f.h.RefreshToken)(ctx, as("nobody-here", `{}`)), 403, notExists)
	expect(t, "invalid name", f.h.Serve(f.h.RefreshToken)(ctx, as("x", `{}`)), 403, notExists)
}

func TestGet(t *testing.T) {
	f := newFixture(t)
	expect(t, "self", f.h.Serve(f.h.GetUser)(ctx, as("Root-Admin", "")), 200, userJSON(f.admin))
	if !strings.Contains(f.h.Serve(f.h.GetUser)(ctx, as(adminName, "")).Body, `"token":""`) {
		t.Fatal("no token shows as empty")
	}
	expect(t, "unknown", f.h.Serve(f.h.GetUser)(ctx, as("nobody-here", "")), 403, notExists)
	expect(t, "invalid name", f.h.Serve(f.h.GetUser)(ctx, as("no body", "")), 403, notExists)
	if strings.Contains(f.h.Serve(f.h.GetUser)(ctx, as(adminName, "")).Body, adminPW) {
		t.Fatal("a secret in the answer")
	}
}

func TestDelete(t *testing.T) {
	f := newFixture(t)
	if _, err := f.svc.Register(ctx, account.NewAccount{Username: "ivy", Password: "ivy-password", Email: "ivy@example.com"}); err != nil {
		t.Fatal(err)
	}
	ivy := f.account(t, "ivy")
	session, _ := f.svc.StartSession(ctx, ivy)
	if err := f.svc.RequestPasswordReset(ctx, "ivy@example.com"); err != nil {
		t.Fatal(err)
	}
	mail, _ := f.svc.Mailer.(*accounttest.Mailer).LastReset()

	expect(t, "self", f.h.Serve(f.h.DeleteUser)(ctx, as("ROOT-ADMIN", "")), 400, `{"error":"cannot delete your own account"}`)
	expect(t, "deleted", f.h.Serve(f.h.DeleteUser)(ctx, as("IVY", "")), 200, `{}`)
	expect(t, "again", f.h.Serve(f.h.DeleteUser)(ctx, as("ivy", "")), 403, notExists)
	expect(t, "get", f.h.Serve(f.h.GetUser)(ctx, as("ivy", "")), 403, notExists)
	expect(t, "invalid name", f.h.Serve(f.h.DeleteUser)(ctx, as("i", "")), 403, notExists)
	if _, _, err := f.svc.Authorize(ctx, session); err == nil {
		t.Fatal("session survived the delete")
	}
	if n := f.store.SessionCount(ivy.UserID); n != 0 {
		t.Fatalf("%d sessions left", n)
	}
	if err := f.svc.ResetPasswordWithToken(ctx, mail.Token, "new-password"); !errors.Is(err, account.ErrTokenNotFound) {
		t.Fatalf("reset token after delete: %v", err)
	}
	if _, err := f.svc.Register(ctx, account.NewAccount{Username: "Ivy", Password: "ivy-password", Email: "IVY@example.com"}); err != nil {
		t.Fatalf("name and email again: %v", err)
	}
	// Another admin can be deleted; the acting one still cannot delete itself.
	if _, _, err := f.svc.EnsureAdmin(ctx, "second-admin", "second-password"); err != nil {
		t.Fatal(err)
	}
	expect(t, "other admin", f.h.Serve(f.h.DeleteUser)(ctx, as("second-admin", "")), 200, `{}`)
	expect(t, "deleted admin's credentials", f.h.Serve(f.h.ListUsers)(ctx, list(basic("second-admin", "second-password"), "")), 401, unauthorizedBody)
}

func TestList(t *testing.T) {
	f := newFixture(t)
	var want []string
	for i := range 25 {
		name := fmt.Sprintf("User%02d", 24-i)
		if i%2 == 0 {
			name = strings.ToLower(name)
		}
		if _, err := f.svc.Register(ctx, account.NewAccount{Username: name, Password: "a-password"}); err != nil {
			t.Fatal(err)
		}
		want = append(want, name)
	}
	want = append(want, adminName)
	slices.SortFunc(want, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })

	all := f.h.Serve(f.h.ListUsers)(ctx, list(basic(adminName, adminPW), ""))
	b, _ := json.Marshal(map[string]any{"users": want})
	expect(t, "default limit", all, 200, string(b))

	var got []string
	cursor, pages := "", 0
	for {
		q := "limit=10"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		resp := f.h.Serve(f.h.ListUsers)(ctx, list(basic(adminName, adminPW), q))
		var page struct {
			Users      []string `json:"users"`
			NextCursor *string  `json:"next_cursor"`
		}
		if err := json.Unmarshal([]byte(resp.Body), &page); err != nil || resp.StatusCode != 200 {
			t.Fatalf("page: %d %s", resp.StatusCode, resp.Body)
		}
		pages++
		got = append(got, page.Users...)
		if page.NextCursor == nil {
			break
		}
		if len(page.Users) != 10 || *page.NextCursor == "" {
			t.Fatalf("page %d: %s", pages, resp.Body)
		}
		cursor = *page.NextCursor
	}
	if pages != 3 || !slices.Equal(got, want) {
		t.Fatalf("%d pages: %v", pages, got)
	}
	expect(t, "exactly the rest", f.h.Serve(f.h.ListUsers)(ctx, list(basic(adminName, adminPW), "limit=26")), 200, string(b))
	expect(t, "limit with leading zero", f.h.Serve(f.h.ListUsers)(ctx, list(basic(adminName, adminPW), "limit=0001")), 200,
		fmt.Sprintf(`{"users":[%q],"next_cursor":%q}`, want[0], base64.RawURLEncoding.EncodeToString([]byte(strings.ToLower(want[0])))))
	expect(t, "empty values are left out", f.h.Serve(f.h.ListUsers)(ctx, list(basic(adminName, adminPW), "limit=&cursor=&other=x")), 200, string(b))
	for _, q := range []string{"limit=0", "limit=1001", "limit=-1", "limit=+5", "limit=five", "limit=1e3", "limit=%201", "limit=99999999999999999999", "limit=1&limit=2"} {
		expect(t, q, f.h.Serve(f.h.ListUsers)(ctx, list(basic(adminName, adminPW), q)), 400, `{"error":"invalid limit"}`)
	}
	for _, q := range []string{"cursor=***", "cursor=a%2Bb", "cursor=YQ&cursor=YQ", "cursor=YQ=="} {
		expect(t, q, f.h.Serve(f.h.ListUsers)(ctx, list(basic(adminName, adminPW), q)), 400, `{"error":"invalid cursor"}`)
	}
	expect(t, "bad escape", f.h.Serve(f.h.ListUsers)(ctx, list(basic(adminName, adminPW), "limit=%zz")), 400, `{"error":"invalid query string"}`)
	expect(t, "past the end", f.h.Serve(f.h.ListUsers)(ctx, list(basic(adminName, adminPW), "cursor="+base64.RawURLEncoding.EncodeToString([]byte("zzz")))), 200, `{"users":[]}`)
}

// Failures of the store are the family's generic 500, with no detail.
func TestServerError(t *testing.T) {
	resp := serverError()
	if resp.StatusCode != http.StatusInternalServerError || resp.Body != `{"error":"internal error"}` {
		t.Fatalf("%d %s", resp.StatusCode, resp.Body)
	}
	f := newFixture(t)
	expect(t, "internal", f.h.Answer(ctx, account.Internal("boom: %s", "secret detail")), 500, `{"error":"internal error"}`)
	expect(t, "too many", f.h.Answer(ctx, &account.Error{Code: account.CodeTooManyAttempts, RetryAfter: 1500e6}), 429, `{"error":"too many attempts"}`)
	if r := f.h.Answer(ctx, &account.Error{Code: account.CodeTooManyAttempts, RetryAfter: 1500e6}); r.Headers["retry-after"] != "2" {
		t.Fatalf("retry-after %q", r.Headers["retry-after"])
	}
	// A panic inside a route becomes the generic 500 through the wrapper.
	h := f.h.Lambda(func(context.Context, *events.APIGatewayV2HTTPRequest) (apigw.Response, error) { panic("boom") })
	r, err := h(ctx, events.APIGatewayV2HTTPRequest{})
	if err != nil || r.StatusCode != 500 || r.Body != `{"error":"internal error"}` {
		t.Fatalf("panic: %v %d %s", err, r.StatusCode, r.Body)
	}
}
