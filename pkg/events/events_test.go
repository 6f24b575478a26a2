package events_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/events"
)

// allTypes is every event type of pkg/account.
var allTypes = []account.EventType{
	account.EventLoginSucceeded, account.EventLoginFailed, account.EventLoginRefused,
	account.EventSessionEnded, account.EventPasswordChanged, account.EventAccountCreated,
	account.EventAccountDeleted, account.EventRoleChanged, account.EventTokenSet,
	account.EventTokenRefreshed, account.EventOTPIssued, account.EventOTPUsed,
	account.EventResetIssued, account.EventResetUsed, account.EventAdminAuthFailed,
	account.EventMailSent, account.EventMailFailed,
	account.EventEmailChangeRequested, account.EventEmailVerified, account.EventEmailChanged,
	account.EventProfileUpdated,
}

// emf is one Embedded Metric Format document as CloudWatch reads it.
type emf struct {
	AWS struct {
		Timestamp         int64
		CloudWatchMetrics []struct {
			Namespace  string
			Dimensions [][]string
			Metrics    []struct{ Name, Unit string }
		}
	} `json:"_aws"`
	Family string
	rest   map[string]any
}

// parseEMF reads every line of out as an EMF document.
func parseEMF(t *testing.T, out string) []emf {
	t.Helper()
	var docs []emf
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var d emf
		if err := json.Unmarshal([]byte(line), &d); err != nil {
			t.Fatalf("not JSON: %q: %v", line, err)
		}
		if err := json.Unmarshal([]byte(line), &d.rest); err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
	return docs
}

// TestMetricsWriteOneEMFLinePerEvent: each event type gives one EMF line counting its
// metric once in namespace Gatehouse, by Family and in a dimensionless rollup, with the
// event's family and a millisecond timestamp — the metric names of the README's table.
func TestMetricsWriteOneEMFLinePerEvent(t *testing.T) {
	want := map[account.EventType]string{
		account.EventLoginSucceeded: "LoginSucceeded", account.EventLoginFailed: "LoginFailed",
		account.EventLoginRefused: "LoginRefused", account.EventMailSent: "MailSent",
		account.EventMailFailed: "MailFailed", account.EventPasswordChanged: "PasswordChanged",
		account.EventAdminAuthFailed: "AdminAuthFailed",
	}
	at := time.Date(2026, 12, 1, 13, 0, 0, 0, time.UTC)
	for _, typ := range allTypes {
		var out bytes.Buffer
		m := events.NewMetrics(&out, slog.LevelInfo)
		m.Now = func() time.Time { return at }
		m.Observe(context.Background(), account.Event{Type: typ, Family: "users", Username: "alice"})
		docs := parseEMF(t, out.String())
		if len(docs) != 1 {
			t.Fatalf("%s: %d lines, want 1: %s", typ, len(docs), out.String())
		}
		d := docs[0]
		if len(d.AWS.CloudWatchMetrics) != 1 {
			t.Fatalf("%s: %s", typ, out.String())
		}
		cw := d.AWS.CloudWatchMetrics[0]
		if cw.Namespace != "Gatehouse" || len(cw.Metrics) != 1 || cw.Metrics[0].Unit != "Count" ||
			len(cw.Dimensions) != 2 || !slices.Equal(cw.Dimensions[0], []string{"Family"}) || len(cw.Dimensions[1]) != 0 {
			t.Fatalf("%s: directive %+v", typ, cw)
		}
		name := cw.Metrics[0].Name
		if w, ok := want[typ]; ok && name != w {
			t.Errorf("%s counts %s, want %s", typ, name, w)
		}
		if !slices.Contains(events.MetricNames(), name) {
			t.Errorf("%s counts %s, which MetricNames does not list", typ, name)
		}
		if d.rest[name] != 1.0 || d.Family != "users" || d.AWS.Timestamp != at.UnixMilli() {
			t.Errorf("%s: %s", typ, out.String())
		}
		if strings.Contains(out.String(), "alice") {
			t.Errorf("%s: the metric line carries the username: %s", typ, out.String())
		}
	}
}

// TestMetricsPassLambdaLogLevelFilter: a metric line carries the function's log level
// (INFO at least), so Lambda's ApplicationLogLevel filter, which reads a line without a
// level as INFO, keeps it at WARN and ERROR too.
func TestMetricsPassLambdaLogLevelFilter(t *testing.T) {
	for level, want := range map[slog.Level]string{slog.LevelDebug: "INFO", slog.LevelInfo: "INFO", slog.LevelWarn: "WARN", slog.LevelError: "ERROR"} {
		var out bytes.Buffer
		events.NewMetrics(&out, level).Observe(context.Background(), account.Event{Type: account.EventLoginFailed})
		if d := parseEMF(t, out.String()); len(d) != 1 || d[0].rest["level"] != want {
			t.Errorf("at %v: %s, want level %s", level, out.String(), want)
		}
	}
}

// TestMetricsFamilyNeverEmpty: CloudWatch drops a metric whose dimension value is empty,
// so an event without a family counts under "none".
func TestMetricsFamilyNeverEmpty(t *testing.T) {
	var out bytes.Buffer
	events.NewMetrics(&out, slog.LevelInfo).Observe(context.Background(), account.Event{Type: account.EventLoginFailed})
	if d := parseEMF(t, out.String()); len(d) != 1 || d[0].Family != "none" {
		t.Fatalf("%s", out.String())
	}
}

type recorder struct{ got []account.Event }

func (r *recorder) Observe(_ context.Context, ev account.Event) { r.got = append(r.got, ev) }

// TestFanoutReachesEveryObserver: each observer sees each event, in order.
func TestFanoutReachesEveryObserver(t *testing.T) {
	a, b := &recorder{}, &recorder{}
	f := events.Fanout{a, b}
	f.Observe(context.Background(), account.Event{Type: account.EventLoginFailed})
	f.Observe(context.Background(), account.Event{Type: account.EventLoginSucceeded})
	for _, r := range []*recorder{a, b} {
		if len(r.got) != 2 || r.got[0].Type != account.EventLoginFailed || r.got[1].Type != account.EventLoginSucceeded {
			t.Fatalf("%+v", r.got)
		}
	}
}

// TestUnstoredLogsEventsWithoutAnAccount: a failed check of an unknown username and the
// mail events are logged as one structured line each, and so is an account's event
// observed as stored nowhere (account.WithNotStored); other events of an account (which the
// table stores) are not.
func TestUnstoredLogsEventsWithoutAnAccount(t *testing.T) {
	var out bytes.Buffer
	u := events.Unstored{Log: slog.New(slog.NewJSONHandler(&out, nil))}
	ctx := context.Background()
	u.Observe(ctx, account.Event{Type: account.EventLoginFailed, Username: "nobody", Actor: "anonymous", Outcome: "failure", Family: "users", SourceIP: "192.0.2.1"})
	u.Observe(ctx, account.Event{Type: account.EventMailSent, UserID: 7, Username: "alice", Family: "users"})
	u.Observe(ctx, account.Event{Type: account.EventLoginSucceeded, UserID: 7, Username: "alice"})
	u.Observe(account.WithNotStored(ctx), account.Event{Type: account.EventAccountDeleted, UserID: 8, Username: "bob", Actor: "self"})
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3: %s", len(lines), out.String())
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{"msg": "audit event", "type": "login.failed", "username": "nobody", "outcome": "failure", "family": "users", "source_ip": "192.0.2.1", "actor": "anonymous"} {
		if first[k] != v {
			t.Errorf("%s is %v, want %v: %s", k, first[k], v, lines[0])
		}
	}
	if !strings.Contains(lines[1], `"type":"mail.sent"`) {
		t.Errorf("mail.sent not logged: %s", lines[1])
	}
	if !strings.Contains(lines[2], `"type":"account.deleted"`) || !strings.Contains(lines[2], `"actor":"self"`) {
		t.Errorf("an event observed as stored nowhere not logged: %s", lines[2])
	}
}

// TestCollectDefersToOneFlush: inside Collect, deferred events reach the flush func once,
// together, when the request ends; outside it Defer declines them.
func TestCollectDefersToOneFlush(t *testing.T) {
	var calls [][]account.Event
	flush := func(_ context.Context, evs []account.Event) { calls = append(calls, evs) }
	if events.Defer(context.Background(), account.Event{}, flush) {
		t.Fatal("Defer took an event outside Collect")
	}
	ctx, end := events.Collect(context.Background())
	for _, typ := range []account.EventType{account.EventOTPIssued, account.EventMailSent} {
		if !events.Defer(ctx, account.Event{Type: typ}, flush) {
			t.Fatal("Defer declined inside Collect")
		}
	}
	if len(calls) != 0 {
		t.Fatal("flushed before the request ended")
	}
	end()
	end() // a second end has nothing left to flush
	if len(calls) != 1 || len(calls[0]) != 2 || calls[0][0].Type != account.EventOTPIssued || calls[0][1].Type != account.EventMailSent {
		t.Fatalf("flushes %+v", calls)
	}
}
