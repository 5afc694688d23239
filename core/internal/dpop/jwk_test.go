package dpop_test

import (
	"crypto/ed25519"
	"errors"
	"math/big"
	"testing"

	"github.com/jwksauth/jwksauth/core/internal/dpop"
)

const rfc7638N = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"

func TestThumbprint(t *testing.T) {
	tests := []struct {
		name, jwk, want string
		err             error
	}{
		{
			// RFC 7638 §3.1.
			name: "RFC 7638 example",
			jwk:  `{"kty":"RSA","n":"` + rfc7638N + `","e":"AQAB","alg":"RS256","kid":"2011-04-29"}`,
			want: "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
		},
		{
			name: "RFC 7638 example, members reordered, spaced and escaped",
			jwk:  "{ \"e\" : \"AQ\\u0041B\",\n \"n\":\"" + rfc7638N + "\", \"kty\":\"RSA\" }",
			want: "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
		},
		{
			// RFC 8037 Appendix A.3.
			name: "RFC 8037 example",
			jwk:  `{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`,
			want: "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
		},
		{name: "private key", jwk: `{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}`, err: dpop.ErrPrivateKey},
		{name: "padded base64", jwk: `{"kty":"RSA","n":"` + rfc7638N + `","e":"AQAB="}`, err: dpop.ErrKeyInvalid},
		{name: "duplicate member", jwk: `{"kty":"RSA","n":"` + rfc7638N + `","e":"AQAB","e":"Aw"}`, err: dpop.ErrDuplicateMember},
		{name: "not JSON", jwk: `{"kty":`, err: dpop.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := dpop.Thumbprint([]byte(tc.jwk))
			if !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) || got != tc.want {
				t.Fatalf("Thumbprint = %q, %v; want %q, %v", got, err, tc.want, tc.err)
			}
		})
	}
}

// The key a test signer makes has the thumbprint Check reports.
func TestThumbprintOfGeneratedKeys(t *testing.T) {
	for alg, s := range testKeys(t) {
		t.Run(alg, func(t *testing.T) {
			tp, err := dpop.Thumbprint([]byte(mustJSON(s.publicJWK())))
			if err != nil || len(tp) != 43 {
				t.Fatalf("Thumbprint = %q, %v", tp, err)
			}
		})
	}
}

// edwards25519, for the test only: p, d, and affine point arithmetic.
var (
	edP = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	edD = func() *big.Int {
		d := new(big.Int).ModInverse(big.NewInt(121666), edP)
		d.Mul(d, big.NewInt(-121665))
		return d.Mod(d, edP)
	}()
)

// edDouble doubles (x, y) on -x² + y² = 1 + d x² y² (complete formulas).
func edDouble(x, y *big.Int) (*big.Int, *big.Int) {
	m := func(a ...*big.Int) *big.Int {
		r := big.NewInt(1)
		for _, v := range a {
			r.Mul(r, v)
		}
		return r.Mod(r, edP)
	}
	xy, dxxyy := m(x, y), m(edD, x, x, y, y)
	x3 := m(big.NewInt(2), xy, new(big.Int).ModInverse(new(big.Int).Add(big.NewInt(1), dxxyy), edP))
	num := new(big.Int).Add(m(y, y), m(x, x))
	den := new(big.Int).Sub(big.NewInt(1), dxxyy)
	y3 := m(num, new(big.Int).ModInverse(den.Mod(den, edP), edP))
	return x3, y3
}

// smallOrder decodes an encoded point and reports whether [8]P is the identity.
func smallOrder(t *testing.T, enc []byte) bool {
	le := make([]byte, 32)
	for i := range le {
		le[i] = enc[31-i]
	}
	le[0] &= 0x7f
	y := new(big.Int).SetBytes(le)
	yy := new(big.Int).Mul(y, y)
	num := new(big.Int).Sub(yy, big.NewInt(1))
	den := new(big.Int).Add(new(big.Int).Mul(edD, yy), big.NewInt(1))
	xx := num.Mul(num, new(big.Int).ModInverse(den.Mod(den, edP), edP))
	x := new(big.Int).ModSqrt(xx.Mod(xx, edP), edP)
	if x == nil {
		t.Fatalf("%x is not on the curve", enc)
	}
	for range 3 {
		x, y = edDouble(x, y)
	}
	return x.Sign() == 0 && y.Cmp(big.NewInt(1)) == 0
}

func edKey(x []byte) []byte {
	return []byte(`{"kty":"OKP","crv":"Ed25519","x":"` + enc.EncodeToString(x) + `"}`)
}

// Every point of small order is refused, with either sign bit, and the
// refusal is not of ordinary keys.
func TestEd25519SmallOrder(t *testing.T) {
	p := mustBytes(edP)
	ys := [][]byte{
		{0},
		{1},
		mustBytes(new(big.Int).Sub(edP, big.NewInt(1))),
		hexLE("7a03ac9277fdc74ec6cc392cfa53202a0f67100d760b3cba4fd84d3d706a17c7"),
		hexLE("05fc536d880238b13933c6d305acdfd5f098eff289f4c345b027b2c28f95e826"),
	}
	for _, y := range ys {
		enc := make([]byte, 32)
		copy(enc, y)
		if !smallOrder(t, enc) {
			t.Fatalf("%x is not of small order", enc)
		}
		for _, sign := range []byte{0, 0x80} {
			e := append([]byte(nil), enc...)
			e[31] |= sign
			if _, err := dpop.Thumbprint(edKey(e)); !errors.Is(err, dpop.ErrWeakKey) {
				t.Errorf("small-order key %x: %v, want ErrWeakKey", e, err)
			}
		}
	}
	// y = p is y = 0 written non-canonically.
	if _, err := dpop.Thumbprint(edKey(p)); !errors.Is(err, dpop.ErrKeyInvalid) {
		t.Errorf("non-canonical key: %v, want ErrKeyInvalid", err)
	}
	for _, s := range testKeys(t) {
		if pub, ok := s.priv.Public().(ed25519.PublicKey); ok && smallOrder(t, pub) {
			t.Fatal("a generated key of small order")
		}
	}
}

// mustBytes is v as 32 little-endian bytes.
func mustBytes(v *big.Int) []byte {
	be := v.FillBytes(make([]byte, 32))
	for i, j := 0, 31; i < j; i, j = i+1, j-1 {
		be[i], be[j] = be[j], be[i]
	}
	return be
}

// hexLE reads a big-endian hex number into 32 little-endian bytes.
func hexLE(s string) []byte {
	v, ok := new(big.Int).SetString(s, 16)
	if !ok {
		panic(s)
	}
	return mustBytes(v)
}
