package users

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
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
	mailer *accounttest.Mailer
	now    time.Time
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	mailer := &accounttest.Mailer{}
	svc := account.NewService(accounttest.NewStore(), accounttest.NewHasher(), mailer, account.Config{AllowRegistration: true}, nil)
	f := &fixture{h: New(svc, slog.New(slog.DiscardHandler)), svc: svc, mailer: mailer, now: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)}
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

func bearer(token string) *events.APIGatewayV2HTTPRequest {
	return &events.APIGatewayV2HTTPRequest{Headers: map[string]string{"authorization": "Bearer " + token}}
}

func expect(t *testing.T, what string, resp events.APIGatewayV2HTTPResponse, status int, body string) {
	t.Helper()
	apigwtest.Expect(t, what, resp, status, body)
}

func decode(t *testing.T, resp events.APIGatewayV2HTTPResponse) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

var ctx = context.Background()

func TestRegisterAndLogin(t *testing.T) {
	f := newFixture(t)
	expect(t, "register", f.h.Register(ctx, post(`{"username":"Alice","password":"alice-password","email":"alice@example.com"}`)),
		200, `{"success":true,"message":"USER_INSERT_OK"}`)
	expect(t, "register form", f.h.Register(ctx, form(`username=bob&password=bob-password`)),
		200, `{"success":true,"message":"USER_INSERT_OK"}`)
	expect(t, "username taken (any case)", f.h.Register(ctx, post(`{"username":"ALICE","password":"alice-password"}`)),
		200, `{"success":false,"message":"ERROR_LOGIN_WITH_PASSWORD"}`)
	expect(t, "email taken", f.h.Register(ctx, post(`{"username":"carol","password":"carol-password","email":"Alice@Example.com"}`)),
		200, `{"success":false,"message":"ERROR_EMAIL_ALREADY_USED"}`)

	resp := f.h.Login(ctx, post(`{"username":"alice","password":"alice-password"}`))
	m := decode(t, resp)
	ssid, _ := m["ssid"].(string)
	if resp.StatusCode != 200 || m["success"] != true || m["message"] != "LOGIN_OK" || m["userhash"] != account.UserHash("alice") || ssid == "" || len(m) != 4 {
		t.Fatalf("login: %d %s", resp.StatusCode, resp.Body)
	}
	expect(t, "wrong password", f.h.Login(ctx, post(`{"username":"alice","password":"wrong-password"}`)),
		401, `{"success":false,"message":"INVALID_PASSWORD"}`)
	expect(t, "unknown user", f.h.Login(ctx, form(`username=nobody&password=whatever1`)),
		401, `{"success":false,"message":"INVALID_PASSWORD"}`)
	expect(t, "invalid username is just unknown", f.h.Login(ctx, post(`{"username":"a b","password":"x"}`)),
		401, `{"success":false,"message":"INVALID_PASSWORD"}`)
	for _, body := range []string{`{}`, `{"username":"alice"}`, `{"password":"x"}`, `{"username":"","password":"x"}`, `{"username":null,"password":"x"}`, `{"username":5,"password":"x"}`, ``} {
		expect(t, "missing in "+body, f.h.Login(ctx, post(body)), 400, `{"success":false,"message":"ERROR_MISSING_PARAMETER"}`)
	}
	expect(t, "bad body", f.h.Login(ctx, post(`{"username":`)), 400, `{"success":false,"message":"ERROR_INVALID_BODY"}`)
	expect(t, "huge body", f.h.Login(ctx, post(`{"username":"`+strings.Repeat("a", 70000)+`"}`)), 413, `{"success":false,"message":"ERROR_REQUEST_TOO_LARGE"}`)

	// Token-only account.
	if _, err := f.svc.Register(ctx, account.NewAccount{Username: "robot", Token: "robot-token-123"}); err != nil {
		t.Fatal(err)
	}
	expect(t, "no password", f.h.Login(ctx, post(`{"username":"robot","password":"robot-token-123"}`)),
		401, `{"success":false,"message":"REGISTER_FOR_A_PASSWORD"}`)

	info := f.h.Info(ctx, bearer(ssid))
	m = decode(t, info)
	user, _ := m["user"].(map[string]any)
	if info.StatusCode != 200 || m["message"] != "USER_INFO" || user["username"] != "Alice" || user["email"] != "alice@example.com" ||
		user["role"] != "user" || user["bio"] != "" || user["user_id"] != float64(1) || len(user) != 10 {
		t.Fatalf("info: %s", info.Body)
	}
	if strings.Contains(info.Body, "$argon2id$") || strings.Contains(info.Body, "hash\":\"$") {
		t.Fatalf("info leaks a hash: %s", info.Body)
	}
	expect(t, "no session", f.h.Info(ctx, &events.APIGatewayV2HTTPRequest{}), 401, `{"success":false,"message":"ERROR_NOT_AUTHENTICATED"}`)
	expect(t, "bad session", f.h.Info(ctx, bearer("nope")), 401, `{"success":false,"message":"ERROR_NOT_AUTHENTICATED"}`)
	cookie := &events.APIGatewayV2HTTPRequest{Cookies: []string{"ssid=" + ssid}}
	if r := f.h.Info(ctx, cookie); r.StatusCode != 200 {
		t.Fatalf("ssid cookie: %s", r.Body)
	}
}

func TestRegisterValidation(t *testing.T) {
	f := newFixture(t)
	tests := []struct{ body, msg string }{
		{`{"username":"ab","password":"12345678"}`, "ERROR_INVALID_USERNAME_FORMAT"},
		{`{"username":"a b c","password":"12345678"}`, "ERROR_INVALID_USERNAME_FORMAT"},
		{`{"username":"abc","password":"1234567"}`, "ERROR_INVALID_PASSWORD_FORMAT"},
		{`{"username":"abc","password":"12345678","email":"not-an-email"}`, "ERROR_INVALID_EMAIL_FORMAT"},
		{`{"username":"abc","password":"12345678","email":42}`, "ERROR_INVALID_EMAIL_FORMAT"},
		{`{"username":"abc"}`, "ERROR_MISSING_PARAMETER"},
	}
	for _, tc := range tests {
		expect(t, tc.body, f.h.Register(ctx, post(tc.body)), 400, `{"success":false,"message":"`+tc.msg+`"}`)
	}
	f.svc.AllowRegistration = false
	expect(t, "closed", f.h.Register(ctx, post(`{"username":"abc","password":"12345678"}`)), 401, `{"success":false,"message":"CANT_CREATE_USER"}`)
	expect(t, "closed, even with a bad body", f.h.Register(ctx, post(`{`)), 401, `{"success":false,"message":"CANT_CREATE_USER"}`)
}

func TestOTPRoutes(t *testing.T) {
	f := newFixture(t)
	f.h.Register(ctx, post(`{"username":"dave","password":"dave-password","email":"dave@example.com"}`))
	f.h.Register(ctx, post(`{"username":"erin","password":"erin-password"}`))

	resp := f.h.RequestOTP(ctx, post(`{"username":"Dave"}`))
	m := decode(t, resp)
	reqID, _ := m["reqid"].(string)
	if resp.StatusCode != 200 || m["message"] != "OTP_SENT" || m["userhash"] != account.UserHash("dave") || reqID == "" {
		t.Fatalf("requestotp: %s", resp.Body)
	}
	expect(t, "no email", f.h.RequestOTP(ctx, post(`{"username":"erin"}`)), 200, `{"success":false,"message":"ERROR_NO_EMAIL_SET"}`)
	expect(t, "unknown", f.h.RequestOTP(ctx, post(`{"username":"nobody"}`)), 403, `{"success":false,"message":"ERROR_INVALID_USERNAME"}`)
	expect(t, "missing", f.h.RequestOTP(ctx, post(`{}`)), 400, `{"success":false,"message":"ERROR_MISSING_PARAMETER"}`)

	mail, _ := f.mailer.LastOTP()
	uh := account.UserHash("dave")
	wrong := "000000"
	if mail.Code == wrong {
		wrong = "999999"
	}
	mp := func(code, req, pw string) *events.APIGatewayV2HTTPRequest {
		return form("userhash=" + uh + "&OTP=" + code + "&reqid=" + req + "&password=" + pw)
	}
	expect(t, "missing", f.h.ModifyPassword(ctx, post(`{"userhash":"`+uh+`"}`)), 400, `{"success":false,"message":"ERROR_MISSING_PARAMETER"}`)
	expect(t, "bad password", f.h.ModifyPassword(ctx, mp(mail.Code, reqID, "short")), 400, `{"success":false,"message":"ERROR_INVALID_PASSWORD_FORMAT"}`)
	expect(t, "bad reqid", f.h.ModifyPassword(ctx, mp(mail.Code, "xyz", "new-password")), 403, `{"success":false,"message":"ERROR_INVALID_REQUEST"}`)
	expect(t, "wrong otp", f.h.ModifyPassword(ctx, mp(wrong, reqID, "new-password")), 401, `{"success":false,"message":"ERROR_INVALID_OTP"}`)
	// An OTP sent as a JSON number works.
	resp = f.h.ModifyPassword(ctx, post(`{"userhash":"`+strings.ToUpper(uh)+`","OTP":`+strings.TrimLeft(mail.Code, "0")+`,"reqid":"`+reqID+`","password":"new-password"}`))
	if mail.Code[0] == '0' {
		// A leading zero cannot survive as a number; the code is then simply wrong.
		expect(t, "numeric otp with leading zero", resp, 401, `{"success":false,"message":"ERROR_INVALID_OTP"}`)
		resp = f.h.ModifyPassword(ctx, mp(mail.Code, reqID, "new-password"))
	}
	expect(t, "changed", resp, 200, `{"success":true,"message":"PASSWORD_MODIFIED","userhash":"`+uh+`","reqid":"`+reqID+`"}`)
	expect(t, "used", f.h.ModifyPassword(ctx, mp(mail.Code, reqID, "newer-password")), 401, `{"success":false,"message":"ERROR_OTP_EXPIRED"}`)
	if r := f.h.Login(ctx, post(`{"username":"dave","password":"new-password"}`)); r.StatusCode != 200 {
		t.Fatalf("login with new password: %s", r.Body)
	}

	// One mail a minute per account.
	r := f.h.RequestOTP(ctx, post(`{"username":"dave"}`))
	expect(t, "second request within a minute", r, 429, `{"success":false,"message":"ERROR_TOO_MANY_ATTEMPTS"}`)
	if r.Headers["retry-after"] != "60" {
		t.Fatalf("Retry-After %q", r.Headers["retry-after"])
	}
	f.advance(time.Minute)
	f.mailer.Fail = errors.New("unreachable")
	expect(t, "mail failed", f.h.RequestOTP(ctx, post(`{"username":"dave"}`)), 500, `{"success":false,"message":"ERROR_EMAIL_SENDING_FAILED"}`)
}

func TestLogout(t *testing.T) {
	f := newFixture(t)
	f.h.Register(ctx, post(`{"username":"frank","password":"frank-password"}`))
	ssid := decode(t, f.h.Login(ctx, post(`{"username":"frank","password":"frank-password"}`)))["ssid"].(string)
	expect(t, "logout", f.h.Logout(ctx, bearer(ssid)), 200, `{"success":true,"message":"LOGOUT_OK"}`)
	expect(t, "again", f.h.Logout(ctx, bearer(ssid)), 401, `{"success":false,"message":"ERROR_NOT_AUTHENTICATED"}`)
	expect(t, "info", f.h.Info(ctx, bearer(ssid)), 401, `{"success":false,"message":"ERROR_NOT_AUTHENTICATED"}`)
}
