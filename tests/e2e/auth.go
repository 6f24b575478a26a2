package e2e

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// Basic is an Authorization header of the Basic scheme: "Basic " + base64(user:secret).
func Basic(user, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+secret))
}

// ExpiredSession logs a fresh account in through a gateway of its own whose sessions last
// a second and returns the session once it has expired (waiting for that).
func ExpiredSession(t testing.TB) string {
	t.Helper()
	short := Gateway(t, map[string]string{"SESSION_TTL": "1s"})
	name, pw, _ := RegisterUser(t, false)
	r := Do(t, short, http.MethodPost, "/users/login", "application/json", fmt.Sprintf(`{"username":%q,"password":%q}`, name, pw))
	ssid := r.UsersField(t, "ssid")
	Secret(ssid)
	time.Sleep(2100 * time.Millisecond)
	return ssid
}

// NewSecret returns a fresh value (Unique) recorded as a secret that no log may hold: a
// password or token a test sends.
func NewSecret(prefix string) string {
	s := Unique(prefix)
	Secret(s)
	return s
}
