// Package testkit is the HTTP plumbing the test suites share (tests/e2e, tests/smoke,
// tests/rie): one request sent and its whole answer read, failing the test on a transport
// error.
package testkit

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// Send sends method url with body, its Content-Type set unless contentType is "" and the
// headers given as name, value pairs (added, so a name given twice is sent twice), and
// returns the answer with its body read. ctx reaches the client's transport.
func Send(ctx context.Context, t testing.TB, client *http.Client, method, url, contentType, body string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", method, url, err)
	}
	return resp, b
}
