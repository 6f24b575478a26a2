package lambdart

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Lambda error types that the local runtime produces itself.
const (
	ErrorTypeTimeout = "Sandbox.Timedout"
	ErrorTypeExit    = "Runtime.ExitError"
	ErrorTypeInit    = "Runtime.InitError"
)

// Sentinels for errors.Is on an *InvokeError.
var (
	ErrTimeout = errors.New("lambdart: invocation timed out")
	ErrExited  = errors.New("lambdart: runtime exited during the invocation")
)

// InvokeError is a failed invocation: the handler returned an error or panicked (Type is
// the function's error type, Payload its error document), or the runtime timed out,
// crashed or failed to initialise (Type is one of the ErrorType constants).
type InvokeError struct {
	Type    string
	Message string
	Payload []byte
}

func (e *InvokeError) Error() string {
	if e.Message == "" {
		return "lambda: " + e.Type
	}
	return fmt.Sprintf("lambda: %s: %s", e.Type, e.Message)
}

// Is makes errors.Is(err, ErrTimeout) and errors.Is(err, ErrExited) work.
func (e *InvokeError) Is(target error) bool {
	switch target {
	case ErrTimeout:
		return e.Type == ErrorTypeTimeout
	case ErrExited:
		return e.Type == ErrorTypeExit
	}
	return false
}

// invocation is one Invoke on its way through an instance.
type invocation struct {
	id      string
	traceID string
	payload []byte
	result  chan result // buffered: the sender never waits for a caller that gave up

	// Set by the instance that runs it, under f.mu.
	start    time.Time
	deadline time.Time
	timer    *time.Timer
	cold     bool
	initDur  time.Duration
}

type result struct {
	payload []byte
	err     error
	retry   bool // never delivered to the function; offer it again
}

func newInvocation(payload []byte) *invocation {
	return &invocation{
		id:      requestID(),
		traceID: traceID(),
		payload: payload,
		result:  make(chan result, 1),
	}
}

// requestID returns a random UUID (version 4), Lambda's request ID format.
func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// traceID returns an X-Ray trace header; the Go runtime copies it to _X_AMZN_TRACE_ID.
func traceID() string {
	epoch := strconv.FormatInt(time.Now().Unix(), 16)
	return "Root=1-" + epoch + "-" + randomHex(12) + ";Parent=" + randomHex(8) + ";Sampled=0"
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
