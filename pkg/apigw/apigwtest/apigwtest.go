// Package apigwtest helps the API families' tests check handler answers.
package apigwtest

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gatehouse/gatehouse/pkg/apigw"
)

// SameJSON reports whether two JSON texts hold equal values (member order and white space
// aside). It fails the test if want is not JSON.
func SameJSON(t testing.TB, got, want string) bool {
	t.Helper()
	var g, w any
	if json.Unmarshal([]byte(got), &g) != nil {
		return false
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("expected body %q is not JSON", want)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	return bytes.Equal(gb, wb)
}

// Expect checks a handler's status, exact body (as JSON) and Content-Type.
func Expect(t testing.TB, what string, resp events.APIGatewayV2HTTPResponse, status int, body string) {
	t.Helper()
	if resp.StatusCode != status || !SameJSON(t, resp.Body, body) {
		t.Fatalf("%s:\n got %d %s\nwant %d %s", what, resp.StatusCode, resp.Body, status, body)
	}
	if resp.Headers["content-type"] != apigw.ContentType {
		t.Fatalf("%s: content-type %q", what, resp.Headers["content-type"])
	}
}
