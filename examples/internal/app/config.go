package app

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/jwksauth/jwksauth/core"
)

// The environment variables the example apps read (the seed's names).
const (
	EnvAddr             = "ADDR"
	EnvIssuer           = "ISSUER"
	EnvJWKSURL          = "JWKS_URL"
	EnvAudiences        = "PERMITTED_JWT_AUDIENCES"
	EnvClientIDs        = "PERMITTED_CLIENT_IDS"
	EnvAuthorizationURL = "AUTHORIZATION_URL"
	EnvTokenURL         = "TOKEN_URL"
	EnvClientID         = "CLIENT_ID"
	EnvDPoP             = "DPOP"
	EnvResourceURL      = "RESOURCE_URL"
)

// The values of DPOP.
const (
	// DPoPAllowed accepts DPoP-bound tokens (RFC 9449) beside bearer tokens
	// without cnf; a bound token is never accepted as a bearer token.
	DPoPAllowed = "allowed"
	// DPoPRequired accepts DPoP-bound tokens only.
	DPoPRequired = "required"
)

// Defaults of the settings that have one.
const (
	DefaultAddr     = "127.0.0.1:8080"
	DefaultAudience = "account"
)

// Config is the configuration of an example app, read from the environment
// by LoadConfig. An empty variable counts as unset.
type Config struct {
	// Addr is the listen address (ADDR). Default DefaultAddr: loopback only.
	Addr string
	// Issuer is the exact iss every token must carry, and the base of
	// discovery (ISSUER). Required unless the app runs in development mode.
	// ISSUER may list several issuers, comma-separated: Issuer is then the
	// first, whose discovery document gives the docs' OAuth2 URLs.
	Issuer string
	// Issuers are all the issuers when ISSUER lists more than one, in
	// order (nil otherwise): a token of any of them is accepted, verified
	// with its own issuer's keys, audiences and client ids.
	Issuers []string
	// JWKSURL is the key set location (JWKS_URL). Default: discovered from Issuer.
	JWKSURL string
	// Audiences are the permitted aud values (PERMITTED_JWT_AUDIENCES,
	// comma-separated). Default: DefaultAudience.
	Audiences []string
	// ClientIDs are the permitted client ids (PERMITTED_CLIENT_IDS,
	// comma-separated). When set, every token's client_id (or azp) must be
	// one of them, and tokens without aud (Cognito) pass through this check.
	// Default: none.
	ClientIDs []string
	// AuthorizationURL, TokenURL and ClientID are the OAuth2
	// authorization-code settings of the interactive API docs
	// (AUTHORIZATION_URL, TOKEN_URL, CLIENT_ID). Default: the URLs are
	// discovered from Issuer; in development mode all three come from the
	// development issuer (client id: CLIENT_ID, else the first permitted
	// client id, else DefaultDevClientID).
	AuthorizationURL, TokenURL, ClientID string
	// DPoPRequired is true when DPOP is DPoPRequired: only DPoP-bound
	// tokens are accepted (core.WithDPoPRequired), and a bearer token gets
	// 401 with the DPoP challenge alone. Default (DPoPAllowed): bearer
	// tokens without cnf are accepted too.
	DPoPRequired bool
	// ResourceURL is the API's resource identifier (RESOURCE_URL; RFC 8707,
	// RFC 9728): the app serves its Protected Resource Metadata document,
	// names it in every challenge, and accepts tokens issued for it (see
	// core.WithResource). Default: none, or in development mode the app's
	// own URL (http://ADDR).
	ResourceURL string
}

// ConfigError is a bad setting. Its message is one line naming the variable.
type ConfigError struct {
	// Var is the environment variable at fault.
	Var string
	// Reason says what is wrong with it.
	Reason string
}

// Error returns "VAR: reason".
func (e *ConfigError) Error() string { return e.Var + ": " + e.Reason }

// Development reports whether neither ISSUER nor JWKS_URL is set: the app
// then verifies tokens of an in-process development issuer.
func (c Config) Development() bool { return c.Issuer == "" && c.JWKSURL == "" }

// LoadConfig reads the configuration through getenv (os.Getenv in the mains)
// and checks it. The error, if any, is a *ConfigError for the first bad
// variable found.
func LoadConfig(getenv func(string) string) (Config, error) {
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	c := Config{
		Addr:             get(EnvAddr),
		Issuer:           get(EnvIssuer),
		JWKSURL:          get(EnvJWKSURL),
		AuthorizationURL: get(EnvAuthorizationURL),
		TokenURL:         get(EnvTokenURL),
		ClientID:         get(EnvClientID),
		ResourceURL:      get(EnvResourceURL),
	}
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if err := checkAddr(c.Addr); err != nil {
		return Config{}, &ConfigError{EnvAddr, err.Error()}
	}
	if err := c.splitIssuers(); err != nil {
		return Config{}, err
	}
	if c.JWKSURL != "" && c.Issuer == "" {
		return Config{}, &ConfigError{EnvIssuer, "required when JWKS_URL is set, because every token's iss must be checked"}
	}
	if err := c.checkURLs(); err != nil {
		return Config{}, err
	}
	if err := checkResourceURL(c.ResourceURL); err != nil {
		return Config{}, &ConfigError{EnvResourceURL, err.Error()}
	}
	if !visibleASCII(c.ClientID) {
		return Config{}, &ConfigError{EnvClientID, "must be printable ASCII without spaces (RFC 6749 client_id)"}
	}
	var err error
	if c.Audiences, err = list(getenv, EnvAudiences, DefaultAudience); err != nil {
		return Config{}, err
	}
	if c.ClientIDs, err = list(getenv, EnvClientIDs, ""); err != nil {
		return Config{}, err
	}
	if c.DPoPRequired, err = dpopRequired(get(EnvDPoP)); err != nil {
		return Config{}, err
	}
	return c, nil
}

// checkURLs checks the URL variables that are set: ISSUER (the first of a
// list; splitIssuers has checked the others), JWKS_URL, AUTHORIZATION_URL
// and TOKEN_URL.
func (c Config) checkURLs() error {
	for _, u := range []struct{ name, value string }{
		{EnvIssuer, c.Issuer},
		{EnvJWKSURL, c.JWKSURL},
		{EnvAuthorizationURL, c.AuthorizationURL},
		{EnvTokenURL, c.TokenURL},
	} {
		if u.value == "" {
			continue
		}
		if err := checkURL(u.value); err != nil {
			return &ConfigError{u.name, err.Error()}
		}
	}
	if strings.ContainsAny(c.Issuer, "?#") {
		return &ConfigError{EnvIssuer, "an issuer has no query or fragment (OpenID Connect Discovery §3)"}
	}
	return nil
}

// dpopRequired reads DPOP: "" or "allowed" accepts bearer and DPoP-bound
// tokens, "required" only DPoP-bound ones (docs/dpop.md).
func dpopRequired(v string) (bool, error) {
	switch v {
	case "", DPoPAllowed:
		return false, nil
	case DPoPRequired:
		return true, nil
	}
	return false, &ConfigError{EnvDPoP, fmt.Sprintf("%q is neither %q nor %q", v, DPoPAllowed, DPoPRequired)}
}

// Options returns the core options for a provider (not development) configuration.
func (c Config) Options() []core.Option {
	opts := []core.Option{core.WithIssuer(c.Issuer), core.WithAudiences(c.Audiences...)}
	if c.JWKSURL != "" {
		opts = append(opts, core.WithJWKSURL(c.JWKSURL))
	}
	if len(c.ClientIDs) > 0 {
		opts = append(opts, core.WithClientIDs(c.ClientIDs...))
	}
	if len(c.Issuers) > 1 {
		opts = c.issuersOption() // instead of the one issuer's options above
	}
	if c.DPoPRequired {
		opts = append(opts, core.WithDPoPRequired())
	}
	if c.ResourceURL != "" {
		opts = append(opts, resourceOption(c.ResourceURL))
	}
	return opts
}

// list reads a comma-separated list; items are trimmed and empty ones
// dropped. An unset or empty variable gives def (none when def is "").
func list(getenv func(string) string, name, def string) ([]string, error) {
	raw := strings.TrimSpace(getenv(name))
	if raw == "" {
		if def == "" {
			return nil, nil
		}
		return []string{def}, nil
	}
	var out []string
	for item := range strings.SplitSeq(raw, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	if len(out) == 0 {
		return nil, &ConfigError{name, fmt.Sprintf("no value in %q", raw)}
	}
	return out, nil
}

// visibleASCII reports whether s holds only characters 0x21-0x7E.
func visibleASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func checkAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q has no port number between 0 and 65535", addr)
	}
	return nil
}

// checkURL accepts absolute https URLs, and plain http ones on loopback
// hosts only: keys or tokens fetched over http can be replaced by anyone on
// the path (core refuses them too; checking here names the variable).
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("%q is not an absolute http(s) URL", raw)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return fmt.Errorf("%q uses plain http on a non-loopback host; use https", raw)
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
