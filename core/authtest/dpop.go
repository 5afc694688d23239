package authtest

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"maps"
	"strings"
	"time"
)

// Thumbprint returns the RFC 7638 SHA-256 thumbprint of the key's public
// JWK, base64url: the cnf.jkt of a token bound to it (RFC 9449 §6.1).
func (k *Key) Thumbprint() string {
	jwk := k.JWK()
	var members []string
	switch jwk["kty"] {
	case "RSA":
		members = []string{"e", "kty", "n"}
	case "EC":
		members = []string{"crv", "kty", "x", "y"}
	default:
		members = []string{"crv", "kty", "x"}
	}
	req := make(map[string]any, len(members))
	for _, m := range members {
		req[m] = jwk[m]
	}
	// encoding/json writes map keys sorted and without white space: the
	// form RFC 7638 §3 hashes (the values hold no characters it escapes).
	b, _ := json.Marshal(req)
	sum := sha256.Sum256(b)
	return b64.EncodeToString(sum[:])
}

// BoundTo binds the minted token to a DPoP key (RFC 9449 §6.1): its cnf
// claim holds the key's thumbprint, so a Verifier accepts it only under the
// DPoP scheme with a proof signed by k.
func BoundTo(k *Key) MintOption {
	return func(m *mint) { m.cnf = map[string]any{"jkt": k.Thumbprint()} }
}

// BoundToCertificate binds the minted token to a client certificate (RFC
// 8705 §3.1): its cnf claim holds the SHA-256 thumbprint of der, the
// certificate's DER bytes.
func BoundToCertificate(der []byte) MintOption {
	return func(m *mint) { m.cnf = map[string]any{"x5t#S256": CertificateThumbprint(der)} }
}

// CertificateThumbprint returns base64url(SHA-256(der)), the x5t#S256 of a
// certificate.
func CertificateThumbprint(der []byte) string {
	sum := sha256.Sum256(der)
	return b64.EncodeToString(sum[:])
}

// ProofOption changes one DPoP proof made by Proof: a claim or header
// parameter set (or, with Omit, removed), for tests of refusals.
type ProofOption func(*proof)

type proof struct {
	header, claims map[string]any
	private        bool
}

// ProofClaim sets (or, with Omit, removes) a claim of the proof: "htm",
// "htu", "iat", "jti", "ath", "nonce" or any other.
func ProofClaim(name string, value any) ProofOption {
	return func(p *proof) { p.claims[name] = value }
}

// ProofHeader sets (or, with Omit, removes) a header parameter of the
// proof. "alg" changes the algorithm written and used ("none" leaves the
// signature empty; HS256 signs with the public JWK's bytes, as an
// attacker would); "jwk" replaces the public key written.
func ProofHeader(name string, value any) ProofOption {
	return func(p *proof) { p.header[name] = value }
}

// ProofNonce puts a server nonce (RFC 9449 §9) in the proof.
func ProofNonce(nonce string) ProofOption { return ProofClaim("nonce", nonce) }

// ProofIssuedAt dates the proof (its iat), to test the proof window.
func ProofIssuedAt(t time.Time) ProofOption { return ProofClaim("iat", t.Unix()) }

// ProofWithPrivateKey writes the private key into the header's jwk, as a
// broken client might: a Verifier must refuse it.
func ProofWithPrivateKey() ProofOption { return func(p *proof) { p.private = true } }

// Proof returns a DPoP proof (RFC 9449 §4.2) signed by k for one request:
// typ dpop+jwt, k's public JWK in the header, a fresh random jti, iat now,
// htm method, htu the URL without query and fragment, and, when
// accessToken is not "", ath its SHA-256 hash. A proof is single-use: make
// a new one for every request.
func Proof(k *Key, method, url, accessToken string, opts ...ProofOption) (string, error) {
	if i := strings.IndexAny(url, "?#"); i >= 0 {
		url = url[:i]
	}
	jwk := k.JWK()
	delete(jwk, "kid")
	delete(jwk, "use")
	p := &proof{
		header: map[string]any{"typ": "dpop+jwt", "alg": k.Alg, "jwk": jwk},
		claims: map[string]any{"jti": randomID("proof"), "htm": method, "htu": url, "iat": time.Now().Unix()},
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		p.claims["ath"] = b64.EncodeToString(sum[:])
	}
	for _, o := range opts {
		o(p)
	}
	if p.private {
		if j, ok := p.header["jwk"].(map[string]any); ok {
			j = maps.Clone(j)
			addPrivate(j, k)
			p.header["jwk"] = j
		}
	}
	for _, m := range []map[string]any{p.header, p.claims} {
		for name, v := range maps.Clone(m) {
			if v == Omit {
				delete(m, name)
			}
		}
	}
	alg, _ := p.header["alg"].(string)
	hdr, err := json.Marshal(p.header)
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(p.claims)
	if err != nil {
		return "", err
	}
	if alg == "none" {
		return b64.EncodeToString(hdr) + "." + b64.EncodeToString(payload) + ".", nil
	}
	return k.Sign(alg, hdr, payload)
}

// MustProof is Proof that fails the test on error.
func MustProof(t TB, k *Key, method, url, accessToken string, opts ...ProofOption) string {
	t.Helper()
	p, err := Proof(k, method, url, accessToken, opts...)
	if err != nil {
		t.Fatalf("authtest: %v", err)
	}
	return p
}

// addPrivate writes k's private members into a JWK.
func addPrivate(jwk map[string]any, k *Key) {
	switch s := k.Signer.(type) {
	case *rsa.PrivateKey:
		jwk["d"] = b64.EncodeToString(s.D.Bytes())
	case *ecdsa.PrivateKey:
		if d, err := s.Bytes(); err == nil {
			jwk["d"] = b64.EncodeToString(d)
		}
	case ed25519.PrivateKey:
		jwk["d"] = b64.EncodeToString(s.Seed())
	}
}
