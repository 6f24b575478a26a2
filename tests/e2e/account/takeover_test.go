package account_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/tests/e2e"
)

// mailedResetToken asks the User family for a reset token for email and reads it from the
// mail.
func mailedResetToken(t *testing.T, email string) string {
	t.Helper()
	before := len(e2e.MailsTo(t, email))
	e2e.Expect(t, "reset token for "+email, e2e.PostJSON(t, "/user/password-reset-token", e2e.JSONBody("email", email)), 200,
		`{"statusCode":"200","message":"Password reset token generated","data":"null"}`)
	mails := e2e.MailsTo(t, email)
	if len(mails) != before+1 {
		t.Fatalf("%d new mails to %s", len(mails)-before, email)
	}
	tok := e2e.ResetToken.FindString(mails[len(mails)-1].Body.Text)
	if tok == "" {
		t.Fatal("no token in the reset mail")
	}
	e2e.Secret(tok)
	return tok
}

// TestAccountSecretDiesAfterOwnerRecovers is the pre-account takeover of issue 12 (item 2):
// someone registers the victim's address through v1 and keeps the user_secret; the real
// owner recovers the account with the emailed reset token; the squatter's secret must no
// longer reset the password (which the answer would hand over in clear).
func TestAccountSecretDiesAfterOwnerRecovers(t *testing.T) {
	t.Parallel()
	squat := newAccount(t)
	token := mailedResetToken(t, squat.email)
	ownerPW := e2e.NewSecret("owner-pw-")
	e2e.Expect(t, "owner resets by token", e2e.PostJSON(t, "/user/password-reset", e2e.JSONBody("uuid", token, "newPassword", ownerPW)), 200,
		`{"statusCode":"200","message":"New password has been set successfully","data":"null"}`)
	e2e.Expect(t, "squatter's user_secret after the owner's reset",
		patchForm(t, resetPath, url.Values{"email": {squat.email}}, "Authorization", "Bearer "+squat.secret), 401, authRequired)
	e2e.Login(t, strings.ToLower(squat.email), ownerPW)

	// The same after v1 changepassword.
	b := newAccount(t)
	newPW := e2e.NewSecret("changed-pw-")
	e2e.Expect(t, "changepassword", patchForm(t, changePath, url.Values{"email": {b.email}, "oldpassword": {b.password}, "newpassword": {newPW}}), 200, changed)
	e2e.Expect(t, "user_secret after changepassword",
		patchForm(t, resetPath, url.Values{"email": {b.email}}, "Authorization", "Bearer "+b.secret), 401, authRequired)
	e2e.Login(t, strings.ToLower(b.email), newPW)
}

// TestAccountChangeVoidsResetToken: a reset token mailed before a password change made
// another way (here v1 changepassword) no longer sets a password (issue 12, item 9).
func TestAccountChangeVoidsResetToken(t *testing.T) {
	t.Parallel()
	a := newAccount(t)
	token := mailedResetToken(t, a.email)
	newPW := e2e.NewSecret("changed-pw-")
	e2e.Expect(t, "changepassword", patchForm(t, changePath, url.Values{"email": {a.email}, "oldpassword": {a.password}, "newpassword": {newPW}}), 200, changed)
	e2e.Expect(t, "the older reset token", e2e.PostJSON(t, "/user/password-reset", e2e.JSONBody("uuid", token, "newPassword", e2e.Unique("attacker-pw-"))), 404,
		`{"statusCode":"404","message":"Token not found","data":"null"}`)
	e2e.Login(t, strings.ToLower(a.email), newPW)
}
