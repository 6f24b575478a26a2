package accountv1

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/apigw/apigwtest"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/accounttest"
)

type fixture struct {
	h   *Handler
	svc *account.Service
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	svc := account.NewService(accounttest.NewStore(), accounttest.NewHasher(), nil, account.Config{AllowRegistration: true}, nil)
	return &fixture{h: New(svc, slog.New(slog.DiscardHandler)), svc: svc}
}

func request(contentType, body string, headers ...string) *events.APIGatewayV2HTTPRequest {
	r := &events.APIGatewayV2HTTPRequest{Headers: map[string]string{}, Body: body}
	if contentType != "" {
		r.Headers["content-type"] = contentType
	}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Headers[strings.ToLower(headers[i])] = headers[i+1]
	}
	return r
}

func form(body string, headers ...string) *events.APIGatewayV2HTTPRequest {
	return request("application/x-www-form-urlencoded", body, headers...)
}

func jsonReq(body string, headers ...string) *events.APIGatewayV2HTTPRequest {
	return request("application/json", body, headers...)
}

func basic(user, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+secret))
}

func expect(t *testing.T, what string, resp events.APIGatewayV2HTTPResponse, status int, body string) {
	t.Helper()
	apigwtest.Expect(t, what, resp, status, body)
}

type regAnswer struct {
	Status string `json:"status"`
	Data   struct {
		UserID     int64  `json:"user_id"`
		UserSecret string `json:"user_secret"`
	} `json:"data"`
}

// register creates an account through the route and returns its user_id and user_secret.
func (f *fixture) register(t *testing.T, name, email, password string) (int64, string) {
	t.Helper()
	resp := f.h.Serve(f.h.Register)(ctx, form(url.Values{"name": {name}, "email": {email}, "password": {password}}.Encode()))
	var a regAnswer
	if err := json.Unmarshal([]byte(resp.Body), &a); err != nil || resp.StatusCode != 201 || a.Status != "success" {
		t.Fatalf("register %s: %d %s", email, resp.StatusCode, resp.Body)
	}
	expect(t, "register", resp, 201, `{"status":"success","data":{"user_id":`+itoa(a.Data.UserID)+`,"user_secret":"`+a.Data.UserSecret+`"}}`)
	return a.Data.UserID, a.Data.UserSecret
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

var ctx = context.Background()

const (
	authRequired = `{"status":"fail","data":{"message":"authorization required"}}`
	wrongOld     = `{"status":"fail","data":{"oldpassword":"wrong password"}}`
	badBody      = `{"status":"fail","data":{"message":"invalid request body"}}`
	tooLarge     = `{"status":"fail","data":{"message":"request body too large"}}`
	success200   = `{"status":"success"}`
)

func TestRegister(t *testing.T) {
	f := newFixture(t)
	id1, secret := f.register(t, "Jane Doe", "Jane.Doe@Example.com", "jane-password")
	raw, err := base64.StdEncoding.DecodeString(secret)
	if err != nil || len(raw) != 32 {
		t.Fatalf("user_secret %q is not base64 of 32 bytes", secret)
	}
	a, err := f.svc.AccountByEmail(ctx, "jane.doe@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if a.UserID != id1 || a.Username != "jane.doe@example.com" || a.Email != "Jane.Doe@Example.com" || a.Name != "Jane Doe" ||
		a.SecretHash != account.HashSecret(secret) || strings.Contains(a.SecretHash, secret) || a.Role != account.RoleUser {
		t.Fatalf("stored account %+v", a)
	}
	// The username is the lowercased email: other families find the account by it.
	if _, err := f.svc.AuthenticateUsername(ctx, "jane.doe@example.com", "jane-password"); err != nil {
		t.Fatal(err)
	}

	// A JSON object is accepted too; ids increase.
	resp := f.h.Serve(f.h.Register)(ctx, jsonReq(`{"name":"Bob","email":"bob@example.com","password":"bob-password","extra":1}`))
	var b regAnswer
	json.Unmarshal([]byte(resp.Body), &b)
	if resp.StatusCode != 201 || b.Data.UserID <= id1 || b.Data.UserSecret == secret {
		t.Fatalf("JSON register: %d %s", resp.StatusCode, resp.Body)
	}

	taken := `{"status":"fail","data":{"email":"already registered"}}`
	expect(t, "email taken (other case)", f.h.Serve(f.h.Register)(ctx, form("name=Jim&email=JANE.DOE%40example.com&password=jim-password")), 409, taken)
	// An account of another family whose username is the address.
	if _, err := f.svc.Register(ctx, account.NewAccount{Username: "carol@example.com", Password: "carol-password"}); err != nil {
		t.Fatal(err)
	}
	expect(t, "username taken", f.h.Serve(f.h.Register)(ctx, form("name=Carol&email=Carol%40example.com&password=carol-password")), 409, taken)
}

func TestRegisterValidation(t *testing.T) {
	f := newFixture(t)
	long := strings.Repeat("a", 89) + "@example.com" // 101 characters
	tests := []struct{ body, data string }{
		{`{}`, `{"name":"required","email":"required","password":"required"}`},
		{``, `{"name":"required","email":"required","password":"required"}`},
		{`{"name":null,"email":"","password":12345678}`, `{"name":"required","email":"must not be empty","password":"must be a string"}`},
		{`{"name":"Al","email":"a@example.com","password":"1234567"}`, `{"name":"too short","password":"too short"}`},
		{`{"name":"` + strings.Repeat("n", 151) + `","email":"a@example.com","password":"` + strings.Repeat("p", 201) + `"}`, `{"name":"too long","password":"too long"}`},
		{`{"name":"Al\nice","email":"a@example.com","password":"pass\u0000word"}`, `{"name":"invalid characters","password":"invalid characters"}`},
		{`{"name":"Alice","email":"not-an-email","password":"12345678"}`, `{"email":"invalid email address"}`},
		{`{"name":"Alice","email":"Alice <a@example.com>","password":"12345678"}`, `{"email":"invalid email address"}`},
		{`{"name":"Alice","email":" a@example.com","password":"12345678"}`, `{"email":"invalid email address"}`},
		{`{"name":"Alice","email":"a@localhost","password":"12345678"}`, `{"email":"invalid email address"}`},
		{`{"name":"Alice","email":"` + long + `","password":"12345678"}`, `{"email":"too long"}`},
		{`{"name":"Alice","email":"☃@example.com","password":"12345678"}`, `{"email":"unsupported email address"}`},
		{`{"name":["Alice"],"email":{"a":1},"password":true}`, `{"name":"must be a string","email":"must be a string","password":"must be a string"}`},
	}
	for _, tc := range tests {
		expect(t, tc.body, f.h.Serve(f.h.Register)(ctx, jsonReq(tc.body)), 400, `{"status":"fail","data":`+tc.data+`}`)
	}
	expect(t, "form, missing and empty", f.h.Serve(f.h.Register)(ctx, form("name=&password=x")), 400,
		`{"status":"fail","data":{"name":"must not be empty","email":"required","password":"too short"}}`)
	// 100 characters is the most an address (which is also the username) may have.
	ok := strings.Repeat("a", 88) + "@example.com"
	if r := f.h.Serve(f.h.Register)(ctx, jsonReq(`{"name":"Max","email":"`+ok+`","password":"12345678"}`)); r.StatusCode != 201 {
		t.Fatalf("100-character email: %d %s", r.StatusCode, r.Body)
	}
	// Bodies that cannot be read.
	for _, r := range []*events.APIGatewayV2HTTPRequest{
		form("name=%zz"), form("name=a&name=b"), jsonReq(`{"name":`), jsonReq(`["name"]`),
		request("text/xml", "<name/>"), request("multipart/form-data; boundary=x", "--x--"),
	} {
		expect(t, "bad body "+r.Body, f.h.Serve(f.h.Register)(ctx, r), 400, badBody)
	}
	expect(t, "huge body", f.h.Serve(f.h.Register)(ctx, form("name="+strings.Repeat("a", 70000))), 413, tooLarge)
	if names, _, _ := f.svc.Store.ListUsernames(ctx, "", 100); len(names) != 1 {
		t.Fatalf("accounts after failed registrations: %v", names)
	}
}

func TestRegisterSwitchedOff(t *testing.T) {
	f := newFixture(t)
	f.svc.AllowRegistration = false
	off := `{"status":"fail","data":{"message":"registration is disabled"}}`
	expect(t, "closed", f.h.Serve(f.h.Register)(ctx, form("name=Alice&email=a%40example.com&password=12345678")), 403, off)
	expect(t, "closed, even with a bad body", f.h.Serve(f.h.Register)(ctx, jsonReq(`{`)), 403, off)
}

func TestChangePassword(t *testing.T) {
	f := newFixture(t)
	f.register(t, "Dave", "Dave@example.com", "dave-password")
	a, _ := f.svc.AccountByEmail(ctx, "dave@example.com")
	token, err := f.svc.StartSession(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	patch := func(email, old, new string) events.APIGatewayV2HTTPResponse {
		return f.h.Serve(f.h.ChangePassword)(ctx, form(url.Values{"email": {email}, "oldpassword": {old}, "newpassword": {new}}.Encode()))
	}
	expect(t, "wrong old password", patch("dave@example.com", "wrong-password", "new-password"), 422, wrongOld)
	expect(t, "unknown email", patch("nobody@example.com", "dave-password", "new-password"), 422, wrongOld)
	expect(t, "old password outside the rule", patch("dave@example.com", "short", "new-password"), 422, wrongOld)
	expect(t, "invalid new password (checked first)", patch("nobody@example.com", "wrong-password", "short"), 400,
		`{"status":"fail","data":{"newpassword":"too short"}}`)
	expect(t, "invalid email", patch("dave", "dave-password", "new-password"), 400, `{"status":"fail","data":{"email":"invalid email address"}}`)
	expect(t, "missing", f.h.Serve(f.h.ChangePassword)(ctx, jsonReq(`{"oldpassword":""}`)), 400,
		`{"status":"fail","data":{"email":"required","oldpassword":"must not be empty","newpassword":"required"}}`)
	expect(t, "bad body", f.h.Serve(f.h.ChangePassword)(ctx, form("email=%")), 400, badBody)
	expect(t, "huge body", f.h.Serve(f.h.ChangePassword)(ctx, jsonReq(`{"email":"`+strings.Repeat("a", 70000)+`"}`)), 413, tooLarge)
	if _, _, err := f.svc.Authorize(ctx, token); err != nil {
		t.Fatal("a failed change ended the session")
	}

	expect(t, "changed (email in another case)", patch("DAVE@EXAMPLE.COM", "dave-password", "new-password"), 200, success200)
	if _, err := f.svc.AuthenticateEmail(ctx, "dave@example.com", "dave-password"); !errors.Is(err, account.ErrInvalidCredentials) {
		t.Fatalf("old password still works: %v", err)
	}
	if _, err := f.svc.AuthenticateEmail(ctx, "dave@example.com", "new-password"); err != nil {
		t.Fatalf("new password: %v", err)
	}
	if _, _, err := f.svc.Authorize(ctx, token); !errors.Is(err, account.ErrNotAuthenticated) {
		t.Fatalf("session survived the change: %v", err)
	}
	expect(t, "JSON body", f.h.Serve(f.h.ChangePassword)(ctx, jsonReq(`{"email":"dave@example.com","oldpassword":"new-password","newpassword":"newer-password"}`)), 200, success200)
	expect(t, "old password again", patch("dave@example.com", "new-password", "third-password"), 422, wrongOld)

	// An account without a password (admin, token only) has no old password to match.
	if _, err := f.svc.Register(ctx, account.NewAccount{Username: "robot", Email: "robot@example.com", Token: "robot-token-123"}); err != nil {
		t.Fatal(err)
	}
	expect(t, "no password", patch("robot@example.com", "robot-token-123", "new-password"), 422, wrongOld)
}

var generated = regexp.MustCompile(`^[A-Za-z0-9]{16,}$`)

func TestResetPassword(t *testing.T) {
	f := newFixture(t)
	_, secret := f.register(t, "Erin", "Erin@Example.com", "erin-password")
	_, otherSecret := f.register(t, "Finn", "finn@example.com", "finn-password")
	a, _ := f.svc.AccountByEmail(ctx, "erin@example.com")
	token, _ := f.svc.StartSession(ctx, a)
	if _, _, err := f.svc.EnsureAdmin(ctx, "root", "root-password"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Register(ctx, account.NewAccount{Username: "gina", Email: "gina@example.com", Password: "gina-password"}); err != nil {
		t.Fatal(err)
	}

	reset := func(body string, headers ...string) events.APIGatewayV2HTTPResponse {
		return f.h.Serve(f.h.ResetPassword)(ctx, form(body, headers...))
	}
	for what, r := range map[string]events.APIGatewayV2HTTPResponse{
		"no credentials":                 reset("email=erin%40example.com"),
		"wrong secret":                   reset("email=erin%40example.com", "Authorization", "Bearer "+otherSecret),
		"secret of another account":      reset("email=finn%40example.com", "Authorization", "Bearer "+secret),
		"unknown email":                  reset("email=nobody%40example.com", "Authorization", "Bearer "+secret),
		"a session token is no secret":   reset("email=erin%40example.com", "Authorization", "Bearer "+token),
		"account without a secret":       reset("email=gina%40example.com", "Authorization", "Bearer "+secret),
		"admin, wrong password":          reset("email=erin%40example.com", "Authorization", basic("root", "wrong-password")),
		"unknown admin":                  reset("email=erin%40example.com", "Authorization", basic("nobody", "root-password")),
		"valid credentials of non-admin": reset("email=erin%40example.com", "Authorization", basic("gina", "gina-password")),
		"admin, unknown email":           reset("email=nobody%40example.com", "Authorization", basic("root", "root-password")),
		"malformed Basic":                reset("email=erin%40example.com", "Authorization", "Basic !!!"),
		"other scheme":                   reset("email=erin%40example.com", "Authorization", "Digest x"),
	} {
		expect(t, what, r, 401, authRequired)
	}
	expect(t, "missing email", reset("", "Authorization", "Bearer "+secret), 400, `{"status":"fail","data":{"email":"required"}}`)
	expect(t, "invalid email", reset("email=erin", "Authorization", "Bearer "+secret), 400, `{"status":"fail","data":{"email":"invalid email address"}}`)
	expect(t, "bad body", reset("email=%G0", "Authorization", "Bearer "+secret), 400, badBody)
	if _, _, err := f.svc.Authorize(ctx, token); err != nil {
		t.Fatal("a refused reset ended the session")
	}

	resp := reset("email=ERIN%40example.com", "Authorization", "Bearer "+secret)
	var out struct {
		Data struct{ Email, Password string }
	}
	json.Unmarshal([]byte(resp.Body), &out)
	expect(t, "reset by user_secret", resp, 200, `{"status":"success","data":{"email":"Erin@Example.com","password":"`+out.Data.Password+`"}}`)
	if !generated.MatchString(out.Data.Password) {
		t.Fatalf("generated password %q", out.Data.Password)
	}
	if _, err := f.svc.AuthenticateEmail(ctx, "erin@example.com", "erin-password"); err == nil {
		t.Fatal("old password still works")
	}
	if _, err := f.svc.AuthenticateUsername(ctx, "erin@example.com", out.Data.Password); err != nil {
		t.Fatalf("new password: %v", err)
	}
	if _, _, err := f.svc.Authorize(ctx, token); !errors.Is(err, account.ErrNotAuthenticated) {
		t.Fatalf("session survived the reset: %v", err)
	}

	// Admin Basic credentials, JSON body; the user_secret still works afterwards.
	resp = f.h.Serve(f.h.ResetPassword)(ctx, jsonReq(`{"email":"finn@example.com"}`, "Authorization", basic("Root", "root-password")))
	json.Unmarshal([]byte(resp.Body), &out)
	expect(t, "reset by admin", resp, 200, `{"status":"success","data":{"email":"finn@example.com","password":"`+out.Data.Password+`"}}`)
	if _, err := f.svc.AuthenticateEmail(ctx, "finn@example.com", out.Data.Password); err != nil {
		t.Fatal(err)
	}
	if r := reset("email=erin%40example.com", "Authorization", "Bearer "+secret); r.StatusCode != 200 {
		t.Fatalf("second reset: %s", r.Body)
	}
	// The admin's reset of Finn was a route other than Finn's secret: the secret is dead.
	expect(t, "user_secret after an admin's reset", reset("email=finn%40example.com", "Authorization", "Bearer "+otherSecret), 401, authRequired)
	// An admin can reset an account of another family, which has no user_secret.
	if r := reset("email=gina%40example.com", "Authorization", basic("root", "root-password")); r.StatusCode != 200 {
		t.Fatalf("admin reset of a users-family account: %s", r.Body)
	}
}

// failingStore fails every call with an internal error.
type failingStore struct{ account.Store }

var errBoom = errors.New("boom: connection refused")

func (failingStore) CreateAccount(context.Context, *account.Account) error { return errBoom }
func (failingStore) AccountByEmail(context.Context, string) (*account.Account, error) {
	return nil, errBoom
}
func (failingStore) UserIDByEmail(context.Context, string) (int64, error) { return 0, errBoom }

func TestServerErrors(t *testing.T) {
	f := newFixture(t)
	f.svc.Store = failingStore{f.svc.Store}
	generic := `{"status":"error","message":"internal server error"}`
	expect(t, "register", f.h.Serve(f.h.Register)(ctx, form("name=Alice&email=a%40example.com&password=12345678")), 500, generic)
	expect(t, "changepassword", f.h.Serve(f.h.ChangePassword)(ctx, form("email=a%40example.com&oldpassword=12345678&newpassword=87654321")), 500, generic)
	expect(t, "resetpassword", f.h.Serve(f.h.ResetPassword)(ctx, form("email=a%40example.com", "Authorization", "Bearer x")), 500, generic)

	lambda := f.h.Lambda(func(context.Context, *events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		panic("bug")
	})
	resp, err := lambda(ctx, events.APIGatewayV2HTTPRequest{})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "panic", resp, 500, generic)

	r := f.h.Answer(ctx, &account.Error{Code: account.CodeTooManyAttempts, RetryAfter: 2500 * time.Millisecond})
	expect(t, "throttled", r, 429, `{"status":"fail","data":{"message":"too many attempts"}}`)
	if r.Headers["retry-after"] != "3" {
		t.Fatalf("Retry-After %q", r.Headers["retry-after"])
	}
}
