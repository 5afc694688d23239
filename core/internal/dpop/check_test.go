package dpop_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/jwksauth/jwksauth/core/internal/dpop"
)

type proofCase struct {
	name string
	alg  string // the signer; ES256 when empty
	// edit changes the header or claims before signing.
	edit func(p *proofParts)
	// proof, when set, makes the whole proof instead.
	proof func(s *signer) string
	req   func(r *dpop.Request)
	want  error // nil: accepted
}

func setClaim(name string, v any) func(p *proofParts) {
	return func(p *proofParts) { p.claims[name] = v }
}

func setHeader(name string, v any) func(p *proofParts) {
	return func(p *proofParts) { p.header[name] = v }
}

func dropClaim(name string) func(p *proofParts) {
	return func(p *proofParts) { delete(p.claims, name) }
}

func setJWK(name string, v any) func(p *proofParts) {
	return func(p *proofParts) { p.header["jwk"].(map[string]any)[name] = v }
}

func withPath(path string) func(r *dpop.Request) {
	return func(r *dpop.Request) { r.Path = path }
}

// tamper mints a good proof and changes its text.
func tamper(f func(seg []string) []string) func(s *signer) string {
	return func(s *signer) string {
		return strings.Join(f(strings.Split(newParts(s).mint(s), ".")), ".")
	}
}

var wellFormedCases = []proofCase{
	{name: "ES256", alg: "ES256"},
	{name: "ES384", alg: "ES384"},
	{name: "ES512", alg: "ES512"},
	{name: "RS256", alg: "RS256"},
	{name: "RS512", alg: "RS512"},
	{name: "PS256", alg: "PS256"},
	{name: "EdDSA", alg: "EdDSA"},
	{name: "oversized proof", edit: setClaim("pad", strings.Repeat("a", 9000)), want: dpop.ErrProofTooLarge},
	{name: "empty proof", proof: func(*signer) string { return "" }, want: dpop.ErrMalformed},
	{name: "two segments", proof: tamper(func(s []string) []string { return s[:2] }), want: dpop.ErrMalformed},
	{name: "four segments", proof: tamper(func(s []string) []string { return append(s, s[2]) }), want: dpop.ErrMalformed},
	{name: "padded header", proof: tamper(func(s []string) []string { s[0] += "="; return s }), want: dpop.ErrMalformed},
	{name: "std base64 in signature", proof: tamper(func(s []string) []string { s[2] = "+" + s[2][1:]; return s }), want: dpop.ErrMalformed},
	{name: "non-canonical base64 trailing bits", proof: tamper(func(s []string) []string {
		last := s[2][len(s[2])-1]
		s[2] = s[2][:len(s[2])-1] + string(last+1) // ES256: 4 unused bits, now not zero
		return s
	}), want: dpop.ErrMalformed},
	{name: "newline in header", proof: tamper(func(s []string) []string { s[0] = s[0][:4] + "\n" + s[0][4:]; return s }), want: dpop.ErrMalformed},
	{name: "claims not an object", proof: func(s *signer) string { return mintRaw(s, mustJSON(newParts(s).header), `["htm"]`) }, want: dpop.ErrMalformed},
	{name: "text after the claims", proof: func(s *signer) string {
		return mintRaw(s, mustJSON(newParts(s).header), mustJSON(newParts(s).claims)+" {}")
	}, want: dpop.ErrMalformed},
	{name: "invalid UTF-8 in claims", proof: func(s *signer) string {
		c := mustJSON(newParts(s).claims)
		return mintRaw(s, mustJSON(newParts(s).header), c[:len(c)-1]+`,"x":"`+"\xff"+`"}`)
	}, want: dpop.ErrMalformed},
	{name: "duplicate claim", proof: func(s *signer) string {
		c := mustJSON(newParts(s).claims)
		return mintRaw(s, mustJSON(newParts(s).header), c[:len(c)-1]+`,"htm":"POST"}`)
	}, want: dpop.ErrDuplicateMember},
	{name: "duplicate claim after unescaping", proof: func(s *signer) string {
		c := mustJSON(newParts(s).claims)
		return mintRaw(s, mustJSON(newParts(s).header), c[:len(c)-1]+`,"ht\u006d":"POST"}`)
	}, want: dpop.ErrDuplicateMember},
	{name: "duplicate header parameter", proof: func(s *signer) string {
		h := mustJSON(newParts(s).header)
		return mintRaw(s, h[:len(h)-1]+`,"typ":"dpop+jwt"}`, mustJSON(newParts(s).claims))
	}, want: dpop.ErrDuplicateMember},
	{name: "duplicate jwk member", proof: func(s *signer) string {
		p := newParts(s)
		jwk := mustJSON(p.header["jwk"])
		h := `{"alg":"ES256","typ":"dpop+jwt","jwk":` + jwk[:len(jwk)-1] + `,"kty":"EC"}}`
		return mintRaw(s, h, mustJSON(p.claims))
	}, want: dpop.ErrDuplicateMember},
	{name: "whitespace in the JSON", proof: func(s *signer) string {
		p := newParts(s)
		jwk := strings.ReplaceAll(mustJSON(p.header["jwk"]), ",", " ,\n ")
		h := "{\n \"alg\" : \"ES256\",\t\"typ\":\"dpop+jwt\", \"jwk\" :\r\n " + jwk + " }\n"
		return mintRaw(s, h, " "+strings.ReplaceAll(mustJSON(p.claims), `":`, `" : `)+" ")
	}},
	{name: "crit header", edit: setHeader("crit", []string{"exp"}), want: dpop.ErrUnsupportedHeader},
}

var headerCases = []proofCase{
	{name: "typ JWT", edit: setHeader("typ", "JWT"), want: dpop.ErrType},
	{name: "typ at+jwt", edit: setHeader("typ", "at+jwt"), want: dpop.ErrType},
	{name: "typ missing", edit: func(p *proofParts) { delete(p.header, "typ") }, want: dpop.ErrType},
	{name: "typ not a string", edit: setHeader("typ", 1), want: dpop.ErrMalformed},
	{name: "typ with a suffix", edit: setHeader("typ", "dpop+jwtx"), want: dpop.ErrType},
	{name: "typ other prefix", edit: setHeader("typ", "text/dpop+jwt"), want: dpop.ErrType},
	{name: "typ in other case", edit: setHeader("typ", "DPoP+JWT")},
	{name: "typ as a full media type", edit: setHeader("typ", "Application/dpop+jwt")},
	{name: "alg none", proof: func(s *signer) string {
		p := newParts(s)
		p.header["alg"] = "none"
		return enc.EncodeToString([]byte(mustJSON(p.header))) + "." + enc.EncodeToString([]byte(mustJSON(p.claims))) + "."
	}, want: dpop.ErrAlgorithm},
	{name: "alg HS256 with an oct key", proof: func(s *signer) string {
		secret := []byte("0123456789abcdef0123456789abcdef")
		hs := &signer{alg: "HS256", hmac: secret}
		p := newParts(s)
		p.header["alg"] = "HS256"
		p.header["jwk"] = map[string]any{"kty": "oct", "k": enc.EncodeToString(secret)}
		return p.mint(hs)
	}, want: dpop.ErrAlgorithm},
	{name: "alg missing", edit: func(p *proofParts) { delete(p.header, "alg") }, want: dpop.ErrAlgorithm},
	{name: "alg lower case", edit: setHeader("alg", "es256"), want: dpop.ErrAlgorithm},
	{name: "jwk missing", edit: func(p *proofParts) { delete(p.header, "jwk") }, want: dpop.ErrKeyMissing},
	{name: "jwk not an object", edit: setHeader("jwk", "key"), want: dpop.ErrKeyInvalid},
	{name: "jwk null", edit: setHeader("jwk", nil), want: dpop.ErrKeyInvalid},
	{name: "jwk with d", edit: setJWK("d", "AAAA"), want: dpop.ErrPrivateKey},
	{name: "RSA jwk with p", alg: "RS256", edit: setJWK("p", "AAAA"), want: dpop.ErrPrivateKey},
	{name: "OKP jwk with d", alg: "EdDSA", edit: setJWK("d", "AAAA"), want: dpop.ErrPrivateKey},
	{name: "oct jwk with k", edit: setHeader("jwk", map[string]any{"kty": "oct", "k": "c2VjcmV0"}), want: dpop.ErrPrivateKey},
	{name: "oct jwk", edit: setHeader("jwk", map[string]any{"kty": "oct"}), want: dpop.ErrKeyInvalid},
	{name: "jwk without kty", edit: func(p *proofParts) { delete(p.header["jwk"].(map[string]any), "kty") }, want: dpop.ErrKeyInvalid},
	{name: "jwk for encryption", edit: setJWK("use", "enc"), want: dpop.ErrKeyInvalid},
	{name: "jwk for signatures", edit: setJWK("use", "sig")},
	{name: "EC jwk on secp256k1", edit: setJWK("crv", "secp256k1"), want: dpop.ErrKeyInvalid},
	{name: "EC point off the curve", edit: func(p *proofParts) {
		jwk := p.header["jwk"].(map[string]any)
		y, _ := enc.DecodeString(jwk["y"].(string))
		y[len(y)-1] ^= 1
		jwk["y"] = enc.EncodeToString(y)
	}, want: dpop.ErrKeyInvalid},
	{name: "EC coordinate short", edit: func(p *proofParts) {
		x, _ := enc.DecodeString(p.header["jwk"].(map[string]any)["x"].(string))
		setJWK("x", enc.EncodeToString(x[1:]))(p)
	}, want: dpop.ErrKeyInvalid},
	{name: "RSA 1024 bits", alg: "RS256", edit: func(p *proofParts) {
		n, _ := rand.Prime(rand.Reader, 1024)
		setJWK("n", enc.EncodeToString(n.Bytes()))(p)
	}, want: dpop.ErrWeakKey},
	{name: "RSA 8192 bits", alg: "RS256", edit: func(p *proofParts) {
		n := new(big.Int).Lsh(big.NewInt(1), 8191)
		setJWK("n", enc.EncodeToString(n.Add(n, big.NewInt(1)).Bytes()))(p)
	}, want: dpop.ErrKeyInvalid},
	{name: "RSA exponent 1", alg: "RS256", edit: setJWK("e", "AQ"), want: dpop.ErrWeakKey},
	{name: "RSA modulus with a leading zero", alg: "RS256", edit: func(p *proofParts) {
		n, _ := enc.DecodeString(p.header["jwk"].(map[string]any)["n"].(string))
		setJWK("n", enc.EncodeToString(append([]byte{0}, n...)))(p)
	}, want: dpop.ErrKeyInvalid},
	// crypto/ed25519 accepts this signature, made without any private
	// key, for every message.
	{name: "Ed25519 identity key, forged signature", alg: "EdDSA", proof: func(s *signer) string {
		p := newParts(s)
		identity := make([]byte, 32)
		identity[0] = 1
		p.header["jwk"] = map[string]any{"kty": "OKP", "crv": "Ed25519", "x": enc.EncodeToString(identity)}
		input := enc.EncodeToString([]byte(mustJSON(p.header))) + "." + enc.EncodeToString([]byte(mustJSON(p.claims)))
		return input + "." + enc.EncodeToString(append(identity, make([]byte, 32)...)) // R = identity, S = 0
	}, want: dpop.ErrWeakKey},
	{name: "X25519 jwk", alg: "EdDSA", edit: setJWK("crv", "X25519"), want: dpop.ErrKeyInvalid},
	{name: "ES256 with an RSA key", alg: "RS256", edit: setHeader("alg", "ES256"), want: dpop.ErrKeyAlgMismatch},
	{name: "ES384 with a P-256 key", edit: setHeader("alg", "ES384"), want: dpop.ErrKeyAlgMismatch},
	{name: "EdDSA with an EC key", edit: setHeader("alg", "EdDSA"), want: dpop.ErrKeyAlgMismatch},
	{name: "RS256 with an OKP key", alg: "EdDSA", edit: setHeader("alg", "RS256"), want: dpop.ErrKeyAlgMismatch},
	{name: "jwk states another alg", edit: setJWK("alg", "ES384"), want: dpop.ErrKeyAlgMismatch},
	{name: "jwk states its alg", edit: setJWK("alg", "ES256")},
	{name: "jwk of another key", edit: func(p *proofParts) {
		other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		p.header["jwk"] = (&signer{alg: "ES256", priv: other}).publicJWK()
	}, want: dpop.ErrSignature},
	{name: "claims swapped after signing", proof: func(s *signer) string {
		seg := strings.Split(newParts(s).mint(s), ".")
		p := newParts(s)
		p.claims["htm"] = "DELETE"
		seg[1] = enc.EncodeToString([]byte(mustJSON(p.claims)))
		return strings.Join(seg, ".")
	}, want: dpop.ErrSignature},
	{name: "signature of another algorithm", alg: "RS256", edit: setHeader("alg", "PS256"), want: dpop.ErrSignature},
	{name: "ES256 signature in ASN.1", proof: tamper(func(s []string) []string {
		sig, _ := enc.DecodeString(s[2])
		s[2] = enc.EncodeToString(append([]byte{0x30, 0x44, 0x02, 0x20}, sig...))
		return s
	}), want: dpop.ErrSignature},
}

var claimCases = []proofCase{
	{name: "htm other method", edit: setClaim("htm", "POST"), want: dpop.ErrMethod},
	{name: "htm lower case", edit: setClaim("htm", "get"), want: dpop.ErrMethod},
	{name: "htm missing", edit: dropClaim("htm"), want: dpop.ErrClaimMissing},
	{name: "htm not a string", edit: setClaim("htm", 1), want: dpop.ErrClaimInvalid},
	{name: "htm null", edit: setClaim("htm", nil), want: dpop.ErrClaimInvalid},
	{name: "htu other path", edit: setClaim("htu", "https://api.example.com/other"), want: dpop.ErrURI},
	{name: "htu path prefix", edit: setClaim("htu", "https://api.example.com/notes/1"), want: dpop.ErrURI},
	{name: "htu other host", edit: setClaim("htu", "https://evil.example.com/notes"), want: dpop.ErrURI},
	{name: "htu http", edit: setClaim("htu", "http://api.example.com/notes"), want: dpop.ErrURI},
	{name: "htu other port", edit: setClaim("htu", "https://api.example.com:8443/notes"), want: dpop.ErrURI},
	{name: "htu relative", edit: setClaim("htu", "/notes"), want: dpop.ErrClaimInvalid},
	{name: "htu ftp", edit: setClaim("htu", "ftp://api.example.com/notes"), want: dpop.ErrClaimInvalid},
	{name: "htu with userinfo", edit: setClaim("htu", "https://user@api.example.com/notes"), want: dpop.ErrClaimInvalid},
	{name: "htu missing", edit: dropClaim("htu"), want: dpop.ErrClaimMissing},
	{name: "htu with the default port", edit: setClaim("htu", "https://api.example.com:443/notes")},
	{name: "htu with an empty port", edit: setClaim("htu", "https://api.example.com:/notes")},
	{name: "htu host and scheme case", edit: setClaim("htu", "HTTPS://API.Example.COM/notes")},
	{name: "htu query and fragment ignored", edit: setClaim("htu", "https://api.example.com/notes?page=2#top")},
	{name: "htu dot segments", edit: setClaim("htu", "https://api.example.com/a/./../notes")},
	{name: "htu encoded unreserved", edit: setClaim("htu", "https://api.example.com/n%6Ftes")},
	{name: "htu path case", edit: setClaim("htu", "https://api.example.com/Notes"), want: dpop.ErrURI},
	{name: "htu percent case", edit: setClaim("htu", "https://api.example.com/a%2fb"), req: withPath("/a%2Fb")},
	{name: "htu encoded slash", edit: setClaim("htu", "https://api.example.com/a%2Fb"), req: withPath("/a/b"), want: dpop.ErrURI},
	{name: "htu empty path", edit: setClaim("htu", "https://api.example.com"), req: withPath("/")},
	{name: "request with the default port", req: func(r *dpop.Request) { r.Host = "API.EXAMPLE.COM:443" }},
	{name: "request target with a query", req: withPath("/notes?page=2")},
	{name: "request with another port", req: func(r *dpop.Request) { r.Host = "api.example.com:8443" }, want: dpop.ErrURI},
	{name: "request path relative", req: withPath("notes"), want: dpop.ErrURI},
	{name: "iat 6 minutes old", edit: setClaim("iat", testNow.Add(-6*time.Minute).Unix()), want: dpop.ErrTooOld},
	{name: "iat 4m59s old", edit: setClaim("iat", testNow.Add(-299*time.Second).Unix())},
	{name: "iat 29s ahead", edit: setClaim("iat", testNow.Add(29*time.Second).Unix())},
	{name: "iat 31s ahead", edit: setClaim("iat", testNow.Add(31*time.Second).Unix()), want: dpop.ErrFuture},
	{name: "iat fractional", edit: setClaim("iat", float64(testNow.Unix())+0.5)},
	{name: "iat a string", edit: setClaim("iat", "1760000000"), want: dpop.ErrClaimInvalid},
	{name: "iat missing", edit: dropClaim("iat"), want: dpop.ErrClaimMissing},
	{name: "jti missing", edit: dropClaim("jti"), want: dpop.ErrClaimMissing},
	{name: "jti empty", edit: setClaim("jti", ""), want: dpop.ErrClaimInvalid},
	{name: "jti a number", edit: setClaim("jti", 7), want: dpop.ErrClaimInvalid},
	{name: "jti 256 bytes", edit: setClaim("jti", strings.Repeat("j", 256))},
	{name: "jti 257 bytes", edit: setClaim("jti", strings.Repeat("j", 257)), want: dpop.ErrClaimInvalid},
	{name: "ath of another token", edit: setClaim("ath", ath(testToken+"x")), want: dpop.ErrAccessTokenHash},
	{name: "ath padded", edit: setClaim("ath", ath(testToken)+"="), want: dpop.ErrAccessTokenHash},
	{name: "ath missing", edit: dropClaim("ath"), want: dpop.ErrClaimMissing},
	{name: "ath missing, no token", edit: dropClaim("ath"), req: func(r *dpop.Request) { r.AccessToken = "" }},
	{name: "ath a number", edit: setClaim("ath", 1), want: dpop.ErrClaimInvalid},
	{name: "nonce ignored when nonces are off", edit: setClaim("nonce", "anything")},
	{name: "token bound to another key", req: func(r *dpop.Request) { r.TokenThumbprint = ath("other") }, want: dpop.ErrKeyBinding},
}

func TestCheck(t *testing.T) {
	ks := testKeys(t)
	for _, group := range [][]proofCase{wellFormedCases, headerCases, claimCases} {
		for _, tc := range group {
			t.Run(tc.name, func(t *testing.T) {
				alg := tc.alg
				if alg == "" {
					alg = "ES256"
				}
				runCase(t, ks[alg], tc)
			})
		}
	}
}

func runCase(t *testing.T, s *signer, tc proofCase) {
	t.Helper()
	var proof string
	switch {
	case tc.proof != nil:
		proof = tc.proof(s)
	default:
		p := newParts(s)
		if tc.edit != nil {
			tc.edit(&p)
		}
		proof = p.mint(s)
	}
	req := goodRequest()
	if tc.req != nil {
		tc.req(&req)
	}
	c := newChecker(t, dpop.Config{})
	res, err := c.Check(context.Background(), proof, req, testNow)
	if tc.want == nil {
		if err != nil {
			t.Fatalf("Check: %v, want accepted", err)
		}
		checkResult(t, proof, res)
		return
	}
	if !errors.Is(err, tc.want) {
		t.Fatalf("Check: %v, want %v", err, tc.want)
	}
	if bound := errors.Is(tc.want, dpop.ErrKeyBinding); errors.Is(err, dpop.ErrInvalidProof) == bound {
		t.Fatalf("errors.Is(%v, ErrInvalidProof) = %v", err, !bound)
	}
	if res != (dpop.Result{}) {
		t.Fatalf("refused with a result: %+v", res)
	}
}

// checkResult compares the result with the proof's header.
func checkResult(t *testing.T, proof string, res dpop.Result) {
	t.Helper()
	raw, _ := enc.DecodeString(strings.Split(proof, ".")[0])
	var h struct {
		Alg string          `json:"alg"`
		JWK json.RawMessage `json:"jwk"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	want, err := dpop.Thumbprint(h.JWK)
	if err != nil || res.Thumbprint != want {
		t.Fatalf("Thumbprint = %q, want %q (%v)", res.Thumbprint, want, err)
	}
	if res.Algorithm != h.Alg {
		t.Fatalf("Algorithm = %q, header alg %q", res.Algorithm, h.Alg)
	}
	if d := res.IssuedAt.Sub(testNow); d < -5*time.Minute || d > time.Minute {
		t.Fatalf("IssuedAt = %v", res.IssuedAt)
	}
}

func newChecker(t testing.TB, cfg dpop.Config) *dpop.Checker {
	t.Helper()
	c, err := dpop.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
