package awsenv

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// Bounds of one AWS call (DynamoDB or SES). The SDK's defaults wait 30 s for a connection,
// forever for a response and back off up to 20 s between attempts, so a hanging endpoint
// outlived the 10 s function timeout and API Gateway answered its own bare 500. With these
// bounds, an attempt on a stuck connection fails and the retry dials a fresh one, and
// MaxCall (every attempt hanging) stays under the function timeout (template.yaml), which
// tests/project checks. The request context (apigw.Handle: the Lambda deadline minus a
// margin) still caps the total of a request's calls.
const (
	// ConnectTimeout and TLSHandshakeTimeout bound a new connection: in-region AWS
	// endpoints connect in milliseconds, even on a 256 MB function's share of a CPU.
	ConnectTimeout      = 500 * time.Millisecond
	TLSHandshakeTimeout = 500 * time.Millisecond
	// ResponseHeaderTimeout bounds the wait for an answer once the request is sent:
	// DynamoDB and SES answer in tens of milliseconds, so 2 s is a hang, not a slow call.
	ResponseHeaderTimeout = 2 * time.Second
	// MaxAttempts counts the first attempt; MaxBackoff caps the wait before a retry.
	MaxAttempts = 3
	MaxBackoff  = 200 * time.Millisecond
	// baseBackoff is the jitter ceiling of the first retry, doubled for each next one.
	baseBackoff = 50 * time.Millisecond
)

// MaxCall is the longest one AWS call can take when every attempt hangs at its worst.
const MaxCall = MaxAttempts*(ConnectTimeout+TLSHandshakeTimeout+ResponseHeaderTimeout) + (MaxAttempts-1)*MaxBackoff

// ResponseTimeoutVar overrides ResponseHeaderTimeout (a Go duration). Deployments leave it
// unset; the local stack sets it high, because DynamoDB Local on a busy machine can take
// seconds to answer, and a retried conditional write would then fail its own condition.
const ResponseTimeoutVar = "AWS_RESPONSE_TIMEOUT"

// bound sets the HTTP client and the retryer of cfg to the bounds above.
func bound(cfg *aws.Config, getenv func(string) string) error {
	response := ResponseHeaderTimeout
	if v := getenv(ResponseTimeoutVar); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 100*time.Millisecond {
			return fmt.Errorf("%s %q must be a duration of at least 100ms, such as 2s", ResponseTimeoutVar, v)
		}
		response = d
	}
	cfg.HTTPClient = awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = ConnectTimeout }).
		WithTransportOptions(func(t *http.Transport) {
			t.TLSHandshakeTimeout = TLSHandshakeTimeout
			t.ResponseHeaderTimeout = response
		})
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = MaxAttempts
			o.MaxBackoff = MaxBackoff
			o.Backoff = retry.BackoffDelayerFunc(backoff)
		})
	}
	return nil
}

// backoff is "full jitter": a random wait up to baseBackoff·2^(attempt-1), capped at
// MaxBackoff. The SDK's legacy backoff with a cap under 1 s always waits the cap exactly,
// which would make the retries of many instances arrive in step.
func backoff(attempt int, _ error) (time.Duration, error) {
	ceiling := MaxBackoff
	if attempt >= 1 && attempt < 8 {
		ceiling = min(MaxBackoff, baseBackoff<<(attempt-1))
	}
	return rand.N(ceiling + 1), nil
}
