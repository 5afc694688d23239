package core

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"

	"github.com/jwksauth/jwksauth/core/internal/dpop"
	"github.com/jwksauth/jwksauth/core/internal/jwks"
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
	seen  atomic.Pointer[jwks.Set] // the key set this issuer's cached tokens were last swept against

	// A many-issuer Verifier (WithIssuers) routes to one Verifier per
	// issuer, whose parent it is; it has no keys of its own.
	multi   *issuerSet
	parent  *Verifier
	retired atomic.Bool // dropped from its parent's table of resolved issuers

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
	if len(cfg.issuers) > 0 || cfg.resolver != nil {
		return newMulti(ctx, opts, cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return newSingle(ctx, cfg, true)
}

func defaultLogger() *slog.Logger { return slog.Default() }

// newSingle builds the Verifier of one issuer from a validated cfg; with
// start, its key cache starts loading keys.
func newSingle(ctx context.Context, cfg *config, start bool) (*Verifier, error) {
	log := cfg.logger
	if log == nil {
		log = defaultLogger()
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
	if start {
		v.keys = newKeyCache(ctx, cfg, log)
	}
	return v, nil
}

// Close stops the background refresh and waits for it to end. Verify keeps
// working with the keys already loaded.
func (v *Verifier) Close() error {
	if v.multi != nil {
		v.multi.close()
		return nil
	}
	v.keys.close()
	return nil
}

// Ready waits until the first key set has loaded and then returns nil,
// whatever later fetches do. If ctx ends first, it returns an error that
// wraps the last fetch's failure (or ctx's error when no fetch has failed
// yet); if the Verifier is closed first, an error saying so.
//
// A many-issuer Verifier is ready when every issuer of WithIssuers is;
// resolved issuers load their keys on their first token.
func (v *Verifier) Ready(ctx context.Context) error {
	if v.multi != nil {
		return v.multi.ready(ctx)
	}
	return v.keys.waitReady(ctx)
}

// Issuer returns the configured issuer; for a many-issuer Verifier, the
// first of WithIssuers ("" when every issuer is resolved).
func (v *Verifier) Issuer() string {
	if v.multi != nil {
		if len(v.multi.order) == 0 {
			return ""
		}
		return v.multi.order[0].cfg.issuer
	}
	return v.cfg.issuer
}

// Issuers returns every issuer of WithIssuers, or the configured issuer.
// Resolved issuers are not listed.
func (v *Verifier) Issuers() []string {
	if v.multi != nil {
		return v.multi.issuers()
	}
	return []string{v.cfg.issuer}
}

// owns reports whether p was verified by v, or, for a many-issuer
// Verifier, by one of its issuers.
func (v *Verifier) owns(p *Principal) bool {
	return p.by == v || (p.by != nil && p.by.parent == v && v != nil)
}

// Realm returns the realm of the WWW-Authenticate challenges.
func (v *Verifier) Realm() string { return v.cfg.realm }

func (v *Verifier) fail(kind, cause error) error { return v.ch.fail(kind, cause) }
