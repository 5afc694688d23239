package app

import (
	"fmt"
	"slices"
	"strings"

	"github.com/jwksauth/jwksauth/core"
)

// splitIssuers reads ISSUER as a comma-separated list: items are trimmed
// and empty ones dropped. Issuer becomes the first; with more than one,
// Issuers holds them all, in order, each checked as LoadConfig checks a
// single ISSUER. One listed twice is refused, and so is JWKS_URL beside
// more than one, since a key set location belongs to one issuer.
func (c *Config) splitIssuers() error {
	raw := c.Issuer
	if !strings.Contains(raw, ",") {
		return nil
	}
	var all []string
	for item := range strings.SplitSeq(raw, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		if slices.Contains(all, item) {
			return &ConfigError{EnvIssuer, fmt.Sprintf("%q is listed twice", item)}
		}
		all = append(all, item)
	}
	if len(all) == 0 {
		return &ConfigError{EnvIssuer, fmt.Sprintf("no value in %q", raw)}
	}
	c.Issuer = all[0]
	if len(all) == 1 {
		return nil // checked by LoadConfig as a single ISSUER
	}
	for _, item := range all {
		if err := checkURL(item); err != nil {
			return &ConfigError{EnvIssuer, err.Error()}
		}
		if strings.ContainsAny(item, "?#") {
			return &ConfigError{EnvIssuer, fmt.Sprintf("%q: an issuer has no query or fragment (OpenID Connect Discovery §3)", item)}
		}
	}
	if c.JWKSURL != "" {
		return &ConfigError{EnvJWKSURL, fmt.Sprintf("a key set belongs to one issuer, and ISSUER lists %d: "+
			"unset JWKS_URL, so that each issuer's keys are discovered from it", len(all))}
	}
	c.Issuers = all
	return nil
}

// issuerNames returns the accepted issuers for the log: Issuer, or every
// one of Issuers, comma-separated.
func (c Config) issuerNames() string {
	if len(c.Issuers) > 1 {
		return strings.Join(c.Issuers, ",")
	}
	return c.Issuer
}

// issuersOption is the core option for more than one issuer: one
// core.Issuer per entry of Issuers, each with the permitted audiences and
// client ids and its keys discovered from it. The options beside it (DPoP)
// are shared by all.
func (c Config) issuersOption() []core.Option {
	own := []core.Option{core.WithAudiences(c.Audiences...)}
	if len(c.ClientIDs) > 0 {
		own = append(own, core.WithClientIDs(c.ClientIDs...))
	}
	issuers := make([]core.Issuer, 0, len(c.Issuers))
	for _, iss := range c.Issuers {
		issuers = append(issuers, core.Issuer{URL: iss, Options: slices.Clone(own)})
	}
	return []core.Option{core.WithIssuers(issuers...)}
}
