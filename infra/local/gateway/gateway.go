// Package gateway is a local stand-in for an API Gateway HTTP API with Lambda proxy
// integrations (payload format 2.0): it routes requests as HTTP APIs do, turns each into
// the event API Gateway would send, invokes the function and turns its answer back into an
// HTTP response, including API Gateway's own error answers.
package gateway

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// MaxBodySize is API Gateway's limit on a request payload (10 MB).
const MaxBodySize = 10 * 1024 * 1024

// DefaultIntegrationTimeout is an HTTP API's maximum integration timeout.
const DefaultIntegrationTimeout = 30 * time.Second

// Invoker runs a function synchronously; *lambdart.Function implements it. Any error is
// answered with 500, as HTTP APIs answer a failed Lambda invocation.
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// Route connects an HTTP API route to a function.
type Route struct {
	// Method is an HTTP method or ANY.
	Method string
	// Path is an exact path such as /users/login, may contain {name} segments and a final
	// {name+} greedy segment, or is "$default" for the catch-all route.
	Path     string
	Function Invoker

	// Authorizer, when set, is a Lambda authorizer (payload 2.0, simple responses, no
	// identity sources, no caching) run before Function; see authorizer.go.
	Authorizer Invoker
}

// Options tune what the gateway reports in events.
type Options struct {
	// APIID and AccountID fill requestContext; defaults "local" and "123456789012".
	APIID     string
	AccountID string
	// IntegrationTimeout bounds an invocation including queueing; 0 means 30 s.
	IntegrationTimeout time.Duration
	// AccessLog receives one line per request; nil discards. It must be safe for
	// concurrent use.
	AccessLog io.Writer

	// CORS is the API's CorsConfiguration; nil means none (no preflight answers, no
	// Access-Control headers), as an HTTP API without one.
	CORS *CORS
}

// Gateway is an http.Handler serving the routes.
type Gateway struct {
	routes *routeTable
	opts   Options
}

// New compiles routes; it fails on an invalid path or a route key defined twice.
func New(routes []Route, opts Options) (*Gateway, error) {
	t, err := newRouteTable(routes)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	if opts.APIID == "" {
		opts.APIID = "local"
	}
	if opts.AccountID == "" {
		opts.AccountID = "123456789012"
	}
	if opts.IntegrationTimeout <= 0 {
		opts.IntegrationTimeout = DefaultIntegrationTimeout
	}
	if opts.AccessLog == nil {
		opts.AccessLog = io.Discard
	}
	return &Gateway{routes: t, opts: opts}, nil
}

// The answers API Gateway itself gives, byte for byte.
const (
	bodyNotFound        = `{"message":"Not Found"}`
	bodyTooLarge        = `{"message":"Request Entity Too Large"}`
	bodyInternalError   = `{"message":"Internal Server Error"}`
	bodyServiceUnavail  = `{"message":"Service Unavailable"}`
	gatewayContentType  = "application/json; charset=utf-8"
	requestIDHeaderName = "Apigw-Requestid"
)

// ServeHTTP handles one request.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	reqID := newRequestID()
	w.Header().Set(requestIDHeaderName, reqID)
	status, routeKey := g.serve(w, r, reqID, start)
	fmt.Fprintf(g.opts.AccessLog, "%s %q %d %.1fms route=%q id=%s\n",
		clientIP(r), r.Method+" "+r.URL.RequestURI(), status,
		float64(time.Since(start))/float64(time.Millisecond), routeKey, reqID)
}

func (g *Gateway) serve(w http.ResponseWriter, r *http.Request, reqID string, start time.Time) (status int, routeKey string) {
	if c := g.opts.CORS; c != nil {
		if isPreflight(r) {
			return c.preflight(w, r), "-"
		}
		w = &corsWriter{ResponseWriter: w, cors: c, origin: r.Header.Get("Origin")}
	}
	rt, params := g.routes.lookup(r.Method, r.URL.Path)
	if rt == nil {
		return writeGatewayError(w, http.StatusNotFound, bodyNotFound), "-"
	}
	body, err := readBody(r)
	if errors.Is(err, errTooLarge) {
		return writeGatewayError(w, http.StatusRequestEntityTooLarge, bodyTooLarge), rt.key
	}
	if err != nil {
		// The client went away or sent a broken body; nobody is listening for an answer.
		return writeGatewayError(w, http.StatusBadRequest, `{"message":"Bad Request"}`), rt.key
	}
	var authz map[string]any
	if rt.Authorizer != nil {
		var denied int
		if authz, denied = g.authorize(w, r, rt, params, reqID, start); denied != 0 {
			return denied, rt.key
		}
	}
	payload, err := g.event(r, rt, params, body, reqID, start, authz)
	if err != nil {
		return writeGatewayError(w, http.StatusInternalServerError, bodyInternalError), rt.key
	}

	ctx, cancel := context.WithTimeout(r.Context(), g.opts.IntegrationTimeout)
	defer cancel()
	out, err := rt.Function.Invoke(ctx, payload)
	switch {
	case errors.Is(err, context.DeadlineExceeded) && r.Context().Err() == nil:
		return writeGatewayError(w, http.StatusServiceUnavailable, bodyServiceUnavail), rt.key
	case err != nil:
		return writeGatewayError(w, http.StatusInternalServerError, bodyInternalError), rt.key
	}
	return writeFunctionResponse(w, out), rt.key
}

func writeGatewayError(w http.ResponseWriter, status int, body string) int {
	w.Header().Set("Content-Type", gatewayContentType)
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
	return status
}

// newRequestID returns an ID shaped like API Gateway's (16 base64 characters).
func newRequestID() string {
	var b [11]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}
