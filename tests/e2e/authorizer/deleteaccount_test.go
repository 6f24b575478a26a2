package authorizer

import (
	"net/http"
	"testing"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/tests/e2e"
)

// A self-deleted account's sessions are refused by the authorizer at once, every one of
// them: its session read needs the account (DELETE /user, API.md "Account lifecycle").
func TestAuthorizerDeniesAfterSelfDelete(t *testing.T) {
	t.Parallel()
	name, pw, _ := e2e.RegisterUser(t, false)
	ssid := e2e.Login(t, name, pw)
	other := e2e.Login(t, name, pw)
	allowed(t, "before the delete", call(t, e2e.Stack.URL, "Authorization", "Bearer "+other), name, account.RoleUser)
	e2e.Expect(t, "DELETE /user", e2e.Do(t, e2e.Stack.URL, http.MethodDelete, "/user", "application/json",
		e2e.JSONBody("password", pw), "Authorization", "Bearer "+ssid), 200, `{"statusCode":"200","message":"Account deleted","data":"null"}`)
	denied(t, "the deleting session", call(t, e2e.Stack.URL, "Authorization", "Bearer "+ssid))
	denied(t, "the account's other session", call(t, e2e.Stack.URL, "Authorization", "Bearer "+other))
	denied(t, "the other session as a cookie", call(t, e2e.Stack.URL, "Cookie", "TOKEN="+other))
}
