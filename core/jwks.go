package core

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// keyCache fetches, caches and refreshes one issuer's JWKS.
//
// It replaces keyfunc's refresh machinery, whose behaviour contradicts the
// contract in three places: its unknown-kid rate limiter makes requests wait,
// one unusable key fails jwkset's whole refresh, and a failed refresh is
// reported like a bad token. Key parsing still goes through jwkset; the
// fetching, the single flight and the cooldown are here.
type keyCache struct {
	cfg    *config
	client *http.Client
	log    *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	ready  chan struct{}

	set     atomic.Pointer[keySet]
	jwksURL atomic.Pointer[string]

	mu          sync.Mutex
	flight      *flight
	lastUnknown time.Time // when an unknown kid last started a refresh
	lastErr     error     // the last fetch's failure, nil after a success
	readyOnce   sync.Once
}

type flight struct {
	done   chan struct{}
	err    error
	maxAge time.Duration // from Cache-Control; <0 when absent
}

func newKeyCache(ctx context.Context, cfg *config, log *slog.Logger) *keyCache {
	client := cfg.httpClient
	if client == nil {
		client = &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			return checkURL(req.URL.String(), cfg.insecureHTTP)
		}}
	}
	k := &keyCache{cfg: cfg, client: client, log: log, done: make(chan struct{}), ready: make(chan struct{})}
	k.ctx, k.cancel = context.WithCancel(ctx)
	if cfg.jwksURL != "" {
		u := cfg.jwksURL
		k.jwksURL.Store(&u)
	}
	go k.loop()
	return k
}

func (k *keyCache) close() {
	k.cancel()
	<-k.done
}

// loop loads the keys at start-up, retrying with backoff, then refreshes
// them ahead of expiry until the context ends.
func (k *keyCache) loop() {
	defer close(k.done)
	backoff := time.Second
	for {
		f := k.refresh("scheduled")
		select {
		case <-f.done:
		case <-k.ctx.Done():
			return
		}
		var wait time.Duration
		if f.err != nil {
			wait = jitter(backoff)
			backoff = min(backoff*2, time.Minute)
		} else {
			backoff = time.Second
			wait = k.cfg.refreshInterval
			if f.maxAge >= 0 {
				wait = min(max(f.maxAge, k.cfg.minRefresh), k.cfg.maxRefresh)
			}
			wait = jitter(wait)
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

// jitter spreads refreshes over the last tenth of the interval so that a
// fleet started together does not refresh in step.
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

func (k *keyCache) startLocked(reason string) *flight {
	if k.flight != nil {
		return k.flight
	}
	f := &flight{done: make(chan struct{}), maxAge: -1}
	k.flight = f
	go func() {
		start := time.Now()
		n, skipped, err := k.fetch(f)
		k.mu.Lock()
		k.flight = nil
		k.lastErr = err
		k.mu.Unlock()
		k.report(reason, n, skipped, err, time.Since(start))
		close(f.done)
	}()
	return f
}

func (k *keyCache) report(reason string, n int, skipped []skippedKey, err error, took time.Duration) {
	url := ""
	if p := k.jwksURL.Load(); p != nil {
		url = *p
	}
	for _, s := range skipped {
		k.log.Warn("jwksauth: JWKS key skipped", "url", url, "kid", s.kid, "reason", s.err)
		if h := k.cfg.hooks.OnKeySkipped; h != nil {
			h(s.kid, s.err)
		}
	}
	if err != nil {
		if k.ctx.Err() == nil {
			k.log.Warn("jwksauth: JWKS refresh failed; keeping the last good keys", "url", url, "reason", reason, "err", err)
		}
	} else {
		k.log.Debug("jwksauth: JWKS refreshed", "url", url, "reason", reason, "keys", n, "skipped", len(skipped))
	}
	if h := k.cfg.hooks.OnRefresh; h != nil {
		h(RefreshInfo{URL: url, Reason: reason, Keys: n, Skipped: len(skipped), Err: err, Duration: took})
	}
}

var (
	errFetchStatus = errors.New("unexpected HTTP status")
	errFetchSize   = errors.New("answer exceeds the size cap")
	errDiscovery   = errors.New("discovery document rejected")
)

// fetch loads the JWKS (discovering its URL first when needed) and, on
// success only, replaces the key set.
func (k *keyCache) fetch(f *flight) (int, []skippedKey, error) {
	var u string
	if p := k.jwksURL.Load(); p != nil {
		u = *p
	} else {
		d, err := k.discover()
		if err != nil {
			return 0, nil, err
		}
		k.jwksURL.Store(&d)
		u = d
	}
	body, hdr, err := k.get(u, "application/jwk-set+json, application/json")
	if err != nil {
		return 0, nil, err
	}
	now := k.cfg.now()
	set, skipped, err := parseJWKS(body, k.set.Load(), now)
	if err != nil {
		return 0, nil, err
	}
	k.set.Store(set)
	k.readyOnce.Do(func() { close(k.ready) })
	f.maxAge = maxAge(hdr.Get("Cache-Control"))
	return set.count, skipped, nil
}

func (k *keyCache) discover() (string, error) {
	base := strings.TrimSuffix(k.cfg.issuer, "/")
	body, _, err := k.get(base+"/.well-known/openid-configuration", "application/json")
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
	return jwks, nil
}

func (k *keyCache) get(u, accept string) ([]byte, http.Header, error) {
	ctx, cancel := context.WithTimeout(k.ctx, k.cfg.fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", accept)
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return nil, nil, fmt.Errorf("%w %d from %s", errFetchStatus, resp.StatusCode, u)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, k.cfg.maxJWKSSize+1))
	if err != nil {
		return nil, nil, err
	}
	if int64(len(body)) > k.cfg.maxJWKSSize {
		return nil, nil, fmt.Errorf("%w (%d bytes) from %s", errFetchSize, k.cfg.maxJWKSSize, u)
	}
	return body, resp.Header, nil
}

// maxAge reads Cache-Control's max-age; no-store and no-cache count as 0.
// It returns -1 when the header says nothing usable.
func maxAge(cc string) time.Duration {
	age := time.Duration(-1)
	for part := range strings.SplitSeq(cc, ",") {
		part = strings.TrimSpace(part)
		name, val, _ := strings.Cut(part, "=")
		switch strings.ToLower(name) {
		case "no-store", "no-cache":
			return 0
		case "max-age":
			if n, err := strconv.ParseInt(strings.Trim(val, `"`), 10, 64); err == nil && n >= 0 {
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

// lookup finds the key for a token. A kid that is not cached triggers at most
// one refresh per cooldown; requests that find a refresh in flight share it,
// and requests within the cooldown fail at once.
func (k *keyCache) lookup(ctx context.Context, kid, alg string, kind keyKind, now time.Time) (*publicKey, error) {
	if s := k.usable(now); s != nil {
		if key, found := s.lookup(kid, kind, alg); key != nil {
			return key, nil
		} else if found {
			return nil, ErrKeyMismatch
		}
	}
	if h := k.cfg.hooks.OnUnknownKID; h != nil {
		h()
	}
	k.mu.Lock()
	f := k.flight
	if f == nil {
		if since := now.Sub(k.lastUnknown); !k.lastUnknown.IsZero() && since < k.cfg.cooldown {
			lastErr := k.lastErr
			k.mu.Unlock()
			if h := k.cfg.hooks.OnCooldown; h != nil {
				h()
			}
			return nil, k.missError(now, lastErr, k.cfg.cooldown-since)
		}
		k.lastUnknown = now
		f = k.startLocked("unknown kid")
	}
	k.mu.Unlock()
	select {
	case <-f.done:
	case <-ctx.Done():
		return nil, unavailableError(ctx.Err(), 1)
	}
	if s := k.usable(now); s != nil {
		if key, found := s.lookup(kid, kind, alg); key != nil {
			return key, nil
		} else if found {
			return nil, ErrKeyMismatch
		}
	}
	return nil, k.missError(now, f.err, k.cfg.cooldown)
}

// missError: with no usable keys, or after a failed fetch, an unknown kid
// is an outage (503); after a successful fetch it is an unknown key (401).
func (k *keyCache) missError(now time.Time, fetchErr error, retry time.Duration) error {
	if k.usable(now) == nil || fetchErr != nil {
		return unavailableError(fetchErr, int((retry+time.Second-1)/time.Second))
	}
	return ErrUnknownKey
}

func (k *keyCache) waitReady(ctx context.Context) error {
	select {
	case <-k.ready:
		return nil
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
