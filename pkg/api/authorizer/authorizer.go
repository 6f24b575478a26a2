// Package authorizer is the session authorizer other stacks attach to their HTTP APIs: an
// API Gateway HTTP API Lambda authorizer (payload format 2.0, simple responses) that accepts
// a Gatehouse session in any form the families accept and tells API Gateway who is calling.
package authorizer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/apigw"
	"github.com/gatehouse/gatehouse/pkg/invocation"
)

// Response is what API Gateway receives (simple response format).
type Response = events.APIGatewayV2CustomAuthorizerSimpleResponse

// Handler checks sessions against the account domain.
type Handler struct {
	svc *account.Service
	log *slog.Logger
}

// New returns the authorizer's handler.
func New(svc *account.Service, log *slog.Logger) *Handler { return &Handler{svc: svc, log: log} }

// Lambda is what lambda.Start receives. It never returns an error: API Gateway answers an
// authorizer error with a 500 at the consumer, while a denial is the documented 403.
func (h *Handler) Lambda(ctx context.Context, req events.APIGatewayV2CustomAuthorizerV2Request) (resp Response, err error) {
	start := time.Now()
	ctx, stats := invocation.Start(ctx)
	defer func() {
		if p := recover(); p != nil {
			h.log.ErrorContext(ctx, "authorizer panic", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			resp, err = Response{IsAuthorized: false}, nil
		}
		m := stats.Snapshot()
		h.log.InfoContext(ctx, "authorize",
			"route", req.RouteKey,
			"authorized", resp.IsAuthorized,
			"duration_ms", float64(time.Since(start).Microseconds())/1000,
			"dynamodb_calls", m.DynamoCalls,
			"source_ip", req.RequestContext.HTTP.SourceIP,
			"request_id", req.RequestContext.RequestID,
		)
	}()
	return h.Authorize(ctx, &req), nil
}

// Authorize answers one authorizer request.
func (h *Handler) Authorize(ctx context.Context, req *events.APIGatewayV2CustomAuthorizerV2Request) Response {
	// The families' credential parsing works on the HTTP request event; the authorizer
	// event carries the same headers and cookies.
	http := &events.APIGatewayV2HTTPRequest{Headers: req.Headers, Cookies: req.Cookies}
	var (
		a   *account.Account
		err error
	)
	scheme, _, _ := strings.Cut(strings.TrimSpace(apigw.Header(http, "authorization")), " ")
	if strings.EqualFold(scheme, "Basic") {
		// MMDL's "Basic base64(userhash:ssid)": the session must be the userhash's account's.
		// A malformed Basic header decides too (an empty userhash matches no account).
		userHash, token, _ := apigw.Basic(http)
		a, _, err = h.svc.PeekSessionAs(ctx, userHash, token)
	} else {
		token, presented := apigw.SessionToken(http)
		if !presented || token == "" {
			return Response{IsAuthorized: false}
		}
		// Read only: the authorizer's policy grants no write, so it leaves the last-seen
		// time to Gatehouse's own routes.
		a, _, err = h.svc.PeekSession(ctx, token)
	}
	if err != nil {
		if !errors.Is(err, account.ErrNotAuthenticated) {
			// A store fault denies (fail closed) and is logged; never the token itself.
			h.log.ErrorContext(ctx, "session check failed", "error", err.Error())
		}
		return Response{IsAuthorized: false}
	}
	return Response{IsAuthorized: true, Context: map[string]any{
		"user_id":  a.UserID, // a number, as user_id is in the v1 family
		"username": a.Username,
		"role":     string(a.Role),
	}}
}
