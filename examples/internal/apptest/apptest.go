// Package apptest helps tests read what an example app prints while it runs
// (its log lines, the development tokens), for the tests of
// examples/internal/app and the end-to-end tests alike.
package apptest

import (
	"bytes"
	"sync"
	"testing"
	"time"
)

// Buffer is an io.Writer that may be read with String while another
// goroutine (or a process's output copier) writes to it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// WaitFor polls b until find reports what it looks for in b's text, and
// returns it; after within, it fails t, showing the text.
func WaitFor[T any](t testing.TB, b *Buffer, within time.Duration, find func(text string) (T, bool)) T {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		text := b.String()
		if v, ok := find(text); ok {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("not printed within %v; output so far:\n%s", within, text)
			var zero T
			return zero
		}
		time.Sleep(10 * time.Millisecond)
	}
}
