package core

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Option configures a Verifier. Options are applied in order; a later option
// overrides an earlier one, so a provider preset can be refined afterwards.
type Option func(*config)

// Defaults users may build on: tests that probe the size cap or wait out
// the unknown-kid cooldown on a fake clock (docs/testing.md).
const (
	// DefaultMaxTokenSize is the token size cap in bytes when
	// WithMaxTokenSize is not given: 16 KiB.
	DefaultMaxTokenSize = 16 << 10
	// DefaultCooldown is the unknown-kid cooldown when
	// WithUnknownKIDCooldown is not given: 30 s.
	DefaultCooldown = 30 * time.Second
)

// The other defaults and limits, each stated on the option that changes it.
const (
	defaultLeeway          = 30 * time.Second
	maxLeeway              = 5 * time.Minute
	defaultRealm           = "api"
	defaultRefreshInterval = time.Hour
	defaultMinRefresh      = 10 * time.Second
	defaultMaxRefresh      = 24 * time.Hour
	defaultMaxStale        = 24 * time.Hour
	defaultFetchTimeout    = 10 * time.Second
	defaultMaxJWKSSize     = 1 << 20
	defaultTokenCacheSize  = 10000
	defaultTokenCacheBytes = 32 << 20
	defaultQueryParameter  = "access_token"
	// maxTokenCacheEntries is the largest entry bound WithTokenCache
	// accepts (a table of 128 MiB).
	maxTokenCacheEntries = 1 << 24
)

// defaultAlgorithms is the allow-list used when WithAlgorithms is not given.
var defaultAlgorithms = [...]string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// DefaultAlgorithms returns the allow-list used when WithAlgorithms is not
// given, a fresh copy each time: the default itself cannot be changed.
// HMAC algorithms and "none" are never accepted for JWKS keys.
func DefaultAlgorithms() []string { return slices.Clone(defaultAlgorithms[:]) }

type config struct {
	issuer          string
	issuerAliases   []string
	jwksURL         string
	audiences       []string
	clientIDs       []string
	clientIDClaims  []string
	insecureNoAud   bool
	insecureHTTP    bool
	algorithms      []string
	leeway          time.Duration
	scopeClaims     []string
	roleClaims      []string
	requireATJWT    bool
	payloadTyp      string
	requiredClaims  []string
	maxTokenSize    int
	realm           string
	queryParam      string
	cookieName      string
	httpClient      *http.Client
	cooldown        time.Duration
	refreshInterval time.Duration
	minRefresh      time.Duration
	maxRefresh      time.Duration
	maxStale        time.Duration
	fetchTimeout    time.Duration
	maxJWKSSize     int64
	cacheEntries    int
	cacheBytes      int64
	noTokenCache    bool
	logger          *slog.Logger
	hooks           Hooks
	now             func() time.Time
	errs            []error

	// DPoP and certificate-bound tokens (dpop.go)
	dpopRequired  bool
	dpopAlgs      []string
	dpopWindow    time.Duration
	dpopWindowSet bool
	replay        ReplayStore
	nonces        bool
	nonceSource   NonceSource
	publicURL     string
	proxyCert     bool

	// Many issuers (issuers.go)
	issuers     []Issuer
	resolver    IssuerResolver
	issuerTable int
	issuerIdle  time.Duration

	// Protected Resource Metadata (metadata.go)
	resource     string
	resourceMeta ResourceMetadata
	metadataURL  string
}

func defaultConfig() *config {
	return &config{
		clientIDClaims:  []string{"client_id", "azp"},
		algorithms:      DefaultAlgorithms(),
		leeway:          defaultLeeway,
		scopeClaims:     []string{"scope", "scp"},
		maxTokenSize:    DefaultMaxTokenSize,
		realm:           defaultRealm,
		cooldown:        DefaultCooldown,
		refreshInterval: defaultRefreshInterval,
		minRefresh:      defaultMinRefresh,
		maxRefresh:      defaultMaxRefresh,
		maxStale:        defaultMaxStale,
		fetchTimeout:    defaultFetchTimeout,
		maxJWKSSize:     defaultMaxJWKSSize,
		cacheEntries:    defaultTokenCacheSize,
		cacheBytes:      defaultTokenCacheBytes,
		now:             time.Now,
	}
}

func (c *config) fail(format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf(format, args...))
}

// WithIssuer sets the issuer. Required. A token's iss must equal it exactly:
// no trailing-slash or case folding (Auth0 and Entra v1 issuers end in "/").
// Unless WithJWKSURL is given, the JWKS location is discovered from
// {issuer}/.well-known/openid-configuration, whose "issuer" must equal this
// value. The URL must be https, except on a loopback host or with WithInsecureHTTP.
func WithIssuer(issuer string) Option {
	return func(c *config) { c.issuer = issuer }
}

// WithIssuerAliases adds exact iss values accepted besides the issuer, for
// providers that write their issuer two ways (Google: "accounts.google.com").
// The keys still come from the issuer's JWKS. Default: none.
func WithIssuerAliases(aliases ...string) Option {
	return func(c *config) { c.issuerAliases = append(c.issuerAliases, aliases...) }
}

// WithJWKSURL sets the JWKS location explicitly and skips discovery.
// Default: discovered from the issuer. Must be https except on loopback or
// with WithInsecureHTTP.
func WithJWKSURL(u string) Option {
	return func(c *config) { c.jwksURL = u }
}

// WithAudiences sets the permitted audiences: a token's aud (string or
// array) must contain one of them. A token whose aud is present but holds
// none of them is refused, whatever its client. Default: none, in which case
// WithClientIDs is required (or WithInsecureSkipAudience).
func WithAudiences(aud ...string) Option {
	return func(c *config) { c.audiences = append(c.audiences, aud...) }
}

// WithClientIDs sets the permitted client ids. When set, every token's
// client id (the first present of the client-id claims, by default
// client_id then azp) must be one of them, and a token without aud passes the
// audience rule only through this check — the shape of Cognito access
// tokens. Default: none.
func WithClientIDs(ids ...string) Option {
	return func(c *config) { c.clientIDs = append(c.clientIDs, ids...) }
}

// WithClientIDClaims sets, in order of preference, the claims read as the
// token's client id. Default: client_id, azp. Okta uses cid, Entra v1 appid.
func WithClientIDClaims(names ...string) Option {
	return func(c *config) { c.clientIDClaims = slices.Clone(names) }
}

// WithInsecureSkipAudience turns off both the audience and the client-id
// check. Any token of the issuer, minted for any API, is then accepted.
// Only for issuers that serve a single API. Default: off.
func WithInsecureSkipAudience() Option {
	return func(c *config) { c.insecureNoAud = true }
}

// WithInsecureHTTP permits plain-http issuer and JWKS URLs on non-loopback
// hosts. Keys fetched over http can be replaced by anyone on the path.
// Default: off (loopback http is always allowed, for tests and development).
func WithInsecureHTTP() Option {
	return func(c *config) { c.insecureHTTP = true }
}

// WithAlgorithms restricts the accepted signing algorithms. The allow-list
// is checked before any key lookup. Only asymmetric algorithms are
// possible: "none" and HS256/384/512 are refused by New whatever is given
// here. Default: DefaultAlgorithms.
func WithAlgorithms(algs ...string) Option {
	return func(c *config) { c.algorithms = slices.Clone(algs) }
}

// WithLeeway sets the clock skew tolerated for exp, nbf and iat.
// Default 30 s; at most 5 min; negative values are refused.
func WithLeeway(d time.Duration) Option {
	return func(c *config) { c.leeway = d }
}

// WithScopeClaims sets the claims read as scopes. A claim may be a
// space-separated string or an array of strings; any other type refuses
// the token. A name is first matched whole against the token's top-level
// claims; only when no top-level claim has exactly that name does a dotted
// name reach into nested objects ("realm_access.roles"). A name whose part
// before the first dot holds "/" or ":" is always taken whole, so
// namespaced claims ("https://notes.example.com/scopes") work and nested
// objects cannot stand in for them. Default: scope, scp. Auth0 RBAC: add
// "permissions".
func WithScopeClaims(names ...string) Option {
	return func(c *config) { c.scopeClaims = slices.Clone(names) }
}

// WithRoleClaims sets the claims read as roles, with the same rules as
// WithScopeClaims. Default: none. Entra: "roles"; Keycloak:
// "realm_access.roles"; Cognito: "cognito:groups".
func WithRoleClaims(names ...string) Option {
	return func(c *config) { c.roleClaims = slices.Clone(names) }
}

// WithRequireATJWT requires the header typ to be "at+jwt" or
// "application/at+jwt" (RFC 9068, compared case-insensitively). This is
// what stops an ID token of the same issuer passing as an access token, for
// providers that type their tokens. Default: off, since Okta, Entra, Cognito
// and Keycloak do not send it.
func WithRequireATJWT() Option {
	return func(c *config) { c.requireATJWT = true }
}

// WithRequiredClaims names top-level claims every token must carry, whatever
// their value; a token lacking one is refused with ErrMissingClaim. Names
// are taken literally (no dotted paths), so namespaced claims such as
// "https://example.com/tenant" work. Use it for claims that mark an access
// token (RFC 9068 requires client_id, sub, iat and jti; Okta access tokens
// carry cid, Entra ones azp or appid, ID tokens do not). Presence only: no
// value is checked. Default: none (exp is always required).
func WithRequiredClaims(names ...string) Option {
	return func(c *config) { c.requiredClaims = append(c.requiredClaims, names...) }
}

// WithMaxTokenSize sets the token size cap in bytes. Larger tokens are
// refused before any decoding or crypto. Default 16 KiB; at least 1 KiB.
func WithMaxTokenSize(n int) Option {
	return func(c *config) { c.maxTokenSize = n }
}

// WithRealm sets the realm of the WWW-Authenticate challenge. Default "api".
// Printable ASCII without '"' and '\'.
func WithRealm(realm string) Option {
	return func(c *config) { c.realm = realm }
}

// WithQueryToken accepts a token in the URL query parameter access_token.
// Tokens in URLs end up in logs and browser history (RFC 9700 §4.3.2), so
// this is off by default. A request may still use only one method; off,
// an access_token parameter beside a header or cookie token is refused as a
// second method all the same (docs/security.md).
func WithQueryToken() Option {
	return func(c *config) { c.queryParam = defaultQueryParameter }
}

// WithCookieToken accepts a token in the named cookie. Cookie credentials
// are sent by browsers automatically: protect state-changing routes against
// CSRF when you enable this. A request with two cookies of the name (one
// may have been planted from a sibling domain) is refused with 400, as is
// one with a cookie and another credential. Default: off.
func WithCookieToken(name string) Option {
	return func(c *config) {
		c.cookieName = name
		if name == "" {
			c.fail("jwksauth: WithCookieToken needs a cookie name")
		}
	}
}

// WithHTTPClient sets the client for discovery and JWKS fetches (proxies,
// mTLS, private CAs). Its Timeout, if set, applies besides the fetch
// timeout. Every redirect is still checked like a configured URL (https
// unless loopback or WithInsecureHTTP, at most 5) before the client's own
// redirect policy runs. Default: a client with a transport of its own,
// whose idle connections Close closes.
func WithHTTPClient(client *http.Client) Option {
	return func(c *config) { c.httpClient = client }
}

// WithUnknownKIDCooldown sets how often a token with an unknown kid may
// cause a JWKS refresh. Requests arriving within the cooldown fail at once
// rather than wait. Default 30 s; at least 1 s.
func WithUnknownKIDCooldown(d time.Duration) Option {
	return func(c *config) { c.cooldown = d }
}

// WithRefreshInterval sets the background refresh interval used when the
// JWKS answer has no Cache-Control max-age. Default 1 h. Like every
// scheduled wait, it is held to a quarter of WithMaxStaleness.
func WithRefreshInterval(d time.Duration) Option {
	return func(c *config) { c.refreshInterval = d }
}

// WithRefreshBounds sets the floor and ceiling applied to a provider's
// Cache-Control max-age: a provider cannot make the verifier poll faster
// than the floor nor keep keys longer than the ceiling. The first retry of
// a failed fetch comes after 1 s or the floor, whichever is shorter; the
// retry wait doubles up to 1 min or the ceiling, whichever is shorter.
// Default 10 s and 24 h. Whatever the ceiling and the provider say, a
// refresh also comes within a quarter of the staleness bound
// (WithMaxStaleness; 6 h by default), so that an outage beginning just
// before a refresh still leaves three quarters of the bound to cached keys.
func WithRefreshBounds(floor, ceiling time.Duration) Option {
	return func(c *config) { c.minRefresh, c.maxRefresh = floor, ceiling }
}

// WithMaxStaleness sets how long cached keys keep verifying after the last
// successful JWKS fetch while the endpoint cannot be reached. After that,
// requests answer 503. Refreshes are scheduled at least every quarter of
// it (see WithRefreshBounds). Default 24 h.
func WithMaxStaleness(d time.Duration) Option {
	return func(c *config) { c.maxStale = d }
}

// WithFetchTimeout bounds one refresh, discovery and JWKS fetch together.
// A hung provider never holds a refresh, nor a request waiting for it,
// longer than this; the last good keys are kept. Default 10 s.
func WithFetchTimeout(d time.Duration) Option {
	return func(c *config) { c.fetchTimeout = d }
}

// WithMaxJWKSSize caps the JWKS (and discovery) body in bytes; a larger
// answer is refused and the last good keys are kept. Default 1 MiB.
func WithMaxJWKSSize(n int64) Option {
	return func(c *config) { c.maxJWKSSize = n }
}

// WithTokenCache bounds the verified-token cache: at most entries tokens
// (rounded down to a multiple of 8, the slots of one bucket) and bytes
// bytes, counted per whole entry — about 470 bytes plus the token's claims
// JSON, roughly 630 bytes for a typical access token. A hit re-checks exp
// and nbf against the clock and that the JWKS still selects its signing key;
// failures are never cached. Both bounds must be positive, and entries at
// most 2^24: New refuses a zero or negative bound (WithoutTokenCache is the
// one way to turn the cache off). Default 10,000 entries and 32 MiB.
func WithTokenCache(entries int, bytes int64) Option {
	return func(c *config) { c.cacheEntries, c.cacheBytes, c.noTokenCache = entries, bytes, false }
}

// WithoutTokenCache turns the verified-token cache off: every request
// verifies the signature. Default: the cache is on.
func WithoutTokenCache() Option {
	return func(c *config) { c.cacheEntries, c.cacheBytes, c.noTokenCache = 0, 0, true }
}

// WithLogger sets the logger for key refreshes, skipped keys and refresh
// failures. Token failures are not logged (they are reported through
// Hooks.OnVerify). Default: slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// WithHooks installs observation hooks, for metrics. Default: none.
func WithHooks(h Hooks) Option {
	return func(c *config) { c.hooks = h }
}

// WithClock sets the clock used for time claims and cache expiry. For tests.
// Default: time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.now = now }
}

// checkURL accepts absolute https URLs, and http ones on loopback hosts or when insecure.
func checkURL(raw string, insecure bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a URL")
	}
	if u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("%q is not an absolute http(s) URL", raw)
	}
	if u.Scheme == "http" && !insecure && !isLoopback(u.Hostname()) {
		return fmt.Errorf("%q uses plain http on a non-loopback host (WithInsecureHTTP allows it)", raw)
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

// headerSafe reports whether s may stand inside a quoted-string of a
// challenge: printable ASCII without '"' and '\'.
func headerSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b < 0x20 || b > 0x7e || b == '"' || b == '\\' {
			return false
		}
	}
	return true
}
