package core

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
	"github.com/jwksauth/jwksauth/core/internal/strictjson"
)

// keyKind is the one family of algorithms a JWKS key may verify.
type keyKind uint8

const (
	kindRSA keyKind = iota + 1
	kindP256
	kindP384
	kindP521
	kindEd25519
)

type method struct {
	m    jwt.SigningMethod
	kind keyKind
}

// signingMethods are the only algorithms a verifier can ever accept: the
// asymmetric ones. HS* and none are absent on purpose (RFC 8725 §3.1, §3.2).
var signingMethods = map[string]method{
	"RS256": {jwt.SigningMethodRS256, kindRSA},
	"RS384": {jwt.SigningMethodRS384, kindRSA},
	"RS512": {jwt.SigningMethodRS512, kindRSA},
	"PS256": {jwt.SigningMethodPS256, kindRSA},
	"PS384": {jwt.SigningMethodPS384, kindRSA},
	"PS512": {jwt.SigningMethodPS512, kindRSA},
	"ES256": {jwt.SigningMethodES256, kindP256},
	"ES384": {jwt.SigningMethodES384, kindP384},
	"ES512": {jwt.SigningMethodES512, kindP521},
	"EdDSA": {jwt.SigningMethodEdDSA, kindEd25519},
}

// publicKey is one usable JWKS key. It is immutable; a refresh that returns
// the same JWK text keeps the same *publicKey, so verified tokens stay cached.
type publicKey struct {
	kid  string
	alg  string // the JWK's alg, "" when it states none
	kind keyKind
	key  any
	raw  string
}

func (k *publicKey) fits(alg string, kind keyKind) bool {
	return k.kind == kind && (k.alg == "" || k.alg == alg)
}

// keySet is an immutable snapshot of the issuer's keys.
type keySet struct {
	byKID     map[string][]*publicKey
	only      *publicKey // the key of a one-key set, used for tokens without kid
	fetchedAt time.Time
	count     int
	gen       uint64 // 1 for the first set a cache loads, then one more per set
}

// maxKeysPerKID is how many keys of one set may share a kid. RFC 7517 §4.5
// says kids SHOULD differ, but a provider in the middle of a rotation may
// publish the old and the new key under one kid; a token naming that kid is
// then checked against each of its keys that fits the token's alg, in JWKS
// order, until one verifies. The bound caps that: a token that verifies with
// none costs at most maxKeysPerKID signature checks. parseJWKS skips the
// keys beyond it, with errKIDShared, so they never verify anything.
const maxKeysPerKID = 4

var errKIDShared = fmt.Errorf("more than %d keys share this kid", maxKeysPerKID)

// candidates are the keys a token may be verified with, in JWKS order: at
// most maxKeysPerKID, so that they live on the stack.
type candidates struct {
	n    int
	keys [maxKeysPerKID]*publicKey
}

func (c *candidates) list() []*publicKey { return c.keys[:c.n] }

// has reports whether k is one of the candidates (by identity: another key
// that happens to share k's kid is not k).
func (c *candidates) has(k *publicKey) bool { return slices.Contains(c.list(), k) }

// lookup returns the keys with that kid that fit the algorithm (its family,
// and the key's own alg where the JWK states one), at most maxKeysPerKID.
// A token without kid has one candidate at most: the only key of a one-key
// set. found reports whether any key has that kid (for a token without kid:
// whether the set has one key), fitting or not.
func (s *keySet) lookup(kid string, kind keyKind, alg string) (c candidates, found bool) {
	if kid == "" {
		if s.only == nil {
			return c, false
		}
		if s.only.fits(alg, kind) {
			c.keys[0], c.n = s.only, 1
		}
		return c, true
	}
	ks := s.byKID[kid]
	for _, k := range ks {
		if c.n == len(c.keys) {
			break
		}
		if k.fits(alg, kind) {
			c.keys[c.n] = k
			c.n++
		}
	}
	return c, len(ks) > 0
}

func (s *keySet) contains(k *publicKey) bool {
	if s == nil {
		return false
	}
	if k.kid == "" {
		return s.only == k
	}
	return slices.Contains(s.byKID[k.kid], k)
}

var (
	errKeyUse       = errors.New("key is not for signatures")
	errKeyType      = errors.New("unsupported key type")
	errKeyAlg       = errors.New("key alg is not an accepted signature algorithm for its type")
	errKeyTooSmall  = errors.New("RSA key shorter than 2048 bits")
	errKeyTooLarge  = errors.New("RSA key longer than 8192 bits")
	errKeyExponent  = errors.New("RSA public exponent is not an odd number from 3 to 2^31-1")
	errJWKSNotJSON  = errors.New("JWKS is not a JSON object")
	errJWKSNoKeys   = errors.New(`JWKS has no "keys" array`)
	errDuplicateKey = errors.New("duplicate member in JWK")
	errTooManyKeys  = fmt.Errorf("JWKS has over %d keys", maxJWKs)
)

// Reasons for skipping a key that is unsafe whatever alg it is used with;
// the checks are in keycheck.go (docs/security.md, "Weak keys").
var (
	errKeySmallOrder = errors.New("Ed25519 public key is a point of small order")
	errKeyEncoding   = errors.New("public key is not in its canonical encoding")
	errKeyOffCurve   = errors.New("public key is not a point of its curve")
)

// maxJWKs is how many JWKs of a set are read; the rest are skipped.
const maxJWKs = 256

// skippedKey records why one JWK was not loaded.
type skippedKey struct {
	kid string
	err error
}

// parseJWKS reads a JWK Set. Keys the verifier cannot use are skipped with a
// reason (RFC 7517 §5); the rest of the set loads. x5u, x5c and jku are never
// read: key material comes only from the JWK's own parameters. prev lets
// unchanged keys keep their identity.
func parseJWKS(body []byte, prev *keySet, now time.Time) (*keySet, []skippedKey, error) {
	elems, err := jwkElements(body)
	if err != nil {
		return nil, nil, err
	}
	var skipped []skippedKey
	if len(elems) > maxJWKs {
		// Providers publish a handful of keys. Thousands of tiny JWKs fit
		// the size cap, and each would cost a log line and a hook call on
		// every fetch, and carrying keys over refreshes is quadratic in
		// keys sharing a kid.
		skipped = append(skipped, skippedKey{err: fmt.Errorf("%w: %d more JWKs not read", errTooManyKeys, len(elems)-maxJWKs)})
		elems = elems[:maxJWKs]
	}
	set := &keySet{byKID: make(map[string][]*publicKey, len(elems)), fetchedAt: now}
	var all []*publicKey
	for _, raw := range elems {
		k, err := parseJWK(raw)
		if err == nil && k.kid != "" && len(set.byKID[k.kid]) == maxKeysPerKID {
			// The earlier keys of that kid stay; see maxKeysPerKID.
			err = errKIDShared
		}
		if err != nil {
			skipped = append(skipped, skippedKey{kid: skippedKID(k, raw), err: err})
			continue
		}
		k = prev.carry(k)
		all = append(all, k)
		if k.kid != "" {
			set.byKID[k.kid] = append(set.byKID[k.kid], k)
		}
	}
	if len(all) == 1 {
		set.only = all[0]
	}
	set.count = len(all)
	return set, skipped, nil
}

// jwkElements returns the raw JWKs of a JWK Set's "keys" array.
func jwkElements(body []byte) ([]string, error) {
	members, err := strictjson.ParseObject(string(body), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errJWKSNotJSON, err)
	}
	keysRaw, _ := strictjson.Lookup(members, "keys")
	if keysRaw == "" || keysRaw[0] != '[' {
		return nil, errJWKSNoKeys
	}
	elems, err := strictjson.Elements(keysRaw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errJWKSNoKeys, err)
	}
	return elems, nil
}

// skippedKID is the kid to report for a JWK that was skipped: the parsed
// key's own when it loaded (and was skipped for sharing its kid), else
// what kidOf can read.
func skippedKID(k *publicKey, raw string) string {
	if k != nil {
		return k.kid
	}
	return kidOf(raw)
}

// carry returns the key of s (the previous set, possibly nil) that has k's
// JWK text, so that an unchanged key keeps its identity (and the tokens it
// verified stay cached), else k.
func (s *keySet) carry(k *publicKey) *publicKey {
	if s == nil {
		return k
	}
	for _, old := range s.byKID[k.kid] {
		if old.raw == k.raw {
			k = old
		}
	}
	if k.kid == "" && s.only != nil && s.only.raw == k.raw {
		k = s.only
	}
	return k
}

// kidOf reads the kid of a JWK that failed to load, for the skip report.
// A JWK refused for a duplicated member still names its kid when the kid
// itself is not the duplicated one.
func kidOf(raw string) string {
	ms, err := strictjson.ParseMembers(raw)
	if err != nil {
		return ""
	}
	kid, n := "", 0
	for _, m := range ms {
		if m.Key == "kid" {
			kid, _ = strictjson.String(m.Val)
			n++
		}
	}
	if n != 1 {
		return ""
	}
	return kid
}

// parseJWK reads one JWK and returns it only when the verifier can use it
// for signatures. Skipped, with the reason: a duplicated member or a member
// of the wrong type; use other than "sig"; key_ops without "verify"; a kty
// other than RSA, EC and OKP (oct included: HMAC is never accepted for JWKS
// keys); values jwkset refuses (broken base64, a point off its curve, a
// missing parameter); RSA under 2048 or over 8192 bits, or with an exponent
// that is even, below 3 or above 2^31-1; an EC curve other than P-256,
// P-384 and P-521 (secp256k1 for one); EC coordinates that are not exactly
// the curve's size (RFC 7518 §6.2.1.2), the point at infinity or a point
// off the curve; an OKP curve other than Ed25519 (X25519 is for key
// agreement); an Ed25519 key that is not the canonical encoding of a point
// (RFC 8032 §5.1.3) or is one of the eight points of small order, with
// which a signature can be forged without any private key (see
// docs/security.md, "Weak keys"); an alg that is not an accepted signature
// algorithm of the key's type and curve.
func parseJWK(raw string) (*publicKey, error) {
	m, keyOps, err := readJWK(raw)
	if err != nil {
		return nil, err
	}
	if err := checkJWK(&m, keyOps); err != nil {
		return nil, err
	}
	jwk, err := jwkset.NewJWKFromMarshal(m, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
	if err != nil {
		if errors.Is(err, jwkset.ErrUnsupportedKey) {
			return nil, fmt.Errorf("%w: %w", errKeyType, err)
		}
		return nil, err
	}
	// Copies, not views of the JWKS body: a key outlives the fetch that
	// loaded it (unchanged keys are carried over refreshes), and a view
	// would keep that whole body alive with it, one per refresh.
	k := &publicKey{kid: strings.Clone(m.KID), alg: strings.Clone(string(m.ALG)), raw: strings.Clone(raw)}
	if k.kind, k.key, err = usableKey(jwk.Key()); err != nil {
		return nil, err
	}
	if k.alg != "" {
		meth, ok := signingMethods[k.alg]
		if !ok || meth.kind != k.kind {
			return nil, errKeyAlg
		}
	}
	return k, nil
}

// jwkStrings are the JWK members read as strings, and where each goes.
// Only public parameters are read: no x5u/x5c is ever read or fetched,
// and private members are ignored.
func jwkStrings(m *jwkset.JWKMarshal) map[string]*string {
	return map[string]*string{"kty": (*string)(&m.KTY), "use": (*string)(&m.USE), "alg": (*string)(&m.ALG),
		"kid": &m.KID, "crv": (*string)(&m.CRV), "n": &m.N, "e": &m.E, "x": &m.X, "y": &m.Y}
}

// readJWK reads the members of one JWK that parseJWK uses, refusing a
// duplicated member and a member of the wrong type.
func readJWK(raw string) (m jwkset.JWKMarshal, keyOps []string, err error) {
	ms, err := strictjson.ParseObject(raw, nil)
	if err != nil {
		if errors.Is(err, strictjson.ErrDuplicate) {
			return m, nil, errDuplicateKey
		}
		return m, nil, err
	}
	strs := jwkStrings(&m)
	for _, mem := range ms {
		if dst, ok := strs[mem.Key]; ok {
			s, ok := strictjson.String(mem.Val)
			if !ok {
				return m, nil, fmt.Errorf("JWK member %q is not a string", mem.Key)
			}
			*dst = s
		}
		if mem.Key == "key_ops" {
			var ok bool
			if keyOps, ok = strictjson.Strings(mem.Val, nil); !ok || mem.Val[0] != '[' {
				return m, nil, errors.New(`JWK member "key_ops" is not an array of strings`)
			}
		}
	}
	return m, keyOps, nil
}

// checkJWK refuses, before jwkset reads the key, a JWK that is not for
// signatures, of another kty than RSA, EC and OKP, with an over-long RSA
// exponent or with EC coordinates that are not a point of their curve.
func checkJWK(m *jwkset.JWKMarshal, keyOps []string) error {
	if m.USE != "" && m.USE != jwkset.UseSig {
		return errKeyUse
	}
	if keyOps != nil && !slices.Contains(keyOps, "verify") {
		return errKeyUse
	}
	switch m.KTY {
	case jwkset.KtyRSA:
		// jwkset reads e into an int through Uint64, which silently drops
		// the high bytes of an over-long value: check it here first.
		if m.E == "" {
			return nil
		}
		if e, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(m.E, "=")); err == nil && len(e) > 4 {
			return errKeyExponent
		}
		return nil
	case jwkset.KtyEC:
		// jwkset refuses a point off its curve, but reads coordinates of
		// any length as numbers.
		return checkECPoint(m.CRV, m.X, m.Y)
	case jwkset.KtyOKP:
		return nil
	}
	return fmt.Errorf("%w %q", errKeyType, m.KTY)
}

// usableKey returns the kind of a public key that jwkset read, and the key,
// when the verifier may use it: RSA of 2048 to 8192 bits with an odd
// exponent of at least 3, P-256, P-384 or P-521, or an Ed25519 key that
// checkEd25519 accepts.
func usableKey(pub any) (keyKind, any, error) {
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		switch {
		case pub.N.BitLen() < 2048: // RFC 7518 §3.3
			return 0, nil, errKeyTooSmall
		case pub.N.BitLen() > 8192: // no provider uses more; bounds the cost of one verification
			return 0, nil, errKeyTooLarge
		case pub.E < 3 || pub.E&1 == 0:
			return 0, nil, errKeyExponent
		}
		return kindRSA, pub, nil
	case *ecdsa.PublicKey:
		switch pub.Curve {
		case elliptic.P256():
			return kindP256, pub, nil
		case elliptic.P384():
			return kindP384, pub, nil
		case elliptic.P521():
			return kindP521, pub, nil
		}
		return 0, nil, fmt.Errorf("%w: curve %s", errKeyType, pub.Curve.Params().Name)
	case ed25519.PublicKey:
		// jwkset checks only the length of x.
		if err := checkEd25519(pub); err != nil {
			return 0, nil, err
		}
		return kindEd25519, pub, nil
	}
	return 0, nil, fmt.Errorf("%w %T", errKeyType, pub)
}
