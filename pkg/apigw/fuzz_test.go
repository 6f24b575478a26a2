package apigw

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// FuzzDecodeParams: whatever the body and content type, decoding ends in parameters of
// valid UTF-8 or in one of the two documented errors, never a panic.
func FuzzDecodeParams(f *testing.F) {
	for _, s := range []struct{ ct, body string }{
		{"application/json", `{"username":"alice","password":"correct horse"}`},
		{"application/json", `{"username":"alice","email":"alice@example.com","password":"12345678","name":"Alice","bio":"hi","pronounce":"a-lis","website":"https://a.example"}`},
		{"application/json", `{"uuid":"1b4e28ba-2fa1-11d2-883f-0016d3cca427","newPassword":"new-password"}`},
		{"application/x-www-form-urlencoded", "name=Jane&email=jane%40example.com&password=s3cret-pass"},
		{"application/x-www-form-urlencoded", "userhash=ab&OTP=123456&reqid=xyz&password=pw"},
		{"", `{"a":{"b":[1,2,{"c":null}]},"d":1e999}`},
		{"text/plain", "a=%zz"},
		{"application/json", "{\"a\":\"\\ud800\"}"},
	} {
		f.Add(s.ct, s.body, false)
	}
	f.Fuzz(func(t *testing.T, ct, body string, b64 bool) {
		req := &events.APIGatewayV2HTTPRequest{Headers: map[string]string{"content-type": ct}, Body: body, IsBase64Encoded: b64}
		p, err := DecodeParams(req)
		if err != nil {
			if !errors.Is(err, ErrBadBody) && !errors.Is(err, ErrBodyTooLarge) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		for k, v := range p {
			if v.Kind == String && (!utf8.ValidString(v.Text) || !utf8.ValidString(k)) {
				t.Fatalf("invalid UTF-8 in %q=%q", k, v.Text)
			}
			// Nothing is silently repaired: a U+FFFD comes only from the body itself.
			if strings.ContainsRune(k+v.Text, utf8.RuneError) && !strings.ContainsRune(body, utf8.RuneError) &&
				!strings.Contains(strings.ToLower(body), `\ufffd`) && !strings.Contains(strings.ToUpper(body), "%EF%BF%BD") && !b64 {
				t.Fatalf("U+FFFD in %q=%q that the body does not hold", k, v.Text)
			}
		}
	})
}
