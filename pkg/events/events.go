// Package events turns the account service's audit events (account.Event) into what
// operators watch: CloudWatch metrics in Embedded Metric Format (Metrics), a log line for
// the events no account stores (Unstored), and, through package events/bus, Amazon
// EventBridge. Fanout hands each event to all of them. Every observer here swallows its
// own failures: an event never fails the request that caused it.
package events

import (
	"context"
	"log/slog"
	"sync"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// Fanout is an observer handing each event to every observer in turn.
type Fanout []account.EventObserver

// Observe implements account.EventObserver.
func (f Fanout) Observe(ctx context.Context, ev account.Event) {
	for _, o := range f {
		o.Observe(ctx, ev)
	}
}

// Unstored logs the events the table keeps no record of — those of no known account
// (failed checks of unknown usernames), mail.sent/failed and those observed as stored
// nowhere (account.NotStored: a self-deletion) — as one structured line each,
// so they can still be found in the function's log.
type Unstored struct{ Log *slog.Logger }

// Observe implements account.EventObserver.
func (u Unstored) Observe(ctx context.Context, ev account.Event) {
	if ev.UserID != 0 && ev.Type != account.EventMailSent && ev.Type != account.EventMailFailed && !account.NotStored(ctx) {
		return
	}
	u.Log.InfoContext(ctx, "audit event",
		"type", string(ev.Type), "outcome", ev.Outcome, "actor", ev.Actor,
		"username", ev.Username, "user_id", ev.UserID, "family", ev.Family, "method", ev.Method,
		"source_ip", ev.SourceIP, "user_agent", ev.UserAgent)
}

// Batch is the events of one request, kept until the request ends, so that a request
// emitting several events publishes them in one call (Collect).
type Batch struct {
	mu     sync.Mutex
	events []account.Event
	flush  func(context.Context, []account.Event)
}

type batchKey struct{}

// Collect returns ctx carrying a Batch and the func to call when the request ends: it
// hands the events a batching observer (bus.Publisher) deferred to that observer, once.
// Without Collect such an observer publishes each event at once.
func Collect(ctx context.Context) (context.Context, func()) {
	b := &Batch{}
	ctx = context.WithValue(ctx, batchKey{}, b)
	return ctx, func() {
		b.mu.Lock()
		evs, flush := b.events, b.flush
		b.events, b.flush = nil, nil
		b.mu.Unlock()
		if flush != nil && len(evs) > 0 {
			flush(ctx, evs)
		}
	}
}

// Defer adds ev to the request's batch, to be passed to flush when the request ends, and
// reports whether ctx has a batch (Collect); without one the caller must handle ev itself.
// One flush func serves a batch (that of its first event).
func Defer(ctx context.Context, ev account.Event, flush func(context.Context, []account.Event)) bool {
	b, _ := ctx.Value(batchKey{}).(*Batch)
	if b == nil {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.events = append(b.events, ev)
	if b.flush == nil {
		b.flush = flush
	}
	return true
}
