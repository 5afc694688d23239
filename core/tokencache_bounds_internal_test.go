package core

import (
	"context"
	"testing"
)

// WithoutTokenCache is the one way to turn the verified-token cache off:
// New refuses WithTokenCache with a zero bound, which would otherwise turn
// it off as a side effect. The later of the two options wins, as for every
// option.
func TestTokenCacheZeroBoundRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   []Option
		ok     bool
		cached bool // the verifier has a cache table
	}{
		{name: "zero entries and bytes", opts: []Option{WithTokenCache(0, 0)}},
		{name: "zero entries", opts: []Option{WithTokenCache(0, 1<<20)}},
		{name: "zero bytes", opts: []Option{WithTokenCache(64, 0)}},
		{name: "negative entries", opts: []Option{WithTokenCache(-1, 1<<20)}},
		{name: "default", ok: true, cached: true},
		{name: "positive bounds", opts: []Option{WithTokenCache(64, 1<<20)}, ok: true, cached: true},
		{name: "WithoutTokenCache", opts: []Option{WithoutTokenCache()}, ok: true},
		{name: "WithoutTokenCache after a zero bound", opts: []Option{WithTokenCache(0, 0), WithoutTokenCache()}, ok: true},
		{name: "a zero bound after WithoutTokenCache", opts: []Option{WithoutTokenCache(), WithTokenCache(0, 0)}},
		{name: "bounds after WithoutTokenCache", opts: []Option{WithoutTokenCache(), WithTokenCache(64, 1<<20)}, ok: true, cached: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := append([]Option{WithIssuer("https://id.example.com"), WithAudiences("a")}, tc.opts...)
			v, err := New(context.Background(), opts...)
			if !tc.ok {
				if err == nil {
					_ = v.Close()
					t.Fatal("New accepted the bounds")
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			defer v.Close()
			if got := cacheSlots(v) > 0; got != tc.cached {
				t.Errorf("cache on = %v, want %v", got, tc.cached)
			}
		})
	}
}
