package events

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// Namespace is the CloudWatch namespace of Gatehouse's metrics (the template's metric
// filters and dashboard use it too).
const Namespace = "Gatehouse"

// EventPublishFailed counts events EventBridge did not take (bus.Publisher); an alarm of
// the template watches it.
const EventPublishFailed = "EventPublishFailed"

// metricOf is the metric each event type counts, one per type: CloudWatch metric names
// in CamelCase, the dashboard's vocabulary.
var metricOf = map[account.EventType]string{
	account.EventLoginSucceeded:  "LoginSucceeded",
	account.EventLoginFailed:     "LoginFailed",
	account.EventLoginRefused:    "LoginRefused",
	account.EventSessionEnded:    "SessionEnded",
	account.EventPasswordChanged: "PasswordChanged",
	account.EventAccountCreated:  "AccountCreated",
	account.EventAccountDeleted:  "AccountDeleted",
	account.EventRoleChanged:     "RoleChanged",
	account.EventTokenSet:        "TokenSet",
	account.EventTokenRefreshed:  "TokenRefreshed",
	account.EventOTPIssued:       "OTPIssued",
	account.EventOTPUsed:         "OTPUsed",
	account.EventResetIssued:     "ResetTokenIssued",
	account.EventResetUsed:       "ResetTokenUsed",
	account.EventAdminAuthFailed: "AdminAuthFailed",
	account.EventMailSent:        "MailSent",
	account.EventMailFailed:      "MailFailed",

	account.EventEmailChangeRequested: "EmailChangeRequested",
	account.EventEmailVerified:        "EmailVerified",
	account.EventEmailChanged:         "EmailChanged",
	account.EventProfileUpdated:       "ProfileUpdated",
}

// MetricNames is every metric Metrics can emit (tests/project checks the dashboard
// against it).
func MetricNames() []string {
	out := []string{EventPublishFailed}
	for _, m := range metricOf {
		out = append(out, m)
	}
	return out
}

// Metrics writes one Embedded Metric Format line per event to w (the function's stdout,
// which Lambda sends to CloudWatch Logs; CloudWatch extracts the metric from the line, no
// PutMetricData call, no latency). Each metric has the dimension Family and a
// dimensionless rollup over all families.
//
// Each line carries the level the function logs at (INFO at least): Lambda's log-level
// filter (LoggingConfig ApplicationLogLevel) reads a JSON line without a level as INFO and
// would drop every metric of a function logging at WARN or ERROR.
type Metrics struct {
	mu    sync.Mutex
	w     io.Writer
	level string
	Now   func() time.Time
}

// NewMetrics returns Metrics writing to w for a function logging at level.
func NewMetrics(w io.Writer, level slog.Level) *Metrics {
	return &Metrics{w: w, level: max(level, slog.LevelInfo).String(), Now: time.Now}
}

// Observe implements account.EventObserver: the event's metric, counted once.
func (m *Metrics) Observe(_ context.Context, ev account.Event) {
	if name, ok := metricOf[ev.Type]; ok {
		m.Count(name, ev.Family, 1)
	}
}

// emfMeta is an EMF document's _aws member; the dimension and the value are top-level
// members of the document.
type emfMeta struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

// Count writes n of metric name for family ("" is "none": a dimension value cannot be
// empty). A write error is dropped: there is nowhere left to report it.
func (m *Metrics) Count(name, family string, n int) {
	if family == "" {
		family = "none"
	}
	doc := map[string]any{
		"_aws": emfMeta{
			Timestamp: m.Now().UnixMilli(),
			CloudWatchMetrics: []emfDirective{{
				Namespace:  Namespace,
				Dimensions: [][]string{{"Family"}, {}},
				Metrics:    []emfMetric{{Name: name, Unit: "Count"}},
			}},
		},
		"level":  m.level,
		"Family": family,
		name:     n,
	}
	line, err := json.Marshal(doc)
	if err != nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	_, _ = m.w.Write(append(line, '\n'))
}
