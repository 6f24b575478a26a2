// Package apigw turns API Gateway HTTP API (payload format 2.0) events into request data
// and builds the responses: body decoding (JSON or form, with a size limit), query string,
// cookies, Bearer and Basic credentials, and JSON responses.
package apigw

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// MaxBody is the largest request body a handler reads (decoded size).
const MaxBody = 64 << 10

// Errors of body decoding. Each family answers them with its own 4xx.
var (
	ErrBodyTooLarge = errors.New("request body over 64 KiB")
	ErrBadBody      = errors.New("request body is not a valid JSON object or form")
)

// Header returns the first value of a request header, ignoring the name's case (API
// Gateway lowercases names, but a test event may not).
func Header(req *events.APIGatewayV2HTTPRequest, name string) string {
	if v, ok := req.Headers[strings.ToLower(name)]; ok {
		return v
	}
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// Body returns the decoded request body, refusing bodies over MaxBody before decoding.
func Body(req *events.APIGatewayV2HTTPRequest) ([]byte, error) {
	if !req.IsBase64Encoded {
		if len(req.Body) > MaxBody {
			return nil, ErrBodyTooLarge
		}
		return []byte(req.Body), nil
	}
	if base64.StdEncoding.DecodedLen(len(req.Body)) > MaxBody+3 {
		return nil, ErrBodyTooLarge
	}
	b, err := base64.StdEncoding.DecodeString(req.Body)
	if err != nil {
		return nil, ErrBadBody
	}
	if len(b) > MaxBody {
		return nil, ErrBodyTooLarge
	}
	return b, nil
}

// Query parses the raw query string strictly (a malformed escape is an error rather than
// a silently dropped parameter).
func Query(req *events.APIGatewayV2HTTPRequest) (url.Values, error) {
	if req.RawQueryString == "" {
		return url.Values{}, nil
	}
	v, err := url.ParseQuery(req.RawQueryString)
	if err != nil {
		return nil, fmt.Errorf("query string: %w", err)
	}
	return v, nil
}

// Cookie returns the value of the named cookie. Payload 2.0 carries cookies in their own
// array; a Cookie header is read as well for events built by hand.
func Cookie(req *events.APIGatewayV2HTTPRequest, name string) (string, bool) {
	lines := req.Cookies
	if len(lines) == 0 {
		if h := Header(req, "cookie"); h != "" {
			lines = strings.Split(h, ";")
		}
	}
	for _, line := range lines {
		for _, part := range strings.Split(line, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if ok && k == name {
				return strings.Trim(v, `"`), true
			}
		}
	}
	return "", false
}

// Bearer returns the token of an "Authorization: Bearer <token>" header.
func Bearer(req *events.APIGatewayV2HTTPRequest) (string, bool) {
	scheme, rest, ok := strings.Cut(strings.TrimSpace(Header(req, "authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token := strings.TrimSpace(rest)
	return token, token != ""
}

// Basic returns the credentials of an "Authorization: Basic base64(user:secret)" header.
// Anything malformed (other schemes, bad base64, no colon, an empty part, invalid UTF-8)
// is simply "no credentials".
func Basic(req *events.APIGatewayV2HTTPRequest) (user, secret string, ok bool) {
	scheme, rest, found := strings.Cut(strings.TrimSpace(Header(req, "authorization")), " ")
	if !found || !strings.EqualFold(scheme, "Basic") {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
	if err != nil || !utf8.Valid(raw) {
		return "", "", false
	}
	user, secret, found = strings.Cut(string(raw), ":")
	if !found || user == "" || secret == "" {
		return "", "", false
	}
	return user, secret, true
}

// SessionToken returns the session token a request presents: a Bearer token, else the
// cookie TOKEN, else the cookie ssid. presented is true when any of them is there, even
// empty, so handlers can tell "no auth info" from "unknown token".
func SessionToken(req *events.APIGatewayV2HTTPRequest) (token string, presented bool) {
	if h := Header(req, "authorization"); h != "" {
		if t, ok := Bearer(req); ok {
			return t, true
		}
	}
	for _, name := range []string{"TOKEN", "ssid"} {
		if v, ok := Cookie(req, name); ok {
			return v, true
		}
	}
	return "", Header(req, "authorization") != ""
}

// Kind is what a request parameter held.
type Kind int

const (
	Absent Kind = iota // not in the request
	Null               // JSON null
	String             // a string (JSON string or form value)
	Number             // a JSON number; Value.Text holds its literal
	Other              // a JSON boolean, object or array
)

// Value is one decoded request parameter.
type Value struct {
	Kind Kind
	Text string // the string, or a number's literal
}

// Str returns the parameter as a string when it is one.
func (v Value) Str() (string, bool) { return v.Text, v.Kind == String }

// Missing reports absent, null or "".
func (v Value) Missing() bool {
	return v.Kind == Absent || v.Kind == Null || (v.Kind == String && v.Text == "")
}

// Params are the decoded parameters of a body (or query string).
type Params map[string]Value

// Get returns the named parameter (Absent when not there).
func (p Params) Get(name string) Value { return p[name] }

// FromQuery turns query values into Params (duplicates refused like in forms).
func FromQuery(q url.Values) (Params, error) {
	p := Params{}
	for k, vs := range q {
		if len(vs) != 1 {
			return nil, ErrBadBody
		}
		if !utf8.ValidString(k) || !utf8.ValidString(vs[0]) {
			return nil, ErrBadBody
		}
		p[k] = Value{Kind: String, Text: vs[0]}
	}
	return p, nil
}

// DecodeParams decodes the body as a JSON object or a form, by Content-Type. Without a
// usable Content-Type, a body that starts with "{" is JSON and anything else a form.
// Duplicate keys, invalid UTF-8, trailing data and non-object JSON are ErrBadBody.
func DecodeParams(req *events.APIGatewayV2HTTPRequest) (Params, error) {
	body, err := Body(req)
	if err != nil {
		return nil, err
	}
	kind, err := bodyKind(Header(req, "content-type"), body)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return Params{}, nil
	}
	if kind == "json" {
		return decodeJSON(body)
	}
	return decodeForm(body)
}

func bodyKind(contentType string, body []byte) (string, error) {
	if contentType != "" {
		mt, params, err := mime.ParseMediaType(contentType)
		if err != nil {
			return "", ErrBadBody
		}
		if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "us-ascii") {
			return "", ErrBadBody
		}
		switch {
		case mt == "application/json" || strings.HasSuffix(mt, "+json"):
			return "json", nil
		case mt == "application/x-www-form-urlencoded":
			return "form", nil
		case mt != "text/plain" && mt != "application/octet-stream":
			// multipart and the rest: not something these routes read.
			return "", ErrBadBody
		}
	}
	if bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) {
		return "json", nil
	}
	return "form", nil
}

func decodeJSON(body []byte) (Params, error) {
	// JSON text is UTF-8 (RFC 8259); encoding/json would quietly replace invalid bytes, which
	// for a password means a different password.
	if !utf8.Valid(body) || !pairedSurrogates(body) {
		return nil, ErrBadBody
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, ErrBadBody
	}
	p := Params{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, ErrBadBody
		}
		name, ok := tok.(string)
		if !ok {
			return nil, ErrBadBody
		}
		if _, dup := p[name]; dup {
			return nil, ErrBadBody
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, ErrBadBody
		}
		p[name] = jsonValue(raw)
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, ErrBadBody
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, ErrBadBody
	}
	return p, nil
}

func jsonValue(raw json.RawMessage) Value {
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return Value{Kind: Other}
		}
		return Value{Kind: String, Text: s}
	case 'n':
		return Value{Kind: Null}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return Value{Kind: Number, Text: string(raw)}
	default:
		return Value{Kind: Other}
	}
}

func decodeForm(body []byte) (Params, error) {
	q, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, ErrBadBody
	}
	return FromQuery(q)
}

// RequestInfo is what the request tells its audit events: the client's address and user
// agent, API Gateway's request id, and the API family its route belongs to.
func RequestInfo(req *events.APIGatewayV2HTTPRequest) account.RequestInfo {
	return account.RequestInfo{
		SourceIP:  req.RequestContext.HTTP.SourceIP,
		UserAgent: req.RequestContext.HTTP.UserAgent,
		RequestID: req.RequestContext.RequestID,
		Family:    Family(req.RouteKey),
	}
}

// Family is the API family of a route key ("POST /users/login" is users): by its path's
// prefix, as docs/API.md groups them; "" for none.
func Family(routeKey string) string {
	_, path, _ := strings.Cut(routeKey, " ")
	if path == "/login" { // MMDL's path of POST /users/login
		return "users"
	}
	for _, f := range [...]struct{ prefix, name string }{
		{"/api/user/v1/", "v1"}, {"/api/v2/", "admin"}, {"/users/", "users"}, {"/user/", "user"},
	} {
		if strings.HasPrefix(path, f.prefix) {
			return f.name
		}
	}
	return ""
}
