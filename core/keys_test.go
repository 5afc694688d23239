package core_test

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"math/big"
	"net/http"
	"strings"
	"testing"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
)

var jkB64 = base64.RawURLEncoding

// jkJWK returns k's public JWK under kid, changed by edit.
func jkJWK(t *testing.T, k *authtest.Key, kid string, edit func(m map[string]any)) json.RawMessage {
	t.Helper()
	m := k.JWK()
	m["kid"] = kid
	if edit != nil {
		edit(m)
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func jkNewKey(t *testing.T, alg string) *authtest.Key {
	t.Helper()
	k, err := authtest.NewKey(alg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func jkRandom(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return jkB64.EncodeToString(b)
}

// TestUnusableKeysSkipped publishes, next to good keys of every supported
// type, keys the verifier must not use. Each bad key is skipped with its
// reason and reported through OnKeySkipped and the logger; the good keys
// load and verify; tokens under a skipped kid are refused as unknown.
func TestUnusableKeysSkipped(t *testing.T) {
	t.Parallel()
	iss := authtest.MustIssuer(t)
	rsaKey := iss.SigningKey()
	ecKey := jkNewKey(t, "ES256")
	small, err := authtest.NewRSAKey("RS256", 1024)
	if err != nil {
		t.Fatal(err)
	}
	x25519, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	huge := new(big.Int).Lsh(big.NewInt(1), 8199)
	huge.SetBit(huge, 0, 1)

	tests := []struct {
		name   string
		jwk    json.RawMessage
		reason error         // nil: any reason
		signer *authtest.Key // a key whose tokens carry this kid, when one exists
		alg    string        // the token alg for signer
	}{
		{name: "use enc", jwk: jkJWK(t, rsaKey, "bad-use-enc", func(m map[string]any) { m["use"] = "enc"; m["alg"] = "RSA-OAEP" }), reason: jkInternals.ErrKeyUse, signer: rsaKey, alg: "RS256"},
		{name: "use unknown", jwk: jkJWK(t, rsaKey, "bad-use-other", func(m map[string]any) { m["use"] = "tls" }), reason: jkInternals.ErrKeyUse},
		{name: "key_ops without verify", jwk: jkJWK(t, rsaKey, "bad-ops", func(m map[string]any) { m["key_ops"] = []string{"encrypt", "wrapKey"} }), reason: jkInternals.ErrKeyUse, signer: rsaKey, alg: "RS256"},
		{name: "key_ops sign only", jwk: jkJWK(t, rsaKey, "bad-ops-sign", func(m map[string]any) { m["key_ops"] = []string{"sign"} }), reason: jkInternals.ErrKeyUse},
		{name: "key_ops not an array", jwk: jkJWK(t, rsaKey, "bad-ops-string", func(m map[string]any) { m["key_ops"] = "verify" })},
		{name: "unknown kty", jwk: json.RawMessage(`{"kty":"XYZ","kid":"bad-kty","x":"` + jkRandom(t, 32) + `"}`), reason: jkInternals.ErrKeyType},
		{name: "no kty", jwk: jkJWK(t, rsaKey, "bad-no-kty", func(m map[string]any) { delete(m, "kty") }), reason: jkInternals.ErrKeyType},
		{name: "oct (HMAC secret)", jwk: json.RawMessage(`{"kty":"oct","kid":"bad-oct","alg":"HS256","k":"` + jkRandom(t, 32) + `"}`), reason: jkInternals.ErrKeyType},
		{name: "RSA 1024", jwk: jkJWK(t, small, "bad-rsa-1024", nil), reason: jkInternals.ErrKeyTooSmall, signer: small, alg: "RS256"},
		{name: "RSA over 8192 bits", jwk: json.RawMessage(`{"kty":"RSA","kid":"bad-rsa-huge","n":"` + jkB64.EncodeToString(huge.Bytes()) + `","e":"AQAB"}`), reason: jkInternals.ErrKeyTooLarge},
		{name: "RSA even exponent", jwk: jkJWK(t, rsaKey, "bad-e-even", func(m map[string]any) { m["e"] = "AAEAAg" }), reason: jkInternals.ErrKeyExponent},
		{name: "RSA exponent over 32 bits", jwk: jkJWK(t, rsaKey, "bad-e-long", func(m map[string]any) { m["e"] = jkB64.EncodeToString([]byte{1, 0, 0, 0, 0, 0, 1, 0, 1}) }), reason: jkInternals.ErrKeyExponent},
		{name: "RSA exponent 1", jwk: jkJWK(t, rsaKey, "bad-e-one", func(m map[string]any) { m["e"] = "AQ" })},
		{name: "secp256k1", jwk: json.RawMessage(`{"kty":"EC","kid":"bad-secp256k1","crv":"secp256k1","x":"` + jkRandom(t, 32) + `","y":"` + jkRandom(t, 32) + `"}`), reason: jkInternals.ErrKeyType},
		{name: "X25519", jwk: json.RawMessage(`{"kty":"OKP","kid":"bad-x25519","crv":"X25519","x":"` + jkB64.EncodeToString(x25519.PublicKey().Bytes()) + `"}`), reason: jkInternals.ErrKeyType},
		{name: "Ed448", jwk: json.RawMessage(`{"kty":"OKP","kid":"bad-ed448","crv":"Ed448","x":"` + jkRandom(t, 57) + `"}`), reason: jkInternals.ErrKeyType},
		{name: "EC point off the curve", jwk: jkJWK(t, ecKey, "bad-off-curve", func(m map[string]any) { m["y"] = jkRandom(t, 32) })},
		{name: "Ed25519 of the wrong length", jwk: json.RawMessage(`{"kty":"OKP","kid":"bad-ed-len","crv":"Ed25519","x":"` + jkRandom(t, 31) + `"}`)},
		{name: "broken base64", jwk: jkJWK(t, rsaKey, "bad-base64", func(m map[string]any) { m["n"] = "***not base64***" })},
		{name: "missing modulus", jwk: jkJWK(t, rsaKey, "bad-no-n", func(m map[string]any) { delete(m, "n") })},
		{name: "EC alg on an RSA key", jwk: jkJWK(t, rsaKey, "bad-alg-es-on-rsa", func(m map[string]any) { m["alg"] = "ES256" }), reason: jkInternals.ErrKeyAlg, signer: rsaKey, alg: "RS256"},
		{name: "HMAC alg on an RSA key", jwk: jkJWK(t, rsaKey, "bad-alg-hs", func(m map[string]any) { m["alg"] = "HS256" }), reason: jkInternals.ErrKeyAlg},
		{name: "encryption alg without use", jwk: jkJWK(t, rsaKey, "bad-alg-oaep", func(m map[string]any) { m["alg"] = "RSA-OAEP-256" }), reason: jkInternals.ErrKeyAlg},
		{name: "alg of another curve", jwk: jkJWK(t, ecKey, "bad-alg-curve", func(m map[string]any) { m["alg"] = "ES384" }), reason: jkInternals.ErrKeyAlg, signer: ecKey, alg: "ES256"},
		{name: "member of the wrong type", jwk: jkJWK(t, rsaKey, "bad-alg-type", func(m map[string]any) { m["alg"] = 256 })},
		{name: "duplicated member", jwk: json.RawMessage(strings.Replace(string(jkJWK(t, rsaKey, "bad-dup", nil)), `{`, `{"use":"sig","use":"sig",`, 1)), reason: jkInternals.ErrDuplicateKey},
	}

	// Good keys of every type, published as they come from providers:
	// with and without alg and use, with key_ops ["verify"].
	var good []*authtest.Key
	for _, alg := range []string{"PS256", "ES256", "ES384", "ES512", "EdDSA"} {
		k := jkNewKey(t, alg)
		iss.AddKey(k, false)
		good = append(good, k)
	}
	noAlg := jkNewKey(t, "RS256")
	noAlg.OmitAlg = true
	iss.AddKey(noAlg, false)
	good = append(good, rsaKey, noAlg)
	bare := jkNewKey(t, "ES256")
	withOps := jkNewKey(t, "RS512")
	extra := []json.RawMessage{
		jkJWK(t, bare, bare.ID, func(m map[string]any) { delete(m, "use"); delete(m, "alg") }),
		jkJWK(t, withOps, withOps.ID, func(m map[string]any) { m["key_ops"] = []string{"verify"} }),
	}
	good = append(good, bare, withOps)
	for _, tt := range tests {
		extra = append(extra, tt.jwk)
	}
	iss.SetExtraJWKs(extra...)

	e := jkStart(t, iss)
	e.ready()
	r := e.probe.last(t)
	if r.Err != nil || r.Keys != len(good) || r.Skipped != len(tests) {
		t.Fatalf("refresh = %+v, want %d keys loaded and %d skipped", r, len(good), len(tests))
	}
	reasons := map[string]error{}
	for _, s := range e.probe.Skipped() {
		reasons[s.kid] = s.reason
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m map[string]any
			_ = json.Unmarshal(tt.jwk, &m)
			kid, _ := m["kid"].(string)
			reason, ok := reasons[kid]
			switch {
			case !ok:
				t.Fatalf("kid %q was not reported as skipped", kid)
			case reason == nil:
				t.Fatalf("kid %q skipped without a reason", kid)
			case tt.reason != nil && !errors.Is(reason, tt.reason):
				t.Fatalf("kid %q skipped for %v, want %v", kid, reason, tt.reason)
			}
			if n := e.logs.find(slog.LevelWarn, "key skipped", "kid", kid); n != 1 {
				t.Fatalf("%d Warn log records for skipped kid %q, want 1", n, kid)
			}
			if tt.signer != nil {
				tok := iss.MustMint(t, nil, authtest.SignedBy(tt.signer), authtest.Header("kid", kid), authtest.Header("alg", tt.alg))
				_, err := e.verify(tok)
				jkWantErr(t, err, http.StatusUnauthorized, core.ErrUnknownKey)
			}
		})
	}
	t.Run("good keys verify", func(t *testing.T) {
		for _, k := range good {
			tok := iss.MustMint(t, nil, authtest.SignedBy(k))
			p, err := e.v.Verify(t.Context(), tok)
			if err != nil || p.KeyID != k.ID {
				t.Fatalf("%s key %s: %v", k.Alg, k.ID, err)
			}
		}
	})
}

// TestKeyBinding: one key, one algorithm. A key's stated alg binds the
// token's; a kid shared by keys of two types selects by the token's alg;
// a token without kid uses the key of a one-key set only.
func TestKeyBinding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(t *testing.T, iss *authtest.Issuer) (tok string)
		want  error // nil: verifies
	}{
		{name: "token alg other than the key's alg", setup: func(t *testing.T, iss *authtest.Issuer) string {
			return iss.MustMint(t, nil, authtest.Header("alg", "PS256"))
		}, want: core.ErrKeyMismatch},
		{name: "token alg of the key's type when the key states none", setup: func(t *testing.T, iss *authtest.Issuer) string {
			k := jkNewKey(t, "RS256")
			k.OmitAlg = true
			iss.AddKey(k, false)
			return iss.MustMint(t, nil, authtest.SignedBy(k), authtest.Header("alg", "PS384"))
		}},
		{name: "token alg of another type", setup: func(t *testing.T, iss *authtest.Issuer) string {
			k := jkNewKey(t, "ES256")
			k.OmitAlg = true
			iss.AddKey(k, false)
			return iss.MustMint(t, nil, authtest.SignedBy(iss.SigningKey()), authtest.Header("kid", k.ID))
		}, want: core.ErrKeyMismatch},
		{name: "kid shared by an RSA and an EC key", setup: func(t *testing.T, iss *authtest.Issuer) string {
			k := jkNewKey(t, "ES384")
			k.ID = iss.SigningKey().ID
			iss.AddKey(k, false)
			return iss.MustMint(t, nil, authtest.SignedBy(k))
		}},
		{name: "no kid, one key", setup: func(t *testing.T, iss *authtest.Issuer) string {
			return iss.MustMint(t, nil, authtest.Header("kid", authtest.Omit))
		}},
		{name: "no kid, two keys", setup: func(t *testing.T, iss *authtest.Issuer) string {
			iss.AddKey(jkNewKey(t, "ES256"), false)
			return iss.MustMint(t, nil, authtest.Header("kid", authtest.Omit))
		}, want: core.ErrUnknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			iss := authtest.MustIssuer(t)
			tok := tt.setup(t, iss)
			e := jkStart(t, iss)
			e.ready()
			_, err := e.verify(tok)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			jkWantErr(t, err, http.StatusUnauthorized, tt.want)
		})
	}
}
