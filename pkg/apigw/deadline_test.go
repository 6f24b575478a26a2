package apigw

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// TestHandleEndsContextBeforeDeadline: the handler's context ends a margin before the
// invocation's, so a handler blocked on a hanging call still answers (and the timeout is
// logged) while the invocation has time left.
func TestHandleEndsContextBeforeDeadline(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	h := Handle(log, func() Response { return JSON(500, map[string]string{"error": "internal"}) },
		func(ctx context.Context, _ *events.APIGatewayV2HTTPRequest) Response {
			<-ctx.Done() // a call that never answers, bounded only by the context
			return JSON(503, map[string]string{"error": ctx.Err().Error()})
		})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	resp, err := h(ctx, events.APIGatewayV2HTTPRequest{})
	if err != nil || ctx.Err() != nil {
		t.Fatalf("answer %d came after the deadline (context %v, error %v)", resp.StatusCode, ctx.Err(), err)
	}
	if resp.StatusCode != 503 || !strings.Contains(resp.Body, "deadline exceeded") {
		t.Fatalf("answer %d %s", resp.StatusCode, resp.Body)
	}
	if !strings.Contains(logs.String(), `"msg":"request deadline reached"`) {
		t.Fatalf("timeout not logged: %s", logs.String())
	}
}

func TestDeadlineMargin(t *testing.T) {
	for _, c := range []struct{ left, want time.Duration }{
		{10 * time.Second, MaxDeadlineMargin}, // the template's Timeout
		{time.Second, 100 * time.Millisecond},
		{0, 0},
		{-time.Second, 0},
	} {
		if got := DeadlineMargin(c.left); got != c.want {
			t.Errorf("DeadlineMargin(%v) = %v, want %v", c.left, got, c.want)
		}
	}
}

// TestHandleWithoutDeadline: a context without a deadline (tests, tools) is left alone.
func TestHandleWithoutDeadline(t *testing.T) {
	h := Handle(slog.New(slog.DiscardHandler), func() Response { return JSON(500, nil) },
		func(ctx context.Context, _ *events.APIGatewayV2HTTPRequest) Response {
			if _, ok := ctx.Deadline(); ok || ctx.Err() != nil {
				return JSON(500, nil)
			}
			return JSON(200, nil)
		})
	if resp, _ := h(context.Background(), events.APIGatewayV2HTTPRequest{}); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
}
