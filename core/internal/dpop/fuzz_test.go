package dpop_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"github.com/jwksauth/jwksauth/core/internal/dpop"
)

// FuzzCheck feeds Check arbitrary proofs and requests. Whatever the input,
// Check must not panic, must answer one of its documented errors, and may
// accept a proof within the size cap, which is then refused as a replay.
func FuzzCheck(f *testing.F) {
	ks := fuzzKeys()
	for _, alg := range []string{"ES256", "EdDSA"} {
		f.Add(newParts(ks[alg]).mint(ks[alg]), "GET", "https", "api.example.com", "/notes", testToken)
	}
	es := ks["ES256"]
	f.Add(mintRaw(es, `{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC"}}`, `{}`), "GET", "https", "api.example.com", "/notes", "")
	f.Add(mintRaw(es, `{"typ":"dpop+jwt","alg":"none"}`, `{"jti":"a","jti":"b"}`), "POST", "http", "h", "/", "")
	f.Add(strings.Repeat(".", 1000), "GET", "https", "h", "/", "")
	f.Add("", "", "", "", "", "")

	f.Fuzz(func(t *testing.T, proof, method, scheme, host, path, token string) {
		c, err := dpop.New(dpop.Config{})
		if err != nil {
			t.Fatal(err)
		}
		req := dpop.Request{Method: method, Scheme: scheme, Host: host, Path: path, AccessToken: token}
		res, err := c.Check(context.Background(), proof, req, testNow)
		if err != nil {
			if !errors.Is(err, dpop.ErrInvalidProof) && !errors.Is(err, dpop.ErrUseNonce) &&
				!errors.Is(err, dpop.ErrKeyBinding) && !errors.Is(err, dpop.ErrStoreUnavailable) {
				t.Fatalf("Check: undocumented error %v", err)
			}
			return
		}
		if res.Thumbprint == "" || res.Algorithm == "" {
			t.Fatalf("accepted without a thumbprint or algorithm: %+v", res)
		}
		if len(proof) > 8<<10 {
			t.Fatalf("accepted a proof of %d bytes, over the default cap", len(proof))
		}
		if _, err := c.Check(context.Background(), proof, req, testNow); !errors.Is(err, dpop.ErrReplay) {
			t.Fatalf("the same proof twice: %v, want ErrReplay", err)
		}
	})
}

// FuzzThumbprint feeds Thumbprint arbitrary JWKs: it must not panic, and a
// key it accepts has a thumbprint that is 43 base64url characters (SHA-256).
func FuzzThumbprint(f *testing.F) {
	ks := fuzzKeys()
	for _, alg := range []string{"ES256", "EdDSA"} {
		f.Add(mustJSON(ks[alg].publicJWK()))
	}
	f.Add(`{"kty":"EC","crv":"P-256","x":"","y":"","d":"AA"}`)
	f.Add(`{"kty":"oct","k":"AA"}`)
	f.Fuzz(func(t *testing.T, jwk string) {
		tp, err := dpop.Thumbprint([]byte(jwk))
		if err != nil {
			return
		}
		if len(tp) != 43 || strings.ContainsAny(tp, "+/=") {
			t.Fatalf("thumbprint %q", tp)
		}
	})
}

// fuzzKeys are ES256 and EdDSA keys for the seeds. Not testKeys: every
// fuzz worker process runs the target from the start, and an RSA key
// generation there can outlast a short -fuzztime.
func fuzzKeys() map[string]*signer {
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return map[string]*signer{"ES256": {alg: "ES256", priv: p256}, "EdDSA": {alg: "EdDSA", priv: ed}}
}
