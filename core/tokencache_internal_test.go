package core

import (
	"testing"

	"github.com/jwksauth/jwksauth/core/internal/jwks"
)

// A request may bring a key-set snapshot taken just before a refresh. The
// cache must not go back to that older set: the next request would then
// sweep again, against the newer one, and so on.
func TestTokenCacheObserveNeverGoesBack(t *testing.T) {
	c := newTokenCache(64, 1<<20)
	owner := &Verifier{}
	a, b := jwks.NewKey("a", "", 0, nil), jwks.NewKey("b", "", 0, nil)
	older := jwks.NewSet(1, a, b)
	newer := jwks.NewSet(2, b)
	c.observe(older, owner)
	c.observe(newer, owner)
	c.observe(older, owner) // a stale snapshot
	if owner.seen.Load() != newer {
		t.Fatal("the cache went back to an older key set")
	}
}

// The cache keeps an entry only for a key a fresh verification would try:
// not for a key beyond the bound of keys per kid (jwks.Set.Lookup, whose
// own test checks that it returns no more), nor for another key that merely
// shares the kid.
func TestTokenCacheSelectsOnlyTriedKeys(t *testing.T) {
	var ks []*jwks.Key
	for range jwks.MaxKeysPerKID + 2 {
		ks = append(ks, jwks.NewKey("k", "", jwks.KindRSA, nil))
	}
	ec := jwks.NewKey("k", "", jwks.KindP256, nil)
	set := jwks.NewSet(1, append([]*jwks.Key{ec}, ks...)...)
	tests := []struct {
		name string
		key  *jwks.Key
		want bool
	}{
		{"the first key of the kid", ks[0], true},
		{"the last key within the bound", ks[jwks.MaxKeysPerKID-1], true},
		{"a key beyond the bound", ks[jwks.MaxKeysPerKID], false},
		{"a key the set does not hold, under the kid", jwks.NewKey("k", "", jwks.KindRSA, nil), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &cacheEntry{p: &Principal{Algorithm: "RS256"}, key: tc.key, named: true}
			if got := e.selects(set); got != tc.want {
				t.Fatalf("selects = %v, want %v", got, tc.want)
			}
		})
	}
}
