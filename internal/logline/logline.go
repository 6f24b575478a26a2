// Package logline holds the writers behind the local stack's log lines: one that
// serialises writers many goroutines share, one that prefixes every line with where it
// came from ("[UsersLoginFunction] ", "[dynamodb] ") and writes it whole, and a buffer
// tests read while processes still write to it.
package logline

import (
	"bytes"
	"io"
	"sync"
)

// MaxLine bounds a buffered partial line; a longer one is written as it is, so a process
// that prints without newlines cannot grow memory without limit.
const MaxLine = 64 * 1024

// Locked serialises writes to w; nil becomes io.Discard.
func Locked(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return &locked{w: w}
}

type locked struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *locked) Write(p []byte) (int, error) { return l.writeTo(l.w, p) }

func (l *locked) writeTo(w io.Writer, p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return w.Write(p)
}

// Prefixer forwards output line by line, each line prefixed and written to its destination
// with a single Write, so the lines of concurrent writers do not interleave. A trailing
// "\r" is dropped; a final line without newline waits for Flush.
type Prefixer struct {
	mu     sync.Mutex
	dst    io.Writer
	prefix string
	buf    []byte
}

// Prefixed returns a Prefixer writing to dst.
func Prefixed(dst io.Writer, prefix string) *Prefixer {
	return &Prefixer{dst: dst, prefix: prefix}
}

func (w *Prefixer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			if len(w.buf) >= MaxLine {
				w.emit(w.buf)
				w.buf = w.buf[:0]
			}
			break
		}
		w.emit(w.buf[:i])
		w.buf = w.buf[i+1:]
	}
	// Destination errors are not the writer's problem (a process's output); never fail.
	return len(p), nil
}

// Flush writes a final line that had no newline.
func (w *Prefixer) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.emit(w.buf)
		w.buf = nil
	}
}

func (w *Prefixer) emit(line []byte) {
	out := make([]byte, 0, len(w.prefix)+len(line)+1)
	out = append(out, w.prefix...)
	out = append(out, bytes.TrimSuffix(line, []byte("\r"))...)
	out = append(out, '\n')
	_, _ = w.dst.Write(out)
}

// Buffer is a bytes.Buffer safe for concurrent Write and String, for tests that capture
// the logs of concurrently running processes.
type Buffer struct {
	l locked
	b bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) { return s.l.writeTo(&s.b, p) }

func (s *Buffer) String() string {
	s.l.mu.Lock()
	defer s.l.mu.Unlock()
	return s.b.String()
}
