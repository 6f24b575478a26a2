// Package syncbuf is the name the tests know for logline.Buffer: a bytes.Buffer that many
// goroutines may write to at once.
package syncbuf

import "github.com/gatehouse/gatehouse/internal/logline"

// Buffer is safe for concurrent Write and String.
type Buffer = logline.Buffer
