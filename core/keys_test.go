package core_test

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
	"github.com/jwksauth/jwksauth/core/internal/jwks"
)

// jwkOf returns k's public JWK under kid, changed by edit.
func jwkOf(t *testing.T, k *authtest.Key, kid string, edit func(m map[string]any)) json.RawMessage {
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

// newKey generates a key for alg, failing t if it cannot.
func newKey(t testing.TB, alg string) *authtest.Key {
	t.Helper()
	k, err := authtest.NewKey(alg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func randomB64(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b64.EncodeToString(b)
}

// TestUnusableKeysSkipped publishes, next to good keys of every supported
// type, keys the verifier must not use. Each bad key is skipped with its
// reason and reported through OnKeySkipped and the logger; the good keys
// load and verify; tokens under a skipped kid are refused as unknown.
func TestUnusableKeysSkipped(t *testing.T) {
	t.Parallel()
	iss := authtest.MustIssuer(t)
	rsaKey := iss.SigningKey()
	ecKey := newKey(t, "ES256")
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
	ecPub := ecKey.Signer.Public().(*ecdsa.PublicKey)
	p521 := newKey(t, "ES512").Signer.Public().(*ecdsa.PublicKey)
	shortX := ecKeyWithShortX(t)

	type skipCase struct {
		name   string
		jwk    json.RawMessage
		reason error         // nil: any reason
		signer *authtest.Key // a key whose tokens carry this kid, when one exists
		alg    string        // the token alg for signer
	}
	tests := []skipCase{
		{name: "use enc", jwk: jwkOf(t, rsaKey, "bad-use-enc", func(m map[string]any) { m["use"] = "enc"; m["alg"] = "RSA-OAEP" }), reason: jwks.ErrKeyUse, signer: rsaKey, alg: "RS256"},
		{name: "use unknown", jwk: jwkOf(t, rsaKey, "bad-use-other", func(m map[string]any) { m["use"] = "tls" }), reason: jwks.ErrKeyUse},
		{name: "key_ops without verify", jwk: jwkOf(t, rsaKey, "bad-ops", func(m map[string]any) { m["key_ops"] = []string{"encrypt", "wrapKey"} }), reason: jwks.ErrKeyUse, signer: rsaKey, alg: "RS256"},
		{name: "key_ops sign only", jwk: jwkOf(t, rsaKey, "bad-ops-sign", func(m map[string]any) { m["key_ops"] = []string{"sign"} }), reason: jwks.ErrKeyUse},
		{name: "key_ops not an array", jwk: jwkOf(t, rsaKey, "bad-ops-string", func(m map[string]any) { m["key_ops"] = "verify" })},
		{name: "unknown kty", jwk: json.RawMessage(`{"kty":"XYZ","kid":"bad-kty","x":"` + randomB64(t, 32) + `"}`), reason: jwks.ErrKeyType},
		{name: "no kty", jwk: jwkOf(t, rsaKey, "bad-no-kty", func(m map[string]any) { delete(m, "kty") }), reason: jwks.ErrKeyType},
		{name: "oct (HMAC secret)", jwk: json.RawMessage(`{"kty":"oct","kid":"bad-oct","alg":"HS256","k":"` + randomB64(t, 32) + `"}`), reason: jwks.ErrKeyType},
		{name: "RSA 1024", jwk: jwkOf(t, small, "bad-rsa-1024", nil), reason: jwks.ErrKeyTooSmall, signer: small, alg: "RS256"},
		{name: "RSA over 8192 bits", jwk: json.RawMessage(`{"kty":"RSA","kid":"bad-rsa-huge","n":"` + b64.EncodeToString(huge.Bytes()) + `","e":"AQAB"}`), reason: jwks.ErrKeyTooLarge},
		{name: "RSA even exponent", jwk: jwkOf(t, rsaKey, "bad-e-even", func(m map[string]any) { m["e"] = "AAEAAg" }), reason: jwks.ErrKeyExponent},
		{name: "RSA exponent over 32 bits", jwk: jwkOf(t, rsaKey, "bad-e-long", func(m map[string]any) { m["e"] = b64.EncodeToString([]byte{1, 0, 0, 0, 0, 0, 1, 0, 1}) }), reason: jwks.ErrKeyExponent},
		{name: "RSA exponent 1", jwk: jwkOf(t, rsaKey, "bad-e-one", func(m map[string]any) { m["e"] = "AQ" })},
		{name: "secp256k1", jwk: json.RawMessage(`{"kty":"EC","kid":"bad-secp256k1","crv":"secp256k1","x":"` + randomB64(t, 32) + `","y":"` + randomB64(t, 32) + `"}`), reason: jwks.ErrKeyType},
		{name: "X25519", jwk: json.RawMessage(`{"kty":"OKP","kid":"bad-x25519","crv":"X25519","x":"` + b64.EncodeToString(x25519.PublicKey().Bytes()) + `"}`), reason: jwks.ErrKeyType},
		{name: "Ed448", jwk: json.RawMessage(`{"kty":"OKP","kid":"bad-ed448","crv":"Ed448","x":"` + randomB64(t, 57) + `"}`), reason: jwks.ErrKeyType},
		{name: "EC point off the curve", jwk: jwkOf(t, ecKey, "bad-off-curve", func(m map[string]any) { m["y"] = randomB64(t, 32) })},
		{name: "Ed25519 of the wrong length", jwk: json.RawMessage(`{"kty":"OKP","kid":"bad-ed-len","crv":"Ed25519","x":"` + randomB64(t, 31) + `"}`)},
		{name: "broken base64", jwk: jwkOf(t, rsaKey, "bad-base64", func(m map[string]any) { m["n"] = "***not base64***" })},
		{name: "missing modulus", jwk: jwkOf(t, rsaKey, "bad-no-n", func(m map[string]any) { delete(m, "n") })},
		{name: "EC alg on an RSA key", jwk: jwkOf(t, rsaKey, "bad-alg-es-on-rsa", func(m map[string]any) { m["alg"] = "ES256" }), reason: jwks.ErrKeyAlg, signer: rsaKey, alg: "RS256"},
		{name: "HMAC alg on an RSA key", jwk: jwkOf(t, rsaKey, "bad-alg-hs", func(m map[string]any) { m["alg"] = "HS256" }), reason: jwks.ErrKeyAlg},
		{name: "encryption alg without use", jwk: jwkOf(t, rsaKey, "bad-alg-oaep", func(m map[string]any) { m["alg"] = "RSA-OAEP-256" }), reason: jwks.ErrKeyAlg},
		{name: "alg of another curve", jwk: jwkOf(t, ecKey, "bad-alg-curve", func(m map[string]any) { m["alg"] = "ES384" }), reason: jwks.ErrKeyAlg, signer: ecKey, alg: "ES256"},
		{name: "member of the wrong type", jwk: jwkOf(t, rsaKey, "bad-alg-type", func(m map[string]any) { m["alg"] = 256 })},
		{name: "duplicated member", jwk: json.RawMessage(strings.Replace(string(jwkOf(t, rsaKey, "bad-dup", nil)), `{`, `{"use":"sig","use":"sig",`, 1)), reason: jwks.ErrDuplicateKey},

		// Points that are no safe public key (docs/security.md, "Weak keys").
		// jwkset checks EC points against their curve, but not the size
		// of the coordinates, and Ed25519 keys only for their length.
		{name: "EC point at infinity (x = y = 0)", jwk: ecJWK("bad-ec-infinity", "P-256", make([]byte, 32), make([]byte, 32)), reason: jwks.ErrKeyOffCurve},
		{name: "P-384 point at infinity", jwk: ecJWK("bad-ec384-infinity", "P-384", make([]byte, 48), make([]byte, 48)), reason: jwks.ErrKeyOffCurve},
		{name: "EC x equal to the field prime", jwk: ecJWK("bad-ec-x-p", "P-256", elliptic.P256().Params().P.FillBytes(make([]byte, 32)), ecPub.Y.FillBytes(make([]byte, 32))), reason: jwks.ErrKeyOffCurve},
		{name: "P-521 point off the curve", jwk: ecJWK("bad-ec521-off", "P-521", p521.X.FillBytes(make([]byte, 66)), new(big.Int).Xor(p521.Y, big.NewInt(1)).FillBytes(make([]byte, 66))), reason: jwks.ErrKeyOffCurve},
		{name: "EC x one octet short (leading zero dropped)", jwk: jwkOf(t, shortX, "bad-ec-short-x", func(m map[string]any) {
			m["x"] = b64.EncodeToString(shortX.Signer.Public().(*ecdsa.PublicKey).X.Bytes())
		}), reason: jwks.ErrKeyEncoding, signer: shortX, alg: "ES256"},
		{name: "EC y with a leading zero octet added", jwk: jwkOf(t, ecKey, "bad-ec-long-y", func(m map[string]any) {
			m["y"] = b64.EncodeToString(append([]byte{0}, ecPub.Y.FillBytes(make([]byte, 32))...))
		}), reason: jwks.ErrKeyEncoding, signer: ecKey, alg: "ES256"},
		{name: "P-256 coordinates in P-384 size", jwk: ecJWK("bad-ec-wide", "P-256", ecPub.X.FillBytes(make([]byte, 48)), ecPub.Y.FillBytes(make([]byte, 48))), reason: jwks.ErrKeyEncoding},
		{name: "Ed25519 y of no point", jwk: edJWK(t, "bad-ed-no-point", "0200000000000000000000000000000000000000000000000000000000000000"), reason: jwks.ErrKeyOffCurve},
	}
	for i, p := range smallOrderEd {
		tests = append(tests, skipCase{name: "Ed25519 small order: " + p.name, jwk: edJWK(t, "bad-ed-torsion-"+strconv.Itoa(i), p.hex), reason: jwks.ErrKeySmallOrder})
	}
	for i, p := range nonCanonicalEd {
		tests = append(tests, skipCase{name: "Ed25519 non-canonical: " + p.name, jwk: edJWK(t, "bad-ed-noncanonical-"+strconv.Itoa(i), p.hex), reason: jwks.ErrKeyEncoding})
	}

	// Good keys of every type, published as they come from providers:
	// with and without alg and use, with key_ops ["verify"].
	var good []*authtest.Key
	for _, alg := range []string{"PS256", "ES256", "ES384", "ES512", "EdDSA"} {
		k := newKey(t, alg)
		iss.AddKey(k, false)
		good = append(good, k)
	}
	noAlg := newKey(t, "RS256")
	noAlg.OmitAlg = true
	iss.AddKey(noAlg, false)
	good = append(good, rsaKey, noAlg)
	bare := newKey(t, "ES256")
	withOps := newKey(t, "RS512")
	extra := []json.RawMessage{
		jwkOf(t, bare, bare.ID, func(m map[string]any) { delete(m, "use"); delete(m, "alg") }),
		jwkOf(t, withOps, withOps.ID, func(m map[string]any) { m["key_ops"] = []string{"verify"} }),
	}
	good = append(good, bare, withOps)
	for _, tt := range tests {
		extra = append(extra, tt.jwk)
	}
	iss.SetExtraJWKs(extra...)

	e := startVerifier(t, iss)
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
				wantErr(t, err, core.ErrUnknownKey, http.StatusUnauthorized)
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
			k := newKey(t, "RS256")
			k.OmitAlg = true
			iss.AddKey(k, false)
			return iss.MustMint(t, nil, authtest.SignedBy(k), authtest.Header("alg", "PS384"))
		}},
		{name: "token alg of another type", setup: func(t *testing.T, iss *authtest.Issuer) string {
			k := newKey(t, "ES256")
			k.OmitAlg = true
			iss.AddKey(k, false)
			return iss.MustMint(t, nil, authtest.SignedBy(iss.SigningKey()), authtest.Header("kid", k.ID))
		}, want: core.ErrKeyMismatch},
		{name: "kid shared by an RSA and an EC key", setup: func(t *testing.T, iss *authtest.Issuer) string {
			k := newKey(t, "ES384")
			k.ID = iss.SigningKey().ID
			iss.AddKey(k, false)
			return iss.MustMint(t, nil, authtest.SignedBy(k))
		}},
		{name: "no kid, one key", setup: func(t *testing.T, iss *authtest.Issuer) string {
			return iss.MustMint(t, nil, authtest.Header("kid", authtest.Omit))
		}},
		{name: "no kid, two keys", setup: func(t *testing.T, iss *authtest.Issuer) string {
			iss.AddKey(newKey(t, "ES256"), false)
			return iss.MustMint(t, nil, authtest.Header("kid", authtest.Omit))
		}, want: core.ErrUnknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			iss := authtest.MustIssuer(t)
			tok := tt.setup(t, iss)
			e := startVerifier(t, iss)
			e.ready()
			_, err := e.verify(tok)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			wantErr(t, err, tt.want, http.StatusUnauthorized)
		})
	}
}

// smallOrderEd are the eight points of small order of edwards25519 ([8]P is
// the identity), canonically encoded as RFC 8032 §5.1.2 does: y in little
// endian, the low bit of x in the top bit. With the first one as public key,
// the identity point and S = 0 make a valid Ed25519 signature of every
// message (see TestHostileIdentityKeyForgery).
var smallOrderEd = []struct{ name, hex string }{
	{"identity (order 1)", "0100000000000000000000000000000000000000000000000000000000000000"},
	{"(0, -1) (order 2)", "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"},
	{"y = 0, x even (order 4)", "0000000000000000000000000000000000000000000000000000000000000000"},
	{"y = 0, x odd (order 4)", "0000000000000000000000000000000000000000000000000000000000000080"},
	{"order 8, first y, x even", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"},
	{"order 8, first y, x odd", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"},
	{"order 8, second y, x even", "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"},
	{"order 8, second y, x odd", "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85"},
}

// nonCanonicalEd are encodings RFC 8032 §5.1.3 refuses but lenient
// decoders (Go's crypto/ed25519 among them) read as a point: y at or above
// p = 2^255-19, which is read as y - p, and x = 0 with its sign bit set.
var nonCanonicalEd = []struct{ name, hex string }{
	{"identity with the sign bit", "0100000000000000000000000000000000000000000000000000000000000080"},
	{"(0, -1) with the sign bit", "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"},
	{"y = p+1 (the identity)", "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"},
	{"y = p+1 with the sign bit", "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"},
	{"y = p (order 4)", "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"},
	{"y = p with the sign bit", "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"},
	{"y = p+3 (a point of large order)", "f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"},
	{"y = 2^255-1", "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"},
}

// edJWK is an Ed25519 JWK whose x is the hex-encoded point.
func edJWK(t *testing.T, kid, point string) json.RawMessage {
	t.Helper()
	return json.RawMessage(`{"kty":"OKP","crv":"Ed25519","use":"sig","alg":"EdDSA","kid":"` + kid + `","x":"` + b64.EncodeToString(decodeHex(t, point)) + `"}`)
}

// ecJWK is an EC JWK with the coordinates exactly as given.
func ecJWK(kid, crv string, x, y []byte) json.RawMessage {
	return json.RawMessage(`{"kty":"EC","crv":"` + crv + `","use":"sig","kid":"` + kid + `","x":"` + b64.EncodeToString(x) + `","y":"` + b64.EncodeToString(y) + `"}`)
}

// ecKeyWithShortX generates P-256 keys until one has an x coordinate
// whose first octet is zero (one key in 256).
func ecKeyWithShortX(t *testing.T) *authtest.Key {
	t.Helper()
	for range 1 << 14 {
		k := newKey(t, "ES256")
		if k.Signer.Public().(*ecdsa.PublicKey).X.BitLen() <= 248 {
			return k
		}
	}
	t.Fatal("no P-256 key with a leading zero octet in x")
	return nil
}
