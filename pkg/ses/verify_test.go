package ses

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/gatehouse/gatehouse/pkg/account"
)

type refusing struct{ err error }

func (r refusing) SendEmail(context.Context, *sesv2.SendEmailInput, ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	return nil, r.err
}

// TestUnverifiedSenderIsNamed: SES's refusal of an unverified sender comes out as
// account.ErrSenderNotVerified, through the service's error, so that the handlers' log
// line carries reason=sender_not_verified for the template's alarm; an unverified
// recipient (the SES sandbox) and other failures do not.
func TestUnverifiedSenderIsNamed(t *testing.T) {
	rejected := func(ids string) error {
		return &types.MessageRejected{Message: aws.String("Email address is not verified. The following identities failed the check in region EU-WEST-1: " + ids)}
	}
	for _, tc := range []struct {
		name   string
		err    error
		reason string
	}{
		{"sender", rejected("No-Reply@Example.com"), "sender_not_verified"},
		{"sender and recipient", rejected("bob@example.com, no-reply@example.com"), "sender_not_verified"},
		{"sandbox recipient", rejected("bob@example.com"), "send_failed"},
		{"other rejection", &types.MessageRejected{Message: aws.String("Illegal address")}, "send_failed"},
		{"throttled", &types.TooManyRequestsException{Message: aws.String("Maximum sending rate exceeded.")}, "send_failed"},
		{"network", errors.New("dial tcp: connection refused"), "send_failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := New(refusing{tc.err}, "no-reply@example.com")
			err := m.SendOTP(context.Background(), account.OTPMail{To: "bob@example.com", Code: "012345", ValidFor: time.Minute})
			if err == nil || !errors.Is(err, tc.err) {
				t.Fatalf("error %v does not wrap SES's %v", err, tc.err)
			}
			// As the handlers see it: wrapped in the service's mail_failed error.
			if got := account.MailFailureReason(account.E(account.CodeMailFailed, err)); got != tc.reason {
				t.Fatalf("reason %q, want %q (error %v)", got, tc.reason, err)
			}
		})
	}
}
