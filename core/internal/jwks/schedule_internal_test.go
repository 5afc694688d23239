package jwks

import (
	"net/http"
	"testing"
	"time"
)

func TestFreshness(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cc   []string
		age  string
		want time.Duration
	}{
		{name: "absent", want: -1},
		{name: "max-age", cc: []string{"max-age=60"}, want: time.Minute},
		{name: "among other directives", cc: []string{"public, max-age=3600, must-revalidate"}, want: time.Hour},
		{name: "directive case-insensitive", cc: []string{"Public, MAX-AGE=30"}, want: 30 * time.Second},
		{name: "quoted value", cc: []string{`max-age="30"`}, want: 30 * time.Second},
		{name: "spaces", cc: []string{"private ,  max-age = 45 "}, want: 45 * time.Second},
		{name: "second header line", cc: []string{"public", "max-age=30"}, want: 30 * time.Second},
		{name: "no-cache", cc: []string{"no-cache"}, want: 0},
		{name: "no-store wins over max-age", cc: []string{"max-age=600, no-store"}, want: 0},
		{name: "zero", cc: []string{"max-age=0"}, want: 0},
		{name: "not a number", cc: []string{"max-age=soon"}, want: -1},
		{name: "negative", cc: []string{"max-age=-5"}, want: -1},
		{name: "s-maxage is not max-age", cc: []string{"s-maxage=60"}, want: -1},
		{name: "huge value is capped, not overflowed", cc: []string{"max-age=99999999999999999"}, want: (1 << 31) * time.Second},
		{name: "beyond int64", cc: []string{"max-age=99999999999999999999"}, want: -1},
		{name: "large value", cc: []string{"max-age=9999999999"}, want: (1 << 31) * time.Second},
		{name: "age subtracted", cc: []string{"max-age=60"}, age: "20", want: 40 * time.Second},
		{name: "age beyond max-age", cc: []string{"max-age=60"}, age: "90", want: 0},
		{name: "bad age ignored", cc: []string{"max-age=60"}, age: "x", want: time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.cc {
				h.Add("Cache-Control", v)
			}
			if tt.age != "" {
				h.Set("Age", tt.age)
			}
			if got := freshness(h); got != tt.want {
				t.Fatalf("freshness(%v) = %v, want %v", h, got, tt.want)
			}
		})
	}
}

func TestJitterShortensByAtMostATenth(t *testing.T) {
	t.Parallel()
	const d = time.Hour
	lo, hi := d, time.Duration(0)
	for range 1000 {
		j := jitter(d)
		if j > d || j < d-d/10 {
			t.Fatalf("jitter(%v) = %v, outside [%v, %v]", d, j, d-d/10, d)
		}
		lo, hi = min(lo, j), max(hi, j)
	}
	if hi-lo < d/20 {
		t.Fatalf("jitter spread %v over 1000 draws: refreshes would run in step", hi-lo)
	}
}
