package core

import "testing"

// A request may bring a key-set snapshot taken just before a refresh. The
// cache must not go back to that older set: the next request would then
// sweep again, against the newer one, and so on.
func TestTokenCacheObserveNeverGoesBack(t *testing.T) {
	c := newTokenCache(64, 1<<20)
	owner := &Verifier{}
	a, b := &publicKey{kid: "a"}, &publicKey{kid: "b"}
	older := &keySet{byKID: map[string][]*publicKey{"a": {a}, "b": {b}}, gen: 1}
	newer := &keySet{byKID: map[string][]*publicKey{"b": {b}}, gen: 2}
	c.observe(older, owner)
	c.observe(newer, owner)
	c.observe(older, owner) // a stale snapshot
	if owner.seen.Load() != newer {
		t.Fatal("the cache went back to an older key set")
	}
}

// lookup never returns more than maxKeysPerKID keys, whatever the set holds
// (parseJWKS already skips the keys beyond the bound; this is the second
// wall), and the cache keeps an entry only for a key a fresh verification
// would try: not for a key beyond the bound, nor for another key that
// merely shares the kid.
func TestKeySetLookupIsBounded(t *testing.T) {
	var ks []*publicKey
	for range maxKeysPerKID + 2 {
		ks = append(ks, &publicKey{kid: "k", kind: kindRSA})
	}
	ec := &publicKey{kid: "k", kind: kindP256}
	set := &keySet{byKID: map[string][]*publicKey{"k": append([]*publicKey{ec}, ks...)}, gen: 1}
	got, found := set.lookup("k", kindRSA, "RS256")
	if !found || got.n != maxKeysPerKID {
		t.Fatalf("lookup: %d keys (found %v), want %d", got.n, found, maxKeysPerKID)
	}
	for i, k := range got.list() {
		if k != ks[i] {
			t.Fatalf("key %d is not the JWKS's key %d of that family", i, i)
		}
	}
	tests := []struct {
		name string
		key  *publicKey
		want bool
	}{
		{"the first key of the kid", ks[0], true},
		{"the last key within the bound", ks[maxKeysPerKID-1], true},
		{"a key beyond the bound", ks[maxKeysPerKID], false},
		{"a key the set does not hold, under the kid", &publicKey{kid: "k", kind: kindRSA}, false},
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
