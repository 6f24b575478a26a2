package apigw

import (
	"errors"
	"testing"
)

// Unpaired UTF-16 surrogate escapes and surrogates encoded as UTF-8 bytes are bad bodies:
// encoding/json would read each of them as U+FFFD, so different passwords would become one.
func TestUnpairedSurrogatesAreBadBodies(t *testing.T) {
	for name, body := range map[string]string{
		"lone high":          `{"password":"\ud800abcdefgh"}`,
		"lone high, upper":   `{"password":"\uD800abcdefgh"}`,
		"lone low":           `{"password":"\udc00abcdefgh"}`,
		"high at the end":    `{"password":"abcdefgh\udbff"}`,
		"high then non-low":  `{"password":"\ud800\u0041bcdefgh"}`,
		"high then high":     `{"password":"\ud800\ud800bcdefgh"}`,
		"pair reversed":      `{"password":"\udc00\ud800bcdefgh"}`,
		"high then escape":   `{"password":"\ud800\nbcdefgh"}`,
		"in a key":           `{"\ud800":"x"}`,
		"in a nested value":  `{"a":{"b":["\udfff"]}}`,
		"cesu-8 bytes":       "{\"password\":\"\xed\xa0\x80abcdefgh\"}",
		"high, truncated":    `{"password":"\ud800\u`,
		"high, short escape": `{"password":"\ud800\udc0"}`,
	} {
		t.Run(name, func(t *testing.T) {
			if p, err := DecodeParams(req("application/json", body)); !errors.Is(err, ErrBadBody) {
				t.Fatalf("DecodeParams(%s) = %v, %v; want ErrBadBody", body, p, err)
			}
		})
	}
	for name, body := range map[string]string{
		"form cesu-8":     "password=%ED%A0%80abcdefgh",
		"form cesu-8 key": "%ED%B0%80=x",
	} {
		t.Run(name, func(t *testing.T) {
			if p, err := DecodeParams(req("application/x-www-form-urlencoded", body)); !errors.Is(err, ErrBadBody) {
				t.Fatalf("DecodeParams(%s) = %v, %v; want ErrBadBody", body, p, err)
			}
		})
	}
}

// Paired surrogates, and text that only looks like an escape, still decode.
func TestPairedSurrogatesDecode(t *testing.T) {
	for body, want := range map[string]string{
		`{"a":"\ud83d\ude00x"}`:  "😀x",
		`{"a":"\uD83D\uDE00"}`:   "😀",
		`{"a":"\\ud800"}`:        `\ud800`,
		`{"a":"\\\ud83d\ude00"}`: `\😀`,
		`{"a":"x\"y"}`:           `x"y`,
	} {
		p, err := DecodeParams(req("application/json", body))
		if err != nil || p["a"].Text != want {
			t.Errorf("DecodeParams(%s) = %q, %v; want %q", body, p["a"].Text, err, want)
		}
	}
}
