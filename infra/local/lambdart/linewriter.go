package lambdart

import (
	"bytes"
	"io"
	"sync"
)

// maxLine bounds a buffered partial line; longer lines are split so that a function that
// prints without newlines cannot grow memory without limit.
const maxLine = 64 * 1024

// lineWriter forwards a process's output line by line, each line prefixed and written
// with a single Write so lines of concurrent instances do not interleave.
type lineWriter struct {
	mu     sync.Mutex
	dst    io.Writer
	prefix string
	buf    []byte
}

func newLineWriter(dst io.Writer, prefix string) *lineWriter {
	return &lineWriter{dst: dst, prefix: prefix}
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			if len(w.buf) >= maxLine {
				w.emit(w.buf)
				w.buf = w.buf[:0]
			}
			break
		}
		w.emit(w.buf[:i])
		w.buf = w.buf[i+1:]
	}
	// Destination errors are not the process's problem; never fail its writes.
	return len(p), nil
}

// Flush writes a final line that had no newline.
func (w *lineWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.emit(w.buf)
		w.buf = nil
	}
}

func (w *lineWriter) emit(line []byte) {
	out := make([]byte, 0, len(w.prefix)+len(line)+1)
	out = append(out, w.prefix...)
	out = append(out, bytes.TrimSuffix(line, []byte("\r"))...)
	out = append(out, '\n')
	_, _ = w.dst.Write(out)
}
