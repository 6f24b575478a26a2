package user

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/accounttest"
)

// store is the in-memory fake with injectable failures.
type store struct {
	*accounttest.Store
	mu   sync.Mutex
	errs map[string]error
}

func (s *store) fault(method string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.errs[method]
}

func (s *store) setFault(method string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs[method] = err
}

func (s *store) ChangeCredentials(ctx context.Context, c account.CredentialChange) error {
	if err := s.fault("ChangeCredentials"); err != nil {
		return err
	}
	return s.Store.ChangeCredentials(ctx, c)
}

func (s *store) AccountByUsername(ctx context.Context, key string) (*account.Account, error) {
	if err := s.fault("AccountByUsername"); err != nil {
		return nil, err
	}
	return s.Store.AccountByUsername(ctx, key)
}

type fixture struct {
	h      *Handler
	svc    *account.Service
	store  *store
	mailer *accounttest.Mailer
	now    time.Time
	mu     sync.Mutex
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{
		store:  &store{Store: accounttest.NewStore(), errs: map[string]error{}},
		mailer: &accounttest.Mailer{},
		now:    time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
	}
	f.svc = account.NewService(f.store, accounttest.NewHasher(), f.mailer, account.Config{AllowRegistration: true}, nil)
	f.svc.Now = func() time.Time {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.now
	}
	f.h = New(f.svc, slog.New(slog.DiscardHandler))
	return f
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

func post(body string) *events.APIGatewayV2HTTPRequest {
	return &events.APIGatewayV2HTTPRequest{Headers: map[string]string{"content-type": "application/json"}, Body: body}
}

func form(body string) *events.APIGatewayV2HTTPRequest {
	return &events.APIGatewayV2HTTPRequest{Headers: map[string]string{"content-type": "application/x-www-form-urlencoded"}, Body: body}
}

func bearer(token string) *events.APIGatewayV2HTTPRequest {
	return &events.APIGatewayV2HTTPRequest{Headers: map[string]string{"authorization": "Bearer " + token}}
}

func cookie(line string) *events.APIGatewayV2HTTPRequest {
	return &events.APIGatewayV2HTTPRequest{Cookies: []string{line}}
}

// env returns the envelope the family answers with.
func env(status int, msg, data string) string {
	b, _ := json.Marshal(body{StatusCode: strconv.Itoa(status), Message: msg, Data: data})
	return string(b)
}

// expect checks the status, the exact body and the headers every answer carries.
func expect(t *testing.T, what string, resp events.APIGatewayV2HTTPResponse, status int, msg, data string) {
	t.Helper()
	checkShape(t, what, resp)
	if want := env(status, msg, data); resp.StatusCode != status || resp.Body != want {
		t.Fatalf("%s:\n got %d %s\nwant %d %s", what, resp.StatusCode, resp.Body, status, want)
	}
}

// checkShape asserts the envelope: a JSON object of exactly three string members, the
// first being the HTTP status as text, with the family's headers.
func checkShape(t testing.TB, what string, resp events.APIGatewayV2HTTPResponse) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &m); err != nil {
		t.Fatalf("%s: body %q is not a JSON object", what, resp.Body)
	}
	if len(m) != 3 {
		t.Fatalf("%s: %d members in %s", what, len(m), resp.Body)
	}
	for _, k := range []string{"statusCode", "message", "data"} {
		if _, ok := m[k].(string); !ok {
			t.Fatalf("%s: member %q is not a string in %s", what, k, resp.Body)
		}
	}
	if m["statusCode"] != strconv.Itoa(resp.StatusCode) {
		t.Fatalf("%s: statusCode %v with HTTP status %d", what, m["statusCode"], resp.StatusCode)
	}
	if resp.Headers["content-type"] != "application/json; charset=utf-8" || resp.Headers["cache-control"] != "no-store" {
		t.Fatalf("%s: headers %v", what, resp.Headers)
	}
}

func profileData(username, name, bio, website, pronounce string) string {
	return fmt.Sprintf(`{"username":%q,"name":%q,"bio":%q,"website":%q,"pronounce":%q,"followers":"0","following":"0"}`, username, name, bio, website, pronounce)
}

var ctx = context.Background()

func (f *fixture) create(t *testing.T, username, email, password string) {
	t.Helper()
	r := f.h.Serve(f.h.Create)(ctx, post(fmt.Sprintf(`{"username":%q,"email":%q,"password":%q}`, username, email, password)))
	if r.StatusCode != 200 {
		t.Fatalf("create %s: %d %s", username, r.StatusCode, r.Body)
	}
}

func (f *fixture) auth(t *testing.T, username, password string) string {
	t.Helper()
	r := f.h.Serve(f.h.Auth)(ctx, post(fmt.Sprintf(`{"username":%q,"password":%q}`, username, password)))
	if r.StatusCode != 200 || len(r.Cookies) != 1 {
		t.Fatalf("auth %s: %d %s %v", username, r.StatusCode, r.Body, r.Cookies)
	}
	c, err := http.ParseSetCookie(r.Cookies[0])
	if err != nil {
		t.Fatal(err)
	}
	return c.Value
}

func TestCreate(t *testing.T) {
	f := newFixture(t)
	expect(t, "created with profile", f.h.Serve(f.h.Create)(ctx, post(`{"username":"Alice","email":"alice@example.com","password":"alice-password","name":"Alice A.","bio":"Hi <there> & \"all\"","website":"https://alice.example","pronounce":"a-lis"}`)),
		200, msgCreated, profileData("Alice", "Alice A.", `Hi <there> & "all"`, "https://alice.example", "a-lis"))
	expect(t, "created without profile (form)", f.h.Serve(f.h.Create)(ctx, form(`username=bob&email=bob%40example.com&password=bob-password`)),
		200, msgCreated, `{"username":"bob","name":"","bio":"","website":"","pronounce":"","followers":"0","following":"0"}`)
	expect(t, "null optional fields", f.h.Serve(f.h.Create)(ctx, post(`{"username":"carol","email":"carol@example.com","password":"carol-password","name":null,"bio":null,"website":null,"pronounce":null,"extra":[1,{}]}`)),
		200, msgCreated, profileData("carol", "", "", "", ""))
	expect(t, "username taken (other case)", f.h.Serve(f.h.Create)(ctx, post(`{"username":"ALICE","email":"other@example.com","password":"another-password"}`)),
		409, msgUserExists, "null")
	expect(t, "email taken (other case)", f.h.Serve(f.h.Create)(ctx, post(`{"username":"dave","email":"ALICE@example.COM","password":"another-password"}`)),
		409, msgEmailExists, "null")
	expect(t, "both taken: the username", f.h.Serve(f.h.Create)(ctx, post(`{"username":"alice","email":"alice@example.com","password":"another-password"}`)),
		409, msgUserExists, "null")
	if r := f.h.Serve(f.h.Auth)(ctx, post(`{"username":"alice","password":"alice-password"}`)); r.StatusCode != 200 {
		t.Fatalf("auth after create: %s", r.Body)
	}
}

func TestCreateValidation(t *testing.T) {
	f := newFixture(t)
	long := func(n int) string { return strings.Repeat("x", n) }
	ok := `"username":"valid-name","email":"valid@example.com","password":"good-password"`
	tests := []struct {
		name, body string
		status     int
		msg        string
	}{
		{"name too short", `{` + ok + `,"name":"ab"}`, 406, msgNameLength},
		{"name too long", `{` + ok + `,"name":"` + long(151) + `"}`, 406, msgNameLength},
		{"username too short", `{"username":"ab","email":"a@example.com","password":"good-password"}`, 406, msgUsernameLength},
		{"username too long", `{"username":"` + long(101) + `","email":"a@example.com","password":"good-password"}`, 406, msgUsernameLength},
		{"password too short", `{"username":"valid-name","email":"a@example.com","password":"1234567"}`, 406, msgPasswordLength},
		{"password too long", `{"username":"valid-name","email":"a@example.com","password":"` + long(201) + `"}`, 406, msgPasswordLength},
		{"invalid email", `{"username":"valid-name","email":"not-an-email","password":"good-password"}`, 406, msgInvalidEmail},
		{"email with display name", `{"username":"valid-name","email":"Name <a@example.com>","password":"good-password"}`, 406, msgInvalidEmail},
		{"email over 254", `{"username":"valid-name","email":"` + long(250) + `@example.com","password":"good-password"}`, 406, msgInvalidEmail},
		{"bio too long", `{` + ok + `,"bio":"` + long(201) + `"}`, 406, msgBioLength},
		{"username white space", `{"username":"a b c","email":"a@example.com","password":"good-password"}`, 400, msgUsernameWhitespace},
		{"username null (absent)", `{"email":"a@example.com","password":"good-password"}`, 400, msgUsernameNull},
		{"username null", `{"username":null,"email":"a@example.com","password":"good-password"}`, 400, msgUsernameNull},
		{"username empty", `{"username":"","email":"a@example.com","password":"good-password"}`, 400, msgUsernameEmpty},
		{"email null", `{"username":"valid-name","password":"good-password"}`, 400, msgEmailNull},
		{"email empty", `{"username":"valid-name","email":"","password":"good-password"}`, 400, msgEmailEmpty},
		{"password null", `{"username":"valid-name","email":"a@example.com"}`, 400, msgPasswordNull},
		{"password empty", `{"username":"valid-name","email":"a@example.com","password":""}`, 400, msgPasswordEmpty},
		{"name empty", `{` + ok + `,"name":""}`, 400, msgNameEmpty},
		{"bio empty", `{` + ok + `,"bio":""}`, 400, msgBioEmpty},
		{"website empty", `{` + ok + `,"website":""}`, 400, msgWebsiteEmpty},
		{"pronounce empty", `{` + ok + `,"pronounce":""}`, 400, msgPronounceEmpty},
		// Decisions.
		{"website too long", `{` + ok + `,"website":"` + long(201) + `"}`, 406, msgWebsiteLength},
		{"pronounce too long", `{` + ok + `,"pronounce":"` + long(101) + `"}`, 406, msgPronounceLength},
		{"username breaks PRECIS", `{"username":"ab\u0007c","email":"a@example.com","password":"good-password"}`, 400, msgUsernameInvalid},
		{"password with NUL", `{"username":"valid-name","email":"a@example.com","password":"good\u0000password"}`, 400, msgPasswordInvalid},
		{"name with a control character", `{` + ok + `,"name":"Al\nice"}`, 400, msgNameInvalid},
		{"bio with a control character", `{` + ok + `,"bio":"x\u001by"}`, 400, msgBioInvalid},
		{"website with a control character", `{` + ok + `,"website":"x\ry"}`, 400, msgWebsiteInvalid},
		{"pronounce with a control character", `{` + ok + `,"pronounce":"x\ty"}`, 400, msgPronounceInvalid},
		{"a number for a string", `{"username":12345,"email":"a@example.com","password":"good-password"}`, 400, msgInvalidBody},
		{"a boolean for an optional string", `{` + ok + `,"bio":true}`, 400, msgInvalidBody},
		{"not an object", `["valid-name"]`, 400, msgInvalidBody},
		{"malformed JSON", `{"username":`, 400, msgInvalidBody},
		{"duplicate member", `{"username":"a","username":"b"}`, 400, msgInvalidBody},
		{"empty body", ``, 400, msgUsernameNull},
		// Order: username, email, password, name, bio, website, pronounce.
		{"empty username and short password", `{"username":"","email":"a@example.com","password":"short"}`, 400, msgUsernameEmpty},
		{"long username and no email", `{"username":"` + long(101) + `"}`, 406, msgUsernameLength},
		{"bad email and null password", `{"username":"valid-name","email":"nope"}`, 406, msgInvalidEmail},
		{"short password and empty name", `{"username":"valid-name","email":"a@example.com","password":"short","name":""}`, 406, msgPasswordLength},
		{"empty name and empty bio", `{` + ok + `,"name":"","bio":""}`, 400, msgNameEmpty},
		{"long bio and empty website", `{` + ok + `,"bio":"` + long(201) + `","website":""}`, 406, msgBioLength},
		{"empty website and empty pronounce", `{` + ok + `,"website":"","pronounce":""}`, 400, msgWebsiteEmpty},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, tc.body, f.h.Serve(f.h.Create)(ctx, post(tc.body)), tc.status, tc.msg, "null")
		})
	}
	expect(t, "body over 64 KiB", f.h.Serve(f.h.Create)(ctx, post(`{"username":"`+long(70<<10)+`"}`)), 413, msgRequestTooLarge, "null")
	expect(t, "multipart", f.h.Serve(f.h.Create)(ctx, &events.APIGatewayV2HTTPRequest{Headers: map[string]string{"content-type": "multipart/form-data; boundary=x"}, Body: "--x--"}), 400, msgInvalidBody, "null")
	expect(t, "form duplicate", f.h.Serve(f.h.Create)(ctx, form("username=a&username=b")), 400, msgInvalidBody, "null")
	if _, err := f.svc.AccountByUsername(ctx, "valid-name"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("an invalid request created an account: %v", err)
	}

	f.svc.AllowRegistration = false
	expect(t, "registration off", f.h.Serve(f.h.Create)(ctx, post(`{`+ok+`}`)), 403, msgRegistrationDisabled, "null")
	expect(t, "registration off, bad body", f.h.Serve(f.h.Create)(ctx, post(`{`)), 403, msgRegistrationDisabled, "null")
}

func TestAuth(t *testing.T) {
	f := newFixture(t)
	f.create(t, "Erin", "erin@example.com", "erin-password")
	r := f.h.Serve(f.h.Auth)(ctx, post(`{"username":"erin","password":"erin-password"}`))
	expect(t, "authenticated", r, 200, msgAuthenticated, "null")
	if len(r.Cookies) != 1 {
		t.Fatalf("cookies %v", r.Cookies)
	}
	c, err := http.ParseSetCookie(r.Cookies[0])
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "TOKEN" || c.Path != "/" || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.MaxAge != 7*24*3600 || len(c.Value) != 54 {
		t.Fatalf("cookie %q", r.Cookies[0])
	}
	for _, attr := range []string{"TOKEN=" + c.Value, "Path=/", "HttpOnly", "Secure", "SameSite=Lax", "Max-Age=604800"} {
		if !strings.Contains(r.Cookies[0], attr) {
			t.Fatalf("cookie %q lacks %s", r.Cookies[0], attr)
		}
	}
	expect(t, "TOKEN cookie is a session", f.h.Serve(f.h.Logged)(ctx, cookie("TOKEN="+c.Value)), 200, msgValidation, "true")
	if r := f.h.Serve(f.h.Auth)(ctx, form(`username=ERIN&password=erin-password`)); r.StatusCode != 200 {
		t.Fatalf("form auth: %s", r.Body)
	}

	f.svc.SessionTTL = 90 * time.Minute
	if tok := f.auth(t, "erin", "erin-password"); tok == c.Value {
		t.Fatal("same token twice")
	}
	if r := f.h.Serve(f.h.Auth)(ctx, post(`{"username":"erin","password":"erin-password"}`)); !strings.Contains(r.Cookies[0], "Max-Age=5400") {
		t.Fatalf("Max-Age does not follow the session lifetime: %q", r.Cookies[0])
	}

	if _, err := f.svc.Register(ctx, account.NewAccount{Username: "robot", Token: "robot-token-123"}); err != nil {
		t.Fatal(err)
	}
	long := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name, body string
		status     int
		msg        string
	}{
		{"wrong password", `{"username":"erin","password":"wrong-password"}`, 401, msgAuthFailed},
		{"unknown username", `{"username":"nobody","password":"whatever-pw"}`, 401, msgAuthFailed},
		{"account without a password", `{"username":"robot","password":"robot-token-123"}`, 401, msgAuthFailed},
		{"username too short", `{"username":"ab","password":"erin-password"}`, 406, msgUsernameLength},
		{"username too long", `{"username":"` + long(101) + `","password":"erin-password"}`, 406, msgUsernameLength},
		{"password too short", `{"username":"erin","password":"1234567"}`, 406, msgPasswordLength},
		{"password too long", `{"username":"erin","password":"` + long(201) + `"}`, 406, msgPasswordLength},
		{"username white space", `{"username":"er in","password":"erin-password"}`, 400, msgUsernameWhitespace},
		{"username null", `{"password":"erin-password"}`, 400, msgUsernameNull},
		{"username empty", `{"username":"","password":"erin-password"}`, 400, msgUsernameEmpty},
		{"password null", `{"username":"erin","password":null}`, 400, msgPasswordNull},
		{"password empty", `{"username":"erin","password":""}`, 400, msgPasswordEmpty},
		{"empty username and short password", `{"username":"","password":"short"}`, 400, msgUsernameEmpty},
		{"username breaks PRECIS", `{"username":"er\u200bin","password":"erin-password"}`, 400, msgUsernameInvalid},
		{"password with NUL", `{"username":"erin","password":"erin\u0000password"}`, 400, msgPasswordInvalid},
		{"number password", `{"username":"erin","password":12345678}`, 400, msgInvalidBody},
		{"not an object", `"erin"`, 400, msgInvalidBody},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := f.h.Serve(f.h.Auth)(ctx, post(tc.body))
			expect(t, tc.body, r, tc.status, tc.msg, "null")
			if len(r.Cookies) != 0 {
				t.Fatalf("cookie on failure: %v", r.Cookies)
			}
		})
	}
}

func TestLoggedAndLogout(t *testing.T) {
	f := newFixture(t)
	f.create(t, "frank", "frank@example.com", "frank-password")
	tok := f.auth(t, "frank", "frank-password")
	other := f.auth(t, "frank", "frank-password")

	expect(t, "bearer", f.h.Serve(f.h.Logged)(ctx, bearer(tok)), 200, msgValidation, "true")
	expect(t, "TOKEN cookie among others", f.h.Serve(f.h.Logged)(ctx, cookie("theme=dark; TOKEN="+tok)), 200, msgValidation, "true")
	expect(t, "ssid cookie", f.h.Serve(f.h.Logged)(ctx, cookie("ssid="+tok)), 200, msgValidation, "true")
	expect(t, "nothing presented", f.h.Serve(f.h.Logged)(ctx, &events.APIGatewayV2HTTPRequest{}), 404, msgNoAuthInfo, "false")
	expect(t, "other cookies only", f.h.Serve(f.h.Logged)(ctx, cookie("theme=dark")), 404, msgNoAuthInfo, "false")
	expect(t, "unknown token", f.h.Serve(f.h.Logged)(ctx, bearer(strings.Repeat("A", 54))), 404, msgSessionNotFound, "false")
	expect(t, "garbage cookie", f.h.Serve(f.h.Logged)(ctx, cookie("TOKEN=garbage")), 404, msgSessionNotFound, "false")
	expect(t, "empty cookie", f.h.Serve(f.h.Logged)(ctx, cookie("TOKEN=")), 404, msgSessionNotFound, "false")
	expect(t, "Basic credentials are no session", f.h.Serve(f.h.Logged)(ctx, &events.APIGatewayV2HTTPRequest{Headers: map[string]string{"authorization": "Basic YTpi"}}), 404, msgSessionNotFound, "false")

	r := f.h.Serve(f.h.Logout)(ctx, cookie("TOKEN="+tok))
	expect(t, "logout", r, 200, msgLoggedOut, "null")
	if len(r.Cookies) != 1 {
		t.Fatalf("logout cookies %v", r.Cookies)
	}
	c, err := http.ParseSetCookie(r.Cookies[0])
	if err != nil || c.Name != "TOKEN" || c.Value != "" || c.MaxAge >= 0 || !strings.Contains(r.Cookies[0], "Max-Age=0") ||
		c.Path != "/" || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode {
		t.Fatalf("logout cookie %q", r.Cookies[0])
	}
	expect(t, "after logout", f.h.Serve(f.h.Logged)(ctx, bearer(tok)), 404, msgSessionNotFound, "false")
	expect(t, "logout twice", f.h.Serve(f.h.Logout)(ctx, bearer(tok)), 404, msgSessionNotFound, "false")
	expect(t, "logout without a session", f.h.Serve(f.h.Logout)(ctx, &events.APIGatewayV2HTTPRequest{}), 404, msgNoAuthInfo, "false")
	expect(t, "other session lives", f.h.Serve(f.h.Logged)(ctx, bearer(other)), 200, msgValidation, "true")

	f.advance(7*24*time.Hour + time.Second)
	expect(t, "expired session", f.h.Serve(f.h.Logged)(ctx, bearer(other)), 404, msgSessionNotFound, "false")
}

func TestProfile(t *testing.T) {
	f := newFixture(t)
	if r := f.h.Serve(f.h.Create)(ctx, post(`{"username":"Grace","email":"grace@example.com","password":"grace-password","bio":"Admiral","pronounce":"grays"}`)); r.StatusCode != 200 {
		t.Fatal(r.Body)
	}
	get := func(name string) *events.APIGatewayV2HTTPRequest {
		return &events.APIGatewayV2HTTPRequest{PathParameters: map[string]string{"username": name}}
	}
	expect(t, "profile (any case)", f.h.Serve(f.h.Profile)(ctx, get("GRACE")), 200, "Grace", profileData("Grace", "", "Admiral", "", "grays"))
	expect(t, "unknown", f.h.Serve(f.h.Profile)(ctx, get("nobody")), 404, msgUserNotFound, "false")
	expect(t, "invalid name", f.h.Serve(f.h.Profile)(ctx, get("a b")), 404, msgUserNotFound, "false")
	expect(t, "no parameter", f.h.Serve(f.h.Profile)(ctx, &events.APIGatewayV2HTTPRequest{}), 404, msgUserNotFound, "false")
	expect(t, "invalid UTF-8", f.h.Serve(f.h.Profile)(ctx, get("\xff\xfe\xfd")), 404, msgUserNotFound, "false")

	f.store.setFault("AccountByUsername", errors.New("connection reset: secret detail"))
	r := f.h.Serve(f.h.Profile)(ctx, get("grace"))
	expect(t, "store failure", r, 500, msgInternal, "null")
}

func TestPasswordResetToken(t *testing.T) {
	f := newFixture(t)
	f.svc.RecipientMailsPerHour = 100 // mails one address often; the recipient limit is tested in pkg/account
	f.create(t, "heidi", "Heidi@example.com", "heidi-password")
	q := func(query, ct, body string) *events.APIGatewayV2HTTPRequest {
		return &events.APIGatewayV2HTTPRequest{RawQueryString: query, Headers: map[string]string{"content-type": ct}, Body: body}
	}
	sent := func() int { return len(f.mailer.Reset) }

	expect(t, "query string", f.h.Serve(f.h.PasswordResetToken)(ctx, q("email=heidi%40example.com", "", "")), 200, msgResetTokenGenerated, "null")
	f.advance(time.Minute) // one mail a minute per account
	expect(t, "JSON body", f.h.Serve(f.h.PasswordResetToken)(ctx, post(`{"email":"HEIDI@example.com"}`)), 200, msgResetTokenGenerated, "null")
	f.advance(time.Minute)
	expect(t, "form body", f.h.Serve(f.h.PasswordResetToken)(ctx, form(`email=heidi%40example.com`)), 200, msgResetTokenGenerated, "null")
	if sent() != 3 {
		t.Fatalf("%d mails", sent())
	}
	m, _ := f.mailer.LastReset()
	if m.To != "Heidi@example.com" || m.ValidFor != 30*time.Minute {
		t.Fatalf("mail %+v", m)
	}
	if _, ok := account.CanonicalUUID(m.Token); !ok || m.Token[14] != '4' {
		t.Fatalf("token %q is not a UUID v4", m.Token)
	}
	f.advance(time.Minute)
	expect(t, "the query string wins over the body", f.h.Serve(f.h.PasswordResetToken)(ctx, q("email=nobody%40example.com", "application/json", `{"email":"heidi@example.com"}`)),
		404, msgEmailUserNotFound, "null")
	f.advance(time.Minute)
	expect(t, "query without email: the body", f.h.Serve(f.h.PasswordResetToken)(ctx, q("x=1", "application/json", `{"email":"heidi@example.com"}`)),
		200, msgResetTokenGenerated, "null")

	for _, tc := range []struct {
		name string
		req  *events.APIGatewayV2HTTPRequest
		code int
		msg  string
	}{
		{"unknown email", post(`{"email":"nobody@example.com"}`), 404, msgEmailUserNotFound},
		{"email null (nothing)", q("", "", ""), 400, msgEmailNull},
		{"email null (JSON)", post(`{"email":null}`), 400, msgEmailNull},
		{"email empty (query)", q("email=", "", ""), 400, msgEmailEmpty},
		{"email empty (JSON)", post(`{"email":""}`), 400, msgEmailEmpty},
		{"invalid email", post(`{"email":"heidi"}`), 406, msgInvalidEmail},
		{"email over 254", post(`{"email":"` + strings.Repeat("x", 250) + `@example.com"}`), 406, msgInvalidEmail},
		{"email not a string", post(`{"email":["heidi@example.com"]}`), 400, msgInvalidBody},
		{"malformed query", q("email=%zz", "", ""), 400, msgInvalidBody},
		{"duplicate query", q("email=a%40b.c&email=d%40e.f", "", ""), 400, msgInvalidBody},
		{"malformed body", post(`{"email"`), 400, msgInvalidBody},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, tc.name, f.h.Serve(f.h.PasswordResetToken)(ctx, tc.req), tc.code, tc.msg, "null")
		})
	}
	if sent() != 4 {
		t.Fatalf("%d mails", sent())
	}

	// A failed send leaves no usable token: the previous one stays the valid one.
	last, _ := f.mailer.LastReset()
	f.mailer.Fail = errors.New("ses unreachable")
	f.advance(time.Minute)
	expect(t, "mail failed", f.h.Serve(f.h.PasswordResetToken)(ctx, post(`{"email":"heidi@example.com"}`)), 500, msgEmailNotSent, "null")
	f.mailer.Fail = nil
	expect(t, "older token still valid", f.h.Serve(f.h.PasswordReset)(ctx, post(`{"uuid":"`+last.Token+`","newPassword":"after-failed-mail"}`)), 200, msgPasswordSet, "null")
}

func (f *fixture) resetToken(t *testing.T, email string) string {
	t.Helper()
	f.advance(time.Minute) // one mail a minute per account
	if r := f.h.Serve(f.h.PasswordResetToken)(ctx, post(`{"email":"`+email+`"}`)); r.StatusCode != 200 {
		t.Fatalf("reset token: %s", r.Body)
	}
	m, err := f.mailer.LastReset()
	if err != nil {
		t.Fatal(err)
	}
	return m.Token
}

func TestPasswordReset(t *testing.T) {
	f := newFixture(t)
	f.svc.RecipientMailsPerHour = 100 // mails one address often; the recipient limit is tested in pkg/account
	f.create(t, "ivan", "ivan@example.com", "ivan-password")
	session := f.auth(t, "ivan", "ivan-password")
	tok := f.resetToken(t, "ivan@example.com")
	reset := func(uuid, pw string) events.APIGatewayV2HTTPResponse {
		return f.h.Serve(f.h.PasswordReset)(ctx, post(fmt.Sprintf(`{"uuid":%q,"newPassword":%q}`, uuid, pw)))
	}
	long := strings.Repeat("p", 201)
	for _, tc := range []struct {
		name, body string
		code       int
		msg        string
	}{
		{"password too short", `{"uuid":"` + tok + `","newPassword":"short"}`, 406, msgPasswordLength},
		{"password too long", `{"uuid":"` + tok + `","newPassword":"` + long + `"}`, 406, msgPasswordLength},
		{"uuid null", `{"newPassword":"new-password"}`, 400, msgUUIDNull},
		{"uuid JSON null", `{"uuid":null,"newPassword":"new-password"}`, 400, msgUUIDNull},
		{"uuid empty", `{"uuid":"","newPassword":"new-password"}`, 400, msgUUIDEmpty},
		{"password null", `{"uuid":"` + tok + `"}`, 400, msgPasswordNull},
		{"password empty", `{"uuid":"` + tok + `","newPassword":""}`, 400, msgPasswordEmpty},
		{"password with NUL", `{"uuid":"` + tok + `","newPassword":"new\u0000password"}`, 400, msgPasswordInvalid},
		{"uuid empty and password null: uuid first", `{"uuid":""}`, 400, msgUUIDEmpty},
		{"unknown uuid and short password: the password", `{"uuid":"nope","newPassword":"short"}`, 406, msgPasswordLength},
		{"unknown token", `{"uuid":"1b4e28ba-2fa1-41d2-883f-0016d3cca427","newPassword":"new-password"}`, 404, msgTokenNotFound},
		{"not a UUID", `{"uuid":"not-a-uuid","newPassword":"new-password"}`, 404, msgTokenNotFound},
		{"uuid with white space", `{"uuid":" ` + tok + `","newPassword":"new-password"}`, 404, msgTokenNotFound},
		{"uuid a number", `{"uuid":42,"newPassword":"new-password"}`, 400, msgInvalidBody},
		{"not an object", `null`, 400, msgInvalidBody},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, tc.body, f.h.Serve(f.h.PasswordReset)(ctx, post(tc.body)), tc.code, tc.msg, "null")
		})
	}
	expect(t, "set (upper-case uuid, form body)", f.h.Serve(f.h.PasswordReset)(ctx, form("uuid="+strings.ToUpper(tok)+"&newPassword=ivan-new-password")), 200, msgPasswordSet, "null")
	expect(t, "used", reset(tok, "ivan-newer-password"), 404, msgTokenNotFound, "null")
	expect(t, "sessions ended", f.h.Serve(f.h.Logged)(ctx, bearer(session)), 404, msgSessionNotFound, "false")
	expect(t, "old password", f.h.Serve(f.h.Auth)(ctx, post(`{"username":"ivan","password":"ivan-password"}`)), 401, msgAuthFailed, "null")
	f.auth(t, "ivan", "ivan-new-password")

	// A newer token replaces the older one.
	older := f.resetToken(t, "ivan@example.com")
	newer := f.resetToken(t, "ivan@example.com")
	expect(t, "replaced token", reset(older, "replaced-password"), 404, msgTokenNotFound, "null")

	// Expired while the record exists.
	f.advance(30*time.Minute + time.Second)
	expect(t, "expired", reset(newer, "expired-password"), 406, msgTokenExpired, "null")

	// The account was deleted after the token was issued.
	gone := f.resetToken(t, "ivan@example.com")
	f.store.setFault("ChangeCredentials", account.ErrNotFound)
	expect(t, "account gone", reset(gone, "gone-password"), 404, msgUserNotFound, "null")
	f.store.setFault("ChangeCredentials", errors.New("throttled: internal detail"))
	expect(t, "store failure", reset(gone, "gone-password"), 500, msgInternal, "null")
}

// A panic inside a route is the family's generic server error.
func TestServerError(t *testing.T) {
	f := newFixture(t)
	resp, err := f.h.Lambda(func(context.Context, *events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		panic("boom")
	})(ctx, events.APIGatewayV2HTTPRequest{})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "panic", resp, 500, msgInternal, "null")
	expect(t, "too many attempts", f.h.Answer(ctx, &account.Error{Code: account.CodeTooManyAttempts, RetryAfter: 1500 * time.Millisecond}), 429, msgTooManyAttempts, "null")
	if r := f.h.Answer(ctx, &account.Error{Code: account.CodeTooManyAttempts, RetryAfter: 1500 * time.Millisecond}); r.Headers["retry-after"] != "2" {
		t.Fatalf("retry-after %q", r.Headers["retry-after"])
	}
}
