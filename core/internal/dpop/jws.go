package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"math/big"
	"strings"
	"unsafe"
)

type scheme uint8

const (
	schemePKCS1 scheme = iota + 1
	schemePSS
	schemeECDSA
	schemeEdDSA
)

// algorithm is one accepted JWS signature algorithm (RFC 7518 §3, RFC 8037 §3.1).
type algorithm struct {
	name   string
	kind   keyKind
	hash   crypto.Hash
	scheme scheme
}

// algorithms are the only ones a proof may ever use: asymmetric signatures
// (RFC 9449 §4.3 step 5). none and HS* are absent on purpose: a proof
// signed with a shared secret proves nothing about a key pair.
var algorithms = map[string]*algorithm{
	"RS256": {"RS256", kindRSA, crypto.SHA256, schemePKCS1},
	"RS384": {"RS384", kindRSA, crypto.SHA384, schemePKCS1},
	"RS512": {"RS512", kindRSA, crypto.SHA512, schemePKCS1},
	"PS256": {"PS256", kindRSA, crypto.SHA256, schemePSS},
	"PS384": {"PS384", kindRSA, crypto.SHA384, schemePSS},
	"PS512": {"PS512", kindRSA, crypto.SHA512, schemePSS},
	"ES256": {"ES256", kindP256, crypto.SHA256, schemeECDSA},
	"ES384": {"ES384", kindP384, crypto.SHA384, schemeECDSA},
	"ES512": {"ES512", kindP521, crypto.SHA512, schemeECDSA},
	"EdDSA": {"EdDSA", kindEd25519, 0, schemeEdDSA},
}

// header is a proof's JOSE header, read.
type header struct {
	typ, alg string
	jwk      []byte // raw JSON object, nil when absent
}

func parseHeader(seg string) (header, error) {
	var h header
	raw, err := decodeSegment(seg)
	if err != nil {
		return h, err
	}
	o, err := parseObject(raw)
	if err != nil {
		return h, err
	}
	if _, ok := o.raw("crit"); ok {
		// RFC 7515 §4.1.11: this checker understands no extension.
		return h, ErrUnsupportedHeader
	}
	typ, _, ok1 := o.str("typ")
	alg, _, ok2 := o.str("alg")
	if !ok1 || !ok2 {
		return h, ErrMalformed
	}
	h.typ, h.alg = typ, alg
	if jwk, ok := o.raw("jwk"); ok {
		if jwk[0] != '{' {
			return h, ErrKeyInvalid
		}
		h.jwk = []byte(jwk)
	}
	return h, nil
}

// typOK reports whether typ names application/dpop+jwt (RFC 9449 §4.2).
// typ is a media type, so it is compared case-insensitively, and a value
// without "/" stands for "application/" plus the value (RFC 7515 §4.1.9).
func typOK(typ string) bool {
	const want = "dpop+jwt"
	if len(typ) > len(want) {
		prefix := typ[:len(typ)-len(want)]
		if !strings.EqualFold(prefix, "application/") {
			return false
		}
		typ = typ[len(prefix):]
	}
	return strings.EqualFold(typ, want)
}

// decodeSegment decodes one strict base64url segment of the compact JWS.
func decodeSegment(s string) ([]byte, error) {
	// The decoder skips \r and \n; a compact JWS must not contain them.
	if s == "" || strings.ContainsAny(s, "\r\n") {
		return nil, ErrMalformed
	}
	b, err := b64.DecodeString(s)
	if err != nil {
		return nil, ErrMalformed
	}
	return b, nil
}

// verifySignature checks sig over the signing input with key, whose kind
// the caller has matched to alg.
func verifySignature(alg *algorithm, key any, signed string, sig []byte) error {
	// Only read: the view avoids copying a proof of up to MaxProofSize.
	msg := unsafe.Slice(unsafe.StringData(signed), len(signed))
	var ok bool
	switch alg.scheme {
	case schemeEdDSA:
		ok = ed25519.Verify(key.(ed25519.PublicKey), msg, sig)
	case schemeECDSA:
		ok = verifyECDSA(key.(*ecdsa.PublicKey), digest(alg.hash, msg), sig)
	case schemePKCS1:
		ok = rsa.VerifyPKCS1v15(key.(*rsa.PublicKey), alg.hash, digest(alg.hash, msg), sig) == nil
	case schemePSS:
		// RFC 7518 §3.5: the salt is as long as the hash.
		opts := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: alg.hash}
		ok = rsa.VerifyPSS(key.(*rsa.PublicKey), alg.hash, digest(alg.hash, msg), sig, opts) == nil
	}
	if !ok {
		return ErrSignature
	}
	return nil
}

// verifyECDSA checks a JWS ECDSA signature: R and S as fixed-size
// big-endian octets, concatenated (RFC 7518 §3.4), not ASN.1.
func verifyECDSA(pub *ecdsa.PublicKey, d, sig []byte) bool {
	size := (pub.Curve.Params().BitSize + 7) / 8
	if len(sig) != 2*size {
		return false
	}
	r := new(big.Int).SetBytes(sig[:size])
	s := new(big.Int).SetBytes(sig[size:])
	return ecdsa.Verify(pub, d, r, s)
}

func digest(h crypto.Hash, msg []byte) []byte {
	switch h {
	case crypto.SHA256:
		d := sha256.Sum256(msg)
		return d[:]
	case crypto.SHA384:
		d := sha512.Sum384(msg)
		return d[:]
	default:
		d := sha512.Sum512(msg)
		return d[:]
	}
}
