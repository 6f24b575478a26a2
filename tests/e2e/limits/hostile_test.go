package limits_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/tests/e2e"
)

// bodyRoutes read their body; hostile bodies must end in a 4xx there. Every other route
// must at least never answer 5xx.
var bodyRoutes = map[string]bool{
	"POST /users/login": true, "POST /login": true, "POST /users/register": true, "POST /users/requestotp": true, "POST /users/modifypassword": true,
	"POST /user/create": true, "POST /user/auth": true, "POST /user/password-reset-token": true, "POST /user/password-reset": true,
	"POST /api/user/v1/register": true, "PATCH /api/user/v1/changepassword": true, "PATCH /api/user/v1/resetpassword": true,
	"POST /api/v2/users/{username}": true, "PUT /api/v2/users/{username}/update": true,
}

// TestHostileInput sends hostile requests to every route of the template: invalid UTF-8,
// NUL bytes, huge numbers, deep nesting, duplicate keys, __proto__-like keys, CR/LF in
// names that would reach mails, a 1 MB body, wrong content types. None may get a 5xx,
// routes that read a body answer 4xx, and no account is created.
func TestHostileInput(t *testing.T) {
	t.Parallel()
	admin, adminPW, _ := e2e.RegisterUser(t, false)
	if _, _, err := service(t).PromoteAdmin(ctx, admin, adminPW); err != nil {
		t.Fatal(err)
	}
	m := e2e.Unique("hostile")
	names := []string{m + "a", m + "b"}
	// Every member any route reads gets the hostile value, so no route can succeed by
	// ignoring the member that carries it.
	members := []string{"username", "password", "email", "name", "bio", "website", "pronounce", "OTP", "otp", "reqid",
		"userhash", "uuid", "newPassword", "oldpassword", "newpassword", "token"}
	secret := map[string]bool{"password": true, "token": true, "newPassword": true, "oldpassword": true, "newpassword": true}
	object := func(value func(member string) string) string {
		parts := make([]string, len(members))
		for i, k := range members {
			parts[i] = fmt.Sprintf("%q:%s", k, value(k))
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	form := func(value string) string {
		parts := make([]string, len(members))
		for i, k := range members {
			parts[i] = k + "=" + value
		}
		return strings.Join(parts, "&")
	}
	dup := func(k string) string { return `"` + names[0] + `-` + k + `","` + k + `":"` + names[1] + `-` + k + `"` }
	payloads := []struct{ what, contentType, body string }{
		{"invalid UTF-8", "application/json", object(func(string) string { return "\"" + names[0] + "\xff\xfe-password\"" })},
		{"NUL bytes", "application/json", object(func(string) string { return `"` + names[0] + `\u0000@example.com"` })},
		{"huge numbers", "application/json", object(func(string) string { return "123456789012345678901234567890123456789e999999" })},
		{"deep nesting", "application/json", object(func(string) string { return strings.Repeat("[", 5000) + strings.Repeat("]", 5000) })},
		{"nesting past the decoder's limit", "application/json", `{"password":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`},
		{"duplicate keys", "application/json", object(dup)},
		{"__proto__ keys", "application/json", `{"__proto__":{"role":"admin","password":"proto-password"},"constructor":{"prototype":{"role":"admin"}}}`},
		// CR/LF in a password harms nothing (a password never reaches a header), so secrets
		// get a too-short one here and the names carry the injection.
		{"CR/LF in names", "application/json", object(func(k string) string {
			if secret[k] {
				return `"\r\n"`
			}
			return `"` + names[0] + `\r\nBcc: victim@example.com"`
		})},
		{"1 MB body", "application/json", object(func(string) string { return `"` + strings.Repeat("p", 1<<20/len(members)) + `"` })},
		{"XML", "application/xml", `<user><username>` + names[0] + `</username><password>xml-password</password></user>`},
		{"multipart", "multipart/form-data; boundary=X", "--X\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nmultipart-pw\r\n--X--\r\n"},
		{"form, NUL", "application/x-www-form-urlencoded", form(names[0] + "%00%40example.com")},
		{"form, invalid UTF-8", "application/x-www-form-urlencoded", form(names[0] + "%ff%fe-password")},
		{"form, bad escapes", "application/x-www-form-urlencoded", form("%zz")},
		{"not an object", "application/json", `["username","` + names[0] + `"]`},
		{"truncated JSON", "application/json", `{"username":"` + names[0] + `","password":"tr`},
	}
	auth := []string{"Authorization", e2e.Basic(admin, adminPW)}
	for _, fn := range e2e.Stack.Template.Functions {
		for _, r := range fn.Routes {
			key := strings.ToUpper(r.Method) + " " + r.Path
			path := strings.ReplaceAll(r.Path, "{username}", names[0])
			for _, p := range payloads {
				resp := e2e.Do(t, e2e.Stack.URL, r.Method, path, p.contentType, p.body, auth...)
				switch {
				case resp.Status >= 500:
					t.Errorf("%s, %s: %d %s", key, p.what, resp.Status, resp.Body)
				case bodyRoutes[key] && resp.Status < 400:
					t.Errorf("%s, %s: %d %s (want a 4xx)", key, p.what, resp.Status, resp.Body)
				}
			}
			// Hostile query strings too.
			for _, q := range []string{"?limit=99999999999999999999999", "?cursor=%ff%fe", "?limit=1&limit=2", "?email=%00", "?x=%zz"} {
				if resp := e2e.Do(t, e2e.Stack.URL, r.Method, path+q, "", "", auth...); resp.Status >= 500 {
					t.Errorf("%s%s: %d %s", key, q, resp.Status, resp.Body)
				}
			}
		}
	}
	// Nothing was written: none of the names exists (in any case), nor their addresses.
	svc := service(t)
	for _, n := range names {
		if _, err := svc.AccountByUsername(ctx, n); !errors.Is(err, account.ErrNotFound) {
			t.Errorf("account %s exists after hostile requests (%v)", n, err)
		}
		if _, err := svc.AccountByEmail(ctx, n+"@example.com"); !errors.Is(err, account.ErrNotFound) {
			t.Errorf("email of %s registered after hostile requests (%v)", n, err)
		}
	}
	if len(e2e.MailsTo(t, "victim@example.com")) != 0 {
		t.Error("a mail reached the injected Bcc address")
	}
}

// TestHeaderInjectionInMails: what a user controls never reaches a mail header. An
// account's username and email are free of CR/LF by the rules checked above; the profile
// name is refused with it too.
func TestHeaderInjectionInMails(t *testing.T) {
	t.Parallel()
	n := e2e.Unique("crlf")
	body := fmt.Sprintf(`{"username":%q,"email":"%s@example.com","password":"crlf-password-1","name":"Eve\r\nBcc: victim@example.com"}`, n, n)
	r := e2e.PostJSON(t, "/user/create", body)
	if r.Status != 400 {
		t.Fatalf("CR/LF in the name: %d %s", r.Status, r.Body)
	}
	r = e2e.Do(t, e2e.Stack.URL, http.MethodPost, "/api/user/v1/register", "application/x-www-form-urlencoded",
		"name=Eve%0D%0ABcc:+victim@example.com&email="+n+"%40example.com&password=crlf-password-1")
	if r.Status != 400 {
		t.Fatalf("CR/LF in the v1 name: %d %s", r.Status, r.Body)
	}
}
