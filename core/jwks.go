package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jwksauth/jwksauth/core/internal/jwks"
)

// keyCache fetches, caches and refreshes one issuer's JWKS (docs/operations.md).
//
// It replaces keyfunc's refresh machinery, whose behaviour contradicts
// docs/operations.md in three places: its unknown-kid rate limiter makes requests wait,
// one unusable key fails jwkset's whole refresh, and a failed refresh is
// reported like a bad token. Key parsing still goes through jwkset (package jwks);
// the fetching, the single flight and the cooldown are here: the fetch of
// discovery and the set in jwksfetch.go, the loop that loads and refreshes
// the set and its timing in jwksrefresh.go, and the lookup of a token's key
// (the cooldown, outage answers) in jwkslookup.go.
//
// The rules, in one place:
//
//   - One goroutine (loop) loads the keys at start-up, retrying with
//     exponential backoff while that fails, then refreshes them ahead of
//     expiry: Cache-Control max-age (less Age) clamped to the refresh
//     floor and ceiling, or the refresh interval when the provider sends no
//     max-age, shortened by up to a tenth (jitter) so that a fleet started
//     together does not refresh in step.
//   - At most one fetch is in flight (the flight). Whoever wants a refresh
//     while one is running joins it, the loop included.
//   - A token whose kid is not among the usable keys starts a refresh only
//     when no unknown-kid refresh started within the cooldown. The start-up
//     load and the scheduled refreshes are not unknown-kid refreshes, so they
//     never consume a cooldown: a rotation right after start is picked up by
//     the first token that uses the new key.
//   - A request that finds a refresh in flight joins it and waits for it —
//     never longer than the fetch timeout, which bounds the whole refresh
//     (discovery included), and never longer than its own context. A request
//     that arrives after the refresh completed and within the cooldown does
//     not wait at all: it fails at once, 401 if the last fetch succeeded and
//     the kid is simply not in the set, 503 if the last fetch failed.
//   - Only a fetch that returns a well-formed JWKS with at least one usable
//     key replaces the set. Any other answer (network error, timeout,
//     non-200, oversized body, not JSON, no "keys", no usable key) keeps the
//     last good keys; they are served until they are older than the maximum
//     staleness, after which every request answers 503.
//   - Close, or the end of the context given to New, stops the loop, cancels
//     the fetch in flight, waits for it and closes the idle connections of
//     the cache's own transport: no goroutine outlives the cache.
type keyCache struct {
	cfg    *config
	client *http.Client
	own    *http.Transport // the transport the cache created; nil with WithHTTPClient
	log    *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when the loop and every fetch have ended
	ready  chan struct{} // closed at the first successful load

	set     atomic.Pointer[jwks.Set]
	jwksURL atomic.Pointer[string]
	jwks    jwkView // the keys in jwkset's form, for Verifier.Keyfunc (keyfunc.go)

	mu          sync.Mutex
	flight      *flight        // the fetch in flight, nil when none
	flights     sync.WaitGroup // fetch goroutines
	stopped     bool           // no fetch may start any more
	lastUnknown time.Time      // when an unknown kid last started a refresh
	lastErr     error          // the last fetch's failure, nil after a success

	// Only the fetch goroutine touches these, and fetches never overlap.
	loaded   bool                // a key set was loaded once
	failing  bool                // the last fetch failed
	lastSkip map[string]struct{} // keys skipped by the last fetch, logged at Warn once
	moved    bool                // the discovered JWKS URL answered as if gone: ask discovery again
	readyOn  sync.Once
}

// flight is one fetch. Its fields are written before done is closed and
// read only after.
type flight struct {
	done     chan struct{}
	err      error
	lifetime time.Duration // freshness from Cache-Control; <0 when absent
}

// Refresh reasons, reported in RefreshInfo.Reason.
const (
	reasonScheduled  = string(RefreshScheduled)
	reasonUnknownKID = string(RefreshUnknownKID)
)

var (
	errFetchStatus  = errors.New("unexpected HTTP status")
	errFetchSize    = errors.New("answer exceeds the size cap")
	errDiscovery    = errors.New("discovery document rejected")
	errRedirect     = errors.New("redirect refused")
	errStopped      = errors.New("the key cache is closed")
	errKeysStale    = errors.New("the cached keys are older than the maximum staleness")
	errNoUsableKeys = errors.New("JWKS holds no usable key")
	errNotLoadedYet = errors.New("no key set loaded yet")
	errClosedEarly  = errors.New("jwksauth: verifier closed before its keys loaded")
)

func newKeyCache(ctx context.Context, cfg *config, log *slog.Logger) *keyCache {
	k := &keyCache{cfg: cfg, log: log, done: make(chan struct{}), ready: make(chan struct{})}
	k.client, k.own = newHTTPClient(cfg)
	k.ctx, k.cancel = context.WithCancel(ctx)
	if cfg.jwksURL != "" {
		u := cfg.jwksURL
		k.jwksURL.Store(&u)
	}
	go k.loop()
	return k
}

// close stops the background work and waits until it has ended. It may be
// called more than once. It must not be called from a hook (hooks run on the
// fetch goroutine it waits for).
func (k *keyCache) close() {
	k.cancel()
	<-k.done
}

// shutdown runs when the loop ends: no fetch may start any more, the one in
// flight (already cancelled through the context) is waited for, and the
// idle connections of our transport are closed.
func (k *keyCache) shutdown() {
	k.mu.Lock()
	k.stopped = true
	k.mu.Unlock()
	k.flights.Wait()
	if k.own != nil {
		k.own.CloseIdleConnections()
	}
	close(k.done)
}

func (k *keyCache) url() string {
	if p := k.jwksURL.Load(); p != nil {
		return *p
	}
	return ""
}

// waitReady waits for the first key set, ctx, or the cache's end.
func (k *keyCache) waitReady(ctx context.Context) error {
	select {
	case <-k.ready:
		return nil
	case <-k.done:
		select {
		case <-k.ready: // loaded just before closing
			return nil
		default:
		}
		return errClosedEarly
	case <-ctx.Done():
		k.mu.Lock()
		err := k.lastErr
		k.mu.Unlock()
		if err != nil {
			return fmt.Errorf("jwksauth: keys not loaded: %w", err)
		}
		return fmt.Errorf("jwksauth: keys not loaded: %w", ctx.Err())
	}
}
