// Package hanging is a test helper: an endpoint that accepts connections, reads what is
// sent and never answers, standing for a DynamoDB or SES that hangs.
package hanging

import (
	"io"
	"net"
	"sync"
	"testing"
)

// Endpoint starts such a listener on loopback for the test and returns its URL; the
// listener and its connections close when the test ends.
func Endpoint(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go func() { _, _ = io.Copy(io.Discard, c) }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String()
}
