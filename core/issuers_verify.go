package core

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwksauth/jwksauth/core/internal/strictjson"
)

// verifyToken routes a token to its issuer's Verifier. A token verified
// before is found in the shared cache by its hash, and checked against the
// key set of the issuer that verified it, so a hit costs what it costs a
// single-issuer Verifier. Otherwise the unverified iss picks the issuer;
// that Verifier then checks the signature with its own keys only, and the
// iss again, exactly: a token whose iss names issuer B is never checked
// against issuer A's keys, whatever its kid.
func (s *issuerSet) verifyToken(ctx context.Context, token string, checked bool) (*Principal, bool, error) {
	p := s.parent
	var sum *[32]byte
	if c := p.cache; c != nil {
		sum = new([32]byte)
		*sum = tokenSum(token)
		if e, b := c.find(sum); e != nil {
			if pr, err, done := s.hit(c, e, b, sum); done {
				return pr, err == nil, err
			}
		}
	}
	if !checked && !isB64Token(token) {
		return nil, false, p.fail(ErrInvalidRequest, nil)
	}
	iss, err := peekIssuer(token)
	if err != nil {
		return nil, false, p.fail(err, nil)
	}
	sub, err := s.route(ctx, iss)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, false, e
		}
		return nil, false, p.fail(err, nil)
	}
	return sub.verifyOwn(ctx, token, true, sum)
}

// hit answers a token found in the shared cache, when its issuer's key set
// still selects its key; done is false when the token must be verified.
func (s *issuerSet) hit(c *tokenCache, e *cacheEntry, b int, sum *[32]byte) (p *Principal, err error, done bool) {
	owner := e.p.by
	if owner == nil || owner.parent != s.parent || owner.retired.Load() {
		// An issuer dropped from the table: its tokens are resolved again.
		c.remove(b, e)
		return nil, nil, false
	}
	now := owner.cfg.now()
	set := owner.keys.usable(now)
	if set == nil {
		return nil, nil, false
	}
	if e = c.check(e, b, set, owner); e == nil {
		return nil, nil, false
	}
	if terr := owner.timeValid(e.p, now); terr != nil {
		c.drop(sum, e)
		return nil, owner.fail(terr, nil), true
	}
	return e.p, nil, true
}

// peekIssuer reads the iss of a token's payload, unverified, to route the
// token: three segments, a strict base64url payload holding a JSON object
// with a string iss. The token is within the size cap already; nothing here
// is trusted, the chosen issuer's Verifier checks everything again.
func peekIssuer(token string) (string, error) {
	first := strings.IndexByte(token, '.')
	if first < 0 {
		return "", ErrTokenMalformed
	}
	rest := token[first+1:]
	second := strings.IndexByte(rest, '.')
	if second < 0 || strings.IndexByte(rest[second+1:], '.') >= 0 {
		return "", ErrTokenMalformed
	}
	payload, err := decodeSegment(rest[:second])
	if err != nil {
		return "", ErrTokenMalformed
	}
	var buf [24]strictjson.Member
	ms, err := strictjson.ParseObject(bytesString(payload), buf[:0])
	if err != nil {
		return "", tokenJSONError(err, ErrTokenMalformed)
	}
	for _, m := range ms {
		if m.Key == "iss" {
			iss, ok := strictjson.String(m.Val)
			if !ok {
				return "", ErrClaimType
			}
			return strings.Clone(iss), nil
		}
	}
	return "", ErrIssuerInvalid
}

// multiKeyfunc serves Keyfunc for a many-issuer Verifier: the token's iss,
// as golang-jwt decoded it, picks the issuer, whose own Keyfunc (made once
// per issuer) gives the key.
type multiKeyfunc struct {
	s   *issuerSet
	ctx context.Context
	mu  sync.Mutex
	kfs map[*Verifier]jwt.Keyfunc
}

func (m *multiKeyfunc) key(t *jwt.Token) (any, error) {
	p := m.s.parent
	if t == nil || t.Claims == nil {
		return nil, p.fail(ErrTokenMalformed, nil)
	}
	iss, err := t.Claims.GetIssuer()
	if err != nil {
		return nil, p.fail(ErrClaimType, nil)
	}
	sub, err := m.s.route(m.ctx, iss)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, e
		}
		return nil, p.fail(err, nil)
	}
	m.mu.Lock()
	kf, ok := m.kfs[sub]
	if !ok {
		if len(m.kfs) > 2*m.s.max+len(m.s.order) {
			clear(m.kfs) // drop those of issuers retired from the table
		}
		kf = sub.Keyfunc(m.ctx)
		m.kfs[sub] = kf
	}
	m.mu.Unlock()
	return kf(t)
}
