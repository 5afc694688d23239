package core

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/jwksauth/jwksauth/core/internal/jwks"
)

// keyCache is one issuer's JWKS cache (package jwks: the fetch, the
// refresh schedule, the single flight and the cooldown of
// docs/operations.md) as the Verifier uses it: its answers are core's
// errors, and it keeps the keys in jwkset's form for Verifier.Keyfunc.
type keyCache struct {
	c    *jwks.Cache
	now  func() time.Time
	jwks jwkView // the keys in jwkset's form, for Verifier.Keyfunc (keyfunc.go)
}

func newKeyCache(ctx context.Context, cfg *config, log *slog.Logger) *keyCache {
	return &keyCache{c: jwks.New(ctx, cacheConfig(cfg, log)), now: cfg.now}
}

// cacheConfig is the key cache's part of a validated configuration.
func cacheConfig(cfg *config, log *slog.Logger) jwks.Config {
	insecure := cfg.insecureHTTP
	c := jwks.Config{
		Issuer:          cfg.issuer,
		URL:             cfg.jwksURL,
		CheckURL:        func(u string) error { return checkURL(u, insecure) },
		HTTPClient:      cfg.httpClient,
		FetchTimeout:    cfg.fetchTimeout,
		MaxSize:         cfg.maxJWKSSize,
		RefreshInterval: cfg.refreshInterval,
		MinRefresh:      cfg.minRefresh,
		MaxRefresh:      cfg.maxRefresh,
		MaxStale:        cfg.maxStale,
		Cooldown:        cfg.cooldown,
		Now:             cfg.now,
		Log:             log,
		Hooks: jwks.Hooks{
			OnKeySkipped: cfg.hooks.OnKeySkipped,
			OnUnknownKID: cfg.hooks.OnUnknownKID,
			OnCooldown:   cfg.hooks.OnCooldown,
		},
	}
	if h := cfg.hooks.OnRefresh; h != nil {
		issuer := cfg.issuer
		c.Hooks.OnRefresh = func(r jwks.Refresh) {
			h(RefreshInfo{Issuer: issuer, URL: r.URL, Reason: refreshReason(r.Reason), Keys: r.Keys, Skipped: r.Skipped, Err: r.Err, Duration: r.Duration})
		}
	}
	return c
}

func refreshReason(r jwks.Reason) RefreshReason {
	if r == jwks.ReasonUnknownKID {
		return RefreshUnknownKID
	}
	return RefreshScheduled
}

// lookup finds the keys a token may be verified with; on success there is
// at least one. It never blocks on a fetch for a kid that is cached and
// usable.
func (k *keyCache) lookup(ctx context.Context, kid, alg string, kind jwks.Kind, now time.Time) (jwks.Candidates, error) {
	keys, err := k.c.Lookup(ctx, kid, alg, kind, now)
	if err != nil {
		return keys, lookupError(err)
	}
	return keys, nil
}

// lookupError is what a failed key lookup means for a token. It is the one
// place where the key cache's answers become core's: a kid the provider
// does not publish is ErrUnknownKey (401), a kid whose keys are for another
// algorithm ErrKeyMismatch (401), and keys that cannot be consulted
// ErrKeysUnavailable (503 with Retry-After), with the cache's cause.
func lookupError(err error) error {
	if u, ok := err.(*jwks.UnavailableError); ok {
		return unavailableError(u.Cause, u.RetryAfter)
	}
	switch {
	case errors.Is(err, jwks.ErrUnknownKey):
		return ErrUnknownKey
	case errors.Is(err, jwks.ErrKeyMismatch):
		return ErrKeyMismatch
	}
	return unavailableError(err, 1) // not an answer the cache gives; fail closed
}

// usable returns the current key set, or nil when none was ever loaded or
// the last success is older than the staleness bound.
func (k *keyCache) usable(now time.Time) *jwks.Set { return k.c.Usable(now) }

// current returns the last key set loaded, usable or not, or nil.
func (k *keyCache) current() *jwks.Set { return k.c.Current() }

// close stops the cache's background work and waits until it has ended.
func (k *keyCache) close() { k.c.Close() }

// waitReady waits for the first key set, ctx, or the cache's end.
func (k *keyCache) waitReady(ctx context.Context) error { return k.c.Ready(ctx) }
