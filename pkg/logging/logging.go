// Package logging builds the JSON logger of the functions (log/slog) and keeps secrets out
// of it: attributes whose names say they hold a secret are redacted, whatever a caller
// passes.
package logging

import (
	"context"
	"io"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Redacted replaces the value of a sensitive attribute.
const Redacted = "[REDACTED]"

// sensitive are substrings of attribute keys that never carry a value into a log.
var sensitive = []string{"password", "passwd", "secret", "token", "otp", "hash", "authorization", "cookie", "ssid", "reqid", "uuid"}

// IsSensitive reports whether an attribute named key must not be logged.
func IsSensitive(key string) bool {
	k := strings.ToLower(key)
	for _, s := range sensitive {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// New returns a JSON logger writing to w at level, with the Lambda request id of the
// context on every record.
func New(w io.Writer, level slog.Leveler) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			// CloudWatch Logs stamps every event, and the local stack prints lines as they
			// come: a time of our own is bytes paid for twice.
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			if IsSensitive(a.Key) && a.Key != slog.MessageKey {
				return slog.String(a.Key, Redacted)
			}
			return a
		},
	})
	return slog.New(requestID{h})
}

// requestID adds the invocation's request id (from the Lambda context) to each record.
type requestID struct{ slog.Handler }

func (h requestID) Handle(ctx context.Context, r slog.Record) error {
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		r.AddAttrs(slog.String("request_id", lc.AwsRequestID))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestID) WithAttrs(as []slog.Attr) slog.Handler { return requestID{h.Handler.WithAttrs(as)} }
func (h requestID) WithGroup(name string) slog.Handler    { return requestID{h.Handler.WithGroup(name)} }
