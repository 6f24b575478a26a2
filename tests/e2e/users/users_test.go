package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gatehouse/gatehouse/infra/local/emulators"
	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/accounttest"
	"github.com/gatehouse/gatehouse/pkg/dynamo"
)

// user registers a fresh account through /users/register.
func user(t *testing.T, withEmail bool) (name, password, email string) {
	t.Helper()
	name, password = unique("u"), unique("pw-")
	body := url.Values{"username": {name}, "password": {password}}
	if withEmail {
		email = name + "@example.com"
		body.Set("email", email)
	}
	secrets.add(password)
	expect(t, "register "+name, postForm(t, "/users/register", body.Encode()), 200, `{"success":true,"message":"USER_INSERT_OK"}`)
	return name, password, email
}

func login(t *testing.T, name, password string) string {
	t.Helper()
	r := postJSON(t, "/users/login", fmt.Sprintf(`{"username":%q,"password":%q}`, name, password))
	if r.status != 200 {
		t.Fatalf("login %s: %d %s", name, r.status, r.body)
	}
	ssid := r.str(t, "ssid")
	secrets.add(ssid)
	return ssid
}

const (
	invalidPassword = `{"success":false,"message":"INVALID_PASSWORD"}`
	missingParam    = `{"success":false,"message":"ERROR_MISSING_PARAMETER"}`
	notAuth         = `{"success":false,"message":"ERROR_NOT_AUTHENTICATED"}`
)

func TestUsersLogin(t *testing.T) {
	t.Parallel()
	name, pw, _ := user(t, false)

	r := postJSON(t, "/users/login", fmt.Sprintf(`{"username":%q,"password":%q}`, strings.ToUpper(name), pw))
	ssid := r.str(t, "ssid")
	secrets.add(ssid)
	expect(t, "right password (any case of the username)", r, 200,
		fmt.Sprintf(`{"success":true,"message":"LOGIN_OK","userhash":%q,"ssid":%q}`, account.UserHash(name), ssid))
	if len(ssid) != 54 {
		t.Fatalf("ssid %q", ssid)
	}
	r = postForm(t, "/users/login", url.Values{"username": {name}, "password": {pw}}.Encode())
	if r.status != 200 || r.str(t, "message") != "LOGIN_OK" || r.str(t, "ssid") == ssid {
		t.Fatalf("form login: %d %s", r.status, r.body)
	}
	secrets.add(r.str(t, "ssid"))

	expect(t, "wrong password", postJSON(t, "/users/login", fmt.Sprintf(`{"username":%q,"password":"wrong-password"}`, name)), 401, invalidPassword)
	expect(t, "unknown username", postJSON(t, "/users/login", `{"username":"nobody-here","password":"whatever-pw"}`), 401, invalidPassword)
	expect(t, "invalid username", postJSON(t, "/users/login", `{"username":"no body","password":"whatever-pw"}`), 401, invalidPassword)
	expect(t, "missing password", postJSON(t, "/users/login", fmt.Sprintf(`{"username":%q}`, name)), 400, missingParam)
	expect(t, "missing username", postForm(t, "/users/login", "password=x"), 400, missingParam)
	expect(t, "empty body", postJSON(t, "/users/login", ``), 400, missingParam)
	expect(t, "malformed JSON", postJSON(t, "/users/login", `{"username":`), 400, `{"success":false,"message":"ERROR_INVALID_BODY"}`)
	expect(t, "body over 64 KiB", postJSON(t, "/users/login", `{"username":"`+strings.Repeat("a", 70<<10)+`"}`), 413,
		`{"success":false,"message":"ERROR_REQUEST_TOO_LARGE"}`)
}

// An account created with a token and no password (as the admin API can) is told to get
// a password.
func TestUsersLoginWithoutPassword(t *testing.T) {
	t.Parallel()
	name := unique("tok")
	svc := account.NewService(dynamo.New(emulators.DynamoDBClient(st.DynamoEndpoint), st.TableName), accounttest.NewHasher(), nil, account.Config{}, nil)
	if _, err := svc.Register(context.Background(), account.NewAccount{Username: name, Token: "token-only-secret"}); err != nil {
		t.Fatal(err)
	}
	expect(t, "no password", postJSON(t, "/users/login", fmt.Sprintf(`{"username":%q,"password":"token-only-secret"}`, name)), 401,
		`{"success":false,"message":"REGISTER_FOR_A_PASSWORD"}`)
}

func TestUsersRegister(t *testing.T) {
	t.Parallel()
	name, _, email := user(t, true)
	expect(t, "username taken (other case)", postJSON(t, "/users/register", fmt.Sprintf(`{"username":%q,"password":"another-password"}`, strings.ToUpper(name))), 200,
		`{"success":false,"message":"ERROR_LOGIN_WITH_PASSWORD"}`)
	expect(t, "email taken (other case)", postJSON(t, "/users/register", fmt.Sprintf(`{"username":%q,"password":"another-password","email":%q}`, unique("u"), strings.ToUpper(email))), 200,
		`{"success":false,"message":"ERROR_EMAIL_ALREADY_USED"}`)
	for _, tc := range []struct{ body, msg string }{
		{`{"username":"ab","password":"12345678"}`, "ERROR_INVALID_USERNAME_FORMAT"},
		{`{"username":"white space","password":"12345678"}`, "ERROR_INVALID_USERNAME_FORMAT"},
		{`{"username":"` + strings.Repeat("x", 101) + `","password":"12345678"}`, "ERROR_INVALID_USERNAME_FORMAT"},
		{`{"username":"valid-name","password":"1234567"}`, "ERROR_INVALID_PASSWORD_FORMAT"},
		{`{"username":"valid-name","password":"` + strings.Repeat("p", 201) + `"}`, "ERROR_INVALID_PASSWORD_FORMAT"},
		{`{"username":"valid-name","password":"12345678","email":"Name <a@example.com>"}`, "ERROR_INVALID_EMAIL_FORMAT"},
		{`{"username":"valid-name"}`, "ERROR_MISSING_PARAMETER"},
		{`{"password":"12345678"}`, "ERROR_MISSING_PARAMETER"},
	} {
		expect(t, tc.body, postJSON(t, "/users/register", tc.body), 400, `{"success":false,"message":"`+tc.msg+`"}`)
	}
	// An account without email, and one whose password is 200 emoji (800 bytes), work.
	pw := strings.Repeat("🔑", 200)
	n := unique("emoji")
	expect(t, "long unicode password", postJSON(t, "/users/register", fmt.Sprintf(`{"username":%q,"password":%q}`, n, pw)), 200, `{"success":true,"message":"USER_INSERT_OK"}`)
	login(t, n, pw)
	expect(t, "one character short of the long password", postJSON(t, "/users/login", fmt.Sprintf(`{"username":%q,"password":%q}`, n, strings.Repeat("🔑", 199))), 401, invalidPassword)
}

func TestUsersRegisterSwitchedOff(t *testing.T) {
	t.Parallel()
	closed := gateway(t, map[string]string{"ALLOW_REGISTRATION": "false"})
	body := fmt.Sprintf(`{"username":%q,"password":"a-good-password"}`, unique("closed"))
	expect(t, "registration off", do(t, closed, http.MethodPost, "/users/register", "application/json", body), 401,
		`{"success":false,"message":"CANT_CREATE_USER"}`)
	// Login still works on that gateway.
	name, pw, _ := user(t, false)
	if r := do(t, closed, http.MethodPost, "/users/login", "application/json", fmt.Sprintf(`{"username":%q,"password":%q}`, name, pw)); r.status != 200 {
		t.Fatalf("login with registration off: %d %s", r.status, r.body)
	}
}

func TestUsersInfo(t *testing.T) {
	t.Parallel()
	name, pw, email := user(t, true)
	ssid := login(t, name, pw)
	r := get(t, "/users/info", "Authorization", "Bearer "+ssid)
	m := r.json(t)
	u, _ := m["user"].(map[string]any)
	id, _ := u["user_id"].(float64)
	created, _ := u["created_at"].(string)
	if _, err := time.Parse(time.RFC3339, created); err != nil || id < 1 {
		t.Fatalf("info: %s", r.body)
	}
	expect(t, "valid session", r, 200, fmt.Sprintf(`{"success":true,"message":"USER_INFO","user":{"user_id":%d,"username":%q,"userhash":%q,"email":%q,"name":"","bio":"","website":"","pronounce":"","role":"user","created_at":%q}}`,
		int64(id), name, account.UserHash(name), email, created))
	for _, h := range [][]string{{"Cookie", "TOKEN=" + ssid}, {"Cookie", "theme=dark; ssid=" + ssid}} {
		if r := get(t, "/users/info", h...); r.status != 200 {
			t.Fatalf("%v: %d %s", h, r.status, r.body)
		}
	}
	expect(t, "no session", get(t, "/users/info"), 401, notAuth)
	expect(t, "unknown session", get(t, "/users/info", "Authorization", "Bearer "+strings.Repeat("A", 54)), 401, notAuth)
	expect(t, "garbage token", get(t, "/users/info", "Cookie", "TOKEN=garbage"), 401, notAuth)
}

func TestUsersInfoExpiredSession(t *testing.T) {
	t.Parallel()
	short := gateway(t, map[string]string{"SESSION_TTL": "1s"})
	name, pw, _ := user(t, false)
	r := do(t, short, http.MethodPost, "/users/login", "application/json", fmt.Sprintf(`{"username":%q,"password":%q}`, name, pw))
	ssid := r.str(t, "ssid")
	secrets.add(ssid)
	time.Sleep(2100 * time.Millisecond)
	expect(t, "expired session", get(t, "/users/info", "Authorization", "Bearer "+ssid), 401, notAuth)
}

var sixDigits = regexp.MustCompile(`\b([0-9]{6})\b`)

// requestOTP asks for a code and reads it from the SES inbox.
func requestOTP(t *testing.T, name, email string) (reqID, code string) {
	t.Helper()
	before := len(mailsTo(t, email))
	r := postJSON(t, "/users/requestotp", fmt.Sprintf(`{"username":%q}`, name))
	reqID = r.str(t, "reqid")
	expect(t, "OTP sent", r, 200, fmt.Sprintf(`{"success":true,"message":"OTP_SENT","userhash":%q,"reqid":%q}`, account.UserHash(strings.ToLower(name)), reqID))
	mails := mailsTo(t, email)
	if len(mails) != before+1 {
		t.Fatalf("%d new mails to %s", len(mails)-before, email)
	}
	m := mails[len(mails)-1]
	match := sixDigits.FindStringSubmatch(m.Body.Text)
	if match == nil || !strings.Contains(m.Body.HTML, match[1]) || m.Subject == "" || m.From != "no-reply@gatehouse.local" {
		t.Fatalf("OTP mail: %+v", m)
	}
	secrets.add(match[1]+"\"", reqID) // a bare 6-digit code is too common to search logs for
	return reqID, match[1]
}

func modify(t *testing.T, base, userhash, otp, reqID, password string) response {
	t.Helper()
	return do(t, base, http.MethodPost, "/users/modifypassword", "application/x-www-form-urlencoded",
		url.Values{"userhash": {userhash}, "OTP": {otp}, "reqid": {reqID}, "password": {password}}.Encode())
}

func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

func TestUsersOTPFlow(t *testing.T) {
	t.Parallel()
	name, pw, email := user(t, true)
	old := login(t, name, pw)
	reqID, code := requestOTP(t, strings.ToUpper(name), email)
	uh := account.UserHash(name)
	newPW := unique("new-pw-")
	secrets.add(newPW)

	expect(t, "new password invalid", modify(t, st.URL, uh, code, reqID, "short"), 400, `{"success":false,"message":"ERROR_INVALID_PASSWORD_FORMAT"}`)
	expect(t, "reqid unknown", modify(t, st.URL, uh, code, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", newPW), 403, `{"success":false,"message":"ERROR_INVALID_REQUEST"}`)
	other, _, _ := user(t, false)
	expect(t, "reqid of another userhash", modify(t, st.URL, account.UserHash(other), code, reqID, newPW), 403, `{"success":false,"message":"ERROR_INVALID_REQUEST"}`)
	expect(t, "OTP wrong", modify(t, st.URL, uh, wrongCode(code), reqID, newPW), 401, `{"success":false,"message":"ERROR_INVALID_OTP"}`)
	expect(t, "missing OTP", postJSON(t, "/users/modifypassword", fmt.Sprintf(`{"userhash":%q,"reqid":%q,"password":%q}`, uh, reqID, newPW)), 400, missingParam)

	expect(t, "changed", modify(t, st.URL, uh, code, reqID, newPW), 200,
		fmt.Sprintf(`{"success":true,"message":"PASSWORD_MODIFIED","userhash":%q,"reqid":%q}`, uh, reqID))
	expect(t, "already used", modify(t, st.URL, uh, code, reqID, unique("newer-")), 401, `{"success":false,"message":"ERROR_OTP_EXPIRED"}`)
	expect(t, "old password", postJSON(t, "/users/login", fmt.Sprintf(`{"username":%q,"password":%q}`, name, pw)), 401, invalidPassword)
	login(t, name, newPW)
	expect(t, "session from before the change", get(t, "/users/info", "Authorization", "Bearer "+old), 401, notAuth)
}

func TestUsersOTPExpires(t *testing.T) {
	t.Parallel()
	short := gateway(t, map[string]string{"OTP_TTL": "1s"})
	name, _, email := user(t, true)
	r := do(t, short, http.MethodPost, "/users/requestotp", "application/json", fmt.Sprintf(`{"username":%q}`, name))
	reqID := r.str(t, "reqid")
	m := sixDigits.FindStringSubmatch(lastMailTo(t, email).Body.Text)
	time.Sleep(2100 * time.Millisecond)
	expect(t, "expired", modify(t, st.URL, account.UserHash(name), m[1], reqID, unique("new-pw-")), 401, `{"success":false,"message":"ERROR_OTP_EXPIRED"}`)
}

func TestUsersRequestOTPErrors(t *testing.T) {
	t.Parallel()
	noMail, _, _ := user(t, false)
	expect(t, "no email", postJSON(t, "/users/requestotp", fmt.Sprintf(`{"username":%q}`, noMail)), 200, `{"success":false,"message":"ERROR_NO_EMAIL_SET"}`)
	expect(t, "unknown", postJSON(t, "/users/requestotp", `{"username":"nobody-at-all"}`), 403, `{"success":false,"message":"ERROR_INVALID_USERNAME"}`)
	expect(t, "missing", postJSON(t, "/users/requestotp", `{}`), 400, missingParam)
}

// With SES unreachable the route answers 500 and leaves no OTP behind.
func TestUsersRequestOTPMailFails(t *testing.T) {
	t.Parallel()
	broken := gateway(t, map[string]string{"AWS_ENDPOINT_URL_SESV2": "http://127.0.0.1:9"})
	name, _, email := user(t, true)
	r := do(t, broken, http.MethodPost, "/users/requestotp", "application/json", fmt.Sprintf(`{"username":%q}`, name))
	expect(t, "mail failed", r, 500, `{"success":false,"message":"ERROR_EMAIL_SENDING_FAILED"}`)
	if n := len(mailsTo(t, email)); n != 0 {
		t.Fatalf("%d mails", n)
	}
	// No OTP record exists for the account.
	db := emulators.DynamoDBClient(st.DynamoEndpoint)
	a, err := dynamo.New(db, st.TableName).AccountByUsername(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(st.TableName), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: fmt.Sprintf("USER#%d", a.UserID)},
			"SK": &types.AttributeValueMemberS{Value: "OTP"},
		},
	})
	if err != nil || out.Item != nil {
		t.Fatalf("OTP item after a failed send: %v %v", out.Item, err)
	}
}

// parallel runs fn n times at once and returns the bodies' messages.
func parallel(n int, fn func(i int) response) []response {
	out := make([]response, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			out[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return out
}

func count(t *testing.T, rs []response) map[string]int {
	t.Helper()
	m := map[string]int{}
	for _, r := range rs {
		m[fmt.Sprintf("%d %s", r.status, r.str(t, "message"))]++
	}
	return m
}

func TestUsersRaceRegisterOneName(t *testing.T) {
	t.Parallel()
	name := unique("race")
	rs := parallel(20, func(i int) response {
		return postJSON(t, "/users/register", fmt.Sprintf(`{"username":%q,"password":"race-password-%d"}`, name, i))
	})
	got := count(t, rs)
	if got["200 USER_INSERT_OK"] != 1 || got["200 ERROR_LOGIN_WITH_PASSWORD"] != 19 {
		t.Fatalf("20 registrations of one name: %v", got)
	}
}

func TestUsersRaceOneOTP(t *testing.T) {
	t.Parallel()
	name, _, email := user(t, true)
	reqID, code := requestOTP(t, name, email)
	uh := account.UserHash(name)
	rs := parallel(20, func(i int) response { return modify(t, st.URL, uh, code, reqID, fmt.Sprintf("raced-password-%02d", i)) })
	got := count(t, rs)
	if got["200 PASSWORD_MODIFIED"] != 1 || got["401 ERROR_OTP_EXPIRED"] != 19 {
		t.Fatalf("20 uses of one OTP: %v", got)
	}
}

func TestUsersRaceWrongOTPs(t *testing.T) {
	t.Parallel()
	name, _, email := user(t, true)
	reqID, code := requestOTP(t, name, email)
	uh := account.UserHash(name)
	wrong := wrongCode(code)
	rs := parallel(20, func(int) response { return modify(t, st.URL, uh, wrong, reqID, "never-set-password") })
	got := count(t, rs)
	if got["401 ERROR_INVALID_OTP"] != 5 || got["401 ERROR_OTP_EXPIRED"] != 15 {
		t.Fatalf("20 wrong guesses: %v", got)
	}
	expect(t, "right code after 5 wrong", modify(t, st.URL, uh, code, reqID, "never-set-password"), 401, `{"success":false,"message":"ERROR_OTP_EXPIRED"}`)
}

func TestUnknownRoutes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ method, path string }{
		{http.MethodGet, "/"}, {http.MethodGet, "/users"}, {http.MethodGet, "/users/login"},
		{http.MethodPost, "/users/info"}, {http.MethodDelete, "/users/register"}, {http.MethodGet, "/nope/../users/info/x"},
	} {
		expect(t, tc.method+" "+tc.path, do(t, st.URL, tc.method, tc.path, "", ""), 404, `{"message":"Not Found"}`)
	}
}

func TestUsersLogout(t *testing.T) {
	t.Parallel()
	name, pw, _ := user(t, false)
	ssid, other := login(t, name, pw), login(t, name, pw)
	expect(t, "logout", postJSON(t, "/users/logout", ``, "Authorization", "Bearer "+ssid), 200, `{"success":true,"message":"LOGOUT_OK"}`)
	expect(t, "token after logout", get(t, "/users/info", "Authorization", "Bearer "+ssid), 401, notAuth)
	expect(t, "logout twice", postJSON(t, "/users/logout", ``, "Cookie", "ssid="+ssid), 401, notAuth)
	expect(t, "no session", postJSON(t, "/users/logout", ``), 401, notAuth)
	if r := get(t, "/users/info", "Cookie", "TOKEN="+other); r.status != 200 {
		t.Fatalf("logout ended another session: %d %s", r.status, r.body)
	}
}
