// Package lambdart runs real Lambda function binaries locally behind an implementation of
// the AWS Lambda Runtime API, the same protocol a provided.al2023 function speaks in AWS.
//
// Each Function is a pool of instances (execution environments). An instance is a process
// of the function's binary with its own loopback Runtime API listener; it is started on
// first use (a cold start), reused while idle, and more are started while invocations
// overlap, up to a cap after which invocations queue. An instance only receives an
// invocation while it is blocked in GET /runtime/invocation/next, exactly as in Lambda, so
// a crashed or still-busy process is never handed work.
package lambdart

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// Lambda's limits and defaults that the local runtime mirrors.
const (
	// MaxPayloadSize is Lambda's limit on a synchronous invocation's request and response.
	MaxPayloadSize = 6 * 1024 * 1024

	defaultTimeout       = 3 * time.Second
	defaultMemoryMB      = 128
	defaultMaxInstances  = 16
	defaultIdleTimeout   = 5 * time.Minute
	defaultInitTimeout   = 10 * time.Second // Lambda's limit on the init phase
	defaultShutdownGrace = 500 * time.Millisecond
	defaultRegion        = "us-east-1"
	defaultAccountID     = "123456789012"
)

// Config describes one function.
type Config struct {
	// Name is the function name (Gatehouse uses the template's logical ID).
	Name string
	// Binary is the path of the function's executable (its bootstrap).
	Binary string
	// Env is the function's environment variables. Instances do not inherit the host
	// environment, as in Lambda; the runtime adds PATH, TZ, LANG and Lambda's reserved
	// variables (AWS_LAMBDA_*, _HANDLER, AWS_REGION, ...), which Env cannot override.
	Env map[string]string
	// Timeout of one invocation; 0 means Lambda's default of 3 s.
	Timeout time.Duration
	// MemoryMB is reported in AWS_LAMBDA_FUNCTION_MEMORY_SIZE and REPORT lines; it does not
	// limit the process. 0 means 128.
	MemoryMB int
	// Region and AccountID appear in the environment and the invoked function ARN.
	Region    string
	AccountID string
	// MaxInstances caps concurrent instances; further invocations queue. 0 means 16.
	MaxInstances int
	// IdleTimeout reaps an instance idle this long; 0 means 5 minutes, negative never.
	IdleTimeout time.Duration
	// InitTimeout bounds process start to the first /next; 0 means 10 s.
	InitTimeout time.Duration
	// ShutdownGrace is how long Close waits after SIGTERM before SIGKILL; 0 means 500 ms.
	ShutdownGrace time.Duration
	// Log receives the platform lines (START, END, REPORT, timeouts, crashes); Output
	// receives the instances' stdout and stderr, each line prefixed with "[Name] ". Both
	// must be safe for concurrent use; nil discards.
	Log    io.Writer
	Output io.Writer
}

// Errors returned by Invoke besides *InvokeError.
var (
	ErrClosed          = errors.New("lambdart: function is closed")
	ErrPayloadTooLarge = fmt.Errorf("lambdart: request payload exceeds Lambda's %d-byte limit", MaxPayloadSize)
)

// Function is a locally running Lambda function. It is safe for concurrent use.
type Function struct {
	cfg     Config
	arn     string
	baseEnv []string

	// queue hands invocations to instances blocked in /next. It is unbuffered, so an
	// invocation is either with exactly one instance or still with its caller.
	queue   chan *invocation
	closing chan struct{}
	wg      sync.WaitGroup // instance goroutines

	mu        sync.Mutex
	closed    bool
	instances map[*instance]struct{} // not yet exited
	waiting   int                    // invocations offered to queue but not yet taken
	nextSeq   int
	stats     Stats
}

// New validates cfg and returns a Function; no process starts until the first Invoke.
func New(cfg Config) (*Function, error) {
	if cfg.Name == "" {
		return nil, errors.New("lambdart: Config.Name is empty")
	}
	if cfg.Binary == "" {
		return nil, fmt.Errorf("lambdart: %s: Config.Binary is empty", cfg.Name)
	}
	setDefaults(&cfg)
	f := &Function{
		cfg:       cfg,
		arn:       fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", cfg.Region, cfg.AccountID, cfg.Name),
		queue:     make(chan *invocation),
		closing:   make(chan struct{}),
		instances: map[*instance]struct{}{},
		stats:     Stats{Function: cfg.Name},
	}
	f.baseEnv = baseEnv(cfg)
	return f, nil
}

func setDefaults(cfg *Config) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.MemoryMB <= 0 {
		cfg.MemoryMB = defaultMemoryMB
	}
	if cfg.Region == "" {
		cfg.Region = defaultRegion
	}
	if cfg.AccountID == "" {
		cfg.AccountID = defaultAccountID
	}
	if cfg.MaxInstances <= 0 {
		cfg.MaxInstances = defaultMaxInstances
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = defaultIdleTimeout
	}
	if cfg.InitTimeout <= 0 {
		cfg.InitTimeout = defaultInitTimeout
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = defaultShutdownGrace
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.Output == nil {
		cfg.Output = io.Discard
	}
}

// Name returns the function's name.
func (f *Function) Name() string { return f.cfg.Name }

// Invoke runs one synchronous invocation (RequestResponse) and returns the function's
// response payload. A function error, crash or timeout is an *InvokeError. If ctx ends
// first, Invoke returns ctx.Err() and the invocation carries on in the background, as a
// Lambda invocation does when its caller goes away.
func (f *Function) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	if len(payload) > MaxPayloadSize {
		return nil, ErrPayloadTooLarge
	}
	inv := newInvocation(payload)
	for {
		if err := f.enqueue(ctx, inv); err != nil {
			return nil, err
		}
		select {
		case res := <-inv.result:
			if res.retry {
				// The instance died between taking the invocation and starting it; the
				// function never saw it, so offering it again is safe.
				continue
			}
			return res.payload, res.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// enqueue starts an instance if none will be free for inv and hands inv to the first
// instance that asks for work.
func (f *Function) enqueue(ctx context.Context, inv *invocation) error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return ErrClosed
	}
	f.waiting++
	if err := f.scaleLocked(); err != nil && f.availableLocked() == 0 {
		f.waiting--
		f.mu.Unlock()
		return err
	}
	f.mu.Unlock()

	select {
	case f.queue <- inv:
		return nil // the instance that took it decremented waiting
	case <-ctx.Done():
		f.unwait()
		return ctx.Err()
	case <-f.closing:
		f.unwait()
		return ErrClosed
	}
}

func (f *Function) unwait() {
	f.mu.Lock()
	f.waiting--
	f.mu.Unlock()
}

// availableLocked counts instances that are or will soon be asking for work.
func (f *Function) availableLocked() int {
	n := 0
	for in := range f.instances {
		if in.state == stateStarting || in.state == stateIdle || in.state == stateFinishing {
			n++
		}
	}
	return n
}

// scaleLocked starts instances while invocations outnumber available instances and the
// cap allows.
func (f *Function) scaleLocked() error {
	for !f.closed && f.waiting > f.availableLocked() && len(f.instances) < f.cfg.MaxInstances {
		if err := f.startInstanceLocked(); err != nil {
			return err
		}
	}
	return nil
}

// failOneWaiter fails an invocation still waiting for an instance, if there is one. An
// instance that dies during init calls it so that a function that cannot start fails its
// invocations instead of leaving them queued forever.
func (f *Function) failOneWaiter(err error) {
	select {
	case inv := <-f.queue:
		f.unwait()
		inv.result <- result{err: err}
	default:
	}
}

// Close terminates every instance (SIGTERM, then SIGKILL after the grace period), fails
// queued invocations with ErrClosed and waits for all processes and goroutines to finish.
func (f *Function) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		f.wg.Wait()
		return nil
	}
	f.closed = true
	close(f.closing)
	insts := make([]*instance, 0, len(f.instances))
	for in := range f.instances {
		insts = append(insts, in)
	}
	f.mu.Unlock()

	var wg sync.WaitGroup
	for _, in := range insts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in.terminate(f.cfg.ShutdownGrace)
		}()
	}
	wg.Wait()
	f.wg.Wait()
	return nil
}
