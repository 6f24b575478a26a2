package bus_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/awsenv"
	"github.com/gatehouse/gatehouse/pkg/events"
	"github.com/gatehouse/gatehouse/pkg/events/bus"
	"github.com/gatehouse/gatehouse/pkg/logging"
)

// entry is one PutEvents entry as the EventBridge JSON protocol carries it.
type entry struct {
	EventBusName, Source, DetailType, Detail string
	Time                                     float64
}

// fakeBus is an EventBridge endpoint speaking its JSON protocol (awsJson1_1): it keeps
// each PutEvents call's entries and answers with answer (nil: every entry accepted).
type fakeBus struct {
	mu     sync.Mutex
	calls  [][]entry
	answer func(w http.ResponseWriter, entries []entry)
}

func (f *fakeBus) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.Header.Get("X-Amz-Target") != "AWSEvents.PutEvents" {
		http.Error(w, "unexpected "+r.Method+" "+r.Header.Get("X-Amz-Target"), http.StatusBadRequest)
		return
	}
	var in struct{ Entries []entry }
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.calls = append(f.calls, in.Entries)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if f.answer != nil {
		f.answer(w, in.Entries)
		return
	}
	out := `{"FailedEntryCount":0,"Entries":[`
	for i := range in.Entries {
		if i > 0 {
			out += ","
		}
		out += `{"EventId":"id-` + string(rune('a'+i)) + `"}`
	}
	_, _ = io.WriteString(w, out+"]}")
}

// publisher is a Publisher on bus "audit" through the real SDK client, built from the
// environment as pkg/boot builds it, pointed at fake; its log and metrics are returned.
func publisher(t *testing.T, fake http.Handler) (*bus.Publisher, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	env := map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
		"AWS_ENDPOINT_URL_EVENTBRIDGE": srv.URL,
	}
	getenv := func(k string) string { return env[k] }
	var logs, metrics bytes.Buffer
	log := logging.New(&logs, slog.LevelInfo)
	cfg, err := awsenv.Config(getenv, logging.SDK(log))
	if err != nil {
		t.Fatal(err)
	}
	return &bus.Publisher{API: bus.NewClient(cfg, bus.Endpoint(getenv)), Bus: "audit", Log: log, Metrics: events.NewMetrics(&metrics, slog.LevelInfo)}, &logs, &metrics
}

var changed = account.Event{
	Time: time.Date(2026, 12, 1, 13, 0, 0, 0, time.UTC), Type: account.EventPasswordChanged,
	UserID: 7, Username: "alice", Actor: "self", Outcome: "success", Family: "users", Method: "otp",
	SourceIP: "192.0.2.1", RequestID: "req-1",
}

// TestPublishPutsTheEventOnTheBus: an event reaches the bus with source gatehouse, its
// type as detail-type and itself as detail, on the configured bus.
func TestPublishPutsTheEventOnTheBus(t *testing.T) {
	fake := &fakeBus{}
	p, logs, metrics := publisher(t, fake)
	p.Observe(context.Background(), changed)
	if len(fake.calls) != 1 || len(fake.calls[0]) != 1 {
		t.Fatalf("calls %+v", fake.calls)
	}
	e := fake.calls[0][0]
	if e.EventBusName != "audit" || e.Source != "gatehouse" || e.DetailType != "password.changed" {
		t.Fatalf("entry %+v", e)
	}
	if int64(e.Time) != changed.Time.Unix() {
		t.Errorf("time %v, want %v", e.Time, changed.Time.Unix())
	}
	var detail account.Event
	if err := json.Unmarshal([]byte(e.Detail), &detail); err != nil || detail != changed {
		t.Fatalf("detail %s (%v), want %+v", e.Detail, err, changed)
	}
	if metrics.Len() != 0 || strings.Contains(logs.String(), "not published") {
		t.Fatalf("a published event counted as failed: %s %s", metrics.String(), logs.String())
	}
}

// TestPublishBatchesARequest: the events of one request (events.Collect) go in one
// PutEvents call when it ends, ten entries to a call at most.
func TestPublishBatchesARequest(t *testing.T) {
	fake := &fakeBus{}
	p, _, _ := publisher(t, fake)
	ctx, end := events.Collect(context.Background())
	for range 12 {
		p.Observe(ctx, changed)
	}
	if len(fake.calls) != 0 {
		t.Fatal("published before the request ended")
	}
	end()
	if len(fake.calls) != 2 || len(fake.calls[0]) != 10 || len(fake.calls[1]) != 2 {
		t.Fatalf("%d calls %v", len(fake.calls), fake.calls)
	}
}

// TestPublishFailureIsCountedNotRaised: an endpoint that fails (the whole call, or single
// entries) does not fail the caller: each event not taken is logged without its detail and
// counted as EventPublishFailed.
func TestPublishFailureIsCountedNotRaised(t *testing.T) {
	cases := map[string]func(w http.ResponseWriter, entries []entry){
		"call fails": func(w http.ResponseWriter, _ []entry) {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"__type":"AccessDeniedException","message":"not authorized to perform: events:PutEvents"}`)
		},
		"server error": func(w http.ResponseWriter, _ []entry) {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, `{"__type":"InternalException","message":"boom"}`)
		},
		"entries refused": func(w http.ResponseWriter, entries []entry) {
			_, _ = io.WriteString(w, `{"FailedEntryCount":2,"Entries":[{"ErrorCode":"InternalFailure","ErrorMessage":"try again"},{"ErrorCode":"InternalFailure","ErrorMessage":"try again"}]}`)
		},
	}
	for name, answer := range cases {
		t.Run(name, func(t *testing.T) {
			p, logs, metrics := publisher(t, &fakeBus{answer: answer})
			ctx, end := events.Collect(context.Background())
			p.Observe(ctx, changed)
			p.Observe(ctx, changed)
			end()
			var failed int
			for _, line := range strings.Split(strings.TrimSpace(metrics.String()), "\n") {
				var doc map[string]any
				if err := json.Unmarshal([]byte(line), &doc); err != nil {
					t.Fatalf("metric line %q: %v", line, err)
				}
				if n, ok := doc[events.EventPublishFailed].(float64); ok && doc["Family"] == "users" {
					failed += int(n)
				}
			}
			if failed != 2 {
				t.Fatalf("EventPublishFailed counted %d, want 2: %s", failed, metrics.String())
			}
			if n := strings.Count(logs.String(), `"msg":"event not published"`); n != 2 {
				t.Fatalf("%d failure lines, want 2: %s", n, logs.String())
			}
			for _, secretish := range []string{"alice", "192.0.2.1", "req-1"} {
				if strings.Contains(logs.String(), secretish) {
					t.Errorf("the failure log carries the event's %q: %s", secretish, logs.String())
				}
			}
		})
	}
}

// TestPublishEndsWithTheRequest: a request whose context has ended publishes nothing and
// counts the event, instead of outliving the request.
func TestPublishEndsWithTheRequest(t *testing.T) {
	fake := &fakeBus{}
	p, _, metrics := publisher(t, fake)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p.Observe(ctx, changed)
	if len(fake.calls) != 0 || !strings.Contains(metrics.String(), events.EventPublishFailed) {
		t.Fatalf("calls %v, metrics %s", fake.calls, metrics.String())
	}
}
