package core_test

import (
	"context"
	"testing"

	"github.com/jwksauth/jwksauth/core"
)

// WithoutTokenCache is the one way to turn the verified-token cache off:
// New refuses WithTokenCache with a zero bound, which would otherwise turn
// it off as a side effect. The later of the two options wins, as for every
// option.
func TestTokenCacheZeroBoundRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   []core.Option
		ok     bool
		cached bool // the verifier has a cache table
	}{
		{name: "zero entries and bytes", opts: []core.Option{core.WithTokenCache(0, 0)}},
		{name: "zero entries", opts: []core.Option{core.WithTokenCache(0, 1<<20)}},
		{name: "zero bytes", opts: []core.Option{core.WithTokenCache(64, 0)}},
		{name: "negative entries", opts: []core.Option{core.WithTokenCache(-1, 1<<20)}},
		{name: "default", ok: true, cached: true},
		{name: "positive bounds", opts: []core.Option{core.WithTokenCache(64, 1<<20)}, ok: true, cached: true},
		{name: "WithoutTokenCache", opts: []core.Option{core.WithoutTokenCache()}, ok: true},
		{name: "WithoutTokenCache after a zero bound", opts: []core.Option{core.WithTokenCache(0, 0), core.WithoutTokenCache()}, ok: true},
		{name: "a zero bound after WithoutTokenCache", opts: []core.Option{core.WithoutTokenCache(), core.WithTokenCache(0, 0)}},
		{name: "bounds after WithoutTokenCache", opts: []core.Option{core.WithoutTokenCache(), core.WithTokenCache(64, 1<<20)}, ok: true, cached: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := append([]core.Option{core.WithIssuer("https://id.example.com"), core.WithAudiences("a")}, tc.opts...)
			v, err := core.New(context.Background(), opts...)
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
			if got := core.TokenCacheSlots(v) > 0; got != tc.cached {
				t.Errorf("cache on = %v, want %v", got, tc.cached)
			}
		})
	}
}
