// Package jwks keeps one issuer's signing keys: Parse reads a JWK Set
// (RFC 7517) into the keys a verifier may use, refusing, key by key, those
// it must not (keys for encryption, HMAC secrets, short RSA keys, points off
// their curve, weak Ed25519 keys); a Cache fetches the set, refreshes it and
// answers Lookup, Ready and Close, as docs/operations.md describes. Its
// errors are its own: core maps them to its sentinels in one place.
package jwks

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/jwksauth/jwksauth/core/internal/strictjson"
)

// Kind is the one family of algorithms a JWKS key may verify.
type Kind uint8

// The kinds of key a verifier can use.
const (
	KindRSA Kind = iota + 1
	KindP256
	KindP384
	KindP521
	KindEd25519
)

// String names the kind as a JWK does: its kty for RSA, its crv otherwise.
func (k Kind) String() string {
	switch k {
	case KindRSA:
		return "RSA"
	case KindP256:
		return "P-256"
	case KindP384:
		return "P-384"
	case KindP521:
		return "P-521"
	case KindEd25519:
		return "Ed25519"
	}
	return ""
}

// Algorithms are the only algorithms a verifier can ever accept, the
// asymmetric ones, with the kind of key each needs. HS* and none are absent
// on purpose (RFC 8725 §3.1, §3.2).
var Algorithms = map[string]Kind{
	"RS256": KindRSA, "RS384": KindRSA, "RS512": KindRSA,
	"PS256": KindRSA, "PS384": KindRSA, "PS512": KindRSA,
	"ES256": KindP256, "ES384": KindP384, "ES512": KindP521,
	"EdDSA": KindEd25519,
}

// Key is one usable JWKS key. It is immutable; a refresh that returns the
// same JWK text keeps the same *Key, so verified tokens stay cached.
type Key struct {
	kid  string
	alg  string // the JWK's alg, "" when it states none
	kind Kind
	key  any
	raw  string
}

// NewKey returns a key with those parameters, as if a JWK had stated them.
// It checks nothing: keys from a JWKS come from Parse.
func NewKey(kid, alg string, kind Kind, pub any) *Key {
	return &Key{kid: kid, alg: alg, kind: kind, key: pub}
}

// KID is the key's kid, "" when the JWK has none.
func (k *Key) KID() string { return k.kid }

// Alg is the JWK's alg, "" when it states none.
func (k *Key) Alg() string { return k.alg }

// Kind is the key's family of algorithms.
func (k *Key) Kind() Kind { return k.kind }

// Public is the public key: *rsa.PublicKey, *ecdsa.PublicKey or
// ed25519.PublicKey.
func (k *Key) Public() any { return k.key }

func (k *Key) fits(alg string, kind Kind) bool {
	return k.kind == kind && (k.alg == "" || k.alg == alg)
}

// Set is an immutable snapshot of the issuer's keys.
type Set struct {
	byKID     map[string][]*Key
	only      *Key // the key of a one-key set, used for tokens without kid
	all       []*Key
	fetchedAt time.Time
	gen       uint64 // 1 for the first set a cache loads, then one more per set
}

// NewSet returns the set of keys, in that order, as generation gen. It
// checks nothing and bounds nothing (Parse does both): it is for tests of
// what is built on sets.
func NewSet(gen uint64, keys ...*Key) *Set {
	s := &Set{byKID: make(map[string][]*Key, len(keys)), gen: gen}
	for _, k := range keys {
		s.add(k)
	}
	s.seal()
	return s
}

func (s *Set) add(k *Key) {
	s.all = append(s.all, k)
	if k.kid != "" {
		s.byKID[k.kid] = append(s.byKID[k.kid], k)
	}
}

func (s *Set) seal() {
	if len(s.all) == 1 {
		s.only = s.all[0]
	}
}

// Count is how many usable keys the set holds.
func (s *Set) Count() int { return len(s.all) }

// Gen is the set's generation: 1 for the first set loaded, then one more
// for each set that replaced the one before. A later set has a larger Gen.
func (s *Set) Gen() uint64 { return s.gen }

// FetchedAt is when the set was fetched.
func (s *Set) FetchedAt() time.Time { return s.fetchedAt }

// Only is the key of a one-key set (the key a token without kid may use),
// else nil.
func (s *Set) Only() *Key { return s.only }

// Keys returns the set's keys, in JWKS order.
func (s *Set) Keys() iter.Seq[*Key] { return slices.Values(s.all) }

// Drops reports whether a key of old is missing from s. Unchanged keys keep
// their identity across refreshes (Parse), so pointers compare.
func (s *Set) Drops(old *Set) bool {
	if old.only != nil && !s.Contains(old.only) {
		return true
	}
	for _, ks := range old.byKID {
		for _, k := range ks {
			if !s.Contains(k) {
				return true
			}
		}
	}
	return false
}

// MaxKeysPerKID is how many keys of one set may share a kid. RFC 7517 §4.5
// says kids SHOULD differ, but a provider in the middle of a rotation may
// publish the old and the new key under one kid; a token naming that kid is
// then checked against each of its keys that fits the token's alg, in JWKS
// order, until one verifies. The bound caps that: a token that verifies with
// none costs at most MaxKeysPerKID signature checks. Parse skips the
// keys beyond it, with ErrKIDShared, so they never verify anything.
const MaxKeysPerKID = 4

// ErrKIDShared is the skip reason of the keys beyond MaxKeysPerKID.
var ErrKIDShared = fmt.Errorf("more than %d keys share this kid", MaxKeysPerKID)

// Candidates are the keys a token may be verified with, in JWKS order: at
// most MaxKeysPerKID, so that they live on the stack.
type Candidates struct {
	n    int
	keys [MaxKeysPerKID]*Key
}

// List returns the candidates, in JWKS order.
func (c *Candidates) List() []*Key { return c.keys[:c.n] }

// Len is how many candidates there are.
func (c *Candidates) Len() int { return c.n }

// Has reports whether k is one of the candidates (by identity: another key
// that happens to share k's kid is not k).
func (c *Candidates) Has(k *Key) bool { return slices.Contains(c.List(), k) }

// Lookup returns the keys with that kid that fit the algorithm (its family,
// and the key's own alg where the JWK states one), at most MaxKeysPerKID.
// A token without kid has one candidate at most: the only key of a one-key
// set. found reports whether any key has that kid (for a token without kid:
// whether the set has one key), fitting or not.
func (s *Set) Lookup(kid string, kind Kind, alg string) (c Candidates, found bool) {
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

// Contains reports whether k is one of the set's keys (by identity).
func (s *Set) Contains(k *Key) bool {
	if s == nil {
		return false
	}
	if k.kid == "" {
		return s.only == k
	}
	return slices.Contains(s.byKID[k.kid], k)
}

// Reasons for skipping a key, and for refusing a whole JWKS (ErrNotJSON,
// ErrNoKeys).
var (
	ErrKeyUse       = errors.New("key is not for signatures")
	ErrKeyType      = errors.New("unsupported key type")
	ErrKeyAlg       = errors.New("key alg is not an accepted signature algorithm for its type")
	ErrKeyTooSmall  = errors.New("RSA key shorter than 2048 bits")
	ErrKeyTooLarge  = errors.New("RSA key longer than 8192 bits")
	ErrKeyExponent  = errors.New("RSA public exponent is not an odd number from 3 to 2^31-1")
	ErrNotJSON      = errors.New("JWKS is not a JSON object")
	ErrNoKeys       = errors.New(`JWKS has no "keys" array`)
	ErrDuplicateKey = errors.New("duplicate member in JWK")
	ErrTooManyKeys  = fmt.Errorf("JWKS has over %d keys", MaxJWKs)
)

// Reasons for skipping a key that is unsafe whatever alg it is used with;
// the checks are in keycheck.go (docs/security.md, "Weak keys").
var (
	ErrKeySmallOrder = errors.New("Ed25519 public key is a point of small order")
	ErrKeyEncoding   = errors.New("public key is not in its canonical encoding")
	ErrKeyOffCurve   = errors.New("public key is not a point of its curve")
)

// MaxJWKs is how many JWKs of a set are read; the rest are skipped.
const MaxJWKs = 256

// Skipped records why one JWK was not loaded.
type Skipped struct {
	KID string // "" when the JWK has none, or none that could be read
	Err error
}

// Parse reads a JWK Set. Keys the verifier cannot use are skipped with a
// reason (RFC 7517 §5); the rest of the set loads. x5u, x5c and jku are never
// read: key material comes only from the JWK's own parameters. prev (the
// set loaded before, or nil) lets unchanged keys keep their identity, and
// the new set's generation is one more than prev's.
func Parse(body []byte, prev *Set, now time.Time) (*Set, []Skipped, error) {
	elems, err := jwkElements(body)
	if err != nil {
		return nil, nil, err
	}
	var skipped []Skipped
	if len(elems) > MaxJWKs {
		// Providers publish a handful of keys. Thousands of tiny JWKs fit
		// the size cap, and each would cost a log line and a hook call on
		// every fetch, and carrying keys over refreshes is quadratic in
		// keys sharing a kid.
		skipped = append(skipped, Skipped{Err: fmt.Errorf("%w: %d more JWKs not read", ErrTooManyKeys, len(elems)-MaxJWKs)})
		elems = elems[:MaxJWKs]
	}
	set := &Set{byKID: make(map[string][]*Key, len(elems)), fetchedAt: now, gen: 1}
	if prev != nil {
		set.gen = prev.gen + 1
	}
	for _, raw := range elems {
		k, err := parseJWK(raw)
		if err == nil && k.kid != "" && len(set.byKID[k.kid]) == MaxKeysPerKID {
			// The earlier keys of that kid stay; see MaxKeysPerKID.
			err = ErrKIDShared
		}
		if err != nil {
			skipped = append(skipped, Skipped{KID: skippedKID(k, raw), Err: err})
			continue
		}
		set.add(prev.carry(k))
	}
	set.seal()
	return set, skipped, nil
}

// jwkElements returns the raw JWKs of a JWK Set's "keys" array.
func jwkElements(body []byte) ([]string, error) {
	members, err := strictjson.ParseObject(string(body), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotJSON, err)
	}
	keysRaw, _ := strictjson.Lookup(members, "keys")
	if keysRaw == "" || keysRaw[0] != '[' {
		return nil, ErrNoKeys
	}
	elems, err := strictjson.Elements(keysRaw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoKeys, err)
	}
	return elems, nil
}

// skippedKID is the kid to report for a JWK that was skipped: the parsed
// key's own when it loaded (and was skipped for sharing its kid), else
// what kidOf can read.
func skippedKID(k *Key, raw string) string {
	if k != nil {
		return k.kid
	}
	return kidOf(raw)
}

// carry returns the key of s (the previous set, possibly nil) that has k's
// JWK text, so that an unchanged key keeps its identity (and the tokens it
// verified stay cached), else k.
func (s *Set) carry(k *Key) *Key {
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
func parseJWK(raw string) (*Key, error) {
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
			return nil, fmt.Errorf("%w: %w", ErrKeyType, err)
		}
		return nil, err
	}
	// Copies, not views of the JWKS body: a key outlives the fetch that
	// loaded it (unchanged keys are carried over refreshes), and a view
	// would keep that whole body alive with it, one per refresh.
	k := &Key{kid: strings.Clone(m.KID), alg: strings.Clone(string(m.ALG)), raw: strings.Clone(raw)}
	if k.kind, k.key, err = usableKey(jwk.Key()); err != nil {
		return nil, err
	}
	if k.alg != "" {
		if kind, ok := Algorithms[k.alg]; !ok || kind != k.kind {
			return nil, ErrKeyAlg
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
			return m, nil, ErrDuplicateKey
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
		return ErrKeyUse
	}
	if keyOps != nil && !slices.Contains(keyOps, "verify") {
		return ErrKeyUse
	}
	switch m.KTY {
	case jwkset.KtyRSA:
		// jwkset reads e into an int through Uint64, which silently drops
		// the high bytes of an over-long value: check it here first.
		if m.E == "" {
			return nil
		}
		if e, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(m.E, "=")); err == nil && len(e) > 4 {
			return ErrKeyExponent
		}
		return nil
	case jwkset.KtyEC:
		// jwkset refuses a point off its curve, but reads coordinates of
		// any length as numbers.
		return checkECPoint(m.CRV, m.X, m.Y)
	case jwkset.KtyOKP:
		return nil
	}
	return fmt.Errorf("%w %q", ErrKeyType, m.KTY)
}

// usableKey returns the kind of a public key that jwkset read, and the key,
// when the verifier may use it: RSA of 2048 to 8192 bits with an odd
// exponent of at least 3, P-256, P-384 or P-521, or an Ed25519 key that
// checkEd25519 accepts.
func usableKey(pub any) (Kind, any, error) {
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		switch {
		case pub.N.BitLen() < 2048: // RFC 7518 §3.3
			return 0, nil, ErrKeyTooSmall
		case pub.N.BitLen() > 8192: // no provider uses more; bounds the cost of one verification
			return 0, nil, ErrKeyTooLarge
		case pub.E < 3 || pub.E&1 == 0:
			return 0, nil, ErrKeyExponent
		}
		return KindRSA, pub, nil
	case *ecdsa.PublicKey:
		switch pub.Curve {
		case elliptic.P256():
			return KindP256, pub, nil
		case elliptic.P384():
			return KindP384, pub, nil
		case elliptic.P521():
			return KindP521, pub, nil
		}
		return 0, nil, fmt.Errorf("%w: curve %s", ErrKeyType, pub.Curve.Params().Name)
	case ed25519.PublicKey:
		// jwkset checks only the length of x.
		if err := checkEd25519(pub); err != nil {
			return 0, nil, err
		}
		return KindEd25519, pub, nil
	}
	return 0, nil, fmt.Errorf("%w %T", ErrKeyType, pub)
}
