package core

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"time"
	"unsafe"

	"github.com/jwksauth/jwksauth/core/internal/jwks"
	"github.com/jwksauth/jwksauth/core/internal/strictjson"
)

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
		return nil, newError(defaultRealm, ErrMisconfigured, nil)
	}
	p, hit, err := v.verifyToken(ctx, token, true)
	if err == nil {
		// No request, so no proof: a sender-constrained token cannot be
		// accepted here (RFC 9449 §7.2, RFC 8705 §3).
		err = v.bindBearer(p)
	}
	v.observed(p, err, hit)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// verifyToken is Verify for a token whose b64token syntax (RFC 6750 §2.1)
// was checked, or, when checked is false, is still to be checked. A cache
// hit needs no syntax check: the token is byte for byte one that verified,
// and a token that verifies is three base64url segments, all b64token
// characters. So the check, a scan of the whole token, runs on misses only.
// It checks the token alone: its confirmation (cnf) is the caller's to
// check against the request, and the caller reports the outcome (observe).
func (v *Verifier) verifyToken(ctx context.Context, token string, checked bool) (p *Principal, hit bool, err error) {
	if len(token) > v.cfg.maxTokenSize {
		return nil, false, v.fail(ErrTokenTooLarge, nil)
	}
	if v.multi != nil {
		return v.multi.verifyToken(ctx, token, checked)
	}
	return v.verifyOwn(ctx, token, checked, nil)
}

// verifyOwn is verifyToken with this Verifier's keys. sum is the token's
// cache key when the caller has it already.
func (v *Verifier) verifyOwn(ctx context.Context, token string, checked bool, known *[32]byte) (p *Principal, hit bool, err error) {
	now := v.cfg.now()
	var sum [32]byte
	if c := v.cache; c != nil {
		if known != nil {
			sum = *known
		} else {
			sum = tokenSum(token)
		}
		if set := v.keys.usable(now); set != nil {
			if e := c.get(&sum, set, v); e != nil {
				terr := v.timeValid(e.p, now)
				if terr == nil {
					return e.p, true, nil
				}
				// Out of its time window: the signature is known to be
				// good and the answer known to be a refusal, so no crypto.
				c.drop(&sum, e)
				return nil, false, v.fail(terr, nil)
			}
		}
	}
	if !checked && !isB64Token(token) {
		return nil, false, v.fail(ErrInvalidRequest, nil)
	}
	p, key, named, err := v.verify(ctx, token, now)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			err = v.fail(err, nil)
		}
		return nil, false, err
	}
	if v.cache != nil {
		v.cache.put(&sum, p, key, named)
	}
	return p, false, nil
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

type header struct {
	alg, kid, typ string
}

// maxHeaderMembers bounds the parameters of a token header. RFC 7515 and
// RFC 7519 register about a dozen and providers send three or four; the
// bound keeps a header made of thousands of parameters, read before the
// signature is known to be good, as cheap to refuse as a valid token is
// to verify.
const maxHeaderMembers = 32

func (v *Verifier) parseHeader(seg string) (header, error) {
	var h header
	raw, err := decodeSegment(seg)
	if err != nil {
		return h, err
	}
	var buf [maxHeaderMembers]strictjson.Member // on the stack: no header grows it
	ms, err := strictjson.ParseObjectMax(bytesString(raw), buf[:0], maxHeaderMembers)
	if err != nil {
		return h, tokenJSONError(err, ErrTokenMalformed)
	}
	hasAlg := false
	for _, m := range ms {
		var ok bool
		switch m.Key {
		case "alg":
			h.alg, ok = strictjson.String(m.Val)
			hasAlg = true
		case "kid":
			h.kid, ok = strictjson.String(m.Val)
		case "typ":
			h.typ, ok = strictjson.String(m.Val)
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
// that the same key would still be tried.
func (v *Verifier) verify(ctx context.Context, token string, now time.Time) (*Principal, *jwks.Key, bool, error) {
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
	keys, err := v.keys.lookup(ctx, h.kid, h.alg, meth.kind, now)
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
	// Each key of the kid that fits the alg, in JWKS order, until one
	// verifies: at most jwks.MaxKeysPerKID checks, one in the usual case of
	// distinct kids (RFC 7517 §4.5).
	var key *jwks.Key
	for _, k := range keys.List() {
		if err = checkSignature(meth.m, token[:d2], sig, k.Public()); err == nil {
			key = k
			break
		}
	}
	if key == nil {
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
	p.KeyID, p.Algorithm = key.KID(), meth.m.Alg()
	return p, key, h.kid != "", nil
}
