// Package bus publishes the account service's audit events to Amazon EventBridge: source
// "gatehouse", detail-type the event type, detail the event as JSON. It is a package of its
// own so that only pkg/boot links the EventBridge client.
package bus

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/awsenv"
	"github.com/gatehouse/gatehouse/pkg/events"
)

// Source is the events' source, what a rule's pattern matches on.
const Source = "gatehouse"

// Timeout bounds one publication, inside the request's own deadline: an event is worth
// less than the user's answer, so a slow bus costs the request at most this long.
const Timeout = 300 * time.Millisecond

// maxEntries is PutEvents' limit of entries per call.
const maxEntries = 10

// API is the part of the EventBridge client the publisher calls.
type API interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, opts ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// NewClient is the EventBridge client of awsCfg, at endpoint when not nil (tests, local).
func NewClient(awsCfg aws.Config, endpoint *string) *eventbridge.Client {
	return eventbridge.NewFromConfig(awsCfg, func(o *eventbridge.Options) { o.BaseEndpoint = endpoint })
}

// Endpoint is the EventBridge endpoint override of getenv (AWS_ENDPOINT_URL_EVENTBRIDGE).
func Endpoint(getenv func(string) string) *string {
	return awsenv.Endpoint(getenv, eventbridge.ServiceID)
}

// Publisher is an account.EventObserver putting events on one bus. Within a request that
// collects its events (events.Collect) it publishes them together when the request ends,
// one PutEvents call for up to ten; otherwise each at once. A failure is logged (type and
// error, never the event's detail) and counted as the metric EventPublishFailed.
type Publisher struct {
	API     API
	Bus     string
	Log     *slog.Logger
	Metrics *events.Metrics
	Timeout time.Duration // 0: Timeout
}

// Observe implements account.EventObserver.
func (p *Publisher) Observe(ctx context.Context, ev account.Event) {
	if !events.Defer(ctx, ev, p.Publish) {
		p.Publish(ctx, []account.Event{ev})
	}
}

// Publish puts evs on the bus, ten to a call, and never fails: what the bus did not take
// is logged and counted.
func (p *Publisher) Publish(ctx context.Context, evs []account.Event) {
	timeout := p.Timeout
	if timeout == 0 {
		timeout = Timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for len(evs) > 0 {
		n := min(len(evs), maxEntries)
		p.put(ctx, evs[:n])
		evs = evs[n:]
	}
}

func (p *Publisher) put(ctx context.Context, evs []account.Event) {
	entries := make([]types.PutEventsRequestEntry, 0, len(evs))
	for _, ev := range evs {
		detail, err := json.Marshal(ev)
		if err != nil { // an Event always marshals; kept so a future field cannot panic
			p.failed(ctx, ev, err.Error())
			continue
		}
		entries = append(entries, types.PutEventsRequestEntry{
			EventBusName: aws.String(p.Bus),
			Source:       aws.String(Source),
			DetailType:   aws.String(string(ev.Type)),
			Detail:       aws.String(string(detail)),
			Time:         aws.Time(ev.Time),
		})
	}
	if len(entries) == 0 {
		return
	}
	out, err := p.API.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entries})
	if err != nil {
		for _, ev := range evs {
			p.failed(ctx, ev, err.Error())
		}
		return
	}
	// A call that succeeds may still refuse single entries; its answers are in order.
	for i, r := range out.Entries {
		if r.ErrorCode != nil && i < len(evs) {
			p.failed(ctx, evs[i], aws.ToString(r.ErrorCode)+": "+aws.ToString(r.ErrorMessage))
		}
	}
}

func (p *Publisher) failed(ctx context.Context, ev account.Event, reason string) {
	if p.Log != nil {
		p.Log.WarnContext(ctx, "event not published", "type", string(ev.Type), "bus", p.Bus, "error", reason)
	}
	if p.Metrics != nil {
		p.Metrics.Count(events.EventPublishFailed, ev.Family, 1)
	}
}
