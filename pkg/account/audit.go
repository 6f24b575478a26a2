package account

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/pkg/config/defaults"
)

// Audit events (docs/API.md, "Audit events"): every security-relevant fact of a use case
// is an Event, stored under its account in the same write the use case makes anyway
// (WithAudit) and then shown to the Service's EventObserver.

// EventType names what happened.
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

	// The account lifecycle routes (API.md, "Account lifecycle"). They also emit
	// session.ended (Method by_id: DELETE /user/sessions/{id}; all: POST /user/logout-all)
	// and account.deleted (DELETE /user: observed only, the account's events go with it).
	EventEmailChangeRequested EventType = "email.change_requested" // PUT /user/email
	EventEmailVerified        EventType = "email.verified"         // the address the account has
	EventEmailChanged         EventType = "email.changed"          // a verified change: the new address is the account's
	EventProfileUpdated       EventType = "profile.updated"
)

// Outcomes of an Event.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
	OutcomeRefused = "refused"
)

// Actors of an Event besides "admin:<name>" (AdminActor).
const (
	ActorSelf      = "self"
	ActorAnonymous = "anonymous"
)

// AdminActor is the actor of an admin's action.
func AdminActor(a *Account) string { return "admin:" + a.Username }

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

// NopObserver is the default EventObserver: it ignores every event.
type NopObserver struct{}

func (NopObserver) Observe(context.Context, Event) {}

// Option configures a Service at construction (NewService).
type Option func(*Service)

// WithObserver makes o the Service's EventObserver (nil keeps the no-op one).
func WithObserver(o EventObserver) Option {
	return func(s *Service) {
		if o != nil {
			s.Observer = o
		}
	}
}

// RequestInfo is what the transport knows of a request, for its events.
type RequestInfo struct {
	SourceIP  string
	UserAgent string
	RequestID string
	Family    string
}

type requestKey struct{}

// WithRequest returns ctx carrying r (set once per request by the family skeleton); it
// also sets the source IP the per-source limit reads (WithSourceIP) and the user agent a
// new session records (WithUserAgent).
func WithRequest(ctx context.Context, r RequestInfo) context.Context {
	return context.WithValue(WithUserAgent(WithSourceIP(ctx, r.SourceIP), r.UserAgent), requestKey{}, r)
}

// RequestFrom is the RequestInfo of ctx (zero when there is none).
func RequestFrom(ctx context.Context) RequestInfo {
	r, _ := ctx.Value(requestKey{}).(RequestInfo)
	return r
}

// AuditRecord is an Event as stored: under the account Under (the event's own account, or
// the acting admin's for a deletion, whose own events go with it), with a random ID that
// orders events of the same instant, until Expires (the table's TTL). Under 0 is the
// account CreateAccount is creating: the store fills in its new id (and Event.UserID).
type AuditRecord struct {
	Under   int64
	ID      string
	Event   Event
	Expires time.Time
}

// SortKey is the record's place among its account's events: the time in fixed-width
// nanoseconds (so that byte order is time order), then the ID.
func (r AuditRecord) SortKey() string {
	return fmt.Sprintf("%020d#%s", r.Event.Time.UnixNano(), r.ID)
}

type auditKey struct{}

// WithAudit returns ctx carrying recs for the Store write it is passed to: the write
// methods documented to carry them (CreateAccount, ChangeCredentials,
// ChangeCredentialsFrom, DeleteAccount, CreateSession, DeleteSession, PutOTP,
// PutResetToken, AddSourceFailure, PutVerification, ConfirmEmail, UpdateProfile) store
// them in the same atomic write, or not at all.
func WithAudit(ctx context.Context, recs ...AuditRecord) context.Context {
	return context.WithValue(ctx, auditKey{}, recs)
}

// AuditRecords are the records ctx carries for the Store (WithAudit), with Under 0 bound
// to created (CreateAccount's new id; 0 elsewhere).
func AuditRecords(ctx context.Context, created int64) []AuditRecord {
	recs, _ := ctx.Value(auditKey{}).([]AuditRecord)
	out := make([]AuditRecord, len(recs))
	for i, r := range recs {
		if r.Under == 0 {
			r.Under = created
			if r.Event.UserID == 0 {
				r.Event.UserID = created
			}
		}
		out[i] = r
	}
	return out
}

// DefaultAuditTTL is how long stored events are kept (AUDIT_TTL).
const DefaultAuditTTL = defaults.AuditTTL

// Events page sizes (GET /api/v2/users/{username}/events).
const (
	DefaultEventsLimit = 50
	MaxEventsLimit     = 100
)

// event is an Event of typ about a (nil: no account) by actor, with the request's details.
func (s *Service) event(ctx context.Context, typ EventType, a *Account, actor, outcome string) Event {
	r := RequestFrom(ctx)
	ev := Event{
		Time: s.Now().UTC(), Type: typ, Actor: actor, Outcome: outcome,
		SourceIP: r.SourceIP, UserAgent: r.UserAgent, RequestID: r.RequestID, Family: r.Family,
	}
	if a != nil {
		ev.UserID, ev.Username = a.UserID, a.Username
	}
	return ev
}

// records turns events into records stored under their own accounts.
func (s *Service) records(evs ...Event) []AuditRecord {
	recs := make([]AuditRecord, len(evs))
	for i, ev := range evs {
		recs[i] = AuditRecord{Under: ev.UserID, ID: randomID(s.Rand), Event: ev, Expires: ev.Time.Add(s.AuditTTL).Truncate(time.Second)}
	}
	return recs
}

// carry returns ctx carrying evs for the next Store write (WithAudit).
func (s *Service) carry(ctx context.Context, evs ...Event) context.Context {
	return WithAudit(ctx, s.records(evs...)...)
}

// observe shows evs to the observer (after their write succeeded).
func (s *Service) observe(ctx context.Context, evs ...Event) {
	for _, ev := range evs {
		s.Observer.Observe(ctx, ev)
	}
}

// record stores evs on their own (for facts no write of the use case carries: a refused
// or failed check) and observes them; events without an account are only observed. A lost
// write does not change the answer: logged, not returned.
func (s *Service) record(ctx context.Context, evs ...Event) {
	var stored []Event
	for _, ev := range evs {
		if ev.UserID != 0 {
			stored = append(stored, ev)
		}
	}
	if len(stored) > 0 {
		if err := s.Store.PutAudit(ctx, s.records(stored...)); err != nil {
			s.Log.WarnContext(ctx, "audit event not stored", "type", string(stored[0].Type), "user_id", stored[0].UserID, "error", err)
		}
	}
	s.observe(ctx, evs...)
}

func randomID(r io.Reader) string {
	b := make([]byte, 6)
	if _, err := io.ReadFull(r, b); err != nil {
		return "000000000000" // ordering only; a failed read must not fail the request
	}
	return hex.EncodeToString(b)
}

// EventPage is one page of an account's events, newest first.
type EventPage struct {
	Events []Event
	Next   string // opaque cursor of the next page; "" at the end
}

// Events lists the account's stored events, newest first: at most limit (0: the default;
// outside 1 to MaxEventsLimit is an invalid "limit"), from cursor (a Next; "" the newest;
// anything else is an invalid "cursor").
func (s *Service) Events(ctx context.Context, a *Account, cursor string, limit int) (*EventPage, error) {
	if limit == 0 {
		limit = DefaultEventsLimit
	}
	if limit < 1 || limit > MaxEventsLimit {
		return nil, Invalid("limit", ReasonFormat)
	}
	after := ""
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || !validEventPosition(string(b)) {
			return nil, Invalid("cursor", ReasonFormat)
		}
		after = string(b)
	}
	evs, next, err := s.Store.Events(ctx, a.UserID, after, limit)
	if err != nil {
		return nil, err
	}
	p := &EventPage{Events: evs}
	if next != "" {
		p.Next = base64.RawURLEncoding.EncodeToString([]byte(next))
	}
	return p, nil
}

// validEventPosition reports whether p looks like an AuditRecord.SortKey.
func validEventPosition(p string) bool {
	t, id, ok := strings.Cut(p, "#")
	if !ok || len(t) != 20 || len(id) == 0 || len(id) > 32 {
		return false
	}
	for _, c := range t + id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// passwordChanged is the password.changed event of a by actor, set how (method).
func (s *Service) passwordChanged(ctx context.Context, a *Account, actor, method string) Event {
	ev := s.event(ctx, EventPasswordChanged, a, actor, OutcomeSuccess)
	ev.Method = method
	return ev
}

type actorKey struct{}
type methodKey struct{}

// withActor returns ctx naming the actor of the use cases it is passed to (an admin's
// call), and how they change a password (method, "" to keep the use case's own).
func withActor(ctx context.Context, actor, method string) context.Context {
	ctx = context.WithValue(ctx, actorKey{}, actor)
	if method != "" {
		ctx = context.WithValue(ctx, methodKey{}, method)
	}
	return ctx
}

func actorOr(ctx context.Context, def string) string {
	if a, ok := ctx.Value(actorKey{}).(string); ok {
		return a
	}
	return def
}

func methodOr(ctx context.Context, def string) string {
	if m, ok := ctx.Value(methodKey{}).(string); ok {
		return m
	}
	return def
}

func idOf(a *Account) int64 {
	if a == nil {
		return 0
	}
	return a.UserID
}

// ActorCLI is the actor of the operator's command line (gatehouse-admin), which acts
// without an admin account.
const ActorCLI = "cli"

// WithActor returns ctx naming actor (AdminActor of the authenticated admin) as the actor
// of the use cases it is passed to, for those that take no AdminRequest (CreateUser).
func WithActor(ctx context.Context, actor string) context.Context {
	return withActor(ctx, actor, "")
}

// actor is the actor of an admin call: its admin, else the context's (WithActor), else
// the command line.
func (r *AdminRequest) actor(ctx context.Context) string {
	if r != nil && r.Actor != nil {
		return AdminActor(r.Actor)
	}
	return actorOr(ctx, ActorCLI)
}

type notStoredKey struct{}

// WithNotStored returns ctx marking the events observed with it as kept in no table item
// although they have an account (a self-deletion's), so that observers that log the
// unstored ones (events.Unstored) log them too.
func WithNotStored(ctx context.Context) context.Context {
	return context.WithValue(ctx, notStoredKey{}, true)
}

// NotStored reports whether the events observed with ctx are stored nowhere (see
// WithNotStored); events without an account and mail events are never stored either.
func NotStored(ctx context.Context) bool {
	b, _ := ctx.Value(notStoredKey{}).(bool)
	return b
}
