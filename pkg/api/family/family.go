// Package family is the skeleton the API families share: a route returns its answer or an
// error, and the family's one table (Table) turns every error into an answer, in one place
// (Base.Answer), so internal detail is logged there and never returned.
package family

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/apigw"
	auditevents "github.com/gatehouse/gatehouse/pkg/events"
	"github.com/gatehouse/gatehouse/pkg/invocation"
)

// Route is a family's route handler: its answer, or an error for the family's table.
type Route func(ctx context.Context, req *events.APIGatewayV2HTTPRequest) (apigw.Response, error)

// Table is a family's one table from the domain's errors to its answers. ok is false for
// an error with no documented answer (a fault), which Base logs and answers with the
// family's server error.
type Table func(e *account.Error) (resp apigw.Response, ok bool)

// Base is what every family's Handler embeds: the service, the logger and the family's
// answers.
type Base struct {
	Svc         *account.Service
	Log         *slog.Logger
	table       Table
	serverError func() apigw.Response
}

// New returns the Base of a family with its error table and its server-error answer.
func New(svc *account.Service, log *slog.Logger, table Table, serverError func() apigw.Response) Base {
	return Base{Svc: svc, Log: log, table: table, serverError: serverError}
}

// Lambda wraps a route for lambda.Start (apigw.Handle: request log, deadline, panics).
func (b *Base) Lambda(route Route) apigw.LambdaHandler {
	serve := b.Serve(route)
	return apigw.Handle(b.Log, b.serverError, func(ctx context.Context, req *events.APIGatewayV2HTTPRequest) apigw.Response {
		defer b.timeHashes(ctx)()
		// The request's audit events are published together when the route has its answer (one
		// EventBridge call, not one per event).
		ctx, publish := auditevents.Collect(ctx)
		defer publish()
		return serve(ctx, req)
	})
}

// spender is a hasher that keeps the time it has spent (password.Hasher).
type spender interface{ Spent() time.Duration }

// timeHashes reports the time the service's hasher spends until the returned func runs
// to the request's measurement (kdf_ms of the request log).
func (b *Base) timeHashes(ctx context.Context) func() {
	var h spender
	if b.Svc != nil {
		h, _ = b.Svc.Hasher.(spender)
	}
	if h == nil {
		return func() {}
	}
	start := h.Spent()
	return func() { invocation.From(ctx).AddHash(h.Spent() - start) }
}

// Serve turns a route into a handler that always answers: an error becomes its answer.
func (b *Base) Serve(route Route) apigw.HandlerFunc {
	return func(ctx context.Context, req *events.APIGatewayV2HTTPRequest) apigw.Response {
		resp, err := route(ctx, req)
		if err != nil {
			return b.Answer(ctx, err)
		}
		return resp
	}
}

// Answer is the one place an error becomes an answer: a Refusal answers itself, a
// domain error is looked up in the family's table, and anything else is a fault, logged
// and answered with the family's server error. A failed mail is logged with its reason
// (never the address or code).
func (b *Base) Answer(ctx context.Context, err error) apigw.Response {
	var r Refusal
	if errors.As(err, &r) {
		return r.Answer()
	}
	e := account.ErrorOf(err)
	if e.Code == account.CodeMailFailed {
		b.Log.ErrorContext(ctx, "mail not sent", "reason", account.MailFailureReason(e), "error", e.Error())
	}
	if resp, ok := b.table(e); ok {
		return resp
	}
	b.Fault(ctx, e)
	return b.serverError()
}

// Fault logs an error that has no documented answer. The detail stays in the log.
func (b *Base) Fault(ctx context.Context, e *account.Error) {
	b.Log.ErrorContext(ctx, "request failed", "code", string(e.Code), "error", e.Error())
}

// Refusal is an answer a family decides itself, before or instead of asking the domain
// (an unreadable body, a parameter of the wrong type): a route returns it as its error and
// Answer answers it.
type Refusal interface {
	error
	Answer() apigw.Response
}

type refusal struct{ resp apigw.Response }

func (r *refusal) Error() string          { return "refused with status " + strconv.Itoa(r.resp.StatusCode) }
func (r *refusal) Answer() apigw.Response { return r.resp }

// Refuse returns resp as a Refusal.
func Refuse(resp apigw.Response) error { return &refusal{resp: resp} }
