package core

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// validate checks the configuration once, in New: every problem found is
// reported, joined, so that one run names them all.
func (c *config) validate() error {
	p := &problems{errs: slices.Clone(c.errs)}
	c.checkIssuer(p)
	c.checkAudience(p)
	c.checkTokenRules(p)
	c.checkClaimNames(p)
	c.checkRefresh(p)
	c.checkTokenCache(p)
	if c.now == nil {
		p.add("clock is nil")
	}
	return errors.Join(p.errs...)
}

// problems collects what validate finds.
type problems struct{ errs []error }

func (p *problems) add(format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("jwksauth: "+format, args...))
}

// checkIssuer: the issuer and the JWKS URL.
func (c *config) checkIssuer(p *problems) {
	if c.issuer == "" {
		p.add("an issuer is required (WithIssuer)")
	} else if err := checkURL(c.issuer, c.insecureHTTP); err != nil {
		p.add("issuer: %v", err)
	} else if strings.ContainsAny(c.issuer, "?#") {
		// OpenID Connect Discovery 1.0 §3: an issuer has no query or
		// fragment; the discovery URL is built by appending a path to it.
		p.add("issuer: a query or fragment is not allowed")
	}
	if c.jwksURL != "" {
		if err := checkURL(c.jwksURL, c.insecureHTTP); err != nil {
			p.add("JWKS URL: %v", err)
		}
	}
}

// checkAudience: audiences, client ids and issuer aliases.
func (c *config) checkAudience(p *problems) {
	if len(c.audiences) == 0 && len(c.clientIDs) == 0 && !c.insecureNoAud {
		p.add("permitted audiences or client ids are required (WithAudiences, WithClientIDs; WithInsecureSkipAudience turns both off)")
	}
	if slices.Contains(c.audiences, "") || slices.Contains(c.clientIDs, "") {
		p.add("an empty audience or client id is not allowed")
	}
	if slices.Contains(c.issuerAliases, "") {
		p.add("an empty issuer alias is not allowed")
	}
	if len(c.clientIDClaims) == 0 && len(c.clientIDs) > 0 {
		p.add("client ids are configured but no client-id claim is")
	}
}

// checkTokenRules: the algorithm allow-list, the leeway, the size cap and
// the realm.
func (c *config) checkTokenRules(p *problems) {
	if len(c.algorithms) == 0 {
		p.add("the algorithm allow-list is empty")
	}
	for _, a := range c.algorithms {
		if _, ok := signingMethods[a]; !ok {
			p.add("algorithm %q is not accepted for JWKS keys (asymmetric algorithms only)", a)
		}
	}
	if c.leeway < 0 || c.leeway > maxLeeway {
		p.add("leeway %v outside 0..%v", c.leeway, maxLeeway)
	}
	if c.maxTokenSize < 1024 {
		p.add("token size cap %d below 1024 bytes", c.maxTokenSize)
	}
	if !headerSafe(c.realm) || c.realm == "" {
		p.add("realm must be printable ASCII without quote or backslash")
	}
}

// checkClaimNames: the scope, role, client-id and required claim names.
func (c *config) checkClaimNames(p *problems) {
	for _, n := range slices.Concat(c.scopeClaims, c.roleClaims, c.clientIDClaims) {
		if n == "" || strings.HasPrefix(n, ".") || strings.HasSuffix(n, ".") || strings.Contains(n, "..") {
			p.add("invalid claim name %q", n)
		}
	}
	if slices.Contains(c.requiredClaims, "") {
		p.add("an empty required claim name is not allowed")
	}
}

// checkRefresh: the JWKS cooldown, refresh schedule, staleness bound,
// fetch timeout and size cap.
func (c *config) checkRefresh(p *problems) {
	if c.cooldown < time.Second {
		p.add("unknown-kid cooldown below 1s")
	}
	if c.minRefresh <= 0 || c.maxRefresh < c.minRefresh || c.refreshInterval <= 0 {
		p.add("refresh interval and bounds must be positive, floor <= ceiling")
	}
	if c.maxStale > 0 && c.minRefresh >= c.maxStale {
		// Keys would go stale between two refreshes, and every request
		// answer 503 until the next one.
		p.add("the refresh floor %v must be below the staleness bound %v", c.minRefresh, c.maxStale)
	}
	if c.maxStale <= 0 || c.fetchTimeout <= 0 || c.maxJWKSSize <= 0 {
		p.add("staleness, fetch timeout and JWKS size cap must be positive")
	}
}

// checkTokenCache: the bounds of the verified-token cache, unless
// WithoutTokenCache turned it off.
func (c *config) checkTokenCache(p *problems) {
	if c.noTokenCache {
		return
	}
	if c.cacheEntries < 0 || c.cacheBytes < 0 {
		p.add("token cache bounds must not be negative")
	} else if c.cacheEntries == 0 || c.cacheBytes == 0 {
		p.add("a token cache bound of zero is not allowed (WithoutTokenCache turns the cache off)")
	}
	if c.cacheEntries > maxTokenCacheEntries {
		p.add("token cache of %d entries is over the limit of %d", c.cacheEntries, maxTokenCacheEntries)
	}
}
