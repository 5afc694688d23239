package core

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/golang-jwt/jwt/v5"
)

// Verifier verifies bearer tokens of one issuer against its JWKS. It is safe
// for concurrent use; create one per issuer and share it between routers.
type Verifier struct {
	cfg   *config
	keys  *keyCache
	cache *tokenCache
	log   *slog.Logger
	algs  map[string]method

	scopeClaims, roleClaims []claimName // WithScopeClaims, WithRoleClaims
}

// RefreshInfo describes one JWKS fetch, for Hooks.OnRefresh.
type RefreshInfo struct {
	URL      string
	Reason   string // "scheduled" or "unknown kid"
	Keys     int    // usable keys loaded (0 on failure)
	Skipped  int    // keys skipped as unusable
	Err      error  // nil on success; the last good keys were kept otherwise
	Duration time.Duration
}

// VerifyInfo describes one verification, for Hooks.OnVerify.
type VerifyInfo struct {
	Err      error // nil when the token was accepted; classify with errors.Is
	CacheHit bool  // answered from the verified-token cache
}

// Hooks observe a Verifier, for metrics. Every field is optional. Hooks run
// synchronously on the request or refresh goroutine: keep them cheap.
// A hook must not call Close (Close waits for the refresh goroutine).
type Hooks struct {
	// OnRefresh is called after every JWKS fetch, successful or not: the
	// start-up load and its retries, scheduled refreshes, and refreshes
	// started by an unknown kid.
	OnRefresh func(RefreshInfo)
	// OnKeySkipped is called, for each fetch that got a JWK Set, once per
	// key the verifier cannot use, with the key's kid ("" when it has
	// none) and the reason.
	OnKeySkipped func(kid string, reason error)
	// OnUnknownKID is called when a token's kid is not among the usable
	// keys (unknown, or no fresh enough key set is loaded), before the
	// cooldown decides whether it may start a refresh.
	OnUnknownKID func()
	// OnCooldown is called when such a token is answered at once because
	// an unknown kid already started a refresh within the cooldown.
	OnCooldown func()
	// OnVerify is called once per verification, with its outcome.
	OnVerify func(VerifyInfo)
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
	v.cache = newTokenCache(cfg.cacheEntries, cfg.cacheBytes)
	v.keys = newKeyCache(ctx, cfg, log)
	return v, nil
}

// claimName is a configured scope or role claim. Its name is first matched
// literally against the token's top-level claims, so that namespaced names
// holding dots ("https://notes.example.com/roles", as Auth0 requires of
// custom claims) are read whole. Only when the token has no top-level claim
// of exactly that name is a dotted name read as a path into nested objects
// ("realm_access.roles").
type claimName struct {
	name string
	path []string // name split on dots; one element when it has none
}

func claimNames(names []string) []claimName {
	out := make([]claimName, len(names))
	for i, n := range names {
		path := strings.Split(n, ".")
		if strings.ContainsAny(path[0], "/:") {
			// A name whose first segment holds "/" or ":" is a URI (a
			// namespaced claim, "https://notes.example.com/roles"), never
			// a path: its dots must not let nested objects that spell it
			// stand in for it. Later segments may hold them
			// ("resource_access.urn:notes:api.roles").
			path = []string{n}
		}
		out[i] = claimName{name: n, path: path}
	}
	return out
}

// read appends the values of c found among the token's top-level claims ms.
func (c claimName) read(dst []string, ms []member) ([]string, error) {
	nested, found := "", false
	for _, m := range ms {
		if m.key == c.name {
			return collect(dst, m.val, nil)
		}
		if len(c.path) > 1 && m.key == c.path[0] {
			nested, found = m.val, true
		}
	}
	if !found {
		return dst, nil
	}
	return collect(dst, nested, c.path[1:])
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

func (v *Verifier) fail(kind, cause error) error { return newError(v.cfg.realm, kind, cause) }

// Authenticate reads the one bearer credential of a request (contract §1)
// and verifies it. The error is always an *Error.
func (v *Verifier) Authenticate(ctx context.Context, c Credentials) (*Principal, error) {
	if v == nil {
		return nil, newError(DefaultRealm, ErrMisconfigured, nil)
	}
	token, checked, err := v.extract(c)
	if err != nil {
		v.observe(err, false)
		return nil, err
	}
	return v.verifyToken(ctx, token, checked)
}

// AuthenticateOptional is Authenticate for routes open to anonymous callers:
// a request with no credential returns (nil, nil). A credential that is
// present but malformed or invalid is still refused.
func (v *Verifier) AuthenticateOptional(ctx context.Context, c Credentials) (*Principal, error) {
	p, err := v.Authenticate(ctx, c)
	if err != nil && errors.Is(err, ErrNoCredentials) {
		return nil, nil
	}
	return p, err
}

// Authorize is the one call behind a route guard: it authenticates the
// request unless p is already its verified principal, then checks r.
//
// p is reused only when this Verifier produced it; a principal from another
// Verifier (another issuer or audience) is not trusted here, and the
// request is authenticated again.
func (v *Verifier) Authorize(ctx context.Context, c Credentials, p *Principal, r *Requirement) (*Principal, error) {
	if v == nil {
		return nil, newError(DefaultRealm, ErrMisconfigured, nil)
	}
	if r.unbuilt() {
		// Before authentication, so that every request answers 500 and
		// the wiring mistake shows on the first one, token or not.
		return nil, newError(DefaultRealm, ErrMisconfigured, errUnbuiltRequirement)
	}
	if p == nil || p.by != v {
		var err error
		if p, err = v.Authenticate(ctx, c); err != nil {
			return nil, err
		}
	}
	if err := r.Check(p); err != nil {
		return p, err
	}
	return p, nil
}

// Step is one request's whole decision, in the shape every adapter calls:
// given the request's credentials and the principal an earlier step of the
// same request stored (or nil), it returns the principal to store — nil for
// an anonymous request on an optional route — or the *Error to answer with.
type Step func(ctx context.Context, c Credentials, stored *Principal) (*Principal, error)

// Authenticator returns the Step of an authentication middleware:
// Authenticate, or AuthenticateOptional when optional is true. A principal
// this Verifier already stored for the request is reused.
func (v *Verifier) Authenticator(optional bool) Step {
	return func(ctx context.Context, c Credentials, stored *Principal) (*Principal, error) {
		if v != nil && stored != nil && stored.by == v {
			return stored, nil
		}
		if optional {
			return v.AuthenticateOptional(ctx, c)
		}
		return v.Authenticate(ctx, c)
	}
}

// Guard returns the Step of a route guard: Authorize with r.
func (v *Verifier) Guard(r *Requirement) Step {
	return func(ctx context.Context, c Credentials, stored *Principal) (*Principal, error) {
		return v.Authorize(ctx, c, stored, r)
	}
}

func (v *Verifier) observe(err error, hit bool) {
	if h := v.cfg.hooks.OnVerify; h != nil {
		h(VerifyInfo{Err: err, CacheHit: hit})
	}
}

// Verify verifies one token (a compact JWS) and returns its principal. The
// error is always an *Error. Checks, in order: size cap; three strict
// base64url segments; header (crit refused, alg on the allow-list); key by
// kid (refreshing the JWKS for an unknown kid, within the cooldown); key and
// alg binding; signature; then, only for a genuine signature, strict claims
// (duplicates, types), exp/nbf/iat with leeway, iss, audience and client,
// token type.
//
// With the token cache on (the default), a token verified before is
// answered from the cache after the size cap, exp and nbf against the
// clock, and a check that the usable JWKS still selects its signing key.
func (v *Verifier) Verify(ctx context.Context, token string) (*Principal, error) {
	if v == nil {
		return nil, newError(DefaultRealm, ErrMisconfigured, nil)
	}
	return v.verifyToken(ctx, token, true)
}

// verifyToken is Verify for a token whose b64token syntax (RFC 6750 §2.1)
// was checked, or, when checked is false, is still to be checked. A cache
// hit needs no syntax check: the token is byte for byte one that verified,
// and a token that verifies is three base64url segments, all b64token
// characters. So the check, a scan of the whole token, runs on misses only.
func (v *Verifier) verifyToken(ctx context.Context, token string, checked bool) (*Principal, error) {
	if len(token) > v.cfg.maxTokenSize {
		err := v.fail(ErrTokenTooLarge, nil)
		v.observe(err, false)
		return nil, err
	}
	now := v.cfg.now()
	var sum [32]byte
	if c := v.cache; c != nil {
		sum = tokenSum(token)
		if set := v.keys.usable(now); set != nil {
			if e := c.get(&sum, set); e != nil {
				terr := v.timeValid(e.p, now)
				if terr == nil {
					v.observe(nil, true)
					return e.p, nil
				}
				// Out of its time window: the signature is known to be
				// good and the answer known to be a refusal, so no crypto.
				c.drop(&sum, e)
				err := v.fail(terr, nil)
				v.observe(err, false)
				return nil, err
			}
		}
	}
	if !checked && !isB64Token(token) {
		err := v.fail(ErrInvalidRequest, nil)
		v.observe(err, false)
		return nil, err
	}
	p, key, named, err := v.verify(ctx, token, now)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			err = v.fail(err, nil)
		}
		v.observe(err, false)
		return nil, err
	}
	if v.cache != nil {
		v.cache.put(&sum, p, key, named)
	}
	v.observe(nil, false)
	return p, nil
}

var b64 = base64.RawURLEncoding.Strict()

func decodeSegment(s string) ([]byte, error) {
	// The decoder skips \r and \n; a token must not contain them.
	if s == "" || strings.IndexByte(s, '\r') >= 0 || strings.IndexByte(s, '\n') >= 0 {
		return nil, ErrTokenMalformed
	}
	out := make([]byte, b64.DecodedLen(len(s)))
	n, err := b64.Decode(out, []byte(s))
	if err != nil {
		return nil, ErrTokenMalformed
	}
	return out[:n], nil
}

func bytesString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// stringBytes is the bytes of s, for functions that only read them.
func stringBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// checkSignature verifies sig over signed with key. RS256, RS384 and RS512
// go to crypto/rsa directly, with the digest on the stack: golang-jwt's
// Verify copies the signing input and allocates a hasher on every call. The
// other algorithms go through golang-jwt. The checks are the same: an RSA
// key of the right type, PKCS #1 v1.5 with the method's hash.
func checkSignature(m jwt.SigningMethod, signed string, sig []byte, key any) error {
	rm, ok := m.(*jwt.SigningMethodRSA)
	if !ok {
		return m.Verify(signed, sig, key)
	}
	pub, ok := key.(*rsa.PublicKey)
	if !ok {
		return jwt.ErrInvalidKeyType
	}
	switch rm.Hash {
	case crypto.SHA256:
		d := sha256.Sum256(stringBytes(signed))
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], sig)
	case crypto.SHA384:
		d := sha512.Sum384(stringBytes(signed))
		return rsa.VerifyPKCS1v15(pub, crypto.SHA384, d[:], sig)
	case crypto.SHA512:
		d := sha512.Sum512(stringBytes(signed))
		return rsa.VerifyPKCS1v15(pub, crypto.SHA512, d[:], sig)
	}
	return m.Verify(signed, sig, key)
}

type header struct {
	alg, kid, typ string
}

func (v *Verifier) parseHeader(seg string) (header, error) {
	var h header
	raw, err := decodeSegment(seg)
	if err != nil {
		return h, err
	}
	var buf [8]member
	ms, err := parseObject(bytesString(raw), buf[:0])
	if err != nil {
		if errors.Is(err, ErrDuplicateClaim) {
			return h, ErrDuplicateClaim
		}
		return h, ErrTokenMalformed
	}
	hasAlg := false
	for _, m := range ms {
		var ok bool
		switch m.key {
		case "alg":
			h.alg, ok = jsonString(m.val)
			hasAlg = true
		case "kid":
			h.kid, ok = jsonString(m.val)
		case "typ":
			h.typ, ok = jsonString(m.val)
		case "crit":
			// RFC 7515 §4.1.11: extensions this verifier does not
			// understand make the JWS invalid; it understands none.
			return h, ErrUnsupportedHeader
		default:
			// jku, x5u, jwk, x5c and everything else are never used.
			ok = true
		}
		if !ok {
			return h, ErrTokenMalformed
		}
	}
	if !hasAlg {
		return h, ErrTokenMalformed
	}
	return h, nil
}

// verify checks a token fully. With the principal it returns the key that
// verified it and whether the token named it by kid (else it was the only
// key of the set), by which the token cache re-checks, after a refresh,
// that the same key would still be chosen.
func (v *Verifier) verify(ctx context.Context, token string, now time.Time) (*Principal, *publicKey, bool, error) {
	d1 := strings.IndexByte(token, '.')
	if d1 < 0 {
		return nil, nil, false, ErrTokenMalformed
	}
	d2 := strings.IndexByte(token[d1+1:], '.')
	if d2 < 0 {
		return nil, nil, false, ErrTokenMalformed
	}
	d2 += d1 + 1
	if strings.IndexByte(token[d2+1:], '.') >= 0 {
		return nil, nil, false, ErrTokenMalformed
	}
	h, err := v.parseHeader(token[:d1])
	if err != nil {
		return nil, nil, false, err
	}
	meth, ok := v.algs[h.alg]
	if !ok {
		return nil, nil, false, ErrAlgorithmNotAllowed
	}
	key, err := v.keys.lookup(ctx, h.kid, h.alg, meth.kind, now)
	if err != nil {
		return nil, nil, false, err
	}
	// The lookup may have waited for a JWKS fetch (an unknown kid, up to
	// the fetch timeout): the claims are checked against the clock as it
	// is now, not as it was when the request came in.
	now = v.cfg.now()
	sig, err := decodeSegment(token[d2+1:])
	if err != nil {
		return nil, nil, false, err
	}
	if err := checkSignature(meth.m, token[:d2], sig, key.key); err != nil {
		return nil, nil, false, v.fail(ErrSignatureInvalid, err)
	}
	payload, err := decodeSegment(token[d1+1 : d2])
	if err != nil {
		return nil, nil, false, err
	}
	p, err := v.claims(payload, h, now)
	if err != nil {
		return nil, nil, false, err
	}
	// Both from constants, not the header: a Principal keeps nothing of
	// the decoded header alive.
	p.KeyID, p.Algorithm = key.kid, meth.m.Alg()
	return p, key, h.kid != "", nil
}

// claims decodes the payload strictly and applies every claim rule.
func (v *Verifier) claims(payload []byte, h header, now time.Time) (*Principal, error) {
	cfg := v.cfg
	var buf [24]member
	ms, err := parseObject(bytesString(payload), buf[:0])
	if err != nil {
		if errors.Is(err, ErrDuplicateClaim) {
			return nil, ErrDuplicateClaim
		}
		return nil, ErrTokenMalformed
	}
	p := &Principal{raw: payload, by: v}
	var (
		hasExp, hasIat, hasAud, hasIss bool
		iat                            float64
		tokenUse, typ                  string
		hasTokenUse, hasTyp            bool
		clientRank                     = len(cfg.clientIDClaims)
	)
	for _, m := range ms {
		ok := true
		switch m.key {
		case "iss":
			p.Issuer, ok = jsonString(m.val)
			hasIss = true
		case "sub":
			p.Subject, ok = jsonString(m.val)
		case "jti":
			p.ID, ok = jsonString(m.val)
		case "aud":
			p.Audience, ok = jsonStrings(m.val, nil)
			hasAud = true
		case "exp":
			p.exp, ok = jsonNumber(m.val)
			hasExp = true
		case "nbf":
			p.nbf, ok = jsonNumber(m.val)
			p.hasNbf = true
		case "iat":
			iat, ok = jsonNumber(m.val)
			hasIat = true
		case "token_use":
			tokenUse, ok = jsonString(m.val)
			hasTokenUse = true
		case "typ":
			if cfg.payloadTyp != "" {
				typ, ok = jsonString(m.val)
				hasTyp = true
			}
		}
		if !ok {
			return nil, ErrClaimType
		}
		for rank, name := range cfg.clientIDClaims {
			if m.key == name && rank < clientRank {
				id, ok := jsonString(m.val)
				if !ok {
					return nil, ErrClaimType
				}
				p.ClientID, clientRank = id, rank
			}
		}
	}
	for _, c := range v.scopeClaims {
		if p.Scopes, err = c.read(p.Scopes, ms); err != nil {
			return nil, err
		}
	}
	for _, c := range v.roleClaims {
		if p.Roles, err = c.read(p.Roles, ms); err != nil {
			return nil, err
		}
	}

	// Time.
	if !hasExp {
		return nil, ErrMissingClaim
	}
	p.ExpiresAt = unixTime(p.exp)
	if p.hasNbf {
		p.NotBefore = unixTime(p.nbf)
	}
	if hasIat {
		p.IssuedAt = unixTime(iat)
		if iat > seconds(now)+cfg.leeway.Seconds() {
			return nil, ErrIssuedInFuture
		}
	}
	if err := v.timeValid(p, now); err != nil {
		return nil, err
	}

	// Issuer.
	if !hasIss || (p.Issuer != cfg.issuer && !slices.Contains(cfg.issuerAliases, p.Issuer)) {
		return nil, ErrIssuerInvalid
	}

	// Audience and client.
	if !cfg.insecureNoAud {
		if hasAud {
			if !intersects(p.Audience, cfg.audiences) {
				return nil, ErrAudienceInvalid
			}
		} else if len(cfg.clientIDs) == 0 {
			return nil, ErrAudienceInvalid
		}
		if len(cfg.clientIDs) > 0 && (p.ClientID == "" || !slices.Contains(cfg.clientIDs, p.ClientID)) {
			return nil, ErrClientInvalid
		}
	}

	// Claims the configuration requires (WithRequiredClaims, presets).
	for _, name := range cfg.requiredClaims {
		if !slices.ContainsFunc(ms, func(m member) bool { return m.key == name }) {
			return nil, ErrMissingClaim
		}
	}

	// Token type.
	if hasTokenUse && tokenUse != "access" {
		return nil, ErrTokenType
	}
	if cfg.requireATJWT && !strings.EqualFold(h.typ, "at+jwt") && !strings.EqualFold(h.typ, "application/at+jwt") {
		return nil, ErrTokenType
	}
	if cfg.payloadTyp != "" && (!hasTyp || !strings.EqualFold(typ, cfg.payloadTyp)) {
		return nil, ErrTokenType
	}
	return p, nil
}

// timeValid applies exp and nbf with leeway. It runs on every cache hit too.
func (v *Verifier) timeValid(p *Principal, now time.Time) error {
	n, lw := seconds(now), v.cfg.leeway.Seconds()
	if !(n < p.exp+lw) {
		return ErrTokenExpired
	}
	if p.hasNbf && n < p.nbf-lw {
		return ErrTokenNotYetValid
	}
	return nil
}

func seconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func unixTime(f float64) time.Time {
	if f > 1e15 || f < -1e15 {
		f = math.Copysign(1e15, f)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9))
}

func intersects(have, want []string) bool {
	for _, h := range have {
		if slices.Contains(want, h) {
			return true
		}
	}
	return false
}

// collect appends the values of a scope or role claim: a space-separated
// string or an array of strings, reached through nested objects by path.
// Any other shape refuses the token.
func collect(dst []string, raw string, path []string) ([]string, error) {
	for _, name := range path {
		ms, err := parseObject(raw, nil)
		if err != nil {
			if errors.Is(err, ErrDuplicateClaim) {
				return dst, ErrDuplicateClaim
			}
			return dst, ErrClaimType
		}
		raw = ""
		for _, m := range ms {
			if m.key == name {
				raw = m.val
			}
		}
		if raw == "" {
			return dst, nil
		}
	}
	if raw[0] == '"' {
		s, ok := jsonString(raw)
		if !ok {
			return dst, ErrClaimType
		}
		// Unescaping made s a new string: the values split from it would
		// each keep all of it alive, which the token cache's accounting
		// (entrySize counts each value once) would not see; copy them.
		// Without escapes, s and its values are views of the payload.
		escaped := strings.IndexByte(raw, '\\') >= 0
		dst = slices.Grow(dst, min(strings.Count(s, " ")+1, 32)) // one allocation for the usual few scopes
		for f := range strings.SplitSeq(s, " ") {
			if f != "" && !slices.Contains(dst, f) {
				if escaped {
					f = strings.Clone(f)
				}
				dst = append(dst, f)
			}
		}
		return dst, nil
	}
	start := len(dst)
	vals, ok := jsonStrings(raw, nil)
	if !ok || raw[0] != '[' {
		return dst[:start], ErrClaimType
	}
	for _, s := range vals {
		if s != "" && !slices.Contains(dst, s) {
			dst = append(dst, s)
		}
	}
	return dst, nil
}
