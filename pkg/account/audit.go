package account

import (
	"context"
	"time"
)

// EventType names a kind of audit event.
type EventType string

const (
	EventLoginSucceeded  EventType = "login.succeeded"
	EventLoginFailed     EventType = "login.failed"     // wrong password / code / secret
	EventLoginRefused    EventType = "login.refused"    // refused by a limit (lockout, IP limit, budget)
	EventSessionEnded    EventType = "session.ended"    // logout
	EventPasswordChanged EventType = "password.changed" // Method: otp | reset_token | changepassword | v1_reset | admin | generated
	EventAccountCreated  EventType = "account.created"  // Family: users | user | v1 | admin | import
	EventAccountDeleted  EventType = "account.deleted"
	EventRoleChanged     EventType = "role.changed"
	EventTokenSet        EventType = "token.set"
	EventTokenRefreshed  EventType = "token.refreshed"
	EventOTPIssued       EventType = "otp.issued"
	EventOTPUsed         EventType = "otp.used"
	EventResetIssued     EventType = "reset_token.issued"
	EventResetUsed       EventType = "reset_token.used"
	EventAdminAuthFailed EventType = "admin.auth_failed"
	EventMailSent        EventType = "mail.sent"   // observed only (metrics), not stored
	EventMailFailed      EventType = "mail.failed" // observed only (metrics), not stored
)

// Event is one security-relevant fact. Never a secret, code, token or hash.
type Event struct {
	Time      time.Time `json:"time"`
	Type      EventType `json:"type"`
	UserID    int64     `json:"user_id,omitempty"`
	Username  string    `json:"username,omitempty"`
	Actor     string    `json:"actor"` // "self", "admin:<name>", "anonymous"
	SourceIP  string    `json:"source_ip,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
	Outcome   string    `json:"outcome"` // "success" | "failure" | "refused"
	RequestID string    `json:"request_id,omitempty"`
	Family    string    `json:"family,omitempty"` // users | user | v1 | admin | authorizer | cli
	Method    string    `json:"method,omitempty"` // how (password.changed), reason (login.refused)
}

// EventObserver sees every event after the write that stored it succeeded (and events that
// are not stored: failures against unknown accounts, mail.sent/failed). It must not fail
// the request: implementations log and count their own failures.
type EventObserver interface {
	Observe(ctx context.Context, ev Event)
}
