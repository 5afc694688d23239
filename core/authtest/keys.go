// Package authtest is jwksauth's test kit, for its own tests and for yours:
// an in-process OpenID issuer (discovery and JWKS over plain http on
// loopback), signing keys of every supported type, token minting with any
// claims and headers, key rotation and a fault-injecting JWKS endpoint. The
// conformance table every framework adapter runs is in the sibling package
// conformance (core/authtest/conformance).
//
// Nothing here is for production: keys live in memory and the issuer serves
// plain http on loopback. It does not import testing or net/http/httptest,
// so an application may link the issuer into a development mode (the
// examples do) without the test packages coming along.
package authtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"

	"github.com/golang-jwt/jwt/v5"
)

// Key is a signing key with its public JWK.
type Key struct {
	// ID is the kid, published in the JWKS and written into minted tokens.
	ID string
	// Alg is the algorithm the key signs with (RS256, PS256, ES256, EdDSA…).
	Alg string
	// Signer is the private key.
	Signer crypto.Signer
	// OmitAlg leaves "alg" out of the published JWK, as some providers do.
	OmitAlg bool
}

// Algorithms lists every algorithm NewKey supports: all that a Verifier accepts.
var Algorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// NewKey generates a key for alg. RSA keys are 2048 bits. The kid is random.
func NewKey(alg string) (*Key, error) {
	var (
		s   crypto.Signer
		err error
	)
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		s, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		s, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ES384":
		s, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "ES512":
		s, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case "EdDSA":
		_, s, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, fmt.Errorf("authtest: unsupported algorithm %q", alg)
	}
	if err != nil {
		return nil, err
	}
	return &Key{ID: randomID(alg), Alg: alg, Signer: s}, nil
}

// NewRSAKey generates an RSA key of the given size, for tests of key-size rules.
func NewRSAKey(alg string, bits int) (*Key, error) {
	s, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, err
	}
	return &Key{ID: randomID(alg), Alg: alg, Signer: s}, nil
}

func randomID(prefix string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%x", prefix, b)
}

var b64 = base64.RawURLEncoding

// JWK returns the key's public JWK as a JSON object.
func (k *Key) JWK() map[string]any {
	m := map[string]any{"kid": k.ID, "use": "sig"}
	if !k.OmitAlg {
		m["alg"] = k.Alg
	}
	switch pub := k.Signer.Public().(type) {
	case *rsa.PublicKey:
		m["kty"] = "RSA"
		m["n"] = b64.EncodeToString(pub.N.Bytes())
		m["e"] = b64.EncodeToString(big.NewInt(int64(pub.E)).Bytes())
	case *ecdsa.PublicKey:
		size := (pub.Curve.Params().BitSize + 7) / 8
		m["kty"] = "EC"
		m["crv"] = pub.Curve.Params().Name
		m["x"] = b64.EncodeToString(pub.X.FillBytes(make([]byte, size)))
		m["y"] = b64.EncodeToString(pub.Y.FillBytes(make([]byte, size)))
	case ed25519.PublicKey:
		m["kty"] = "OKP"
		m["crv"] = "Ed25519"
		m["x"] = b64.EncodeToString(pub)
	}
	return m
}

// Sign returns the compact JWS of the given header and payload JSON, signed
// by k with alg. Nothing is checked or added: this is for building hostile
// tokens. Use Issuer.Mint for ordinary ones.
func (k *Key) Sign(alg string, header, payload []byte) (string, error) {
	input := b64.EncodeToString(header) + "." + b64.EncodeToString(payload)
	m := jwt.GetSigningMethod(alg)
	if m == nil {
		return "", fmt.Errorf("authtest: unknown algorithm %q", alg)
	}
	var key any = k.Signer
	if alg[0] == 'H' { // HMAC: sign with the key's public JWK bytes, as an attacker would
		pub, _ := json.Marshal(k.JWK())
		key = pub
	}
	sig, err := m.Sign(input, key)
	if err != nil {
		return "", err
	}
	return input + "." + b64.EncodeToString(sig), nil
}
