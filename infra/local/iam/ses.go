package iam

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/mail"
	"strings"
)

// sesAccesses lists what an SES v2 request needs: SendEmail (POST
// /v2/email/outbound-emails) needs ses:SendEmail on the sender's identity and, when the
// mail names one, on its configuration set, both with the sender as ses:FromAddress.
// Any other operation is one the functions have no business calling: it is named by its
// path and refused.
func sesAccesses(arn string, r *http.Request, body []byte) ([]Access, error) {
	if r.Method != http.MethodPost || strings.TrimSuffix(r.URL.Path, "/") != "/v2/email/outbound-emails" {
		return []Access{{Action: "ses:" + r.Method + " " + r.URL.Path}}, fmt.Errorf("not an operation the local stack evaluates")
	}
	var in struct {
		FromEmailAddress     string
		ConfigurationSetName string
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return []Access{{Action: "ses:SendEmail"}}, fmt.Errorf("request body: %v", err)
	}
	from := in.FromEmailAddress
	if a, err := mail.ParseAddress(from); err == nil {
		from = a.Address
	}
	domain := from[strings.LastIndex(from, "@")+1:]
	// IAM authorises the identity the mail is sent as: the address's own identity, or its
	// domain's; a policy on identity/* covers both.
	out := []Access{{Action: "ses:SendEmail", Resource: arn + "identity/" + domain, From: from}}
	if in.ConfigurationSetName != "" {
		out = append(out, Access{Action: "ses:SendEmail", Resource: arn + "configuration-set/" + in.ConfigurationSetName, From: from})
	}
	return out, nil
}
