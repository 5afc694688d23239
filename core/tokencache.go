package core

import (
	"crypto/sha256"
	"sync"
	"unsafe"
)

// tokenCache remembers verified tokens by the SHA-256 of the whole token, so
// a client that reuses its access token is verified once, not once per
// request. It stores principals, never failures. A hit is only a hint: the
// caller re-checks exp and nbf against the clock and that the signing key is
// still in the JWKS before using it.
//
// The map is split into shards, each with its own lock, so concurrent
// requests rarely meet on a lock; eviction is random within a shard
// (Go's map order), which needs no bookkeeping on the hit path.
type tokenCache struct {
	shards     [cacheShards]cacheShard
	maxEntries int   // per shard
	maxBytes   int64 // per shard
}

const cacheShards = 32

// entryOverhead approximates the fixed bytes of one entry besides its claims:
// the map slot, the entry, the Principal and its slice headers.
const cacheEntryOverhead = 320

type cacheShard struct {
	mu    sync.RWMutex
	m     map[[32]byte]*cacheEntry
	bytes int64
	_     [64]byte // keep shards on separate cache lines
}

type cacheEntry struct {
	p    *Principal
	key  *publicKey
	size int64
}

func newTokenCache(entries int, bytes int64) *tokenCache {
	if entries <= 0 || bytes <= 0 {
		return nil
	}
	c := &tokenCache{
		maxEntries: max(entries/cacheShards, 1),
		maxBytes:   max(bytes/cacheShards, 1),
	}
	for i := range c.shards {
		c.shards[i].m = make(map[[32]byte]*cacheEntry)
	}
	return c
}

func tokenSum(token string) [32]byte {
	// The hash only reads the bytes; no copy of the token is needed.
	return sha256.Sum256(unsafe.Slice(unsafe.StringData(token), len(token)))
}

func (c *tokenCache) shard(sum *[32]byte) *cacheShard {
	return &c.shards[sum[0]%cacheShards]
}

func (c *tokenCache) get(sum *[32]byte) *cacheEntry {
	s := c.shard(sum)
	s.mu.RLock()
	e := s.m[*sum]
	s.mu.RUnlock()
	return e
}

func (c *tokenCache) put(sum *[32]byte, p *Principal, key *publicKey) {
	size := int64(len(p.raw)) + cacheEntryOverhead
	if size > c.maxBytes {
		return
	}
	s := c.shard(sum)
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.m[*sum]; ok {
		s.bytes -= old.size
		delete(s.m, *sum)
	}
	for k, e := range s.m {
		if len(s.m) < c.maxEntries && s.bytes+size <= c.maxBytes {
			break
		}
		s.bytes -= e.size
		delete(s.m, k)
	}
	s.m[*sum] = &cacheEntry{p: p, key: key, size: size}
	s.bytes += size
}

func (c *tokenCache) remove(sum *[32]byte, e *cacheEntry) {
	s := c.shard(sum)
	s.mu.Lock()
	if s.m[*sum] == e {
		s.bytes -= e.size
		delete(s.m, *sum)
	}
	s.mu.Unlock()
}

// len returns the number of cached tokens (for tests and metrics).
func (c *tokenCache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}
