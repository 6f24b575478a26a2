package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// API Gateway's answers when a Lambda authorizer denies or fails.
const (
	bodyForbidden = `{"message":"Forbidden"}`
)

// authorize runs rt's Lambda authorizer as an HTTP API does with payload format 2.0, simple
// responses, no identity sources and caching off: it sends the request's headers, cookies
// and context, and answers 403 {"message":"Forbidden"} unless the authorizer says
// isAuthorized:true, 500 when the authorizer fails or answers something else, and 503 when
// it times out. denied is the status written, or 0 with the context to forward.
func (g *Gateway) authorize(w http.ResponseWriter, r *http.Request, rt *route, params map[string]string, reqID string, now time.Time) (authz map[string]any, denied int) {
	headers, cookies := eventHeaders(r, nil)
	ev := events.APIGatewayV2CustomAuthorizerV2Request{
		Version:               "2.0",
		Type:                  "REQUEST",
		RouteArn:              "arn:aws:execute-api:local:" + g.opts.AccountID + ":" + g.opts.APIID + "/$default/" + r.Method + r.URL.Path,
		IdentitySource:        nil,
		RouteKey:              rt.key,
		RawPath:               r.URL.Path,
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: queryParameters(r.URL.RawQuery),
		PathParameters:        params,
		RequestContext:        g.requestContext(r, rt, reqID, now),
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return nil, writeGatewayError(w, http.StatusInternalServerError, bodyInternalError)
	}
	ctx, cancel := context.WithTimeout(r.Context(), g.opts.IntegrationTimeout)
	defer cancel()
	out, err := rt.Authorizer.Invoke(ctx, payload)
	switch {
	case errors.Is(err, context.DeadlineExceeded) && r.Context().Err() == nil:
		return nil, writeGatewayError(w, http.StatusServiceUnavailable, bodyServiceUnavail)
	case err != nil:
		return nil, writeGatewayError(w, http.StatusInternalServerError, bodyInternalError)
	}
	// A strict reading: isAuthorized must be a JSON boolean, as API Gateway requires.
	var resp struct {
		IsAuthorized *bool          `json:"isAuthorized"`
		Context      map[string]any `json:"context"`
	}
	if err := json.Unmarshal(out, &resp); err != nil || resp.IsAuthorized == nil {
		return nil, writeGatewayError(w, http.StatusInternalServerError, bodyInternalError)
	}
	if !*resp.IsAuthorized {
		return nil, writeGatewayError(w, http.StatusForbidden, bodyForbidden)
	}
	if resp.Context == nil {
		resp.Context = map[string]any{}
	}
	return resp.Context, 0
}
