package ses

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// senderNotVerified reports whether SES refused a mail because the sender itself is
// unverified. SES answers MessageRejected "Email address is not verified. The following
// identities failed the check in region ...: <addresses>" both for an unverified sender
// and, in the SES sandbox, for an unverified recipient; only the former is an operator's
// fault that breaks every mail, so the sender must be among the listed identities.
func senderNotVerified(err error, sender string) bool {
	var rej *types.MessageRejected
	if !errors.As(err, &rej) {
		return false
	}
	msg := strings.ToLower(rej.ErrorMessage())
	return strings.Contains(msg, "not verified") && strings.Contains(msg, strings.ToLower(sender))
}

// classify wraps account.ErrSenderNotVerified into a send error of an unverified sender.
func (m *Mailer) classify(name string, err error) error {
	if senderNotVerified(err, m.sender) {
		return fmt.Errorf("ses send %s: %w: %w", name, account.ErrSenderNotVerified, err)
	}
	return fmt.Errorf("ses send %s: %w", name, err)
}
