package limits_test

// Issue 12, items 5, 6, 7 and 12, end to end: email folding, mail abuse, username
// characters and JSON surrogates, in every family that each concerns.

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gatehouse/gatehouse/infra/local/emulators"
	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/tests/e2e"
)

// sameAnswer checks that got is exactly the answer want (status and body): an input
// refused for a new reason must be refused like a known bad input of its kind.
func sameAnswer(t *testing.T, what string, got, want e2e.Response) {
	t.Helper()
	if got.Status != want.Status || got.Body != want.Body {
		t.Errorf("%s:\n got %d %s\nwant %d %s", what, got.Status, got.Body, want.Status, want.Body)
	}
	if got.Status >= 500 || got.Status < 400 {
		t.Errorf("%s: %d is not a client error", what, got.Status)
	}
}

func usersRegister(t *testing.T, base, name, email, pw string) e2e.Response {
	t.Helper()
	body := url.Values{"username": {name}, "password": {pw}}
	if email != "" {
		body.Set("email", email)
	}
	e2e.Secret(pw)
	return e2e.Do(t, base, http.MethodPost, "/users/register", "application/x-www-form-urlencoded", body.Encode())
}

func mustRegister(t *testing.T, name, email, pw string) {
	t.Helper()
	if r := usersRegister(t, e2e.Stack.URL, name, email, pw); r.Status != 200 || !strings.Contains(r.Body, "USER_INSERT_OK") {
		t.Fatalf("register %s <%s>: %d %s", name, email, r.Status, r.Body)
	}
}

func newAdmin(t *testing.T) (name, pw string) {
	t.Helper()
	name, pw = e2e.Unique("admin"), e2e.Unique("admin-pw-")
	e2e.Secret(pw)
	if _, err := service(t).Register(ctx, account.NewAccount{Username: name, Password: pw, Role: account.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	return name, pw
}

func changePasswordJSON(t *testing.T, body string) e2e.Response {
	t.Helper()
	return e2e.Do(t, e2e.Stack.URL, http.MethodPatch, "/api/user/v1/changepassword", "application/json", body)
}

// ---------------------------------------------------------------- item 12: surrogates

// Three different passwords with different lone surrogates decoded to one (U+FFFD), so
// each logged in to the account whose password is "\ufffdabcdefgh". Now each is a bad
// body in every family, answered exactly like a body that is not JSON at all.
func TestLoneSurrogatesAreBadBodies(t *testing.T) {
	t.Parallel()
	name := e2e.Unique("surr")
	email := name + "@example.com"
	const pw = "\ufffdabcdefgh" // a legitimate password holding U+FFFD itself
	mustRegister(t, name, email, pw)
	admin, adminPW := newAdmin(t)
	adminAuth := e2e.Basic(admin, adminPW)

	badUsers := e2e.PostJSON(t, "/users/login", `{"username":`)
	badUser := e2e.PostJSON(t, "/user/auth", `{"username":`)
	badV1 := changePasswordJSON(t, `{"email":`)
	badAdmin := e2e.PostJSON(t, "/api/v2/users/"+e2e.Unique("newbie"), `{"password":`, "Authorization", adminAuth)
	for _, lone := range []string{`\ud800`, `\udbff`, `\udc00`} {
		guess := lone + "abcdefgh"
		sameAnswer(t, "/users/login "+lone, e2e.PostJSON(t, "/users/login", fmt.Sprintf(`{"username":%q,"password":"%s"}`, name, guess)), badUsers)
		sameAnswer(t, "/user/auth "+lone, e2e.PostJSON(t, "/user/auth", fmt.Sprintf(`{"username":%q,"password":"%s"}`, name, guess)), badUser)
		sameAnswer(t, "changepassword "+lone, changePasswordJSON(t, fmt.Sprintf(`{"email":%q,"oldpassword":"%s","newpassword":"surrogate-new-pw"}`, email, guess)), badV1)
		sameAnswer(t, "/users/register "+lone, e2e.PostJSON(t, "/users/register", fmt.Sprintf(`{"username":%q,"password":"%s"}`, e2e.Unique("surr"), guess)), e2e.PostJSON(t, "/users/register", `{"username":`))
		sameAnswer(t, "admin create "+lone, e2e.PostJSON(t, "/api/v2/users/"+e2e.Unique("newbie"), fmt.Sprintf(`{"password":"%s"}`, guess), "Authorization", adminAuth), badAdmin)
	}
	// A lone surrogate in a member name or a nested value is no better.
	sameAnswer(t, "in a member name", e2e.PostJSON(t, "/users/login", fmt.Sprintf(`{"username":%q,"password":%q,"\udfff":"x"}`, name, pw)), badUsers)
	// The password itself still works, as an escape or as UTF-8, and was not changed.
	if r := e2e.PostJSON(t, "/user/auth", fmt.Sprintf(`{"username":%q,"password":"\ufffdabcdefgh"}`, name)); r.Status != 200 {
		t.Fatalf("the real password: %d %s", r.Status, r.Body)
	}
	e2e.Login(t, name, pw)
}

// --------------------------------------------------------- item 5: ASCII-only folding

// "vİctim" (U+0130) and a Kelvin-sign K lowercased to another person's address: the
// squatter who registered first blocked the owner and received the owner's resets. Now
// they are invalid emails in every family, and the owner's address is the owner's.
func TestEmailFoldingIsASCIIOnly(t *testing.T) {
	t.Parallel()
	n := e2e.Unique("")
	owner := "victim" + n + "@example.com"
	squat := "vİctim" + n + "@example.com"
	kelvin := "\u212Aate" + n + "@example.com"
	pw := e2e.Unique("fold-pw-")

	// Users family: the squatter's address is refused like any malformed one.
	badUsers := usersRegister(t, e2e.Stack.URL, e2e.Unique("fold"), "not-an-address", pw)
	sameAnswer(t, "users: vİctim", usersRegister(t, e2e.Stack.URL, e2e.Unique("squat"), squat, pw), badUsers)
	sameAnswer(t, "users: Kelvin sign", usersRegister(t, e2e.Stack.URL, e2e.Unique("squat"), kelvin, pw), badUsers)
	// User family: 406 "Invalid email", as for any malformed address.
	create := func(email string) e2e.Response {
		return e2e.PostJSON(t, "/user/create", e2e.JSONBody("username", e2e.Unique("squat"), "email", email, "password", pw))
	}
	badUser := create("not-an-address")
	sameAnswer(t, "user: vİctim", create(squat), badUser)
	sameAnswer(t, "user: Kelvin sign", create(kelvin), badUser)
	sameAnswer(t, "user: reset for vİctim", e2e.PostJSON(t, "/user/password-reset-token", e2e.JSONBody("email", squat)),
		e2e.PostJSON(t, "/user/password-reset-token", e2e.JSONBody("email", "not-an-address")))
	// Account v1 family.
	v1 := func(email string) e2e.Response {
		return e2e.Do(t, e2e.Stack.URL, http.MethodPost, "/api/user/v1/register", "application/x-www-form-urlencoded",
			url.Values{"name": {"Squatter"}, "email": {email}, "password": {pw}}.Encode())
	}
	badV1 := v1("not-an-address")
	sameAnswer(t, "v1: vİctim", v1(squat), badV1)
	sameAnswer(t, "v1: Kelvin sign", v1(kelvin), badV1)
	sameAnswer(t, "v1: changepassword for vİctim", changePasswordJSON(t, e2e.JSONBody("email", squat, "oldpassword", pw, "newpassword", pw+"x")),
		changePasswordJSON(t, e2e.JSONBody("email", "not-an-address", "oldpassword", pw, "newpassword", pw+"x")))

	// The owner can register, and a reset of the owner's address reaches the owner.
	name := e2e.Unique("owner")
	mustRegister(t, name, owner, pw)
	if r := e2e.PostJSON(t, "/user/password-reset-token", e2e.JSONBody("email", strings.ToUpper(owner))); r.Status != 200 {
		t.Fatalf("reset for the owner: %d %s", r.Status, r.Body)
	}
	if n := len(e2e.MailsTo(t, owner)); n != 1 {
		t.Fatalf("%d mails to the owner, want 1", n)
	}

	// Domains compare in their IDNA ASCII form, and mail goes to that form.
	idn := e2e.Unique("idn")
	mustRegister(t, idn, idn+"@BÜCHER.example", pw)
	ascii := idn + "@xn--bcher-kva.example"
	if r := e2e.PostJSON(t, "/user/password-reset-token", e2e.JSONBody("email", ascii)); r.Status != 200 {
		t.Fatalf("reset by the ASCII form of the domain: %d %s", r.Status, r.Body)
	}
	if n := len(e2e.MailsTo(t, ascii)); n != 1 {
		t.Fatalf("%d mails to %s, want 1", n, ascii)
	}
}

// ------------------------------------------------------ item 7: username characters

// Usernames with / ? # % \ or control characters are refused in every family. In the
// admin API, {username} arrives decoded: a name holding them cannot be created, and on
// the other routes it answers like an unknown name. So /api/v2/users/bob%2Frefresh can only
// ever be bob's refresh route: no account "bob/refresh" can exist for it to mean.
func TestUsernameCharacters(t *testing.T) {
	t.Parallel()
	pw := e2e.Unique("chars-pw-")
	base := e2e.Unique("bob")
	// A name PRECIS refuses is the known invalid one each family answers for.
	const invalid = "😀😀😀"
	badUsers := usersRegister(t, e2e.Stack.URL, invalid, "", pw)
	badUser := e2e.PostJSON(t, "/user/create", e2e.JSONBody("username", invalid, "email", e2e.Unique("e")+"@example.com", "password", pw))
	for _, name := range []string{base + "/refresh", base + "?x", base + "#x", base + "%2Fx", base + `\x`, base + "／x"} {
		sameAnswer(t, "users: "+name, usersRegister(t, e2e.Stack.URL, name, "", pw), badUsers)
		sameAnswer(t, "user: "+name, e2e.PostJSON(t, "/user/create", e2e.JSONBody("username", name, "email", e2e.Unique("e")+"@example.com", "password", pw)), badUser)
		if _, err := service(t).AccountByUsername(ctx, name); err == nil {
			t.Errorf("account %q exists", name)
		}
	}
	// Account v1: the username is the address, so an address holding them is unsupported.
	v1 := func(email string) e2e.Response {
		return e2e.Do(t, e2e.Stack.URL, http.MethodPost, "/api/user/v1/register", "application/x-www-form-urlencoded",
			url.Values{"name": {"Bob Slash"}, "email": {email}, "password": {pw}}.Encode())
	}
	for _, local := range []string{"/refresh", "?x", "#x", "%x"} {
		e2e.Expect(t, "v1: "+base+local, v1(base+local+"@example.com"), 400, `{"status":"fail","data":{"email":"unsupported email address"}}`)
	}

	// Admin API.
	admin, adminPW := newAdmin(t)
	auth := e2e.Basic(admin, adminPW)
	bob := e2e.Unique("bob")
	if r := e2e.PostJSON(t, "/api/v2/users/"+bob, `{"password":"bob-password-1"}`, "Authorization", auth); r.Status != 200 {
		t.Fatalf("create %s: %d %s", bob, r.Status, r.Body)
	}
	unknown := e2e.Do(t, e2e.Stack.URL, http.MethodGet, "/api/v2/users/"+e2e.Unique("nobody"), "", "", "Authorization", auth)
	for _, esc := range []string{"%3Fx", "%23x", "%25x", "%5Cx", "%01x", "%EF%BC%8Fx"} {
		path := "/api/v2/users/" + bob + esc
		r := e2e.PostJSON(t, path, `{"password":"bob-password-2"}`, "Authorization", auth)
		if r.Status != 400 || !strings.Contains(r.Body, `"error":"username is invalid"`) {
			t.Errorf("POST %s: %d %s; want 400 username is invalid", path, r.Status, r.Body)
		}
		sameAnswer(t, "GET "+path, e2e.Do(t, e2e.Stack.URL, http.MethodGet, path, "", "", "Authorization", auth), unknown)
		sameAnswer(t, "refresh "+path, e2e.PostJSON(t, path+"/refresh", `{}`, "Authorization", auth), unknown)
		sameAnswer(t, "DELETE "+path, e2e.Do(t, e2e.Stack.URL, http.MethodDelete, path, "", "", "Authorization", auth), unknown)
	}
	// bob's own token was never touched by any of it.
	a, err := service(t).AccountByUsername(ctx, bob)
	if err != nil || a.TokenHash != "" {
		t.Fatalf("%s: %+v, %v", bob, a, err)
	}
}

// ------------------------------------------------------------- item 6: mail abuse

// waitOutHourEnd keeps a test that counts per clock hour from straddling two hours.
func waitOutHourEnd(t *testing.T) {
	t.Helper()
	if left := time.Until(time.Now().Truncate(time.Hour).Add(time.Hour)); left < 20*time.Second {
		time.Sleep(left + time.Second)
	}
}

// Ten accounts on aliases of one victim's address asked for ten mails at once and got
// them. Now at most RECIPIENT_MAILS_PER_HOUR (3) reach the mailbox in an hour, whichever
// route asks; the rest are the family's 429 with Retry-After. And no mail carries the
// text the squatters chose as their username.
func TestRecipientMailLimit(t *testing.T) {
	t.Parallel()
	waitOutHourEnd(t)
	victim := e2e.Unique("victim")
	var names, emails []string
	for i := range 10 {
		name := e2e.Unique("Visit_evil.example_verify_")
		email := fmt.Sprintf("%s+%d@example.com", victim, i)
		mustRegister(t, name, email, e2e.Unique("victim-pw-"))
		names, emails = append(names, name), append(emails, email)
	}
	rs := e2e.Parallel(10, func(i int) e2e.Response {
		if i%2 == 0 {
			return e2e.PostJSON(t, "/users/requestotp", e2e.JSONBody("username", names[i]))
		}
		return e2e.PostJSON(t, "/user/password-reset-token", e2e.JSONBody("email", emails[i]))
	})
	sent := 0
	for i, r := range rs {
		switch r.Status {
		case 200:
			sent++
		case 429:
			if w := retryAfter(t, r); w > time.Hour {
				t.Errorf("Retry-After %v", w)
			}
			if i%2 == 1 {
				e2e.Expect(t, "reset token past the limit", r, 429, `{"statusCode":"429","message":"Too many attempts","data":"null"}`)
			}
		default:
			t.Errorf("request %d: %d %s", i, r.Status, r.Body)
		}
	}
	// The registrations' verification mails count too (they come first): the mailbox gets
	// RECIPIENT_MAILS_PER_HOUR mails in all, whichever route sends them.
	var mails []emulators.Mail
	verifications := 0
	for _, email := range emails {
		mails = append(mails, e2e.MailsTo(t, email)...)
		v := e2e.VerificationMailsTo(t, email)
		verifications += len(v)
		mails = append(mails, v...)
	}
	if sent+verifications != account.DefaultRecipientMailsPerHour || len(mails) != account.DefaultRecipientMailsPerHour {
		t.Fatalf("%d requests answered 200, %d verification mails, %d mails reached the victim; want %d in all", sent, verifications, len(mails), account.DefaultRecipientMailsPerHour)
	}
	for _, m := range mails {
		for _, name := range names {
			if strings.Contains(m.Body.Text, name) || strings.Contains(m.Body.HTML, name) || strings.Contains(m.Body.Text, "evil.example") {
				t.Fatalf("a mail carries the username %q:\n%s", name, m.Body.Text)
			}
		}
	}
}

// budgetUsed reads the installation's mail counter of the current hour.
func budgetUsed(t *testing.T) int {
	t.Helper()
	hour := strconv.FormatInt(time.Now().UTC().Truncate(time.Hour).Unix(), 10)
	item := e2e.Item(t, "MAILBUDGET#"+hour, "MAILBUDGET")
	n, _ := item["mails"].(*types.AttributeValueMemberN)
	if n == nil {
		return 0
	}
	used, err := strconv.Atoi(n.Value)
	if err != nil {
		t.Fatal(err)
	}
	return used
}

// MAIL_BUDGET_PER_HOUR caps the installation's mails in an hour, whoever they are for.
// Not parallel: the budget counts every mail of the table, so nothing else may send
// meanwhile.
func TestMailBudget(t *testing.T) {
	waitOutHourEnd(t)
	var names, emails []string
	for range 3 {
		name := e2e.Unique("budget")
		mustRegister(t, name, name+"@example.com", e2e.Unique("budget-pw-"))
		names, emails = append(names, name), append(emails, name+"@example.com")
	}
	gw := e2e.Gateway(t, map[string]string{"MAIL_BUDGET_PER_HOUR": strconv.Itoa(budgetUsed(t) + 2)})
	for i, name := range names {
		r := e2e.Do(t, gw, http.MethodPost, "/users/requestotp", "application/json", e2e.JSONBody("username", name))
		if i < 2 {
			if r.Status != 200 {
				t.Fatalf("mail %d within the budget: %d %s", i+1, r.Status, r.Body)
			}
			continue
		}
		if r.Status != 429 {
			t.Fatalf("mail past the budget: %d %s", r.Status, r.Body)
		}
		retryAfter(t, r)
		r = e2e.Do(t, gw, http.MethodPost, "/user/password-reset-token", "application/json", e2e.JSONBody("email", emails[i]))
		e2e.Expect(t, "reset token past the budget", r, 429, `{"statusCode":"429","message":"Too many attempts","data":"null"}`)
		retryAfter(t, r)
	}
	if n := len(e2e.MailsTo(t, emails[2])); n != 0 {
		t.Fatalf("%d mails past the budget", n)
	}
}
