package gateway

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

var errTooLarge = errors.New("request body exceeds API Gateway's limit")

// readBody reads the whole request body, refusing more than MaxBodySize.
func readBody(r *http.Request) ([]byte, error) {
	if r.ContentLength > MaxBodySize {
		return nil, errTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodySize+1))
	if err != nil {
		return nil, err
	}
	if len(body) > MaxBodySize {
		return nil, errTooLarge
	}
	return body, nil
}

// event builds the payload format 2.0 event API Gateway would send for r; authz is the
// context a Lambda authorizer answered (nil without one).
func (g *Gateway) event(r *http.Request, rt *route, params map[string]string, body []byte, reqID string, now time.Time, authz map[string]any) ([]byte, error) {
	headers, cookies := eventHeaders(r, body)
	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              rt.key,
		RawPath:               r.URL.Path, // HTTP APIs deliver the path decoded
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: queryParameters(r.URL.RawQuery),
		PathParameters:        params,
		RequestContext:        g.requestContext(r, rt, reqID, now),
	}
	if authz != nil {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: authz}
	}
	if len(body) > 0 {
		if isTextual(r.Header.Get("Content-Type")) && utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return json.Marshal(ev)
}

// requestContext is the requestContext API Gateway sends for r, to a route's function and
// to its Lambda authorizer alike.
func (g *Gateway) requestContext(r *http.Request, rt *route, reqID string, now time.Time) events.APIGatewayV2HTTPRequestContext {
	host := hostName(r.Host)
	return events.APIGatewayV2HTTPRequestContext{
		RouteKey:     rt.key,
		AccountID:    g.opts.AccountID,
		Stage:        "$default",
		RequestID:    reqID,
		APIID:        g.opts.APIID,
		DomainName:   host,
		DomainPrefix: domainPrefix(host),
		Time:         now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
		TimeEpoch:    now.UnixMilli(),
		HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
			Method:    r.Method,
			Path:      r.URL.Path,
			Protocol:  r.Proto,
			SourceIP:  clientIP(r),
			UserAgent: r.UserAgent(),
		},
	}
}

// eventHeaders lowercases header names and joins repeated values with commas, as API
// Gateway does; Cookie headers become the cookies list instead. It adds the headers API
// Gateway adds (host, content-length, x-forwarded-*, x-amzn-trace-id).
func eventHeaders(r *http.Request, body []byte) (map[string]string, []string) {
	headers := make(map[string]string, len(r.Header)+5)
	var cookies []string
	for name, values := range r.Header {
		lower := strings.ToLower(name)
		if lower == "cookie" {
			for _, v := range values {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[lower] = strings.Join(values, ",")
	}
	headers["host"] = r.Host
	delete(headers, "transfer-encoding")
	if len(body) > 0 {
		headers["content-length"] = strconv.Itoa(len(body))
	}
	ip := clientIP(r)
	if xff := headers["x-forwarded-for"]; xff != "" {
		headers["x-forwarded-for"] = xff + ", " + ip
	} else {
		headers["x-forwarded-for"] = ip
	}
	headers["x-forwarded-proto"] = "http"
	if r.TLS != nil {
		headers["x-forwarded-proto"] = "https"
	}
	if addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, port, err := net.SplitHostPort(addr.String()); err == nil {
			headers["x-forwarded-port"] = port
		}
	}
	if _, ok := headers["x-amzn-trace-id"]; !ok {
		headers["x-amzn-trace-id"] = "Root=1-" + strconv.FormatInt(time.Now().Unix(), 16) + "-" + randomHex(12)
	}
	return headers, cookies
}

// queryParameters decodes the query string, joining repeated values with commas; nil when
// there is no query string, as in API Gateway's events.
func queryParameters(raw string) map[string]string {
	if raw == "" {
		return nil
	}
	// ParseQuery keeps the pairs it can decode; API Gateway is as lenient.
	values, _ := url.ParseQuery(raw)
	if len(values) == 0 {
		return nil
	}
	out := make(map[string]string, len(values))
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out[k] = strings.Join(values[k], ",")
	}
	return out
}

// isTextual reports whether API Gateway passes a body of this content type as text.
func isTextual(contentType string) bool {
	if contentType == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.Split(contentType, ";")[0]))
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		strings.Contains(mt, "json"),
		strings.Contains(mt, "xml"),
		strings.Contains(mt, "javascript"),
		mt == "application/x-www-form-urlencoded":
		return true
	}
	return false
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func hostName(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

// domainPrefix is the first label of the host name, or the whole name for an IP address.
func domainPrefix(host string) string {
	if net.ParseIP(host) != nil {
		return host
	}
	first, _, _ := strings.Cut(host, ".")
	return first
}
