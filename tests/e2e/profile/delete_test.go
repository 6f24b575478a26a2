package profile_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/tests/e2e"
)

// DELETE /user deletes the account and every record of it; its sessions end at once and
// its username and email are free again.
func TestDeleteAccount(t *testing.T) {
	t.Parallel()
	name, pw, email := e2e.RegisterUser(t, true)
	id := userID(t, name)
	// A pending reset token: a record outside the account's partition.
	expect(t, "reset token", e2e.PostJSON(t, "/user/password-reset-token", e2e.JSONBody("email", email)), 200, "Password reset token generated", "null")
	resetHash := attr(accountItem(t, id), "reset_hash")
	if resetHash == "" || e2e.Item(t, "RESET#"+resetHash, "RESET") == nil {
		t.Fatal("no pending reset token to delete")
	}
	token, other := e2e.Login(t, name, pw), e2e.Login(t, name, pw)

	expect(t, "wrong password", deleteUser(t, e2e.JSONBody("password", "wrong-password"), bearer(token)...), 401, "Authenticated failed", "null")
	if got := attr(accountItem(t, id), "failed_logins"); got != "1" {
		t.Fatalf("failed_logins after a wrong password: %q, want 1", got)
	}
	expect(t, "no password", deleteUser(t, `{}`, bearer(token)...), 400, "Password cannot be null", "null")
	expect(t, "empty password", deleteUser(t, `{"password":""}`, bearer(token)...), 400, "Password cannot be empty", "null")
	expect(t, "short password", deleteUser(t, `{"password":"short"}`, bearer(token)...), 406, "Password cannot be less than 8 or over 200 characters", "null")

	r := deleteUser(t, e2e.JSONBody("password", pw), "Cookie", "TOKEN="+token)
	expect(t, "delete", r, 200, "Account deleted", "null")
	if c := r.Header.Get("Set-Cookie"); !strings.HasPrefix(c, "TOKEN=;") {
		t.Fatalf("Set-Cookie %q, want the cookie cleared", c)
	}

	expect(t, "login after the delete", e2e.PostJSON(t, "/user/auth", e2e.JSONBody("username", name, "password", pw)), 401, "Authenticated failed", "null")
	for _, s := range []string{token, other} {
		expect(t, "old session", e2e.Get(t, "/user/logged", bearer(s)...), 404, "TOKEN was not found", "false")
		expect(t, "old session, profile update", putProfile(t, `{"bio":"x"}`, bearer(s)...), 404, "TOKEN was not found", "false")
	}
	expect(t, "delete again", deleteUser(t, e2e.JSONBody("password", pw), bearer(other)...), 404, "TOKEN was not found", "false")
	expect(t, "public profile", e2e.Get(t, "/user/profile/"+name), 404, "User not found", "false")

	// Every item of the account is gone from the table.
	if items := e2e.Partition(t, fmt.Sprintf("USER#%d", id)); len(items) != 0 {
		t.Fatalf("%d items left in the account's partition", len(items))
	}
	for _, k := range [][2]string{{"USERNAME#" + name, "USERNAME"}, {"EMAIL#" + email, "EMAIL"}, {"RESET#" + resetHash, "RESET"}} {
		if e2e.Item(t, k[0], k[1]) != nil {
			t.Fatalf("item %s %s left behind", k[0], k[1])
		}
	}
	for _, it := range e2e.Scan(t) {
		if v, ok := it["user_id"].(*types.AttributeValueMemberN); ok && v.Value == fmt.Sprint(id) {
			t.Fatalf("item %s %s still names user %d", attr(it, "PK"), attr(it, "SK"), id)
		}
	}

	// The username and the email can be registered again.
	again := url.Values{"username": {name}, "password": {pw}, "email": {email}}
	e2e.Expect(t, "register again", e2e.PostForm(t, "/users/register", again.Encode()), 200, `{"success":true,"data":{"message":"USER_INSERT_OK"}}`)
	if userID(t, name) == id {
		t.Fatal("the new account got the deleted one's id")
	}
}

// Wrong passwords count toward the account's limit as at /user/auth: after the free ones
// the account is locked, for DELETE /user and the login alike.
func TestDeleteAccountWrongPasswordsLock(t *testing.T) {
	t.Parallel()
	name, pw, _ := e2e.RegisterUser(t, false)
	token := e2e.Login(t, name, pw)
	for i := range account.FreeLoginAttempts {
		expect(t, fmt.Sprint("wrong password ", i+1), deleteUser(t, e2e.JSONBody("password", "wrong-password"), bearer(token)...), 401, "Authenticated failed", "null")
	}
	r := deleteUser(t, e2e.JSONBody("password", pw), bearer(token)...)
	expect(t, "right password while locked", r, 429, "Too many attempts", "null")
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	expect(t, "login while locked", e2e.PostJSON(t, "/user/auth", e2e.JSONBody("username", name, "password", pw)), 429, "Too many attempts", "null")
	expect(t, "the account is still there", e2e.Get(t, "/user/logged", bearer(token)...), 200, "Validation", "true")
}

// The last admin cannot delete itself; an admin with another admin left can.
func TestLastAdminCannotDeleteItself(t *testing.T) {
	svc := e2e.Service("", nil, account.Config{})
	admin := func() (string, string) {
		name, pw := e2e.Unique("adm"), e2e.NewSecret("admin-pw-")
		if _, _, err := svc.EnsureAdmin(context.Background(), name, pw); err != nil {
			t.Fatal(err)
		}
		return name, pw
	}
	root, rootPW := admin()
	token := e2e.Login(t, root, rootPW)
	expect(t, "last admin", deleteUser(t, e2e.JSONBody("password", rootPW), bearer(token)...), 400, "The last admin cannot be deleted", "null")
	expect(t, "still there", e2e.Get(t, "/user/logged", bearer(token)...), 200, "Validation", "true")
	if got := attr(accountItem(t, userID(t, root)), "failed_logins"); got != "" && got != "0" {
		t.Fatalf("failed_logins %q after a right password", got)
	}
	second, secondPW := admin()
	expect(t, "an admin with another left", deleteUser(t, e2e.JSONBody("password", rootPW), bearer(token)...), 200, "Account deleted", "null")
	token = e2e.Login(t, second, secondPW)
	expect(t, "now the last", deleteUser(t, e2e.JSONBody("password", secondPW), bearer(token)...), 400, "The last admin cannot be deleted", "null")
}
