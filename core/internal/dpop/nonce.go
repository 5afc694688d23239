package dpop

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"sync"
	"time"
)

// NonceSource issues and recognises server nonces (RFC 9449 §9). A fleet of
// replicas shares one (a network store): a nonce issued by one replica must
// be current at all of them. Check turns any error into ErrStoreUnavailable.
type NonceSource interface {
	// Current reports whether nonce is one the server currently accepts.
	Current(ctx context.Context, nonce string) (bool, error)
	// Issue returns a nonce for a DPoP-Nonce response header: at most
	// MaxNonceLength bytes of NQCHAR (RFC 9449 §8.1).
	Issue(ctx context.Context) (string, error)
}

// MaxNonceLength bounds a proof's nonce claim; a longer one is never
// current, and is not passed to the NonceSource.
const MaxNonceLength = 256

// DefaultNonceInterval is MemoryNoncesConfig.Interval's default.
const DefaultNonceInterval = time.Minute

// MemoryNoncesConfig configures NewMemoryNonces. Zero values mean the defaults.
type MemoryNoncesConfig struct {
	// Interval is how often a new nonce replaces the current one, which
	// stays accepted for one more interval: a nonce lives from one to two
	// intervals. Default DefaultNonceInterval (1 minute); at least 1 second.
	Interval time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// MemoryNonces is a NonceSource for one process. Nonces are 26 characters
// of base32 from crypto/rand (128 bits): unguessable, so a client cannot
// make proofs for a time to come. It accepts the current nonce and the one
// before; after a pause of two intervals or more, only a new one.
type MemoryNonces struct {
	interval time.Duration
	now      func() time.Time

	mu        sync.Mutex
	cur, prev string
	rotated   time.Time
}

// NewMemoryNonces returns a MemoryNonces with a first nonce.
func NewMemoryNonces(cfg MemoryNoncesConfig) (*MemoryNonces, error) {
	if cfg.Interval == 0 {
		cfg.Interval = DefaultNonceInterval
	}
	if cfg.Interval < time.Second {
		return nil, errors.New("dpop: nonce interval under 1s")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &MemoryNonces{interval: cfg.Interval, now: cfg.Now, cur: rand.Text(), rotated: cfg.Now()}, nil
}

// Current implements NonceSource.
func (n *MemoryNonces) Current(ctx context.Context, nonce string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	cur, prev := n.current()
	ok := subtle.ConstantTimeCompare([]byte(nonce), []byte(cur)) == 1
	if prev != "" && subtle.ConstantTimeCompare([]byte(nonce), []byte(prev)) == 1 {
		ok = true
	}
	return ok, nil
}

// Issue implements NonceSource.
func (n *MemoryNonces) Issue(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	cur, _ := n.current()
	return cur, nil
}

// current rotates when an interval has passed and returns the nonces accepted now.
func (n *MemoryNonces) current() (cur, prev string) {
	now := n.now()
	n.mu.Lock()
	defer n.mu.Unlock()
	switch elapsed := now.Sub(n.rotated); {
	case elapsed >= 2*n.interval:
		n.prev, n.cur, n.rotated = "", rand.Text(), now
	case elapsed >= n.interval:
		n.prev, n.cur, n.rotated = n.cur, rand.Text(), now
	}
	return n.cur, n.prev
}

// Nonce returns a nonce for the DPoP-Nonce header of a successful answer,
// or "" when server nonces are off.
func (c *Checker) Nonce(ctx context.Context) (string, error) {
	if c.nonces == nil {
		return "", nil
	}
	return c.nonces.Issue(ctx)
}
