package logline

import (
	"strings"
	"testing"
)

// Each line reaches the destination whole and prefixed, however the writes split it; a
// final partial line waits for Flush; an endless line is cut at MaxLine.
func TestPrefixed(t *testing.T) {
	var got Buffer
	w := Prefixed(&got, "[fn] ")
	for _, p := range []string{"one\r\ntw", "o\n", "three"} {
		if n, err := w.Write([]byte(p)); n != len(p) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", p, n, err)
		}
	}
	if want := "[fn] one\n[fn] two\n"; got.String() != want {
		t.Fatalf("before Flush %q, want %q", got.String(), want)
	}
	w.Flush()
	if want := "[fn] one\n[fn] two\n[fn] three\n"; got.String() != want {
		t.Fatalf("after Flush %q, want %q", got.String(), want)
	}

	var long Buffer
	_, _ = Prefixed(&long, "").Write([]byte(strings.Repeat("x", MaxLine+1)))
	if long.String() != strings.Repeat("x", MaxLine+1)+"\n" {
		t.Fatalf("a line over MaxLine: %d bytes written", len(long.String()))
	}
}

func TestLockedNil(t *testing.T) {
	if n, err := Locked(nil).Write([]byte("x")); n != 1 || err != nil {
		t.Fatalf("Locked(nil).Write = %d, %v", n, err)
	}
}

// The zero Buffer is ready, and keeps every concurrent write whole.
func TestBufferConcurrent(t *testing.T) {
	var b Buffer
	done := make(chan struct{})
	for range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 100 {
				_, _ = b.Write([]byte("line\n"))
			}
		}()
	}
	for range 8 {
		<-done
	}
	if got := strings.Count(b.String(), "line\n"); got != 800 {
		t.Fatalf("%d lines, want 800", got)
	}
}
