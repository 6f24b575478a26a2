package e2e

import (
	"encoding/json"
	"fmt"
	"testing"
)

// UserBody is the User family's envelope, with the HTTP status as statusCode.
func UserBody(status int, msg, data string) string {
	b, err := json.Marshal(map[string]string{"statusCode": fmt.Sprint(status), "message": msg, "data": data})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// ExpectUser checks the exact status and User family body of an answer.
func ExpectUser(t testing.TB, what string, r Response, status int, msg, data string) {
	t.Helper()
	Expect(t, what, r, status, UserBody(status, msg, data))
}

// UserProfile is the JSON document GET /user/profile (and /user/create, PUT /user/profile)
// carry as data.
func UserProfile(username, name, bio, website, pronounce string) string {
	return fmt.Sprintf(`{"username":%q,"name":%q,"bio":%q,"website":%q,"pronounce":%q,"followers":"0","following":"0"}`,
		username, name, bio, website, pronounce)
}
