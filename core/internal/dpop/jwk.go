package dpop

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"math/big"
)

// keyKind is the one family of algorithms a key can verify.
type keyKind uint8

const (
	kindRSA keyKind = iota + 1
	kindP256
	kindP384
	kindP521
	kindEd25519
)

// RSA moduli accepted in a proof's jwk. 2048 is RFC 7518 §3.3's floor; the
// ceiling bounds what one unauthenticated request can make the server
// spend on a verification (the client chooses the key).
const (
	minRSABits = 2048
	maxRSABits = 4096
)

// publicKey is a proof's jwk, read and checked.
type publicKey struct {
	kind       keyKind
	alg        string // the JWK's own alg, "" when it states none
	key        any    // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
	thumbprint string // RFC 7638, SHA-256, base64url
}

// privateMembers are the JWK members of private and secret keys (RFC 7518
// §6.3.2, §6.2.2, §6.4.1; RFC 8037 §2). A proof's jwk with any of them is
// refused whatever its kty.
var privateMembers = [...]string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

var b64 = base64.RawURLEncoding.Strict()

// Thumbprint returns the RFC 7638 JWK thumbprint of a public JWK (JSON
// text), with SHA-256 and base64url-encoded: the value of a DPoP-bound
// token's cnf.jkt (RFC 9449 §6.1). It is computed over the key's required
// members only (e and n for RSA; crv, x and y for EC; crv and x for OKP),
// in lexicographic order and without whitespace. A JWK that Check would
// refuse as a proof's key (a private key, an unsupported type, a weak key)
// is refused here too, with the same errors.
func Thumbprint(jwk []byte) (string, error) {
	k, err := parseJWK(jwk)
	if err != nil {
		return "", err
	}
	return k.thumbprint, nil
}

// parseJWK reads a proof's jwk. Only the members a public key needs are
// read; kid, x5c, x5u and the rest are ignored and never followed.
func parseJWK(raw []byte) (*publicKey, error) {
	o, err := parseObject(raw)
	if err != nil {
		return nil, err
	}
	for _, m := range privateMembers {
		if _, ok := o.raw(m); ok {
			return nil, ErrPrivateKey
		}
	}
	kty, _, ok1 := o.str("kty")
	use, _, ok2 := o.str("use")
	alg, _, ok3 := o.str("alg")
	if !ok1 || !ok2 || !ok3 || (use != "" && use != "sig") {
		return nil, ErrKeyInvalid
	}
	var k *publicKey
	switch kty {
	case "RSA":
		k, err = rsaKey(o)
	case "EC":
		k, err = ecKey(o)
	case "OKP":
		k, err = okpKey(o)
	default: // oct (a shared secret) included
		return nil, ErrKeyInvalid
	}
	if err != nil {
		return nil, err
	}
	k.alg = alg
	return k, nil
}

// bytes reads a required base64url member.
func (o object) bytes(name string) ([]byte, error) {
	s, present, ok := o.str(name)
	if !present || !ok || s == "" {
		return nil, ErrKeyInvalid
	}
	// The decoder skips \r and \n; a JWK member must not hold them.
	for i := 0; i < len(s); i++ {
		if s[i] == '\r' || s[i] == '\n' {
			return nil, ErrKeyInvalid
		}
	}
	b, err := b64.DecodeString(s)
	if err != nil {
		return nil, ErrKeyInvalid
	}
	return b, nil
}

// rsaKey reads n and e, Base64urlUInt values without leading zero octets
// (RFC 7518 §2, §6.3.1).
func rsaKey(o object) (*publicKey, error) {
	n, err := o.bytes("n")
	if err != nil {
		return nil, err
	}
	e, err := o.bytes("e")
	if err != nil {
		return nil, err
	}
	if n[0] == 0 || e[0] == 0 || len(e) > 4 || n[len(n)-1]&1 == 0 {
		return nil, ErrKeyInvalid
	}
	mod := new(big.Int).SetBytes(n)
	switch bits := mod.BitLen(); {
	case bits < minRSABits:
		return nil, ErrWeakKey
	case bits > maxRSABits:
		return nil, ErrKeyInvalid
	}
	var exp uint64
	for _, b := range e {
		exp = exp<<8 | uint64(b)
	}
	switch {
	case exp < 3 || exp&1 == 0:
		return nil, ErrWeakKey
	case exp > 1<<31-1:
		return nil, ErrKeyInvalid
	}
	tp := thumbprint(`{"e":"`, e, `","kty":"RSA","n":"`, n, `"}`)
	return &publicKey{kind: kindRSA, key: &rsa.PublicKey{N: mod, E: int(exp)}, thumbprint: tp}, nil
}

type curve struct {
	c    elliptic.Curve
	size int
	kind keyKind
}

var curves = map[string]curve{
	"P-256": {elliptic.P256(), 32, kindP256},
	"P-384": {elliptic.P384(), 48, kindP384},
	"P-521": {elliptic.P521(), 66, kindP521},
}

// ecKey reads crv, x and y. Coordinates have the curve's full size (RFC
// 7518 §6.2.1.2), and the point must be on the curve and not at infinity:
// a point off the curve is how invalid-curve attacks begin.
func ecKey(o object) (*publicKey, error) {
	name, _, ok := o.str("crv")
	c, known := curves[name]
	if !ok || !known {
		return nil, ErrKeyInvalid
	}
	x, err := o.bytes("x")
	if err != nil {
		return nil, err
	}
	y, err := o.bytes("y")
	if err != nil {
		return nil, err
	}
	if len(x) != c.size || len(y) != c.size {
		return nil, ErrKeyInvalid
	}
	point := make([]byte, 1, 1+2*c.size)
	point[0] = 4 // SEC 1 uncompressed
	point = append(append(point, x...), y...)
	pub, err := ecdsa.ParseUncompressedPublicKey(c.c, point)
	if err != nil {
		return nil, ErrKeyInvalid
	}
	tp := thumbprint(`{"crv":"`+name+`","kty":"EC","x":"`, x, `","y":"`, y, `"}`)
	return &publicKey{kind: c.kind, key: pub, thumbprint: tp}, nil
}

// okpKey reads an Ed25519 key (RFC 8037 §2). X25519 and X448 are for key
// agreement and Ed448 is not supported.
func okpKey(o object) (*publicKey, error) {
	if crv, _, ok := o.str("crv"); !ok || crv != "Ed25519" {
		return nil, ErrKeyInvalid
	}
	x, err := o.bytes("x")
	if err != nil {
		return nil, err
	}
	if len(x) != ed25519.PublicKeySize {
		return nil, ErrKeyInvalid
	}
	if err := checkEd25519Point(x); err != nil {
		return nil, err
	}
	tp := thumbprint(`{"crv":"Ed25519","kty":"OKP","x":"`, x, `"}`, nil, "")
	return &publicKey{kind: kindEd25519, key: ed25519.PublicKey(x), thumbprint: tp}, nil
}

// ed25519P is 2^255 - 19, little-endian.
var ed25519P = mustHex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")

// smallOrderY are the y coordinates (little-endian) of the eight points of
// order dividing 8 on edwards25519: 1 (the identity), p-1 (order 2), 0
// (order 4) and ±y8 (order 8). With such a public key a signature can be
// made without any private key (for the identity, R = identity and S = 0
// verify every message), so they are refused, with either sign bit.
var smallOrderY = [...][]byte{
	mustHex("0000000000000000000000000000000000000000000000000000000000000000"),
	mustHex("0100000000000000000000000000000000000000000000000000000000000000"),
	mustHex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
	mustHex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
	mustHex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
}

// checkEd25519Point refuses a non-canonical encoding (y >= p, which
// crypto/ed25519 accepts, RFC 8032 §5.1.3 does not) and a point of small order.
func checkEd25519Point(x []byte) error {
	var y [32]byte
	copy(y[:], x)
	y[31] &= 0x7f // the sign of x
	if !lessLE(y[:], ed25519P) {
		return ErrKeyInvalid
	}
	for _, s := range smallOrderY {
		if string(y[:]) == string(s) {
			return ErrWeakKey
		}
	}
	return nil
}

// lessLE reports a < b for little-endian numbers of equal length.
func lessLE(a, b []byte) bool {
	for i := len(a) - 1; i >= 0; i-- {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// thumbprint hashes the RFC 7638 canonical form: the fixed text around up
// to two base64url-encoded values. The values are re-encoded from the bytes
// read, which equal the JWK's own text since that was strict base64url.
func thumbprint(pre string, v1 []byte, mid string, v2 []byte, post string) string {
	buf := make([]byte, 0, len(pre)+len(mid)+len(post)+b64.EncodedLen(len(v1))+b64.EncodedLen(len(v2)))
	buf = append(buf, pre...)
	buf = b64.AppendEncode(buf, v1)
	buf = append(buf, mid...)
	buf = b64.AppendEncode(buf, v2)
	buf = append(buf, post...)
	sum := sha256.Sum256(buf)
	return b64.EncodeToString(sum[:])
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}
