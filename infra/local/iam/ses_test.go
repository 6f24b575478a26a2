package iam

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

const sesARN = "arn:aws:ses:us-east-1:123456789012:"

// sendMail is the template's SendMailPolicy, resolved.
func sendMail(t *testing.T) Statement {
	t.Helper()
	s, err := NewStatement([]string{"ses:SendEmail"}, []string{sesARN + "identity/*", sesARN + "configuration-set/Mail"},
		map[string]map[string][]string{"StringEquals": {"ses:FromAddress": {"no-reply@example.com"}}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSESGuard: a mail from the configured sender through the configuration set passes;
// another sender, another configuration set, another SES operation and a function
// without the statement are refused with SES's AccessDenied, and reported.
func TestSESGuard(t *testing.T) {
	var upstream int
	ses := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		upstream++
		_, _ = io.WriteString(w, `{"MessageId":"m"}`)
	}))
	defer ses.Close()
	u, _ := url.Parse(ses.URL)
	var denied []string
	guard := func(p Policy) *httptest.Server {
		return httptest.NewServer(&Guard{Function: "Fn", Policy: p, SES: sesARN, Upstream: u,
			OnDeny: func(fn string, a Access) { denied = append(denied, fn+" "+a.String()) }})
	}
	mailer, plain := guard(Policy{sendMail(t)}), guard(nil)
	defer mailer.Close()
	defer plain.Close()
	send := func(srv *httptest.Server, path, body string) int {
		resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	const mail = "/v2/email/outbound-emails"
	if got := send(mailer, mail, `{"FromEmailAddress":"no-reply@example.com","ConfigurationSetName":"Mail"}`); got != 200 || upstream != 1 {
		t.Fatalf("allowed mail: %d, upstream saw %d", got, upstream)
	}
	for _, c := range []struct {
		srv        *httptest.Server
		path, body string
		want       string
	}{
		{mailer, mail, `{"FromEmailAddress":"ceo@example.com","ConfigurationSetName":"Mail"}`, `ses:FromAddress "ceo@example.com"`},
		{mailer, mail, `{"FromEmailAddress":"no-reply@example.com","ConfigurationSetName":"Other"}`, "configuration-set/Other"},
		{mailer, "/v2/email/identities", `{}`, "ses:POST /v2/email/identities"},
		{plain, mail, `{"FromEmailAddress":"no-reply@example.com"}`, "ses:SendEmail on " + sesARN + "identity/example.com"},
	} {
		denied = nil
		if got := send(c.srv, c.path, c.body); got != http.StatusForbidden || len(denied) != 1 || !strings.Contains(denied[0], c.want) {
			t.Errorf("%s %s: status %d, denied %q; want 403 naming %s", c.path, c.body, got, denied, c.want)
		}
	}
	if upstream != 1 {
		t.Errorf("refused calls reached SES: %d calls", upstream)
	}
}
