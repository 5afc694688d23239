package core

import (
	"testing"
	"time"
)

// The options and their defaults reach the key cache's refresh schedule
// (docs/operations.md, "How keys are loaded and refreshed", gives the
// numbers).

// TestRefreshSchedule checks the wait after a fetch and after a failure,
// from the defaults and from options.
func TestRefreshSchedule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		opts        []Option
		lifetime    time.Duration
		lo, hi      time.Duration
		first, most time.Duration
	}{
		{name: "default interval without max-age", lifetime: -1, lo: 54 * time.Minute, hi: time.Hour, first: time.Second, most: time.Minute},
		{name: "max-age between the default bounds", lifetime: 5 * time.Minute, lo: 270 * time.Second, hi: 5 * time.Minute, first: time.Second, most: time.Minute},
		{name: "max-age below the default floor", lifetime: 2 * time.Second, lo: 9 * time.Second, hi: 10 * time.Second, first: time.Second, most: time.Minute},
		{name: "no-cache uses the floor", lifetime: 0, lo: 9 * time.Second, hi: 10 * time.Second, first: time.Second, most: time.Minute},
		// A year-long max-age (a static JWKS file) is held to a quarter of
		// the 24 h staleness bound, not the 24 h ceiling: an outage that
		// starts just before the refresh still gets 18 h on cached keys.
		{name: "max-age above the default ceiling", lifetime: 365 * 24 * time.Hour, lo: 324 * time.Minute, hi: 6 * time.Hour, first: time.Second, most: time.Minute},
		{name: "ceiling under a quarter of the staleness", opts: []Option{WithMaxStaleness(48 * time.Hour), WithRefreshBounds(10*time.Second, 10*time.Hour)}, lifetime: 72 * time.Hour, lo: 540 * time.Minute, hi: 10 * time.Hour, first: time.Second, most: time.Minute},
		{name: "interval held to a quarter of the staleness", opts: []Option{WithMaxStaleness(time.Hour)}, lifetime: -1, lo: 810 * time.Second, hi: 15 * time.Minute, first: time.Second, most: time.Minute},
		{name: "floor wins over a tiny staleness", opts: []Option{WithMaxStaleness(20 * time.Second)}, lifetime: time.Hour, lo: 9 * time.Second, hi: 10 * time.Second, first: time.Second, most: time.Minute},
		{name: "custom interval", opts: []Option{WithRefreshInterval(10 * time.Minute)}, lifetime: -1, lo: 9 * time.Minute, hi: 10 * time.Minute, first: time.Second, most: time.Minute},
		{name: "custom floor", opts: []Option{WithRefreshBounds(2*time.Second, time.Hour)}, lifetime: 0, lo: 1800 * time.Millisecond, hi: 2 * time.Second, first: time.Second, most: time.Minute},
		{name: "custom ceiling", opts: []Option{WithRefreshBounds(time.Second, 2*time.Minute)}, lifetime: time.Hour, lo: 108 * time.Second, hi: 2 * time.Minute, first: time.Second, most: time.Minute},
		{name: "short bounds shorten the backoff", opts: []Option{WithRefreshBounds(100*time.Millisecond, 20*time.Second)}, lifetime: -1, lo: 54 * time.Minute, hi: time.Hour, first: 100 * time.Millisecond, most: 20 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := append([]Option{WithIssuer("https://issuer.example"), WithAudiences("api")}, tt.opts...)
			cfg, err := configured(opts...)
			if err != nil {
				t.Fatal(err)
			}
			c := cacheConfig(cfg, nil)
			next, first, most := c.NextRefresh, c.FirstBackoff(), c.MaxBackoff()
			for range 50 {
				if got := next(tt.lifetime); got < tt.lo || got > tt.hi {
					t.Fatalf("next refresh for lifetime %v = %v, want within [%v, %v]", tt.lifetime, got, tt.lo, tt.hi)
				}
			}
			if first != tt.first || most != tt.most {
				t.Fatalf("backoff = %v..%v, want %v..%v", first, most, tt.first, tt.most)
			}
		})
	}
}
