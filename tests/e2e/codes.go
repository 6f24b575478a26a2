package e2e

import "regexp"

// What the mails carry, as the tests find it in a mail's text.
var (
	// OTPCode matches a one-time code: six digits (the code is the first submatch).
	OTPCode = regexp.MustCompile(`\b([0-9]{6})\b`)
	// ResetToken matches a reset token: a random (version 4) UUID.
	ResetToken = regexp.MustCompile(`\b[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\b`)
)
