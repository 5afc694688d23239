package dpop

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"math"
	"strings"
	"time"
)

// Request is what Check compares a proof with: the HTTP request it came
// with, and the access token it came with, if any.
type Request struct {
	// Method is the request method, compared with htm exactly.
	Method string
	// Scheme ("http" or "https") and Host (the Host header: host and
	// optional port) of the request. Not used when Config.PublicURL is set.
	Scheme, Host string
	// Path is the request's path as sent, percent-encoded (net/url's
	// EscapedPath, or the request target: a query in it is ignored).
	Path string
	// AccessToken is the access token the proof came with. When set, the
	// proof's ath must be its hash.
	AccessToken string
	// TokenThumbprint is the token's cnf.jkt. When set, the proof's key
	// must have that RFC 7638 thumbprint, else Check returns ErrKeyBinding.
	// Check it here rather than after Check: a proof for another key then
	// takes no place in the replay store.
	TokenThumbprint string
}

// Result describes an accepted proof.
type Result struct {
	// Thumbprint is the RFC 7638 SHA-256 thumbprint of the proof's key, to
	// which a DPoP-bound token's cnf.jkt must be equal.
	Thumbprint string
	// Algorithm is the proof's alg.
	Algorithm string
	// IssuedAt is the proof's iat.
	IssuedAt time.Time
}

// claims are a proof's claims, read strictly.
type claims struct {
	jti, htm, htu, ath, nonce string
	hasAth                    bool
	iat                       float64
}

// Check checks one DPoP proof (the value of the request's single DPoP
// header) against the request, at time now, as the package documentation
// lists. A refusal matches ErrInvalidProof, ErrUseNonce (a *NonceError) or
// ErrKeyBinding; a failure of the replay store or the nonce source matches
// ErrStoreUnavailable. Every proof that passes is recorded in the replay
// store, so checking the same proof twice fails the second time.
func (c *Checker) Check(ctx context.Context, proof string, req Request, now time.Time) (Result, error) {
	key, alg, payload, err := c.verifyJWS(proof)
	if err != nil {
		return Result{}, err
	}
	cl, err := parseClaims(payload)
	if err != nil {
		return Result{}, err
	}
	if cl.htm != req.Method {
		return Result{}, ErrMethod
	}
	if err := c.checkURI(cl.htu, req); err != nil {
		return Result{}, err
	}
	if err := c.checkNonce(ctx, cl.nonce); err != nil {
		return Result{}, err
	}
	iat, err := c.checkTime(cl.iat, now)
	if err != nil {
		return Result{}, err
	}
	if err := checkToken(cl, key, req); err != nil {
		return Result{}, err
	}
	if err := c.checkReplay(ctx, key.thumbprint, cl.jti, iat, now); err != nil {
		return Result{}, err
	}
	return Result{Thumbprint: key.thumbprint, Algorithm: alg.name, IssuedAt: iat}, nil
}

// verifyJWS checks the proof's form, header, key and signature, and
// returns the key, the algorithm and the (now authenticated) payload.
func (c *Checker) verifyJWS(proof string) (*publicKey, *algorithm, []byte, error) {
	if len(proof) > c.maxSize {
		return nil, nil, nil, ErrProofTooLarge
	}
	d1 := strings.IndexByte(proof, '.')
	d2 := strings.LastIndexByte(proof, '.')
	if d1 < 0 || d1 == d2 || strings.IndexByte(proof[d1+1:d2], '.') >= 0 {
		return nil, nil, nil, ErrMalformed
	}
	key, alg, err := c.headerKey(proof[:d1])
	if err != nil {
		return nil, nil, nil, err
	}
	sig, err := decodeSegment(proof[d2+1:])
	if err != nil {
		return nil, nil, nil, err
	}
	if err := verifySignature(alg, key.key, proof[:d2], sig); err != nil {
		return nil, nil, nil, err
	}
	payload, err := decodeSegment(proof[d1+1 : d2])
	if err != nil {
		return nil, nil, nil, err
	}
	return key, alg, payload, nil
}

// headerKey reads the header and returns its key and algorithm, checking
// typ, the allow-list, the key, and that the algorithm fits the key.
func (c *Checker) headerKey(seg string) (*publicKey, *algorithm, error) {
	h, err := parseHeader(seg)
	if err != nil {
		return nil, nil, err
	}
	if !typOK(h.typ) {
		return nil, nil, ErrType
	}
	alg, ok := c.algs[h.alg]
	if !ok {
		return nil, nil, ErrAlgorithm
	}
	if h.jwk == nil {
		return nil, nil, ErrKeyMissing
	}
	key, err := parseJWK(h.jwk)
	if err != nil {
		return nil, nil, err
	}
	if key.kind != alg.kind || (key.alg != "" && key.alg != alg.name) {
		return nil, nil, ErrKeyAlgMismatch
	}
	return key, alg, nil
}

// parseClaims reads jti, htm, htu and iat (required), ath and nonce.
func parseClaims(payload []byte) (claims, error) {
	var cl claims
	o, err := parseObject(payload)
	if err != nil {
		return cl, err
	}
	fields := [...]struct {
		name     string
		dst      *string
		required bool
	}{{"jti", &cl.jti, true}, {"htm", &cl.htm, true}, {"htu", &cl.htu, true}, {"ath", &cl.ath, false}, {"nonce", &cl.nonce, false}}
	for _, f := range fields {
		s, present, ok := o.str(f.name)
		switch {
		case !ok:
			return cl, fmt.Errorf("%w: %s", ErrClaimInvalid, f.name)
		case !present && f.required:
			return cl, fmt.Errorf("%w: %s", ErrClaimMissing, f.name)
		}
		*f.dst = s
	}
	_, cl.hasAth = o.raw("ath")
	iat, present, ok := o.num("iat")
	switch {
	case !ok:
		return cl, fmt.Errorf("%w: iat", ErrClaimInvalid)
	case !present:
		return cl, fmt.Errorf("%w: iat", ErrClaimMissing)
	case cl.jti == "" || len(cl.jti) > MaxJTILength:
		return cl, fmt.Errorf("%w: jti", ErrClaimInvalid)
	}
	cl.iat = iat
	return cl, nil
}

// checkURI compares htu with the request's URI (RFC 9449 §4.3 step 9).
func (c *Checker) checkURI(htu string, req Request) error {
	claim, ok := normalizeURI(htu)
	if !ok {
		return fmt.Errorf("%w: htu", ErrClaimInvalid)
	}
	target, ok := c.requestURI(req)
	if !ok || claim != target {
		return ErrURI
	}
	return nil
}

// requestURI is the normal form of the request's URI without its query.
func (c *Checker) requestURI(req Request) (string, bool) {
	path := req.Path
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	if path != "" && path[0] != '/' {
		return "", false
	}
	origin := c.origin
	if origin == "" {
		var ok bool
		if origin, ok = normalizeOrigin(req.Scheme, req.Host); !ok {
			return "", false
		}
	}
	return origin + normalizePath(path), true
}

// checkNonce requires a current server nonce when nonces are on (RFC 9449 §9).
func (c *Checker) checkNonce(ctx context.Context, nonce string) error {
	if c.nonces == nil {
		return nil
	}
	if nonce != "" && len(nonce) <= MaxNonceLength {
		ok, err := c.nonces.Current(ctx, nonce)
		if err != nil {
			return storeErr(err)
		}
		if ok {
			return nil
		}
	}
	fresh, err := c.nonces.Issue(ctx)
	if err != nil {
		return storeErr(err)
	}
	return &NonceError{Nonce: fresh}
}

// checkTime keeps iat within [now - MaxAge, now + Leeway] (RFC 9449 §11.1).
func (c *Checker) checkTime(iat float64, now time.Time) (time.Time, error) {
	n := float64(now.UnixNano()) / 1e9
	switch {
	case iat < n-c.maxAge.Seconds():
		return time.Time{}, ErrTooOld
	case iat > n+c.leeway.Seconds():
		return time.Time{}, ErrFuture
	}
	sec, frac := math.Modf(iat)
	return time.Unix(int64(sec), int64(frac*1e9)), nil
}

// checkToken binds the proof to the access token (RFC 9449 §4.3 step 12):
// ath is the token's hash, and the key is the one the token names.
func checkToken(cl claims, key *publicKey, req Request) error {
	if req.AccessToken != "" {
		if !cl.hasAth {
			return fmt.Errorf("%w: ath", ErrClaimMissing)
		}
		sum := sha256.Sum256([]byte(req.AccessToken))
		var want [43]byte
		b64.Encode(want[:], sum[:])
		if subtle.ConstantTimeCompare([]byte(cl.ath), want[:]) != 1 {
			return ErrAccessTokenHash
		}
	}
	if req.TokenThumbprint != "" && subtle.ConstantTimeCompare([]byte(req.TokenThumbprint), []byte(key.thumbprint)) != 1 {
		return ErrKeyBinding
	}
	return nil
}

// checkReplay records the proof, refusing it if it was seen before. The
// record outlives the proof's acceptance (until iat + MaxAge) by Leeway,
// for replicas whose clocks differ by up to that much; the ttl is at least
// Leeway, as iat is at most MaxAge old.
func (c *Checker) checkReplay(ctx context.Context, thumbprint, jti string, iat, now time.Time) error {
	ttl := iat.Add(c.maxAge + c.leeway).Sub(now)
	first, err := c.replay.FirstSeen(ctx, replayKey(thumbprint, jti), ttl)
	if err != nil {
		return storeErr(err)
	}
	if !first {
		return ErrReplay
	}
	return nil
}

func storeErr(err error) error { return fmt.Errorf("%w: %w", ErrStoreUnavailable, err) }
