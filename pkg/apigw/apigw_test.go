package apigw

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func loadEvent(t *testing.T, name string) *events.APIGatewayV2HTTPRequest {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(b, &req); err != nil {
		t.Fatal(err)
	}
	return &req
}

func TestDecodeRealEvents(t *testing.T) {
	for _, name := range []string{"login-json.json", "login-form-base64.json"} {
		t.Run(name, func(t *testing.T) {
			p, err := DecodeParams(loadEvent(t, name))
			if err != nil {
				t.Fatal(err)
			}
			u, _ := p.Get("username").Str()
			pw, _ := p.Get("password").Str()
			if u != "Alice" || !strings.HasPrefix(pw, "s3cret pass") {
				t.Fatalf("params %+v", p)
			}
		})
	}
	req := loadEvent(t, "info-cookie.json")
	if v, ok := Cookie(req, "TOKEN"); !ok || v != "tok-from-cookie" {
		t.Fatalf("cookie %q %v", v, ok)
	}
	if tok, presented := SessionToken(req); !presented || tok != "tok-from-cookie" {
		t.Fatalf("session token %q %v", tok, presented)
	}
	q, err := Query(req)
	if err != nil || q.Get("x") != " y" || q.Get("lang") != "en" {
		t.Fatalf("query %v %v", q, err)
	}
}

func req(contentType, body string) *events.APIGatewayV2HTTPRequest {
	r := &events.APIGatewayV2HTTPRequest{Headers: map[string]string{}, Body: body}
	if contentType != "" {
		r.Headers["content-type"] = contentType
	}
	return r
}

func TestDecodeParams(t *testing.T) {
	tests := []struct {
		name, ct, body string
		want           Params
		err            error
	}{
		{"json", "application/json", `{"a":"x","b":null,"c":12,"d":true,"e":{"f":[1]}}`,
			Params{"a": {String, "x"}, "b": {Null, ""}, "c": {Number, "12"}, "d": {Other, ""}, "e": {Other, ""}}, nil},
		{"json charset", "application/json; charset=UTF-8", `{"a":"é"}`, Params{"a": {String, "é"}}, nil},
		{"vendor json", "application/vnd.api+json", `{"a":"x"}`, Params{"a": {String, "x"}}, nil},
		{"escapes", "application/json", `{"a":"\u00e9\n\"","__proto__":"p"}`, Params{"a": {String, "é\n\""}, "__proto__": {String, "p"}}, nil},
		{"form", "application/x-www-form-urlencoded", "a=x+y&b=%C3%A9&c=", Params{"a": {String, "x y"}, "b": {String, "é"}, "c": {String, ""}}, nil},
		{"sniffed json", "", ` {"a":"x"}`, Params{"a": {String, "x"}}, nil},
		{"sniffed form", "", `a=x`, Params{"a": {String, "x"}}, nil},
		{"text/plain json", "text/plain", `{"a":"x"}`, Params{"a": {String, "x"}}, nil},
		{"empty", "application/json", ``, Params{}, nil},
		{"empty object", "application/json", `{}`, Params{}, nil},
		{"array", "application/json", `["a"]`, nil, ErrBadBody},
		{"string", "application/json", `"a"`, nil, ErrBadBody},
		{"duplicate key", "application/json", `{"a":"x","a":"y"}`, nil, ErrBadBody},
		{"trailing data", "application/json", `{"a":"x"} {}`, nil, ErrBadBody},
		{"truncated", "application/json", `{"a":"x"`, nil, ErrBadBody},
		{"invalid utf-8", "application/json", "{\"a\":\"\xff\"}", nil, ErrBadBody},
		{"deep nesting", "application/json", `{"a":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`, nil, ErrBadBody},
		{"form bad escape", "application/x-www-form-urlencoded", "a=%zz", nil, ErrBadBody},
		{"form semicolon", "application/x-www-form-urlencoded", "a=x;b=y", nil, ErrBadBody},
		{"form duplicate", "application/x-www-form-urlencoded", "a=x&a=y", nil, ErrBadBody},
		{"form invalid utf-8", "application/x-www-form-urlencoded", "a=%ff", nil, ErrBadBody},
		{"multipart", "multipart/form-data; boundary=x", "--x--", nil, ErrBadBody},
		{"bad content type", "application/json; charset", `{}`, nil, ErrBadBody},
		{"latin-1", "application/json; charset=iso-8859-1", `{}`, nil, ErrBadBody},
		{"too large", "application/json", `{"a":"` + strings.Repeat("x", MaxBody) + `"}`, nil, ErrBodyTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := DecodeParams(req(tc.ct, tc.body))
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if tc.err != nil {
				return
			}
			if len(p) != len(tc.want) {
				t.Fatalf("got %v, want %v", p, tc.want)
			}
			for k, v := range tc.want {
				if p[k] != v {
					t.Fatalf("%s = %+v, want %+v", k, p[k], v)
				}
			}
		})
	}
}

func TestBodyBase64(t *testing.T) {
	r := req("application/json", base64.StdEncoding.EncodeToString([]byte(`{"a":"x"}`)))
	r.IsBase64Encoded = true
	p, err := DecodeParams(r)
	if err != nil || p["a"].Text != "x" {
		t.Fatalf("%v %v", p, err)
	}
	r.Body = "!!!"
	if _, err := DecodeParams(r); !errors.Is(err, ErrBadBody) {
		t.Fatalf("bad base64: %v", err)
	}
	r.Body = base64.StdEncoding.EncodeToString(make([]byte, MaxBody+1))
	if _, err := DecodeParams(r); !errors.Is(err, ErrBodyTooLarge) {
		t.Fatalf("large base64: %v", err)
	}
	r.Body = base64.StdEncoding.EncodeToString([]byte(strings.Repeat("a", MaxBody)))
	if _, err := Body(r); err != nil {
		t.Fatalf("exactly MaxBody: %v", err)
	}
}

func TestValueMissing(t *testing.T) {
	for v, want := range map[Value]bool{{Absent, ""}: true, {Null, ""}: true, {String, ""}: true, {String, "x"}: false, {Number, "0"}: false, {Other, ""}: false} {
		if v.Missing() != want {
			t.Errorf("%+v.Missing() = %v", v, !want)
		}
	}
}

func auth(v string) *events.APIGatewayV2HTTPRequest {
	return &events.APIGatewayV2HTTPRequest{Headers: map[string]string{"authorization": v}}
}

func TestBasic(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		header       string
		user, secret string
		ok           bool
	}{
		{"Basic " + b64("admin:pa:ss"), "admin", "pa:ss", true},
		{"basic " + b64("admin:x"), "admin", "x", true},
		{"Basic " + b64("adminnocolon"), "", "", false},
		{"Basic " + b64(":secret"), "", "", false},
		{"Basic " + b64("admin:"), "", "", false},
		{"Basic !!!notbase64", "", "", false},
		{"Basic " + b64("ad\xffmin:x"), "", "", false},
		{"Basic", "", "", false},
		{"Bearer " + b64("admin:x"), "", "", false},
		{"Digest username=admin", "", "", false},
		{"", "", "", false},
	}
	for _, tc := range tests {
		u, s, ok := Basic(auth(tc.header))
		if u != tc.user || s != tc.secret || ok != tc.ok {
			t.Errorf("Basic(%q) = %q %q %v", tc.header, u, s, ok)
		}
	}
}

func TestBearerAndSessionToken(t *testing.T) {
	if tok, ok := Bearer(auth("Bearer abc")); !ok || tok != "abc" {
		t.Fatal(tok)
	}
	if _, ok := Bearer(auth("Bearer ")); ok {
		t.Fatal("empty bearer accepted")
	}
	if _, ok := Bearer(auth("Basic abc")); ok {
		t.Fatal("basic as bearer")
	}
	// Presented but not a bearer token: "presented" so /user/logged says the token is bad.
	if tok, presented := SessionToken(auth("Basic abc")); !presented || tok != "" {
		t.Fatalf("%q %v", tok, presented)
	}
	if _, presented := SessionToken(&events.APIGatewayV2HTTPRequest{}); presented {
		t.Fatal("nothing presented")
	}
	r := &events.APIGatewayV2HTTPRequest{Headers: map[string]string{"Cookie": "a=b; ssid=s1"}}
	if tok, presented := SessionToken(r); !presented || tok != "s1" {
		t.Fatalf("ssid cookie header: %q", tok)
	}
}

func TestJSONResponse(t *testing.T) {
	r := JSON(201, map[string]string{"a": "<b>"}, WithHeader("x-y", "z"), WithRetryAfter(1500*1e6),
		WithCookie(&http.Cookie{Name: "TOKEN", Value: "v", Path: "/", HttpOnly: true}))
	if r.StatusCode != 201 || r.Headers["content-type"] != ContentType || r.Headers["cache-control"] != "no-store" ||
		r.Headers["x-y"] != "z" || r.Headers["retry-after"] != "2" || len(r.Cookies) != 1 || !strings.HasPrefix(r.Cookies[0], "TOKEN=v") {
		t.Fatalf("%+v", r)
	}
	var back map[string]string
	if err := json.Unmarshal([]byte(r.Body), &back); err != nil || back["a"] != "<b>" {
		t.Fatalf("body %s", r.Body)
	}
}

func TestHandleRecoversPanics(t *testing.T) {
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	h := Handle(log, func() Response { return JSON(500, map[string]string{"m": "generic"}) },
		func(context.Context, *events.APIGatewayV2HTTPRequest) Response { panic("boom") })
	resp, err := h(context.Background(), events.APIGatewayV2HTTPRequest{})
	if err != nil || resp.StatusCode != 500 || !strings.Contains(resp.Body, "generic") {
		t.Fatalf("%+v %v", resp, err)
	}
}
