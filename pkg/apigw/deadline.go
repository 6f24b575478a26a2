package apigw

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// MaxDeadlineMargin is how long before the invocation's deadline a handler's context ends.
// At the deadline itself Lambda stops the function and API Gateway answers its own bare
// 500, so a hanging DynamoDB or SES must fail the handler's calls while there is still time
// to encode the family's own error, log it and hand it to the runtime, which takes a few
// milliseconds; 500 ms leaves room for a slow share of a CPU and a GC pause. When less than
// ten times the margin is left, a tenth of the time left is kept instead, so that a short
// deadline still leaves the handler most of it.
const MaxDeadlineMargin = 500 * time.Millisecond

// DeadlineMargin is the margin kept for a context with left time to its deadline.
func DeadlineMargin(left time.Duration) time.Duration {
	return max(0, min(MaxDeadlineMargin, left/10))
}

// withDeadline returns the handler's context, ending DeadlineMargin before ctx's deadline
// (the Lambda runtime sets it from the invocation's deadline), and a function to call once
// the handler returned: it logs when the handler ran out of time, and releases the context.
func withDeadline(ctx context.Context, log *slog.Logger) (context.Context, func()) {
	d, ok := ctx.Deadline()
	if !ok {
		return ctx, func() {}
	}
	margin := DeadlineMargin(time.Until(d))
	hctx, cancel := context.WithDeadline(ctx, d.Add(-margin))
	return hctx, func() {
		if errors.Is(hctx.Err(), context.DeadlineExceeded) {
			log.WarnContext(hctx, "request deadline reached", "margin_ms", ms(margin))
		}
		cancel()
	}
}
