package lambdart

// The Lambda Runtime API an instance serves its process: next, response, error, init error.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// handleNext is GET /runtime/invocation/next: it marks the instance idle and blocks until
// the function has an invocation for it.
func (in *instance) handleNext(w http.ResponseWriter, r *http.Request) {
	f := in.f
	f.mu.Lock()
	if in.state == stateDead {
		f.mu.Unlock()
		http.Error(w, "instance is shutting down", http.StatusGone)
		return
	}
	if inv := in.current; inv != nil {
		// Asking for more work without answering is a runtime bug; fail the invocation
		// rather than leave its caller hanging.
		in.current = nil
		f.mu.Unlock()
		in.finish(inv, outcome{err: &InvokeError{Type: "Runtime.NoResponse", Message: "runtime asked for the next invocation without responding"}})
		f.mu.Lock()
		if in.state == stateDead {
			f.mu.Unlock()
			http.Error(w, "instance is shutting down", http.StatusGone)
			return
		}
	}
	if in.state == stateStarting {
		in.initDur = time.Since(in.started)
		in.cold = true
		f.stats.ColdStarts = append(f.stats.ColdStarts, ColdStart{
			PID: in.cmd.Process.Pid, Started: in.started, InitDuration: in.initDur,
		})
	}
	in.state = stateIdle
	f.mu.Unlock()

	inv := in.awaitInvocation(r.Context())
	if inv == nil {
		// Reaped or exiting; the runtime treats a non-200 answer as fatal and exits.
		http.Error(w, "instance is shutting down", http.StatusGone)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", f.arn)
	h.Set("Lambda-Runtime-Trace-Id", inv.traceID)
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(inv.payload); err != nil {
		// The process is going away; its exit fails the invocation.
		in.kill()
	}
}

// awaitInvocation waits for an invocation and makes it the instance's current one; it
// returns nil if the instance is reaped or its /next request ends first.
func (in *instance) awaitInvocation(ctx context.Context) *invocation {
	f := in.f
	var idle <-chan time.Time
	if f.cfg.IdleTimeout > 0 {
		t := time.NewTicker(f.cfg.IdleTimeout)
		defer t.Stop()
		idle = t.C
	}
	for {
		select {
		case inv := <-f.queue:
			if in.begin(inv) {
				return inv
			}
			return nil
		case <-idle:
			if in.reapIfIdle() {
				return nil
			}
		case <-in.exited:
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

// begin makes inv the instance's current invocation and arms its timeout. If the instance
// died meanwhile, inv goes back to its caller to be offered again.
func (in *instance) begin(inv *invocation) bool {
	f := in.f
	f.mu.Lock()
	f.waiting--
	if in.state == stateDead {
		f.mu.Unlock()
		inv.result <- result{retry: true}
		return false
	}
	in.state = stateBusy
	in.current = inv
	inv.cold, inv.initDur = in.cold, in.initDur
	in.cold = false
	inv.start = time.Now()
	inv.deadline = inv.start.Add(f.cfg.Timeout)
	inv.timer = time.AfterFunc(f.cfg.Timeout, func() { in.timeout(inv) })
	f.mu.Unlock()
	fmt.Fprintf(f.cfg.Log, "START RequestId: %s Version: $LATEST\n", inv.id)
	return true
}

// reapIfIdle stops an instance that has been idle for the idle timeout, unless an
// invocation is about to need it.
func (in *instance) reapIfIdle() bool {
	f := in.f
	f.mu.Lock()
	if f.waiting > 0 || in.state != stateIdle {
		f.mu.Unlock()
		return false
	}
	in.state = stateDead
	// The instance's wait goroutine is still counted, so Close cannot be past wg.Wait.
	f.wg.Add(1)
	f.mu.Unlock()
	go func() {
		defer f.wg.Done()
		in.terminate(f.cfg.ShutdownGrace)
	}()
	return true
}

// timeout ends an invocation that ran past the function's timeout and kills its instance.
func (in *instance) timeout(inv *invocation) {
	f := in.f
	f.mu.Lock()
	if in.current != inv {
		f.mu.Unlock()
		return // it finished in time
	}
	in.current = nil
	in.state = stateDead
	f.mu.Unlock()
	in.readMemory()
	in.kill()
	secs := f.cfg.Timeout.Seconds()
	fmt.Fprintf(f.cfg.Log, "%s %s Task timed out after %.2f seconds\n", time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), inv.id, secs)
	in.finish(inv, outcome{
		err:    &InvokeError{Type: ErrorTypeTimeout, Message: fmt.Sprintf("Task timed out after %.2f seconds", secs)},
		status: "timeout",
	})
}

// handleResponse is POST /runtime/invocation/{id}/response.
func (in *instance) handleResponse(w http.ResponseWriter, r *http.Request) {
	body, tooLarge, err := readPayload(r.Body)
	inv, ok := in.take(w, r.PathValue("id"))
	if !ok {
		return
	}
	var out outcome
	switch {
	case err != nil:
		out.err = &InvokeError{Type: "Runtime.InvalidResponse", Message: "reading response: " + err.Error()}
	case tooLarge:
		out.err = &InvokeError{Type: "Function.ResponseSizeTooLarge",
			Message: fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", MaxPayloadSize)}
	case r.Trailer.Get("Lambda-Runtime-Function-Error-Type") != "":
		// A streamed response that failed midway reports its error in trailers.
		out.err = &InvokeError{Type: r.Trailer.Get("Lambda-Runtime-Function-Error-Type"), Message: "response stream failed"}
	default:
		out.payload = body
	}
	accepted(w)
	in.readMemory()
	in.finish(inv, out)
}

// handleError is POST /runtime/invocation/{id}/error: the handler returned an error or
// panicked.
func (in *instance) handleError(w http.ResponseWriter, r *http.Request) {
	body, _, _ := readPayload(r.Body)
	inv, ok := in.take(w, r.PathValue("id"))
	if !ok {
		return
	}
	ie := &InvokeError{Type: r.Header.Get("Lambda-Runtime-Function-Error-Type"), Payload: body}
	var doc struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}
	if json.Unmarshal(body, &doc) == nil {
		ie.Message = doc.ErrorMessage
		if doc.ErrorType != "" {
			ie.Type = doc.ErrorType
		}
	}
	if ie.Type == "" {
		ie.Type = "Unhandled"
	}
	accepted(w)
	in.readMemory()
	in.finish(inv, outcome{err: ie, status: "error"})
}

// handleInitError is POST /runtime/init/error: the function could not initialise. Lambda
// resets the environment, so the instance is killed.
func (in *instance) handleInitError(w http.ResponseWriter, r *http.Request) {
	body, _, _ := readPayload(r.Body)
	var doc struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}
	msg := string(body)
	if json.Unmarshal(body, &doc) == nil && doc.ErrorMessage != "" {
		msg = doc.ErrorType + ": " + doc.ErrorMessage
	}
	in.f.mu.Lock()
	in.initError = msg
	in.f.mu.Unlock()
	accepted(w)
	in.kill()
}

// take claims the current invocation for a /response or /error post, answering 400 if id
// is not the invocation the instance is running (it timed out, or the id is wrong).
func (in *instance) take(w http.ResponseWriter, id string) (*invocation, bool) {
	in.f.mu.Lock()
	inv := in.current
	if inv == nil || inv.id != id {
		in.f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}`)
		return nil, false
	}
	in.current = nil
	if in.state == stateBusy {
		// The runtime asks for the next invocation right after answering, so the
		// instance counts as available rather than starting another for a new caller.
		in.state = stateFinishing
	}
	in.f.mu.Unlock()
	return inv, true
}

func accepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

// readPayload reads at most MaxPayloadSize bytes, draining (a bounded amount of) the rest
// so the connection stays usable.
func readPayload(r io.Reader) (body []byte, tooLarge bool, err error) {
	body, err = io.ReadAll(io.LimitReader(r, MaxPayloadSize+1))
	if len(body) > MaxPayloadSize {
		_, _ = io.Copy(io.Discard, io.LimitReader(r, 64*MaxPayloadSize))
		return nil, true, err
	}
	return body, false, err
}
