package users

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/apigw/apigwtest"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/accounttest"
)

type fixture struct {
	h      *Handler
	svc    *account.Service
	store  *faultyStore
	mailer *accounttest.Mailer
	now    time.Time
}

// faultyStore is the in-memory store, failing every call when fail is set (a store fault).
type faultyStore struct {
	account.Store
	fail error
}

func (s *faultyStore) SessionWithAccount(ctx context.Context, id int64, hash string) (*account.Session, *account.Account, error) {
	if s.fail != nil {
		return nil, nil, s.fail
	}
	return s.Store.SessionWithAccount(ctx, id, hash)
}

func (s *faultyStore) AccountByUsername(ctx context.Context, key string) (*account.Account, error) {
	if s.fail != nil {
		return nil, s.fail
	}
	return s.Store.AccountByUsername(ctx, key)
}

func (s *faultyStore) UserIDByUsername(ctx context.Context, key string) (int64, error) {
	if s.fail != nil {
		return 0, s.fail
	}
	return s.Store.UserIDByUsername(ctx, key)
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	mailer := &accounttest.Mailer{}
	store := &faultyStore{Store: accounttest.NewStore()}
	svc := account.NewService(store, accounttest.NewHasher(), mailer, account.Config{AllowRegistration: true}, nil)
	f := &fixture{h: New(svc, slog.New(slog.DiscardHandler)), svc: svc, store: store, mailer: mailer, now: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)}
	svc.Now = func() time.Time { return f.now }
	return f
}

func (f *fixture) advance(d time.Duration) { f.now = f.now.Add(d) }

func post(body string) *events.APIGatewayV2HTTPRequest {
	return &events.APIGatewayV2HTTPRequest{Headers: map[string]string{"content-type": "application/json"}, Body: body}
}

func form(body string) *events.APIGatewayV2HTTPRequest {
	return &events.APIGatewayV2HTTPRequest{Headers: map[string]string{"content-type": "application/x-www-form-urlencoded"}, Body: body}
}

// get is a GET with a raw query string, as API Gateway delivers it.
func get(rawQuery string) *events.APIGatewayV2HTTPRequest {
	r := &events.APIGatewayV2HTTPRequest{RawQueryString: rawQuery, Headers: map[string]string{}}
	r.RequestContext.HTTP.Method = "GET"
	return r
}

func bearer(token string) *events.APIGatewayV2HTTPRequest {
	return &events.APIGatewayV2HTTPRequest{Headers: map[string]string{"authorization": "Bearer " + token}}
}

// basicAuth is a request with "Authorization: Basic base64(<raw>)", MMDL's session form
// when raw is userhash:ssid.
func basicAuth(raw string) *events.APIGatewayV2HTTPRequest {
	return &events.APIGatewayV2HTTPRequest{Headers: map[string]string{"authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(raw))}}
}

func expect(t *testing.T, what string, resp events.APIGatewayV2HTTPResponse, status int, body string) {
	t.Helper()
	apigwtest.Expect(t, what, resp, status, body)
}

// refused is a Users answer without details; loginRefused the same on the login routes.
func refused(msg string) string      { return `{"success":false,"data":{"message":"` + msg + `"}}` }
func loginRefused(msg string) string { return `{"success":"false","data":{"message":"` + msg + `"}}` }
func done(msg string) string         { return `{"success":true,"data":{"message":"` + msg + `"}}` }

func invalidInput(details string, login bool) string {
	s := `false`
	if login {
		s = `"false"`
	}
	return `{"success":` + s + `,"data":{"message":"INVALID_INPUT","details":"` + details + `"}}`
}

// message decodes an answer and returns data.message as an object (it fails the test if
// it is not one).
func message(t *testing.T, resp events.APIGatewayV2HTTPResponse) (success any, msg map[string]any) {
	t.Helper()
	var b struct {
		Success any `json:"success"`
		Data    struct {
			Message map[string]any `json:"message"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &b); err != nil || b.Data.Message == nil {
		t.Fatalf("no object in data.message: %d %s", resp.StatusCode, resp.Body)
	}
	return b.Success, b.Data.Message
}

var ctx = context.Background()

func (f *fixture) login(t *testing.T, name, pw string) string {
	t.Helper()
	resp := f.h.Serve(f.h.Login)(ctx, post(`{"username":"`+name+`","password":"`+pw+`"}`))
	success, m := message(t, resp)
	ssid, _ := m["ssid"].(string)
	if resp.StatusCode != 200 || success != "true" || ssid == "" {
		t.Fatalf("login %s: %d %s", name, resp.StatusCode, resp.Body)
	}
	return ssid
}

func TestRegisterAndLogin(t *testing.T) {
	f := newFixture(t)
	expect(t, "register", f.h.Serve(f.h.Register)(ctx, post(`{"username":"Alice","password":"alice-password","email":"alice@example.com"}`)),
		200, done("USER_INSERT_OK"))
	expect(t, "register form", f.h.Serve(f.h.Register)(ctx, form(`username=bob&password=bob-password`)),
		200, done("USER_INSERT_OK"))
	expect(t, "username taken (any case)", f.h.Serve(f.h.Register)(ctx, post(`{"username":"ALICE","password":"alice-password"}`)),
		200, refused("ERROR_LOGIN_WITH_PASSWORD"))
	expect(t, "email taken", f.h.Serve(f.h.Register)(ctx, post(`{"username":"carol","password":"carol-password","email":"Alice@Example.com"}`)),
		200, refused("ERROR_EMAIL_ALREADY_USED"))

	// MMDL's login page tests body.success === "true" and reads data.message.{userhash,ssid}.
	resp := f.h.Serve(f.h.Login)(ctx, post(`{"username":"alice","password":"alice-password"}`))
	success, m := message(t, resp)
	ssid, _ := m["ssid"].(string)
	if resp.StatusCode != 200 || success != "true" || m["userhash"] != account.UserHash("alice") || ssid == "" || len(m) != 2 {
		t.Fatalf("login: %d %s", resp.StatusCode, resp.Body)
	}
	expect(t, "wrong password", f.h.Serve(f.h.Login)(ctx, post(`{"username":"alice","password":"wrong-password"}`)),
		401, loginRefused("INVALID_PASSWORD"))
	expect(t, "unknown user", f.h.Serve(f.h.Login)(ctx, form(`username=nobody&password=whatever1`)),
		401, loginRefused("INVALID_PASSWORD"))
	expect(t, "invalid username is just unknown", f.h.Serve(f.h.Login)(ctx, post(`{"username":"a b","password":"whatever1"}`)),
		401, loginRefused("INVALID_PASSWORD"))
	expect(t, "password outside the rules", f.h.Serve(f.h.Login)(ctx, post(`{"username":"alice","password":"x"}`)),
		401, loginRefused("INVALID_PASSWORD"))
	for _, tc := range []struct{ body, details string }{
		{`{}`, "username: required"},
		{`{"password":"x"}`, "username: required"},
		{`{"username":"","password":"x"}`, "username: must not be empty"},
		{`{"username":null,"password":"x"}`, "username: required"},
		{`{"username":5,"password":"x"}`, "username: must be a string"},
		{`{"username":"alice","password":12345678}`, "password: must be a string"},
		{``, "username: required"},
		{`{"username":`, "body: not a JSON object or form"},
		{`["alice"]`, "body: not a JSON object or form"},
	} {
		expect(t, "invalid "+tc.body, f.h.Serve(f.h.Login)(ctx, post(tc.body)), 422, invalidInput(tc.details, true))
	}
	expect(t, "huge body", f.h.Serve(f.h.Login)(ctx, post(`{"username":"`+strings.Repeat("a", 70000)+`"}`)), 413, loginRefused("ERROR_REQUEST_TOO_LARGE"))
}

// A locked account's login answers 429 in login's envelope, with Retry-After.
func TestLoginLocked(t *testing.T) {
	f := newFixture(t)
	f.h.Serve(f.h.Register)(ctx, post(`{"username":"ivan","password":"ivan-password"}`))
	for range account.FreeLoginAttempts {
		expect(t, "wrong", f.h.Serve(f.h.Login)(ctx, post(`{"username":"ivan","password":"wrong-password"}`)), 401, loginRefused("INVALID_PASSWORD"))
	}
	r := f.h.Serve(f.h.Login)(ctx, post(`{"username":"ivan","password":"ivan-password"}`))
	expect(t, "locked", r, 429, loginRefused("ERROR_TOO_MANY_ATTEMPTS"))
	if r.Headers["retry-after"] != "1" {
		t.Fatalf("Retry-After %q", r.Headers["retry-after"])
	}
}

// A login without a password: MMDL's LOGIN_WITH_PASSWORD / REGISTER_FOR_A_PASSWORD (API.md).
func TestLoginWithoutPassword(t *testing.T) {
	f := newFixture(t)
	f.h.Serve(f.h.Register)(ctx, post(`{"username":"alice","password":"alice-password"}`))
	if _, err := f.svc.Register(ctx, account.NewAccount{Username: "robot", Token: "robot-token-123"}); err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{`{"username":"Alice"}`, `{"username":"alice","password":null}`, `{"username":"alice","password":""}`} {
		expect(t, "account has a password: "+body, f.h.Serve(f.h.Login)(ctx, post(body)), 401, loginRefused("LOGIN_WITH_PASSWORD"))
	}
	expect(t, "no such account", f.h.Serve(f.h.Login)(ctx, form(`username=nobody`)), 401, loginRefused("REGISTER_FOR_A_PASSWORD"))
	expect(t, "token-only account, no password", f.h.Serve(f.h.Login)(ctx, post(`{"username":"robot"}`)), 401, loginRefused("REGISTER_FOR_A_PASSWORD"))
	expect(t, "token-only account, a password", f.h.Serve(f.h.Login)(ctx, post(`{"username":"robot","password":"robot-token-123"}`)),
		401, loginRefused("REGISTER_FOR_A_PASSWORD"))
	expect(t, "token-only account, a password outside the rules", f.h.Serve(f.h.Login)(ctx, post(`{"username":"robot","password":"short"}`)),
		401, loginRefused("REGISTER_FOR_A_PASSWORD"))
	// None of these checked a password, so none counts toward the lock.
	if a, _ := f.svc.AccountByUsername(ctx, "alice"); a.FailedLogins != 0 {
		t.Fatalf("%d failures counted", a.FailedLogins)
	}
}

func TestRegisterValidation(t *testing.T) {
	f := newFixture(t)
	tests := []struct{ body, details string }{
		{`{"username":"ab","password":"12345678"}`, "username: must be 3 to 100 characters"},
		{`{"username":"a b c","password":"12345678"}`, "username: must not contain white space"},
		{`{"username":"abc","password":"1234567"}`, "password: must be 8 to 200 characters"},
		{`{"username":"abc","password":"12345678","email":"not-an-email"}`, "email: invalid"},
		{`{"username":"abc","password":"12345678","email":42}`, "email: must be a string"},
		{`{"username":"abc"}`, "password: required"},
		{`{"password":"12345678"}`, "username: required"},
		{`"abc"`, "body: not a JSON object or form"},
	}
	for _, tc := range tests {
		expect(t, tc.body, f.h.Serve(f.h.Register)(ctx, post(tc.body)), 422, invalidInput(tc.details, false))
	}
	expect(t, "bad form", f.h.Serve(f.h.Register)(ctx, form(`username=%zz`)), 422, invalidInput("body: not a JSON object or form", false))
	expect(t, "huge body", f.h.Serve(f.h.Register)(ctx, form(`username=`+strings.Repeat("a", 70000))), 413, refused("ERROR_REQUEST_TOO_LARGE"))
	f.svc.AllowRegistration = false
	expect(t, "closed", f.h.Serve(f.h.Register)(ctx, post(`{"username":"abc","password":"12345678"}`)), 401, refused("CANT_CREATE_USER"))
	expect(t, "closed, even with a bad body", f.h.Serve(f.h.Register)(ctx, post(`{`)), 401, refused("CANT_CREATE_USER"))
}

func TestOTPRoutes(t *testing.T) {
	f := newFixture(t)
	f.h.Serve(f.h.Register)(ctx, post(`{"username":"dave","password":"dave-password","email":"dave@example.com"}`))
	f.h.Serve(f.h.Register)(ctx, post(`{"username":"erin","password":"erin-password"}`))

	resp := f.h.Serve(f.h.RequestOTP)(ctx, post(`{"username":"Dave"}`))
	success, m := message(t, resp)
	reqID, _ := m["reqid"].(string)
	if resp.StatusCode != 200 || success != true || m["userhash"] != account.UserHash("dave") || reqID == "" || len(m) != 2 {
		t.Fatalf("requestotp: %s", resp.Body)
	}
	expect(t, "no email", f.h.Serve(f.h.RequestOTP)(ctx, post(`{"username":"erin"}`)), 200, refused("ERROR_NO_EMAIL_SET"))
	expect(t, "unknown", f.h.Serve(f.h.RequestOTP)(ctx, post(`{"username":"nobody"}`)), 403, refused("ERROR_INVALID_USERNAME"))
	expect(t, "missing", f.h.Serve(f.h.RequestOTP)(ctx, post(`{}`)), 422, invalidInput("username: required", false))

	mail, _ := f.mailer.LastOTP()
	uh := account.UserHash("dave")
	wrong := "000000"
	if mail.Code == wrong {
		wrong = "999999"
	}
	mp := func(code, req, pw string) *events.APIGatewayV2HTTPRequest {
		return form("userhash=" + uh + "&OTP=" + code + "&reqid=" + req + "&password=" + pw)
	}
	expect(t, "missing", f.h.Serve(f.h.ModifyPassword)(ctx, post(`{"userhash":"`+uh+`"}`)), 422, invalidInput("OTP: required", false))
	expect(t, "missing reqid", f.h.Serve(f.h.ModifyPassword)(ctx, post(`{"userhash":"`+uh+`","otp":"123456"}`)), 422, invalidInput("reqid: required", false))
	expect(t, "OTP and otp disagree", f.h.Serve(f.h.ModifyPassword)(ctx, form("userhash="+uh+"&OTP="+mail.Code+"&otp="+wrong+"&reqid="+reqID+"&password=new-password")),
		422, invalidInput("OTP: given twice with different values", false))
	expect(t, "bad password", f.h.Serve(f.h.ModifyPassword)(ctx, mp(mail.Code, reqID, "short")), 422, invalidInput("password: must be 8 to 200 characters", false))
	expect(t, "bad reqid", f.h.Serve(f.h.ModifyPassword)(ctx, mp(mail.Code, "xyz", "new-password")), 403, refused("ERROR_INVALID_REQUEST"))
	expect(t, "wrong otp", f.h.Serve(f.h.ModifyPassword)(ctx, mp(wrong, reqID, "new-password")), 401, refused("ERROR_INVALID_OTP"))
	// An OTP sent as a JSON number works.
	resp = f.h.Serve(f.h.ModifyPassword)(ctx, post(`{"userhash":"`+strings.ToUpper(uh)+`","OTP":`+strings.TrimLeft(mail.Code, "0")+`,"reqid":"`+reqID+`","password":"new-password"}`))
	if mail.Code[0] == '0' {
		// A leading zero cannot survive as a number; the code is then simply wrong.
		expect(t, "numeric otp with leading zero", resp, 401, refused("ERROR_INVALID_OTP"))
		resp = f.h.Serve(f.h.ModifyPassword)(ctx, mp(mail.Code, reqID, "new-password"))
	}
	expect(t, "changed", resp, 200, done("PASSWORD_RESET_OK"))
	expect(t, "used", f.h.Serve(f.h.ModifyPassword)(ctx, mp(mail.Code, reqID, "newer-password")), 401, refused("ERROR_OTP_EXPIRED"))
	f.login(t, "dave", "new-password")

	// One mail a minute per account.
	r := f.h.Serve(f.h.RequestOTP)(ctx, post(`{"username":"dave"}`))
	expect(t, "second request within a minute", r, 429, refused("ERROR_TOO_MANY_ATTEMPTS"))
	if r.Headers["retry-after"] != "60" {
		t.Fatalf("Retry-After %q", r.Headers["retry-after"])
	}
	f.advance(time.Minute)
	f.mailer.Fail = errors.New("unreachable")
	expect(t, "mail failed", f.h.Serve(f.h.RequestOTP)(ctx, post(`{"username":"dave"}`)), 500, refused("ERROR_EMAIL_SENDING_FAILED"))
}

// MMDL's reset page: GET /users/requestotp?username=, then modifypassword with "otp".
func TestOTPTheMMDLWay(t *testing.T) {
	f := newFixture(t)
	f.h.Serve(f.h.Register)(ctx, post(`{"username":"gina","password":"gina-password","email":"gina@example.com"}`))
	expect(t, "GET without username", f.h.Serve(f.h.RequestOTP)(ctx, get("")), 422, invalidInput("username: required", false))
	expect(t, "GET with an empty username", f.h.Serve(f.h.RequestOTP)(ctx, get("username=")), 422, invalidInput("username: must not be empty", false))
	expect(t, "GET with a bad query", f.h.Serve(f.h.RequestOTP)(ctx, get("username=%zz")), 422, invalidInput("query: not a valid query string", false))
	expect(t, "GET with the name twice", f.h.Serve(f.h.RequestOTP)(ctx, get("username=gina&username=gina")), 422, invalidInput("query: not a valid query string", false))
	expect(t, "GET unknown", f.h.Serve(f.h.RequestOTP)(ctx, get("username=nobody")), 403, refused("ERROR_INVALID_USERNAME"))

	resp := f.h.Serve(f.h.RequestOTP)(ctx, get("username=Gina"))
	success, m := message(t, resp)
	reqID, _ := m["reqid"].(string)
	if resp.StatusCode != 200 || success != true || m["userhash"] != account.UserHash("gina") || reqID == "" {
		t.Fatalf("GET requestotp: %s", resp.Body)
	}
	mail, _ := f.mailer.LastOTP()
	body, _ := json.Marshal(map[string]string{"otp": mail.Code, "reqid": reqID, "userhash": m["userhash"].(string), "password": "gina-new-password"})
	expect(t, "modifypassword with otp", f.h.Serve(f.h.ModifyPassword)(ctx, post(string(body))), 200, done("PASSWORD_RESET_OK"))
	f.login(t, "gina", "gina-new-password")
}

func TestInfo(t *testing.T) {
	f := newFixture(t)
	f.h.Serve(f.h.Register)(ctx, post(`{"username":"Alice","password":"alice-password","email":"alice@example.com"}`))
	ssid := f.login(t, "alice", "alice-password")
	uh := account.UserHash("alice")
	a, _ := f.svc.AccountByUsername(ctx, "alice")
	want := `{"success":true,"data":{"message":{"users_id":1,"username":"Alice","email":"alice@example.com","userhash":"` + uh +
		`","created":"` + strconv.FormatInt(a.CreatedAt.Unix(), 10) + `","level":"0","name":"","bio":"","website":"","pronounce":"","email_verified":false}}}`
	if a.CreatedAt.Unix() != f.now.Unix() {
		t.Fatalf("created %v", a.CreatedAt)
	}
	// Every way of presenting the session gives the same answer.
	for what, req := range map[string]*events.APIGatewayV2HTTPRequest{
		"Bearer":                     bearer(ssid),
		"Basic userhash:ssid (MMDL)": basicAuth(uh + ":" + ssid),
		"Basic, userhash upper case": basicAuth(strings.ToUpper(uh) + ":" + ssid),
		"cookie ssid":                {Cookies: []string{"ssid=" + ssid}},
		"cookie TOKEN":               {Cookies: []string{"theme=dark", "TOKEN=" + ssid}},
	} {
		expect(t, what, f.h.Serve(f.h.Info)(ctx, req), 200, want)
	}
	info := f.h.Serve(f.h.Info)(ctx, bearer(ssid))
	if strings.Contains(info.Body, "$argon2id$") || strings.Contains(info.Body, "hash\":\"$") || strings.Contains(info.Body, ssid) {
		t.Fatalf("info leaks a hash or the token: %s", info.Body)
	}

	// An admin's level is "1".
	if _, err := f.svc.Register(ctx, account.NewAccount{Username: "root", Password: "root-password", Role: account.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	_, m := message(t, f.h.Serve(f.h.Info)(ctx, bearer(f.login(t, "root", "root-password"))))
	if m["level"] != "1" || m["users_id"] != float64(2) {
		t.Fatalf("admin info: %v", m)
	}

	// Anything else is PLEASE_LOGIN, never a 500.
	f.h.Serve(f.h.Register)(ctx, post(`{"username":"bob","password":"bob-password"}`))
	bobs := f.login(t, "bob", "bob-password")
	pleaseLogin := refused("PLEASE_LOGIN")
	for what, req := range map[string]*events.APIGatewayV2HTTPRequest{
		"no session":                          {},
		"unknown bearer":                      bearer("nope"),
		"Basic with another account's hash":   basicAuth(account.UserHash("bob") + ":" + ssid),
		"Basic with the hash of another ssid": basicAuth(uh + ":" + bobs),
		"Basic without a colon":               basicAuth(uh + ssid),
		"Basic with an empty ssid":            basicAuth(uh + ":"),
		"Basic with an empty userhash":        basicAuth(":" + ssid),
		"Basic with a username, not a hash":   basicAuth("alice:" + ssid),
		"Basic with the ssid first":           basicAuth(ssid + ":" + uh),
		"Basic, not base64":                   {Headers: map[string]string{"authorization": "Basic !!!"}},
		"Basic, invalid UTF-8":                basicAuth("\xff:" + ssid),
		"Basic, no credentials":               {Headers: map[string]string{"authorization": "Basic"}},
		"Basic beats a valid cookie":          {Headers: map[string]string{"authorization": "Basic !!!"}, Cookies: []string{"ssid=" + ssid}},
		"unknown scheme":                      {Headers: map[string]string{"authorization": "Digest x"}},
	} {
		expect(t, what, f.h.Serve(f.h.Info)(ctx, req), 401, pleaseLogin)
	}

	// A store fault is ERROR_GENERIC.
	f.store.fail = errors.New("dynamodb down")
	expect(t, "store fault", f.h.Serve(f.h.Info)(ctx, basicAuth(uh+":"+ssid)), 500, refused("ERROR_GENERIC"))
	expect(t, "store fault at login", f.h.Serve(f.h.Login)(ctx, post(`{"username":"alice","password":"alice-password"}`)), 500, loginRefused("ERROR_GENERIC"))
	expect(t, "store fault at a login without password", f.h.Serve(f.h.Login)(ctx, post(`{"username":"alice"}`)), 500, loginRefused("ERROR_GENERIC"))
}

// A session presented the MMDL way dies with every other when the password changes.
func TestBasicSessionEndsWithPasswordChange(t *testing.T) {
	f := newFixture(t)
	f.h.Serve(f.h.Register)(ctx, post(`{"username":"hank","password":"hank-password","email":"hank@example.com"}`))
	uh := account.UserHash("hank")
	ssid := f.login(t, "hank", "hank-password")
	_, m := message(t, f.h.Serve(f.h.RequestOTP)(ctx, get("username=hank")))
	mail, _ := f.mailer.LastOTP()
	expect(t, "changed", f.h.Serve(f.h.ModifyPassword)(ctx, form("userhash="+uh+"&otp="+mail.Code+"&reqid="+m["reqid"].(string)+"&password=hank-new-password")), 200, done("PASSWORD_RESET_OK"))
	expect(t, "old session, Basic", f.h.Serve(f.h.Info)(ctx, basicAuth(uh+":"+ssid)), 401, refused("PLEASE_LOGIN"))
	expect(t, "old session, logout", f.h.Serve(f.h.Logout)(ctx, basicAuth(uh+":"+ssid)), 401, refused("PLEASE_LOGIN"))
}

func TestLogout(t *testing.T) {
	f := newFixture(t)
	f.h.Serve(f.h.Register)(ctx, post(`{"username":"frank","password":"frank-password"}`))
	ssid := f.login(t, "frank", "frank-password")
	expect(t, "logout", f.h.Serve(f.h.Logout)(ctx, bearer(ssid)), 200, done("LOGOUT_OK"))
	expect(t, "again", f.h.Serve(f.h.Logout)(ctx, bearer(ssid)), 401, refused("PLEASE_LOGIN"))
	expect(t, "info", f.h.Serve(f.h.Info)(ctx, bearer(ssid)), 401, refused("PLEASE_LOGIN"))

	// The MMDL way: Basic userhash:ssid; another account's userhash ends nothing.
	uh := account.UserHash("frank")
	ssid = f.login(t, "frank", "frank-password")
	expect(t, "logout with another userhash", f.h.Serve(f.h.Logout)(ctx, basicAuth(account.UserHash("someone")+":"+ssid)), 401, refused("PLEASE_LOGIN"))
	expect(t, "still logged in", f.h.Serve(f.h.Info)(ctx, bearer(ssid)), 200, f.h.Serve(f.h.Info)(ctx, basicAuth(uh+":"+ssid)).Body)
	expect(t, "malformed Basic", f.h.Serve(f.h.Logout)(ctx, &events.APIGatewayV2HTTPRequest{Headers: map[string]string{"authorization": "Basic ???"}}), 401, refused("PLEASE_LOGIN"))
	expect(t, "logout Basic", f.h.Serve(f.h.Logout)(ctx, basicAuth(uh+":"+ssid)), 200, done("LOGOUT_OK"))
	expect(t, "after Basic logout", f.h.Serve(f.h.Info)(ctx, bearer(ssid)), 401, refused("PLEASE_LOGIN"))
}

// A panic in login still answers in login's envelope, with the string "false".
func TestLoginPanicKeepsEnvelope(t *testing.T) {
	h := New(nil, slog.New(slog.DiscardHandler)) // no service: the first use panics
	expect(t, "panic", h.Serve(h.Login)(ctx, post(`{"username":"alice","password":"alice-password"}`)), 500, loginRefused("ERROR_GENERIC"))
	resp, err := h.Lambda(h.Register)(ctx, *post(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "panic elsewhere", resp, 500, refused("ERROR_GENERIC"))
}
