package dpop_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/jwksauth/jwksauth/core/internal/dpop"
)

var enc = base64.RawURLEncoding

// signer is a test key pair and the JWS algorithm it signs with.
type signer struct {
	alg  string
	priv crypto.Signer // nil for hmacKey
	hmac []byte
}

var (
	keysOnce sync.Once
	keys     map[string]*signer
)

// testKeys are generated once per test binary: RSA generation is slow.
func testKeys(t testing.TB) map[string]*signer {
	t.Helper()
	keysOnce.Do(func() {
		rsa2048, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		p521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
		_, ed, _ := ed25519.GenerateKey(rand.Reader)
		keys = map[string]*signer{
			"RS256": {alg: "RS256", priv: rsa2048},
			"PS256": {alg: "PS256", priv: rsa2048},
			"RS512": {alg: "RS512", priv: rsa2048},
			"ES256": {alg: "ES256", priv: p256},
			"ES384": {alg: "ES384", priv: p384},
			"ES512": {alg: "ES512", priv: p521},
			"EdDSA": {alg: "EdDSA", priv: ed},
		}
	})
	return keys
}

// publicJWK is the JWK of s's public key, as a map a test may change.
func (s *signer) publicJWK() map[string]any {
	switch k := s.priv.Public().(type) {
	case *rsa.PublicKey:
		return map[string]any{"kty": "RSA", "n": enc.EncodeToString(k.N.Bytes()), "e": enc.EncodeToString(big.NewInt(int64(k.E)).Bytes())}
	case *ecdsa.PublicKey:
		b, _ := k.Bytes()
		size := (len(b) - 1) / 2
		return map[string]any{"kty": "EC", "crv": k.Curve.Params().Name, "x": enc.EncodeToString(b[1 : 1+size]), "y": enc.EncodeToString(b[1+size:])}
	case ed25519.PublicKey:
		return map[string]any{"kty": "OKP", "crv": "Ed25519", "x": enc.EncodeToString(k)}
	}
	panic("unknown key")
}

// sign returns the JWS signature of s's algorithm over input.
func (s *signer) sign(input string) []byte {
	h, hash := sha256.New(), crypto.SHA256
	switch s.alg[2:] {
	case "384":
		h, hash = sha512.New384(), crypto.SHA384
	case "512":
		h, hash = sha512.New(), crypto.SHA512
	}
	if s.hmac != nil {
		m := hmac.New(sha256.New, s.hmac)
		m.Write([]byte(input))
		return m.Sum(nil)
	}
	h.Write([]byte(input))
	d := h.Sum(nil)
	var sig []byte
	var err error
	switch k := s.priv.(type) {
	case *rsa.PrivateKey:
		if s.alg[0] == 'P' {
			sig, err = rsa.SignPSS(rand.Reader, k, hash, d, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		} else {
			sig, err = rsa.SignPKCS1v15(nil, k, hash, d)
		}
	case *ecdsa.PrivateKey:
		var r, ss *big.Int
		r, ss, err = ecdsa.Sign(rand.Reader, k, d)
		size := (k.Curve.Params().BitSize + 7) / 8
		sig = append(r.FillBytes(make([]byte, size)), ss.FillBytes(make([]byte, size))...)
	case ed25519.PrivateKey:
		sig = ed25519.Sign(k, []byte(input))
	}
	if err != nil {
		panic(err)
	}
	return sig
}

const (
	testToken = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl"
	testHTU   = "https://api.example.com/notes"
)

var testNow = time.Unix(1_760_000_000, 0)

func ath(token string) string {
	sum := sha256.Sum256([]byte(token))
	return enc.EncodeToString(sum[:])
}

// goodRequest is the request the default proof was made for.
func goodRequest() dpop.Request {
	return dpop.Request{Method: "GET", Scheme: "https", Host: "api.example.com", Path: "/notes", AccessToken: testToken}
}

// proofParts are a proof's header and claims before signing.
type proofParts struct {
	header, claims map[string]any
}

// newParts returns a valid proof's header and claims for s.
func newParts(s *signer) proofParts {
	return proofParts{
		header: map[string]any{"typ": "dpop+jwt", "alg": s.alg, "jwk": s.publicJWK()},
		claims: map[string]any{"jti": rand.Text(), "htm": "GET", "htu": testHTU, "iat": testNow.Unix(), "ath": ath(testToken)},
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// mint signs the parts with s.
func (p proofParts) mint(s *signer) string {
	return mintRaw(s, mustJSON(p.header), mustJSON(p.claims))
}

// mintRaw signs the given header and claims texts with s.
func mintRaw(s *signer, header, claims string) string {
	input := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(claims))
	return input + "." + enc.EncodeToString(s.sign(input))
}
