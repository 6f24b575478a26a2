// End-to-end tests of PUT /user/profile and DELETE /user (API.md, "Account lifecycle")
// through the local gateway and the real function binaries, with the exact status and body.
package profile_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gatehouse/gatehouse/tests/e2e"
)

var (
	expect  = e2e.ExpectUser
	profile = e2e.UserProfile
)

func bearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

func putProfile(t *testing.T, b string, headers ...string) e2e.Response {
	t.Helper()
	return e2e.Do(t, e2e.Stack.URL, http.MethodPut, "/user/profile", "application/json", b, headers...)
}

func deleteUser(t *testing.T, b string, headers ...string) e2e.Response {
	t.Helper()
	return e2e.Do(t, e2e.Stack.URL, http.MethodDelete, "/user", "application/json", b, headers...)
}

// userID reads the account's id behind the API's back.
func userID(t *testing.T, name string) int64 {
	t.Helper()
	id, err := e2e.Store("").UserIDByUsername(context.Background(), name)
	if err != nil {
		t.Fatalf("user id of %s: %v", name, err)
	}
	return id
}

func accountItem(t *testing.T, id int64) map[string]types.AttributeValue {
	t.Helper()
	return e2e.Item(t, fmt.Sprintf("USER#%d", id), "ACCOUNT")
}

func attr(it map[string]types.AttributeValue, name string) string {
	switch v := it[name].(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case *types.AttributeValueMemberN:
		return v.Value
	}
	return ""
}

func TestUpdateProfile(t *testing.T) {
	t.Parallel()
	name, pw, _ := e2e.RegisterUser(t, false)
	token := e2e.Login(t, name, pw)
	r := putProfile(t, `{"name":"Pat Doe","bio":"Gardener <3","website":"https://pat.example","pronounce":"pat"}`, bearer(token)...)
	expect(t, "set every field", r, 200, "Profile updated", profile(name, "Pat Doe", "Gardener <3", "https://pat.example", "pat"))
	expect(t, "GET /user/profile", e2e.Get(t, "/user/profile/"+name), 200, name, profile(name, "Pat Doe", "Gardener <3", "https://pat.example", "pat"))

	// "" clears, null and absent leave alone; the cookie works as well as Bearer.
	r = putProfile(t, `{"bio":"","pronounce":null}`, "Cookie", "TOKEN="+token)
	expect(t, "clear bio", r, 200, "Profile updated", profile(name, "Pat Doe", "", "https://pat.example", "pat"))
	if it := accountItem(t, userID(t, name)); it["bio"] != nil || attr(it, "name") != "Pat Doe" {
		t.Fatalf("stored account after clearing bio: bio %v, name %q", it["bio"], attr(it, "name"))
	}

	// The profile document sent back as read, its username in another case: accepted.
	back := profile(strings.ToUpper(name), "Pat Doe", "", "", "pat") // website "" clears it
	expect(t, "profile document sent back", putProfile(t, back, bearer(token)...), 200, "Profile updated", profile(name, "Pat Doe", "", "", "pat"))
	expect(t, "another username", putProfile(t, `{"username":"someone-else","bio":"x"}`, bearer(token)...), 400, "Username cannot be changed", "null")
	expect(t, "unchanged by the refusal", e2e.Get(t, "/user/profile/"+name), 200, name, profile(name, "Pat Doe", "", "", "pat"))

	// A form body, as at /user/create.
	r = e2e.Do(t, e2e.Stack.URL, http.MethodPut, "/user/profile", "application/x-www-form-urlencoded",
		url.Values{"website": {"https://form.example/?a=b&c"}}.Encode(), bearer(token)...)
	expect(t, "form body", r, 200, "Profile updated", profile(name, "Pat Doe", "", "https://form.example/?a=b&c", "pat"))
	expect(t, "nothing to change", putProfile(t, `{}`, bearer(token)...), 200, "Profile updated", profile(name, "Pat Doe", "", "https://form.example/?a=b&c", "pat"))
}

// Concurrent updates of different fields all stay.
func TestUpdateProfileConcurrent(t *testing.T) {
	t.Parallel()
	name, pw, _ := e2e.RegisterUser(t, false)
	token := e2e.Login(t, name, pw)
	fields := []string{"name", "bio", "website", "pronounce"}
	rs := e2e.Parallel(len(fields), func(i int) e2e.Response {
		return putProfile(t, e2e.JSONBody(fields[i], "value "+fields[i]), bearer(token)...)
	})
	for i, r := range rs {
		if r.Status != 200 {
			t.Fatalf("update of %s: %d %s", fields[i], r.Status, r.Body)
		}
	}
	expect(t, "after the concurrent updates", e2e.Get(t, "/user/profile/"+name), 200, name,
		profile(name, "value name", "value bio", "value website", "value pronounce"))
}

// Fields are validated with /user/create's rules and messages.
func TestUpdateProfileValidation(t *testing.T) {
	t.Parallel()
	name, pw, _ := e2e.RegisterUser(t, false)
	token := e2e.Login(t, name, pw)
	for _, tc := range []struct {
		body   string
		status int
		msg    string
	}{
		{`{"name":"ab"}`, 406, "Name cannot be less than 3 or over 150 characters"},
		{e2e.JSONBody("name", strings.Repeat("n", 151)), 406, "Name cannot be less than 3 or over 150 characters"},
		{e2e.JSONBody("bio", strings.Repeat("b", 201)), 406, "Bio cannot be over 200 characters"},
		{e2e.JSONBody("website", strings.Repeat("w", 201)), 406, "Website cannot be over 200 characters"},
		{e2e.JSONBody("pronounce", strings.Repeat("p", 101)), 406, "Pronounce cannot be over 100 characters"},
		{`{"name":"Pat\nDoe"}`, 400, "Name is invalid"},
		{`{"bio":"a\u0007b"}`, 400, "Bio is invalid"},
		{`{"name":"Pat Doe","website":"x\r\ny"}`, 400, "Website is invalid"},
		{`{"pronounce":5}`, 400, "Invalid request body"},
		{`{"username":true}`, 400, "Invalid request body"},
		{`[1]`, 400, "Invalid request body"},
		{`{"name":`, 400, "Invalid request body"},
	} {
		expect(t, tc.body, putProfile(t, tc.body, bearer(token)...), tc.status, tc.msg, "null")
	}
	expect(t, "unchanged", e2e.Get(t, "/user/profile/"+name), 200, name, profile(name, "", "", "", ""))
}

// Both routes need a session, answered as /user/logged answers.
func TestSessionRequired(t *testing.T) {
	t.Parallel()
	expired := e2e.ExpiredSession(t)
	for _, route := range []struct {
		what string
		send func(t *testing.T, b string, headers ...string) e2e.Response
		body string
	}{
		{"PUT /user/profile", putProfile, `{"bio":"x"}`},
		{"DELETE /user", deleteUser, `{"password":"some-password"}`},
	} {
		expect(t, route.what+" without credentials", route.send(t, route.body), 404, "No auth info found", "false")
		expect(t, route.what+" with an unknown token", route.send(t, route.body, bearer("1.not-a-session")...), 404, "TOKEN was not found", "false")
		expect(t, route.what+" with an unknown cookie", route.send(t, route.body, "Cookie", "TOKEN=nope"), 404, "TOKEN was not found", "false")
		expect(t, route.what+" with an expired session", route.send(t, route.body, bearer(expired)...), 404, "TOKEN was not found", "false")
	}
}
