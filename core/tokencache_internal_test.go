package core

import "testing"

// A request may bring a key-set snapshot taken just before a refresh. The
// cache must not go back to that older set: the next request would then
// sweep again, against the newer one, and so on.
func TestTokenCacheObserveNeverGoesBack(t *testing.T) {
	c := newTokenCache(64, 1<<20)
	a, b := &publicKey{kid: "a"}, &publicKey{kid: "b"}
	older := &keySet{byKID: map[string][]*publicKey{"a": {a}, "b": {b}}, gen: 1}
	newer := &keySet{byKID: map[string][]*publicKey{"b": {b}}, gen: 2}
	c.observe(older)
	c.observe(newer)
	c.observe(older) // a stale snapshot
	if c.seen.Load() != newer {
		t.Fatal("the cache went back to an older key set")
	}
}
