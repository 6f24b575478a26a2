package account

import "errors"

// ErrSenderNotVerified is wrapped by a Mailer's error when the mail service refused the
// mail because the configured sender address is not a verified identity: every mail
// will fail until an operator verifies it, so the handlers log it with its own reason
// (the template's SenderNotVerified alarm counts those lines).
var ErrSenderNotVerified = errors.New("sender identity not verified")

// MailFailureReason is the "reason" attribute of a "mail not sent" log line: a stable
// word an alarm can match, never the mail service's message.
func MailFailureReason(err error) string {
	if errors.Is(err, ErrSenderNotVerified) {
		return "sender_not_verified"
	}
	return "send_failed"
}
