package dpop

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"time"
)

// ReplayStore remembers the proofs already used (RFC 9449 §11.1). It may
// be shared by many replicas over a network (a Redis SET with NX and PX is
// one FirstSeen), so it takes a context and may fail; Check turns any
// error into ErrStoreUnavailable and accepts nothing.
type ReplayStore interface {
	// FirstSeen records key for ttl, measured from when the store records
	// it by its own clock, and reports whether it was not recorded already
	// (first is true for exactly one of any number of concurrent calls with
	// one key). It must be atomic, and must not answer true for a key
	// recorded less than its ttl ago. A duration rather than a time, so
	// that no two clocks need agree. Keys are 43 bytes of base64url, never
	// a client's raw jti; ttl is positive.
	FirstSeen(ctx context.Context, key string, ttl time.Duration) (first bool, err error)
}

// replayKey is the store's key for a proof: SHA-256 over the key's RFC
// 7638 thumbprint (always 43 bytes) and the jti, base64url. Scoping by the
// key means one client cannot use up another's jti, and hashing keeps what
// the store holds bounded and free of client text.
func replayKey(thumbprint, jti string) string {
	h := sha256.New()
	h.Write([]byte("dpop-jti\x00"))
	h.Write([]byte(thumbprint))
	h.Write([]byte(jti))
	var sum [sha256.Size]byte
	return b64.EncodeToString(h.Sum(sum[:0]))
}

// Defaults of MemoryStoreConfig.
const (
	DefaultReplayEntries = 200_000
	DefaultReplayBytes   = 32 << 20
)

// entryOverhead is what one recorded key costs besides its bytes, counted
// against MemoryStoreConfig.MaxBytes: the key's string header and expiry in
// the map and in the expiry heap, and the map's and heap's spare room.
const entryOverhead = 96

const maxShards = 64

// MemoryStoreConfig configures NewMemoryStore. Zero values mean the defaults.
type MemoryStoreConfig struct {
	// MaxEntries bounds the keys held at once. Default DefaultReplayEntries.
	MaxEntries int
	// MaxBytes bounds the memory they take, at len(key)+96 bytes a key.
	// Default DefaultReplayBytes (32 MiB).
	MaxBytes int64
	// Now is the store's clock, by which recorded keys expire. Default time.Now.
	Now func() time.Time
}

// MemoryStore is a ReplayStore for one process. It is sharded (each shard
// has its own lock, chosen by a seeded hash of the key) and bounded by
// entries and bytes, each shard holding an equal part of the bounds.
// Expired keys are evicted as new ones arrive, oldest expiry first.
//
// When full it fails closed: FirstSeen returns ErrStoreFull rather than
// forget a key that is still live, since a forgotten jti is a replay the
// store would accept. New proofs are refused (Check answers
// ErrStoreUnavailable, 503) until keys expire, within the proof window.
// Size the bounds for the peak rate of proofs times the window
// (Config.MaxAge plus twice Config.Leeway).
type MemoryStore struct {
	seed   maphash.Seed
	now    func() time.Time
	shards []shard
}

type shard struct {
	mu         sync.Mutex
	keys       map[string]int64 // key → expiry, Unix nanoseconds
	expiries   expiryHeap
	bytes      int64
	maxEntries int
	maxBytes   int64
	_          [64]byte // keeps two shards' locks off one cache line
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore(cfg MemoryStoreConfig) (*MemoryStore, error) {
	if cfg.MaxEntries == 0 {
		cfg.MaxEntries = DefaultReplayEntries
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultReplayBytes
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxEntries < 0 || cfg.MaxBytes < 0 {
		return nil, errors.New("dpop: negative replay store bound")
	}
	n := maxShards
	for n > 1 && n > cfg.MaxEntries {
		n /= 2
	}
	if cfg.MaxBytes/int64(n) < entryOverhead+64 {
		return nil, fmt.Errorf("dpop: replay store MaxBytes under %d", (entryOverhead+64)*n)
	}
	s := &MemoryStore{seed: maphash.MakeSeed(), now: cfg.Now, shards: make([]shard, n)}
	for i := range s.shards {
		s.shards[i].keys = make(map[string]int64)
		s.shards[i].maxEntries = cfg.MaxEntries / n
		s.shards[i].maxBytes = cfg.MaxBytes / int64(n)
	}
	return s, nil
}

// FirstSeen implements ReplayStore. It returns ErrStoreFull when the key's
// shard is full of live keys, and ctx.Err() when ctx is done.
func (s *MemoryStore) FirstSeen(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	now := s.now().UnixNano()
	sh := &s.shards[maphash.String(s.seed, key)%uint64(len(s.shards))]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.evict(now)
	if _, ok := sh.keys[key]; ok {
		return false, nil
	}
	cost := int64(len(key)) + entryOverhead
	if len(sh.keys) >= sh.maxEntries || sh.bytes+cost > sh.maxBytes {
		return false, ErrStoreFull
	}
	exp := now + int64(ttl)
	sh.keys[key] = exp
	sh.expiries.push(expiry{at: exp, key: key})
	sh.bytes += cost
	return true, nil
}

// Len returns how many keys the store holds, expired ones not yet evicted included.
func (s *MemoryStore) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += len(sh.keys)
		sh.mu.Unlock()
	}
	return n
}

// evict drops the keys whose expiry is not after now.
func (sh *shard) evict(now int64) {
	for len(sh.expiries) > 0 && sh.expiries[0].at <= now {
		e := sh.expiries.pop()
		delete(sh.keys, e.key)
		sh.bytes -= int64(len(e.key)) + entryOverhead
	}
}

type expiry struct {
	at  int64
	key string
}

// expiryHeap is a min-heap of expiries by time. It is written out rather
// than used through container/heap, whose Push and Pop take and return
// any: boxing an expiry would allocate on every recorded proof.
type expiryHeap []expiry

func (h *expiryHeap) push(e expiry) {
	*h = append(*h, e)
	q := *h
	for i := len(q) - 1; i > 0; {
		parent := (i - 1) / 2
		if q[parent].at <= q[i].at {
			break
		}
		q[parent], q[i] = q[i], q[parent]
		i = parent
	}
}

// pop removes and returns the earliest expiry; h is not empty.
func (h *expiryHeap) pop() expiry {
	q := *h
	top, n := q[0], len(q)-1
	q[0] = q[n]
	q[n] = expiry{} // drop the key's reference
	q = q[:n]
	for i := 0; ; {
		least, l, r := i, 2*i+1, 2*i+2
		if l < n && q[l].at < q[least].at {
			least = l
		}
		if r < n && q[r].at < q[least].at {
			least = r
		}
		if least == i {
			break
		}
		q[i], q[least] = q[least], q[i]
		i = least
	}
	*h = q
	return top
}
