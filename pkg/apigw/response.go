package apigw

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/invocation"
)

// ContentType of every response (API.md: also errors and 404s).
const ContentType = "application/json; charset=utf-8"

// Response is what a handler returns.
type Response = events.APIGatewayV2HTTPResponse

// Option adjusts a response.
type Option func(*Response)

// WithHeader sets a response header.
func WithHeader(name, value string) Option {
	return func(r *Response) { r.Headers[name] = value }
}

// WithCookie adds a Set-Cookie line (payload 2.0 "cookies").
func WithCookie(c *http.Cookie) Option {
	return func(r *Response) { r.Cookies = append(r.Cookies, c.String()) }
}

// WithRetryAfter sets Retry-After in whole seconds, rounded up, at least 1.
func WithRetryAfter(d time.Duration) Option {
	secs := int64((d + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	return WithHeader("retry-after", strconv.FormatInt(secs, 10))
}

// JSON returns a response with v encoded as JSON. Responses are never cached: they carry
// session tokens and account data.
func JSON(status int, v any, opts ...Option) Response {
	body, err := json.Marshal(v)
	if err != nil {
		// Only values this project builds are encoded; failing here is a bug, reported as
		// a bare 500 rather than a crash.
		status, body = http.StatusInternalServerError, []byte(`{"message":"Internal Server Error"}`)
	}
	r := Response{
		StatusCode: status,
		Headers: map[string]string{
			"content-type":           ContentType,
			"cache-control":          "no-store",
			"x-content-type-options": "nosniff",
		},
		Body: string(body),
	}
	for _, o := range opts {
		o(&r)
	}
	return r
}

// HandlerFunc is the shape of every route handler: it always produces a response; errors
// become the family's error bodies inside the handler.
type HandlerFunc func(ctx context.Context, req *events.APIGatewayV2HTTPRequest) Response

// LambdaHandler is what lambda.Start receives.
type LambdaHandler func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (Response, error)

// Handle wraps h for lambda.Start: it logs one line per request, ends the handler's context
// before the invocation's deadline (deadline.go), and turns a panic into the family's
// generic server error. It never returns an error, because an error makes API
// Gateway answer its own 500 in a format the family does not use.
func Handle(log *slog.Logger, serverError func() Response, h HandlerFunc) LambdaHandler {
	return func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (resp Response, err error) {
		start := time.Now()
		ctx, stats := invocation.Start(ctx)
		ctx = account.WithRequest(ctx, RequestInfo(&req)) // for the per-source limit and audit events
		ctx, release := withDeadline(ctx, log)
		defer release()
		defer func() {
			if p := recover(); p != nil {
				log.ErrorContext(ctx, "handler panic", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				resp = serverError()
			}
			d, m := time.Since(start), stats.Snapshot()
			// Where the time went: DynamoDB, the password hash (key derivation), the mail
			// service, and the handler's own work, which is what is left.
			log.InfoContext(ctx, "request",
				"route", req.RouteKey,
				"status", resp.StatusCode,
				"duration_ms", ms(d),
				"dynamodb_calls", m.DynamoCalls,
				"dynamodb_ms", ms(m.DynamoTime),
				"dynamodb_rcu", m.ReadUnits,
				"dynamodb_wcu", m.WriteUnits,
				"kdf_ms", ms(m.HashTime),
				"ses_ms", ms(m.MailTime),
				"own_ms", ms(d-m.DynamoTime-m.HashTime-m.MailTime),
				"source_ip", req.RequestContext.HTTP.SourceIP,
			)
		}()
		return h(ctx, &req), nil
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
