package core

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// keyCache fetches, caches and refreshes one issuer's JWKS (contract §4).
//
// It replaces keyfunc's refresh machinery, whose behaviour contradicts the
// contract in three places: its unknown-kid rate limiter makes requests wait,
// one unusable key fails jwkset's whole refresh, and a failed refresh is
// reported like a bad token. Key parsing still goes through jwkset (keys.go);
// the fetching, the single flight and the cooldown are here.
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

	set     atomic.Pointer[keySet]
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

// Refresh reasons, reported in RefreshInfo.Reason.
const (
	reasonScheduled  = "scheduled"
	reasonUnknownKID = "unknown kid"
)

// maxRedirects bounds the redirects a discovery or JWKS fetch follows.
const maxRedirects = 5

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

// newHTTPClient returns the client for discovery and JWKS fetches. Every
// redirect is checked like a configured URL (https, or http on loopback or
// with WithInsecureHTTP), whether the client is ours or the caller's; a
// caller's own redirect policy still runs after that check. Our client has a
// transport of its own, so that closing the cache can close its idle
// connections without touching anybody else's.
func newHTTPClient(cfg *config) (*http.Client, *http.Transport) {
	check := func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("%w: more than %d redirects", errRedirect, maxRedirects)
		}
		if err := checkURL(req.URL.String(), cfg.insecureHTTP); err != nil {
			return fmt.Errorf("%w: %w", errRedirect, err)
		}
		return nil
	}
	if cfg.httpClient != nil {
		c := *cfg.httpClient
		theirs := c.CheckRedirect
		c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if err := check(req, via); err != nil {
				return err
			}
			if theirs != nil {
				return theirs(req, via)
			}
			return nil
		}
		return &c, nil
	}
	var t *http.Transport
	if dt, ok := http.DefaultTransport.(*http.Transport); ok {
		t = dt.Clone()
	} else {
		t = &http.Transport{Proxy: http.ProxyFromEnvironment, ForceAttemptHTTP2: true}
	}
	return &http.Client{Transport: t, CheckRedirect: check}, t
}

// close stops the background work and waits until it has ended. It may be
// called more than once. It must not be called from a hook (hooks run on the
// fetch goroutine it waits for).
func (k *keyCache) close() {
	k.cancel()
	<-k.done
}

// loop loads the keys at start-up, retrying with backoff, then refreshes
// them ahead of expiry until the context ends.
func (k *keyCache) loop() {
	defer k.shutdown()
	backoff := k.firstBackoff()
	for {
		f := k.refresh(reasonScheduled)
		select {
		case <-f.done:
		case <-k.ctx.Done():
			return
		}
		var wait time.Duration
		if f.err != nil {
			wait = jitter(backoff)
			backoff = min(backoff*2, k.maxBackoff())
		} else {
			backoff = k.firstBackoff()
			wait = k.nextRefresh(f.lifetime)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-k.ctx.Done():
			t.Stop()
			return
		}
	}
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

// firstBackoff is the wait before the first retry of a failed fetch: 1 s,
// or the refresh floor when that is shorter.
func (k *keyCache) firstBackoff() time.Duration { return min(time.Second, k.cfg.minRefresh) }

// maxBackoff caps the doubling retry wait: 1 min, or the refresh ceiling when
// that is shorter (a failing provider is never polled less often than a
// healthy one).
func (k *keyCache) maxBackoff() time.Duration {
	return max(min(time.Minute, k.cfg.maxRefresh), k.firstBackoff())
}

// nextRefresh is the wait after a successful fetch whose answer was fresh
// for lifetime (<0: the provider said nothing). It is held to a quarter of
// the staleness bound: keys go stale maxStale after the last successful
// fetch, so a provider's long max-age (a JWKS served as a static file for
// a year) must not put the next refresh near that edge, where an outage
// would leave almost no time on cached keys. The floor still wins over
// that, when a configuration sets the two close together.
func (k *keyCache) nextRefresh(lifetime time.Duration) time.Duration {
	d := k.cfg.refreshInterval
	if lifetime >= 0 {
		d = min(max(lifetime, k.cfg.minRefresh), k.cfg.maxRefresh)
	}
	if limit := k.cfg.maxStale / 4; d > limit {
		d = max(limit, k.cfg.minRefresh)
	}
	return jitter(d)
}

// jitter shortens d by a random amount of up to a tenth, so that a fleet
// started together does not refresh in step, and a refresh always comes
// before the provider's max-age runs out.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return d
	}
	return d - time.Duration(rand.Int64N(int64(d/10)+1))
}

// refresh starts a fetch, or joins the one in flight.
func (k *keyCache) refresh(reason string) *flight {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.startLocked(reason)
}

// startLocked returns the flight in progress, or starts one. Once the cache
// is closed it returns a flight that has already failed.
func (k *keyCache) startLocked(reason string) *flight {
	if k.flight != nil {
		return k.flight
	}
	f := &flight{done: make(chan struct{}), lifetime: -1}
	// lookup refuses to start a fetch once the cache is stopped; this
	// check keeps flights.Add from ever racing shutdown's Wait whatever
	// the caller.
	if k.stopped || k.ctx.Err() != nil {
		f.err = errStopped
		close(f.done)
		return f
	}
	k.flight = f
	k.flights.Add(1)
	go k.run(f, reason)
	return f
}

// run performs one fetch. The new set (on success) is in place and the
// hooks have run before the flight is cleared; Ready and the flight's
// waiters are released after that. A request that arrives while the hooks
// run shares the flight's outcome, as if it had arrived a moment earlier.
func (k *keyCache) run(f *flight, reason string) {
	defer k.flights.Done()
	start := time.Now()
	n, skipped, lifetime, err := k.fetch()
	k.report(reason, n, skipped, err, time.Since(start))
	k.mu.Lock()
	k.flight = nil
	k.lastErr = err
	k.mu.Unlock()
	if err == nil {
		k.readyOn.Do(func() { close(k.ready) })
	}
	f.err, f.lifetime = err, lifetime
	close(f.done)
}

func (k *keyCache) url() string {
	if p := k.jwksURL.Load(); p != nil {
		return *p
	}
	return ""
}

// report logs one fetch and calls the hooks. Fetches never overlap, so the
// fields it keeps need no lock.
func (k *keyCache) report(reason string, n int, skipped []skippedKey, err error, took time.Duration) {
	url := k.url()
	seen := make(map[string]struct{}, len(skipped))
	for _, s := range skipped {
		id := s.kid + "\x00" + s.err.Error()
		seen[id] = struct{}{}
		level := slog.LevelWarn
		if _, again := k.lastSkip[id]; again {
			level = slog.LevelDebug // already reported at Warn by the previous fetch
		}
		k.log.Log(context.Background(), level, "jwksauth: JWKS key skipped", "url", url, "kid", s.kid, "err", s.err)
		if h := k.cfg.hooks.OnKeySkipped; h != nil {
			h(s.kid, s.err)
		}
	}
	if skipped != nil || err == nil {
		k.lastSkip = seen
	}
	switch {
	case err != nil:
		k.failing = true
		if k.ctx.Err() == nil {
			msg := "jwksauth: JWKS refresh failed; keeping the last good keys"
			if !k.loaded {
				msg = "jwksauth: JWKS load failed; requests answer 503 until it succeeds"
			}
			k.log.Warn(msg, "url", url, "reason", reason, "err", err)
		}
	case !k.loaded || k.failing:
		msg := "jwksauth: JWKS loaded"
		if k.loaded {
			msg = "jwksauth: JWKS refreshed after failures"
		}
		k.loaded, k.failing = true, false
		k.log.Info(msg, "url", url, "reason", reason, "keys", n, "skipped", len(skipped))
	default:
		k.log.Debug("jwksauth: JWKS refreshed", "url", url, "reason", reason, "keys", n, "skipped", len(skipped))
	}
	if h := k.cfg.hooks.OnRefresh; h != nil {
		h(RefreshInfo{URL: url, Reason: reason, Keys: n, Skipped: len(skipped), Err: err, Duration: took})
	}
}

// fetch loads the JWKS (discovering its URL first when needed) and, on
// success only, replaces the key set. The fetch timeout bounds the whole of
// it, discovery included; Close cancels it.
//
// A discovered URL that answered as if the keys had moved (404, 410, a host
// that no longer resolves, or a body that is not a JWKS) sends the next
// attempt to discovery first. If
// discovery names another URL, that one is used from then on; if it fails
// or names the same one, the known URL is fetched anyway, so a discovery
// outage never keeps a working JWKS from loading. Other failures (5xx,
// timeouts: an outage, not a move) retry the known URL alone.
func (k *keyCache) fetch() (n int, skipped []skippedKey, lifetime time.Duration, err error) {
	lifetime = -1
	ctx, cancel := context.WithTimeout(k.ctx, k.cfg.fetchTimeout)
	defer cancel()
	u := k.url()
	switch {
	case u == "":
		if u, err = k.discover(ctx); err != nil {
			return 0, nil, lifetime, err
		}
		k.jwksURL.Store(&u)
	case k.moved:
		// Half the time for discovery, so that the known URL still gets
		// its chance when discovery hangs.
		dctx, dcancel := context.WithTimeout(ctx, k.cfg.fetchTimeout/2)
		if nu, derr := k.discover(dctx); derr == nil && nu != u {
			k.log.Info("jwksauth: discovery names a new JWKS URL", "old", u, "url", nu)
			u = nu
			k.jwksURL.Store(&u)
		}
		dcancel()
	}
	defer func() {
		k.moved = k.cfg.jwksURL == "" && (isGone(err) || errors.Is(err, errJWKSNotJSON) || errors.Is(err, errJWKSNoKeys))
	}()
	body, hdr, err := k.get(ctx, u, "application/jwk-set+json, application/json")
	if err != nil {
		return 0, nil, lifetime, err
	}
	prev := k.set.Load()
	set, skipped, err := parseJWKS(body, prev, k.cfg.now())
	if err != nil {
		return 0, skipped, lifetime, err
	}
	if set.count == 0 {
		// A provider that signs tokens publishes at least one key: an
		// empty (or wholly unusable) set is a broken answer, not a reason
		// to stop verifying. The last good keys stay, and age.
		return 0, skipped, lifetime, errNoUsableKeys
	}
	set.gen = 1
	if prev != nil {
		set.gen = prev.gen + 1
	}
	k.set.Store(set)
	return set.count, skipped, freshness(hdr), nil
}

// discover reads the issuer's OpenID configuration and returns its
// jwks_uri. The document's issuer must equal the configured issuer exactly,
// and the jwks_uri must pass the same URL rule as a configured one.
func (k *keyCache) discover(ctx context.Context) (string, error) {
	base := strings.TrimSuffix(k.cfg.issuer, "/")
	body, _, err := k.get(ctx, base+"/.well-known/openid-configuration", "application/json")
	if err != nil {
		return "", err
	}
	ms, err := parseObject(string(body), nil)
	if err != nil {
		return "", fmt.Errorf("%w: %w", errDiscovery, err)
	}
	var iss, jwks string
	for _, m := range ms {
		switch m.key {
		case "issuer":
			iss, _ = jsonString(m.val)
		case "jwks_uri":
			jwks, _ = jsonString(m.val)
		}
	}
	if iss != k.cfg.issuer {
		return "", fmt.Errorf("%w: its issuer %q is not the configured issuer", errDiscovery, iss)
	}
	if err := checkURL(jwks, k.cfg.insecureHTTP); err != nil {
		return "", fmt.Errorf("%w: jwks_uri: %w", errDiscovery, err)
	}
	return strings.Clone(jwks), nil // not a view that keeps the discovery body alive
}

// get fetches u. Only a 200 whose body fits the size cap is returned.
func (k *keyCache) get(ctx context.Context, u, accept string) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", accept)
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, nil, ctxCause(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return nil, nil, &statusError{code: resp.StatusCode, url: u}
	}
	if resp.ContentLength > k.cfg.maxJWKSSize {
		return nil, nil, fmt.Errorf("%w (%d bytes) from %s", errFetchSize, k.cfg.maxJWKSSize, u)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, k.cfg.maxJWKSSize+1))
	if err != nil {
		return nil, nil, ctxCause(ctx, err)
	}
	if int64(len(body)) > k.cfg.maxJWKSSize {
		return nil, nil, fmt.Errorf("%w (%d bytes) from %s", errFetchSize, k.cfg.maxJWKSSize, u)
	}
	return body, resp.Header, nil
}

// statusError is a non-200 answer; errors.Is(err, errFetchStatus) holds.
type statusError struct {
	code int
	url  string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%v %d from %s", errFetchStatus, e.code, e.url)
}

func (e *statusError) Unwrap() error { return errFetchStatus }

// isGone reports a fetch that says the JWKS is not there (any more): a 404
// or 410, or a host name that no longer resolves.
func isGone(err error) bool {
	var se *statusError
	var de *net.DNSError
	return (errors.As(err, &se) && (se.code == http.StatusNotFound || se.code == http.StatusGone)) ||
		(errors.As(err, &de) && de.IsNotFound)
}

// ctxCause makes a fetch that failed because its context ended say so
// (errors.Is(err, context.DeadlineExceeded) for the fetch timeout), whatever
// the transport reported.
func ctxCause(ctx context.Context, err error) error {
	if c := ctx.Err(); c != nil && !errors.Is(err, c) {
		return fmt.Errorf("%w: %w", c, err)
	}
	return err
}

// freshness is how long a JWKS answer stays fresh by its headers:
// Cache-Control max-age less the Age a shared cache added. It returns -1
// when the headers say nothing usable.
func freshness(h http.Header) time.Duration {
	age := maxAge(strings.Join(h.Values("Cache-Control"), ","))
	if age <= 0 {
		return age
	}
	if a, err := strconv.ParseInt(strings.TrimSpace(h.Get("Age")), 10, 64); err == nil && a > 0 {
		age = max(age-time.Duration(min(a, 1<<31))*time.Second, 0)
	}
	return age
}

// maxAge reads Cache-Control's max-age; no-store and no-cache count as 0.
// It returns -1 when the header says nothing usable.
func maxAge(cc string) time.Duration {
	age := time.Duration(-1)
	for part := range strings.SplitSeq(cc, ",") {
		part = strings.TrimSpace(part)
		name, val, _ := strings.Cut(part, "=")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "no-store", "no-cache":
			return 0
		case "max-age":
			if n, err := strconv.ParseInt(strings.Trim(strings.TrimSpace(val), `"`), 10, 64); err == nil && n >= 0 {
				age = time.Duration(min(n, 1<<31)) * time.Second
			}
		}
	}
	return age
}

// usable returns the current key set, or nil when none was ever loaded or
// the last success is older than the staleness bound.
func (k *keyCache) usable(now time.Time) *keySet {
	s := k.set.Load()
	if s == nil || now.Sub(s.fetchedAt) > k.cfg.maxStale {
		return nil
	}
	return s
}

// find looks kid up in the usable keys. ok is false when the key set has to
// be consulted anew: the kid is unknown, or no usable set is loaded.
func (k *keyCache) find(kid, alg string, kind keyKind, now time.Time) (key *publicKey, ok bool, err error) {
	s := k.usable(now)
	if s == nil {
		return nil, false, nil
	}
	key, found := s.lookup(kid, kind, alg)
	switch {
	case key != nil:
		return key, true, nil
	case found:
		// The kid is known but its key is for another algorithm: not a
		// rotation, so no refresh.
		return nil, true, ErrKeyMismatch
	}
	return nil, false, nil
}

// lookup finds the key for a token (see the rules on keyCache). It never
// blocks on a fetch for a kid that is cached and usable.
func (k *keyCache) lookup(ctx context.Context, kid, alg string, kind keyKind, now time.Time) (*publicKey, error) {
	if key, ok, err := k.find(kid, alg, kind, now); ok {
		return key, err
	}
	if h := k.cfg.hooks.OnUnknownKID; h != nil {
		h()
	}
	k.mu.Lock()
	// A refresh may have completed since the look above.
	if key, ok, err := k.find(kid, alg, kind, now); ok {
		k.mu.Unlock()
		return key, err
	}
	if k.stopped || k.ctx.Err() != nil {
		k.mu.Unlock()
		return nil, unavailableError(errStopped, int(k.cfg.cooldown/time.Second))
	}
	f := k.flight
	if f == nil {
		if k.coolingLocked(now) {
			err := k.missError(now, k.lastErr)
			k.mu.Unlock()
			if h := k.cfg.hooks.OnCooldown; h != nil {
				h()
			}
			return nil, err
		}
		k.lastUnknown = now
		f = k.startLocked(reasonUnknownKID)
		if f.err == nil {
			k.log.Debug("jwksauth: unknown kid, refreshing the JWKS", "url", k.url(), "kid", kid)
		}
	}
	k.mu.Unlock()
	// Join the flight: it ends within the fetch timeout, and the request
	// stops waiting when its own context ends.
	select {
	case <-f.done:
	case <-ctx.Done():
		return nil, unavailableError(ctx.Err(), 1)
	}
	if key, ok, err := k.find(kid, alg, kind, now); ok {
		return key, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return nil, k.missError(now, f.err)
}

// coolingLocked reports whether an unknown kid started a refresh within the
// cooldown before now.
func (k *keyCache) coolingLocked(now time.Time) bool {
	return !k.lastUnknown.IsZero() && now.Sub(k.lastUnknown) < k.cfg.cooldown
}

// missError is the answer for a kid that is not among the usable keys, once
// the provider was consulted (or may not be yet): with no usable keys, or
// after a failed fetch, it is an outage (503 with Retry-After); after a
// successful fetch the key is unknown (401). Retry-After is the time left in
// the cooldown (1 s when none is running): when a retry could see a new
// answer. Called with k.mu held.
func (k *keyCache) missError(now time.Time, fetchErr error) error {
	if fetchErr == nil && k.usable(now) != nil {
		return ErrUnknownKey
	}
	cause := fetchErr
	if cause == nil {
		cause = errKeysStale
		if k.set.Load() == nil {
			cause = errNotLoadedYet
		}
	}
	retry := time.Second
	if k.coolingLocked(now) {
		retry = k.cfg.cooldown - now.Sub(k.lastUnknown)
	}
	return unavailableError(cause, int((retry+time.Second-1)/time.Second))
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
