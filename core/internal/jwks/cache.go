package jwks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Cache fetches, caches and refreshes one issuer's JWKS (docs/operations.md).
//
// It replaces keyfunc's refresh machinery, whose behaviour contradicts
// docs/operations.md in three places: its unknown-kid rate limiter makes requests wait,
// one unusable key fails jwkset's whole refresh, and a failed refresh is
// reported like a bad token. Key parsing still goes through jwkset (keys.go);
// the fetching, the single flight and the cooldown are here: the fetch of
// discovery and the set in fetch.go, the loop that loads and refreshes
// the set and its timing in refresh.go, and the lookup of a token's key
// (the cooldown, outage answers) in lookup.go.
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
type Cache struct {
	cfg    Config
	client *http.Client
	own    *http.Transport // the transport the cache created; nil with Config.HTTPClient
	log    *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when the loop and every fetch have ended
	ready  chan struct{} // closed at the first successful load

	set     atomic.Pointer[Set]
	jwksURL atomic.Pointer[string]

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

// Config is what a Cache is built from. Every field is required but URL
// (empty: discover it from Issuer), HTTPClient (nil: a client of the cache's
// own), Log (nil: slog.Default) and the hooks.
type Config struct {
	Issuer string
	URL    string // the JWKS URL; "" to read it from the issuer's discovery document
	// CheckURL is the rule for every URL the cache is sent to: a
	// discovered jwks_uri and every redirect.
	CheckURL   func(string) error
	HTTPClient *http.Client

	FetchTimeout    time.Duration // bounds a whole refresh, discovery included
	MaxSize         int64         // the size cap of an answer, in bytes
	RefreshInterval time.Duration // the refresh period when the provider sends no max-age
	MinRefresh      time.Duration // the refresh floor
	MaxRefresh      time.Duration // the refresh ceiling
	MaxStale        time.Duration // how long the last good keys are served
	Cooldown        time.Duration // between refreshes started by unknown kids
	Now             func() time.Time
	Log             *slog.Logger
	Hooks           Hooks
}

// Hooks observe a Cache. Every field is optional; the hooks run on the
// fetch goroutine (OnRefresh, OnKeySkipped) or the request's (the others).
type Hooks struct {
	OnRefresh    func(Refresh)                  // after every fetch
	OnKeySkipped func(kid string, reason error) // per unusable key of a fetched set
	OnUnknownKID func()                         // a kid not among the usable keys
	OnCooldown   func()                         // such a kid answered at once, within the cooldown
}

// Refresh describes one fetch, for Hooks.OnRefresh.
type Refresh struct {
	URL      string
	Reason   Reason
	Keys     int   // usable keys loaded (0 on failure)
	Skipped  int   // keys skipped as unusable
	Err      error // nil on success; the last good keys were kept otherwise
	Duration time.Duration
}

// Reason is why a fetch ran.
type Reason string

// The reasons of Refresh.
const (
	// ReasonScheduled: the start-up load, its retries and the scheduled
	// refreshes.
	ReasonScheduled Reason = "scheduled"
	// ReasonUnknownKID: a token named a kid the loaded keys lack.
	ReasonUnknownKID Reason = "unknown kid"
)

// Causes of a failed fetch (in Refresh.Err), and of an UnavailableError.
var (
	ErrFetchStatus  = errors.New("unexpected HTTP status")
	ErrFetchSize    = errors.New("answer exceeds the size cap")
	ErrDiscovery    = errors.New("discovery document rejected")
	ErrRedirect     = errors.New("redirect refused")
	ErrStopped      = errors.New("the key cache is closed")
	ErrKeysStale    = errors.New("the cached keys are older than the maximum staleness")
	ErrNoUsableKeys = errors.New("JWKS holds no usable key")
	ErrNotLoadedYet = errors.New("no key set loaded yet")
	errClosedEarly  = errors.New("jwksauth: verifier closed before its keys loaded")
)

// Lookup's answers for a kid the usable keys do not hold, once the provider
// was consulted (ErrUnknownKey), and for a kid whose keys are all for
// another algorithm (ErrKeyMismatch). Every other failure of Lookup is an
// *UnavailableError.
var (
	ErrUnknownKey  = errors.New("no usable key has the token's kid")
	ErrKeyMismatch = errors.New("the token's kid names keys for another algorithm")
)

// UnavailableError is Lookup's answer when the keys cannot be consulted: no
// usable set is loaded, the last fetch failed, the cache is closed, or the
// request's context ended while it waited for a fetch.
type UnavailableError struct {
	Cause      error
	RetryAfter int // seconds until a retry could see another answer, at least 1
}

// Error says the keys are unavailable, and why.
func (e *UnavailableError) Error() string { return "JWKS unavailable: " + e.Cause.Error() }

// Unwrap returns the cause.
func (e *UnavailableError) Unwrap() error { return e.Cause }

func unavailable(cause error, retryAfter int) *UnavailableError {
	return &UnavailableError{Cause: cause, RetryAfter: max(retryAfter, 1)}
}

// New starts a Cache: it begins loading the keys in the background at once
// and never blocks on the network.
func New(ctx context.Context, cfg Config) *Cache {
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	k := &Cache{cfg: cfg, log: log, done: make(chan struct{}), ready: make(chan struct{})}
	k.client, k.own = newHTTPClient(cfg)
	k.ctx, k.cancel = context.WithCancel(ctx)
	if cfg.URL != "" {
		u := cfg.URL
		k.jwksURL.Store(&u)
	}
	go k.loop()
	return k
}

// Close stops the background work and waits until it has ended. It may be
// called more than once. It must not be called from a hook (hooks run on the
// fetch goroutine it waits for).
func (k *Cache) Close() {
	k.cancel()
	<-k.done
}

// shutdown runs when the loop ends: no fetch may start any more, the one in
// flight (already cancelled through the context) is waited for, and the
// idle connections of our transport are closed.
func (k *Cache) shutdown() {
	k.mu.Lock()
	k.stopped = true
	k.mu.Unlock()
	k.flights.Wait()
	if k.own != nil {
		k.own.CloseIdleConnections()
	}
	close(k.done)
}

func (k *Cache) url() string {
	if p := k.jwksURL.Load(); p != nil {
		return *p
	}
	return ""
}

// Ready waits for the first key set, ctx, or the cache's end.
func (k *Cache) Ready(ctx context.Context) error {
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
