package e2e

import (
	"encoding/json"
	"fmt"
	"testing"
)

// UsersMessage returns data.message of a Users family answer: a code (string) or the
// route's object (map), as MMDL's front end reads it (helpers/frontend/response.js).
func (r Response) UsersMessage(t testing.TB) any {
	t.Helper()
	var b struct {
		Data struct {
			Message any `json:"message"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(r.Body), &b); err != nil || b.Data.Message == nil {
		t.Fatalf("no data.message in %d %q", r.Status, r.Body)
	}
	return b.Data.Message
}

// UsersField returns a string member of the object in data.message ("ssid", "reqid", ...),
// or "" when there is none.
func (r Response) UsersField(t testing.TB, key string) string {
	t.Helper()
	m, _ := r.UsersMessage(t).(map[string]any)
	v, _ := m[key].(string)
	return v
}

// CountUsers tallies Users answers as "<status> <data.message code>".
func CountUsers(t testing.TB, rs []Response) map[string]int {
	t.Helper()
	m := map[string]int{}
	for _, r := range rs {
		code, _ := r.UsersMessage(t).(string)
		m[fmt.Sprintf("%d %s", r.Status, code)]++
	}
	return m
}
