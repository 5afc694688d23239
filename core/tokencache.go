package core

import (
	"crypto/sha256"
	"encoding/binary"
	"math/bits"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/jwksauth/jwksauth/core/internal/jwks"
)

// tokenCache remembers verified tokens by the SHA-256 of the whole token, so
// that a client reusing its access token has its signature verified once,
// not on every request. It stores principals, never failures, and never the
// token itself. A hit is only a hint: Verify re-checks exp and nbf against
// the clock, and that the usable JWKS still selects the key that verified
// the token, before it answers from the cache.
//
// Layout: a fixed array of buckets of cacheWays slots (set-associative, like
// a CPU cache); a token can only live in the bucket its hash selects. The
// table is allocated once, so the number of entries is bounded by
// construction. Reads take no lock: a lookup is a few atomic loads in one
// 64-byte bucket (plus, on an entry's first hit after a refresh, one store
// of the set it was checked against), so concurrent requests do not
// contend. Writers (a first verification, an eviction, a sweep) take the
// lock of their bucket's stripe only.
//
// Bounds: at most cacheWays×len(buckets) ≤ maxEntries entries, and at most
// maxBytes accounted bytes (entrySize: the entry, its Principal and
// everything the Principal alone keeps alive). A full bucket evicts the
// entry that expires first; the byte bound evicts round-robin over the
// table (the hand). Entries whose signing key left the JWKS are dropped at
// the first verification that sees the new key set (sweep), and in any case
// on their next hit.
type tokenCache struct {
	buckets  []cacheBucket
	ways     int // slots used per bucket, ≤ cacheWays
	locks    [cacheStripes]cacheLock
	maxBytes int64

	bytes atomic.Int64  // accounted bytes of the entries, plus reservations in flight
	hand  atomic.Uint64 // next bucket the byte bound evicts from
	// The key set each issuer's entries were last swept against is its
	// Verifier's seen.
}

const (
	cacheWays    = 8  // slots per bucket: 8 pointers, one cache line
	cacheStripes = 64 // writer locks; bucket i uses lock i % cacheStripes

	// cacheEntryOverhead is the fixed heap cost of one entry besides what
	// entrySize adds per claim: a cacheEntry (64 bytes) and a Principal
	// (about 290 bytes), each rounded up to its allocation size class,
	// plus the payload buffer's rounding. TestTokenCacheBytesPerEntry
	// measures it against runtime.MemStats.
	cacheEntryOverhead = 64 + 320 + 32
)

type cacheBucket struct {
	slots [cacheWays]atomic.Pointer[cacheEntry]
}

type cacheLock struct {
	sync.Mutex
	_ [64 - unsafe.Sizeof(sync.Mutex{})]byte // one lock per cache line
}

type cacheEntry struct {
	sum [32]byte
	p   *Principal
	key *jwks.Key
	// in is a key set known to select key, so that a hit under the same
	// set skips the lookup. Written on the first hit after each refresh.
	in    atomic.Pointer[jwks.Set]
	size  int32 // accounted bytes; entries over maxEntrySize are not cached
	named bool  // the token named key by its kid (else key was the set's only key)
}

// maxEntrySize keeps an entry's size in its int32 field (and cacheEntry in
// 64 bytes); no token under any sane size cap comes near it.
const maxEntrySize = 1<<31 - 1

// newTokenCache returns a cache of at most entries tokens and bytes
// accounted bytes, or nil (no cache) when either bound is 0. The table has
// no more slots than the byte bound can fill (every entry accounts at least
// cacheEntryOverhead bytes), so a large entry count with a small byte bound
// does not allocate a table that can never be used.
func newTokenCache(entries int, bytes int64) *tokenCache {
	if entries <= 0 || bytes <= 0 {
		return nil
	}
	entries = int(min(int64(entries), max(bytes/cacheEntryOverhead, 1)))
	ways := min(entries, cacheWays)
	return &tokenCache{
		buckets:  make([]cacheBucket, entries/ways),
		ways:     ways,
		maxBytes: bytes,
	}
}

// tokenSum is the cache key: SHA-256 of the whole token.
func tokenSum(token string) [32]byte {
	return sha256.Sum256(stringBytes(token)) // no copy of the token
}

// bucket returns the index of sum's bucket. The sum is uniform, so its
// first eight bytes select the bucket directly (Lemire's multiply-shift
// range reduction, no division).
func (c *tokenCache) bucket(sum *[32]byte) int {
	hi, _ := bits.Mul64(binary.LittleEndian.Uint64(sum[:8]), uint64(len(c.buckets)))
	return int(hi)
}

func (c *tokenCache) lock(b int) *sync.Mutex { return &c.locks[b%cacheStripes].Mutex }

// get returns the entry of sum whose key set holds its key, or nil. A hit
// from a key that set no longer holds is dropped. Lock-free. owner is the
// Verifier whose key set set is: the only one of a single-issuer cache, or
// the issuer of a token of a many-issuer cache, which the entry's principal
// names (every entry's key belongs to the Verifier that verified it).
func (c *tokenCache) get(sum *[32]byte, set *jwks.Set, owner *Verifier) *cacheEntry {
	if owner.seen.Load() != set {
		c.observe(set, owner) // a miss sweeps too
	}
	e, b := c.find(sum)
	if e == nil || e.p.by != owner {
		return nil
	}
	return c.check(e, b, set, owner)
}

// find returns the entry of sum and its bucket, unchecked.
func (c *tokenCache) find(sum *[32]byte) (*cacheEntry, int) {
	b := c.bucket(sum)
	slots := c.buckets[b].slots[:c.ways]
	for i := range slots {
		if e := slots[i].Load(); e != nil && e.sum == *sum {
			return e, b
		}
	}
	return nil, b
}

// check returns e if set, its owner's usable key set, still selects e's
// key; otherwise it drops e.
func (c *tokenCache) check(e *cacheEntry, b int, set *jwks.Set, owner *Verifier) *cacheEntry {
	if owner.seen.Load() != set {
		c.observe(set, owner)
	}
	if e.in.Load() != set {
		if !e.selects(set) {
			c.remove(b, e)
			return nil
		}
		e.in.Store(set)
	}
	return e
}

// selects reports whether set would try e's key for e's token today, as a
// fresh verification would: among the keys of the token's kid that fit its
// alg (at most jwks.MaxKeysPerKID), or, for a token without kid, as the only key
// of the set. A fresh verification of the token would then succeed with
// that very key. Being in the set is not enough: a token without kid that
// a one-key set verified is refused by a fresh verification once a second
// key is published. Nor is the kid: when several keys share it, only the
// key that verified the token keeps its entry alive, never another key of
// the same kid, so the entry goes when that key leaves the set.
func (e *cacheEntry) selects(set *jwks.Set) bool {
	kid := ""
	if e.named {
		kid = e.key.KID()
	}
	keys, _ := set.Lookup(kid, e.key.Kind(), e.p.Algorithm)
	return keys.Has(e.key)
}

// put caches p, verified with key (named by the token's kid, or not), under
// sum. An entry larger than the byte bound is not cached.
func (c *tokenCache) put(sum *[32]byte, p *Principal, key *jwks.Key, named bool) {
	size := entrySize(p)
	if size > c.maxBytes || size > maxEntrySize || !c.reserve(size) {
		return
	}
	e := &cacheEntry{sum: *sum, p: p, key: key, named: named, size: int32(size)}
	b := c.bucket(sum)
	slots := c.buckets[b].slots[:c.ways]
	mu := c.lock(b)
	mu.Lock()
	victim := -1
	for i := range slots {
		old := slots[i].Load()
		if old == nil || old.sum == *sum {
			victim = i
			break
		}
		if victim < 0 || old.p.exp < slots[victim].Load().p.exp {
			victim = i // the entry that expires first
		}
	}
	old := slots[victim].Swap(e)
	mu.Unlock()
	if old != nil {
		c.bytes.Add(-int64(old.size))
	}
}

// reserve accounts size more bytes, evicting round-robin until they fit
// within the bound. It gives up (false) after one full turn of the table
// finds nothing to evict: the bytes are then held by reservations of
// concurrent puts.
func (c *tokenCache) reserve(size int64) bool {
	for misses := 0; ; {
		cur := c.bytes.Load()
		if cur+size <= c.maxBytes {
			if c.bytes.CompareAndSwap(cur, cur+size) {
				return true
			}
			continue
		}
		if c.evictOne() {
			misses = 0
		} else if misses++; misses >= len(c.buckets) {
			return false
		}
	}
}

// evictOne drops the first entry of the bucket under the hand, and moves
// the hand on. It reports whether it dropped one.
func (c *tokenCache) evictOne() bool {
	b := int((c.hand.Add(1) - 1) % uint64(len(c.buckets)))
	slots := c.buckets[b].slots[:c.ways]
	mu := c.lock(b)
	mu.Lock()
	var old *cacheEntry
	for i := range slots {
		if old = slots[i].Swap(nil); old != nil {
			break
		}
	}
	mu.Unlock()
	if old == nil {
		return false
	}
	c.bytes.Add(-int64(old.size))
	return true
}

// remove drops e from bucket b, unless it was replaced meanwhile.
func (c *tokenCache) remove(b int, e *cacheEntry) {
	slots := c.buckets[b].slots[:c.ways]
	mu := c.lock(b)
	mu.Lock()
	removed := false
	for i := range slots {
		if slots[i].CompareAndSwap(e, nil) {
			removed = true
			break
		}
	}
	mu.Unlock()
	if removed {
		c.bytes.Add(-int64(e.size))
	}
}

// drop removes the entry of sum, if any (an entry found expired).
func (c *tokenCache) drop(sum *[32]byte, e *cacheEntry) { c.remove(c.bucket(sum), e) }

// observe notes that set is the usable key set. When a key of the set
// seen before is missing from it, the entries verified with such keys are
// dropped now rather than at their next hit (a rotation that retired a
// key, a key withdrawn after a compromise). The one caller whose
// compare-and-swap wins sweeps; a refresh that changes nothing costs a
// comparison of the two sets.
func (c *tokenCache) observe(set *jwks.Set, owner *Verifier) {
	old := owner.seen.Load()
	// A request may bring a snapshot taken just before a refresh: it must
	// not set seen back to the older set, or the next request would sweep
	// again the other way.
	if old == set || (old != nil && set.Gen() <= old.Gen()) || !owner.seen.CompareAndSwap(old, set) {
		return
	}
	if old == nil || !set.Drops(old) {
		return
	}
	for b := range c.buckets {
		slots := c.buckets[b].slots[:c.ways]
		for i := range slots {
			if e := slots[i].Load(); e != nil && e.p.by == owner && !set.Contains(e.key) {
				c.remove(b, e)
			}
		}
	}
}

// entrySize is the accounted size of p's entry: the fixed overhead, the
// payload, the slices' backing arrays and the strings the Principal does
// not share with its payload (claims that held JSON escapes).
func entrySize(p *Principal) int64 {
	const strHeader = int64(unsafe.Sizeof(""))
	n := int64(cacheEntryOverhead) + int64(cap(p.raw))
	for _, list := range [...][]string{p.Audience, p.Scopes, p.Roles} {
		n += int64(cap(list)) * strHeader
		for _, s := range list {
			n += ownBytes(s, p.raw)
		}
	}
	for _, s := range [...]string{p.Subject, p.Issuer, p.ClientID, p.ID} {
		n += ownBytes(s, p.raw)
	}
	return n
}

// ownBytes is len(s) unless s lies within raw's array.
func ownBytes(s string, raw []byte) int64 {
	if len(s) == 0 || len(raw) == 0 {
		return int64(len(s))
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(raw)))
	at := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	if at >= start && at < start+uintptr(cap(raw)) {
		return 0
	}
	return int64(len(s))
}

// len returns the number of cached tokens (for tests and metrics).
func (c *tokenCache) len() int {
	n := 0
	for b := range c.buckets {
		for i := range c.buckets[b].slots[:c.ways] {
			if c.buckets[b].slots[i].Load() != nil {
				n++
			}
		}
	}
	return n
}
