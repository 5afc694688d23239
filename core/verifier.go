package core

import (
	"context"
	"errors"
	"log/slog"

	"github.com/jwksauth/jwksauth/core/internal/dpop"
)

// Verifier verifies bearer tokens of one issuer against its JWKS. It is safe
// for concurrent use; create one per issuer and share it between routers.
type Verifier struct {
	cfg   *config
	keys  *keyCache
	cache *tokenCache
	log   *slog.Logger
	algs  map[string]method
	ch    challenger
	dpop  *dpop.Checker
	meta  metadata

	scopeClaims, roleClaims []claimName // WithScopeClaims, WithRoleClaims
}

// New validates the options and returns a Verifier. It never blocks on the
// network: keys are discovered and fetched in the background, retried with
// backoff while the provider is down, and refreshed until ctx is cancelled
// or Close is called. Until keys arrive, requests answer 503. Use Ready to
// wait for the first key set.
func New(ctx context.Context, opts ...Option) (*Verifier, error) {
	if ctx == nil {
		return nil, errors.New("jwksauth: New needs a context (context.Background() for one that never ends)")
	}
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o(cfg)
		}
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	log := cfg.logger
	if log == nil {
		log = slog.Default()
	}
	v := &Verifier{cfg: cfg, log: log, algs: make(map[string]method, len(cfg.algorithms))}
	for _, a := range cfg.algorithms {
		v.algs[a] = signingMethods[a]
	}
	v.scopeClaims = claimNames(cfg.scopeClaims)
	v.roleClaims = claimNames(cfg.roleClaims)
	if err := v.setDPoP(); err != nil {
		return nil, err
	}
	v.cache = newTokenCache(cfg.cacheEntries, cfg.cacheBytes)
	v.keys = newKeyCache(ctx, cfg, log)
	return v, nil
}

// Close stops the background refresh and waits for it to end. Verify keeps
// working with the keys already loaded.
func (v *Verifier) Close() error {
	v.keys.close()
	return nil
}

// Ready waits until the first key set has loaded and then returns nil,
// whatever later fetches do. If ctx ends first, it returns an error that
// wraps the last fetch's failure (or ctx's error when no fetch has failed
// yet); if the Verifier is closed first, an error saying so.
func (v *Verifier) Ready(ctx context.Context) error { return v.keys.waitReady(ctx) }

// Issuer returns the configured issuer.
func (v *Verifier) Issuer() string { return v.cfg.issuer }

// Realm returns the realm of the WWW-Authenticate challenges.
func (v *Verifier) Realm() string { return v.cfg.realm }

func (v *Verifier) fail(kind, cause error) error { return v.ch.fail(kind, cause) }
