package core_test

// The hostile-input catalogue: malicious and malformed tokens and
// requests, each with the exact sentinel (errors.Is) and HTTP answer it must
// get. Run with -v to see every case's outcome.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"hash"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
)

// statusOf is the status for each sentinel (docs/errors.md).
func statusOf(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, core.ErrInvalidRequest), errors.Is(err, core.ErrMultipleCredentials):
		return http.StatusBadRequest
	case errors.Is(err, core.ErrInsufficientScope):
		return http.StatusForbidden
	case errors.Is(err, core.ErrKeysUnavailable):
		return http.StatusServiceUnavailable
	case errors.Is(err, core.ErrMisconfigured):
		return http.StatusInternalServerError
	default:
		return http.StatusUnauthorized
	}
}

// fetchRecorder records every URL a verifier fetches.
type fetchRecorder struct {
	mu   sync.Mutex
	urls []string
}

func (r *fetchRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.urls = append(r.urls, req.URL.String())
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func (r *fetchRecorder) fetched() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.urls)
}

// hostileEnv is one issuer publishing an RSA (RS256, the signing key), an ES256,
// an ES384, an EdDSA and an alg-less RSA key; an attacker's loopback server
// that counts every request; and verifiers whose every fetch is recorded.
type hostileEnv struct {
	t                      *testing.T
	iss                    *authtest.Issuer
	rsa, ec, ec384, ed     *authtest.Key
	ec521                  *authtest.Key
	rsaNoAlg               *authtest.Key
	evilRSA, evilEC        *authtest.Key
	evil                   *httptest.Server
	evilHits               atomic.Int64
	v, at, cognito, srcs   *core.Verifier
	cookieOnly             *core.Verifier // the cookie source on, the query source off
	recorders              []*fetchRecorder
	now                    int64
	mIss, mAud, mExp, mIat string
}

func newHostileEnv(t *testing.T) *hostileEnv {
	t.Helper()
	e := &hostileEnv{t: t, iss: authtest.MustIssuer(t), now: time.Now().Unix()}
	e.rsa = e.iss.SigningKey()
	mk := func(alg string) *authtest.Key { return newKey(t, alg) }
	e.ec, e.ec384, e.ed, e.rsaNoAlg = mk("ES256"), mk("ES384"), mk("EdDSA"), mk("PS256")
	e.ec521 = mk("ES512")
	e.rsaNoAlg.OmitAlg = true
	for _, k := range []*authtest.Key{e.ec, e.ec384, e.ec521, e.ed, e.rsaNoAlg} {
		e.iss.AddKey(k, false)
	}
	// Weak Ed25519 keys, which the verifiers must skip (see weakEdKeys).
	var weak []json.RawMessage
	for _, w := range weakEdKeys() {
		weak = append(weak, edJWK(t, w.kid, w.hex))
	}
	e.iss.SetExtraJWKs(weak...)
	e.evilRSA, e.evilEC = mk("RS256"), mk("ES256")
	e.evil = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.evilHits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []any{e.evilRSA.JWK(), e.evilEC.JWK()}})
	}))
	t.Cleanup(e.evil.Close)

	build := func(opts ...core.Option) *core.Verifier {
		rec := &fetchRecorder{}
		e.recorders = append(e.recorders, rec)
		return newVerifier(t, e.iss, append([]core.Option{
			core.WithLogger(slog.New(slog.DiscardHandler)),
			core.WithHTTPClient(&http.Client{Transport: rec}),
			// Long enough that one test run sees at most one unknown-kid refresh.
			core.WithUnknownKIDCooldown(time.Hour),
		}, opts...)...)
	}
	aud := core.WithAudiences(authtest.DefaultAudience)
	e.v = build(aud)
	e.at = build(aud, core.WithRequireATJWT())
	e.srcs = build(aud, core.WithQueryToken(), core.WithCookieToken("at"))
	e.cookieOnly = build(aud, core.WithCookieToken("at"))
	// The Cognito preset, pointed at the local issuer (options after a
	// preset refine it).
	e.cognito = build(core.Cognito("eu-west-1", "eu-west-1_AbCdEf123", "cognito-client"),
		core.WithIssuer(e.iss.URL), core.WithJWKSURL(e.iss.JWKSURL()))

	e.mIss = `"iss":` + jsonString(e.iss.URL)
	e.mAud = `"aud":"account"`
	e.mExp = `"exp":` + strconv.FormatInt(e.now+3600, 10)
	e.mIat = `"iat":` + strconv.FormatInt(e.now, 10)
	return e
}

// weakEdKeys are the Ed25519 keys every verifier must skip: the points of
// small order and the non-canonical encodings that keys_test.go lists,
// under the kids the catalogue's JWKS publishes them with.
func weakEdKeys() []struct{ kid, name, hex string } {
	var out []struct{ kid, name, hex string }
	for i, p := range smallOrderEd {
		out = append(out, struct{ kid, name, hex string }{"weak-ed-" + strconv.Itoa(i), p.name, p.hex})
	}
	for i, p := range nonCanonicalEd {
		out = append(out, struct{ kid, name, hex string }{"weak-ed-nc-" + strconv.Itoa(i), p.name, p.hex})
	}
	return out
}

// edOrder is L, the order of the Ed25519 base point (RFC 8032 §5.1).
var edOrder, _ = new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)

// edAddL is an Ed25519 signature with k*L added to its S (a scalar in
// little endian): the same S modulo L, but not below L.
func edAddL(sig []byte, k int64) []byte {
	le := slices.Clone(sig[32:])
	slices.Reverse(le)
	n := new(big.Int).SetBytes(le)
	n.Add(n, new(big.Int).Mul(edOrder, big.NewInt(k)))
	out := n.FillBytes(make([]byte, 32))
	slices.Reverse(out)
	return append(slices.Clone(sig[:32]), out...)
}

// identitySig is the Ed25519 signature R = identity point, S = 0.
func identitySig() []byte {
	sig := make([]byte, 64)
	sig[0] = 1
	return sig
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// obj joins members into a JSON object's text (duplicates and escapes kept as written).
func obj(members ...string) string { return "{" + strings.Join(members, ",") + "}" }

// std is a valid payload with extra members appended.
func (e *hostileEnv) std(extra ...string) string {
	return obj(append([]string{e.mIss, `"sub":"user-123"`, e.mAud, e.mExp, e.mIat}, extra...)...)
}

// hdr is a header with alg and (unless empty) kid, then extra members.
func hdr(alg, kid string, extra ...string) string {
	ms := []string{`"alg":` + jsonString(alg)}
	if kid != "" {
		ms = append(ms, `"kid":`+jsonString(kid))
	}
	return obj(append(ms, extra...)...)
}

func (e *hostileEnv) sign(k *authtest.Key, alg, header, payload string) string {
	e.t.Helper()
	tok, err := k.Sign(alg, []byte(header), []byte(payload))
	if err != nil {
		e.t.Fatalf("sign: %v", err)
	}
	return tok
}

// signed is a token genuinely signed by the issuer's RS256 key.
func (e *hostileEnv) signed(header, payload string) string {
	return e.sign(e.rsa, "RS256", header, payload)
}

// good is a valid RS256 token whose payload is std(extra...).
func (e *hostileEnv) good(extra ...string) string {
	return e.signed(hdr("RS256", e.rsa.ID), e.std(extra...))
}

func join(header, payload string, sig []byte) string {
	return b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(payload)) + "." + b64.EncodeToString(sig)
}

func segments(tok string) (h, p, s string) {
	parts := strings.SplitN(tok, ".", 3)
	return parts[0], parts[1], parts[2]
}

func sigBytes(t *testing.T, tok string) []byte {
	_, _, s := segments(tok)
	b, err := b64.DecodeString(s)
	if err != nil {
		t.Fatalf("signature: %v", err)
	}
	return b
}

func hmacToken(alg string, secret []byte, header, payload string) string {
	h := map[string]func() hash.Hash{"HS256": sha256.New, "HS384": sha512.New384, "HS512": sha512.New}[alg]
	input := b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(payload))
	m := hmac.New(h, secret)
	m.Write([]byte(input))
	return input + "." + b64.EncodeToString(m.Sum(nil))
}

// nonCanonical changes the unused low bits of a base64url segment's last
// character, which a lenient decoder ignores: the text differs, the bytes
// do not.
func nonCanonical(t *testing.T, seg string) string {
	t.Helper()
	if len(seg)%4 != 2 && len(seg)%4 != 3 {
		t.Fatalf("segment of length %d has no unused bits", len(seg))
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, seg[len(seg)-1])
	out := seg[:len(seg)-1] + string(alphabet[i|1])
	lenient, err := b64.DecodeString(out)
	orig, _ := b64.DecodeString(seg)
	if err != nil || string(lenient) != string(orig) || out == seg {
		t.Fatalf("could not build a non-canonical twin of %q", seg)
	}
	return out
}

// tokenCase is one hostile token. want is the sentinel Verify must return
// (nil: accepted); viaHeader, when set, is the one an "Authorization: Bearer"
// request gets instead (characters outside RFC 6750's b64token are refused
// as a malformed request before the token is looked at).
type tokenCase struct {
	name      string
	v         *core.Verifier // nil: the default verifier
	tok       string
	want      error
	viaHeader error
}

func (e *hostileEnv) tokenCases(t *testing.T) []tokenCase {
	rsaKID, ecKID, ec384KID, edKID := e.rsa.ID, e.ec.ID, e.ec384.ID, e.ed.ID
	past := strconv.FormatInt(e.now-3600, 10)
	future := strconv.FormatInt(e.now+3600, 10)
	pastExp := `"exp":` + past
	noExp := func(extra ...string) string {
		return obj(append([]string{e.mIss, `"sub":"user-123"`, e.mAud}, extra...)...)
	}
	noAud := func(extra ...string) string {
		return obj(append([]string{e.mIss, `"sub":"user-123"`, e.mExp}, extra...)...)
	}
	noIss := func(extra ...string) string {
		return obj(append([]string{`"sub":"user-123"`, e.mAud, e.mExp}, extra...)...)
	}
	std := e.std()
	valid := e.good()
	forgedBy := func(k *authtest.Key, alg, kid, payload string) string {
		return e.sign(k, alg, hdr(alg, kid), payload)
	}

	// Public key material an attacker can use as an HMAC secret.
	pub := e.rsa.Signer.Public().(*rsa.PublicKey)
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatalf("MarshalPKIXPublicKey: %v", err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	jwkJSON, _ := json.Marshal(e.rsa.JWK())

	// ECDSA signatures.
	n256 := elliptic.P256().Params().N
	ecValid := e.sign(e.ec, "ES256", hdr("ES256", ecKID), std)
	ecSig := sigBytes(t, ecValid)
	rZero := append(make([]byte, 32), ecSig[32:]...)
	nn := append(n256.FillBytes(make([]byte, 32)), n256.FillBytes(make([]byte, 32))...)
	highS := slices.Clone(ecSig)
	s := new(big.Int).SetBytes(ecSig[32:])
	new(big.Int).Sub(n256, s).FillBytes(highS[32:])
	ecInput := signingInput(ecValid)
	withR := func(sig []byte, size int, r []byte) []byte { return append(slices.Clone(r), sig[size:]...) }
	withS := func(sig []byte, size int, s []byte) []byte { return append(slices.Clone(sig[:size]), s...) }
	n256b := n256.FillBytes(make([]byte, 32))
	ec384Valid := e.sign(e.ec384, "ES384", hdr("ES384", ec384KID), std)
	ec384Sig, ec384Input := sigBytes(t, ec384Valid), signingInput(ec384Valid)
	n384b := elliptic.P384().Params().N.FillBytes(make([]byte, 48))
	ec521Valid := e.sign(e.ec521, "ES512", hdr("ES512", e.ec521.ID), std)
	ec521Sig, ec521Input := sigBytes(t, ec521Valid), signingInput(ec521Valid)
	n521 := elliptic.P521().Params().N
	plusN521 := func(b []byte) []byte {
		return new(big.Int).Add(new(big.Int).SetBytes(b), n521).FillBytes(make([]byte, 66))
	}
	edValid := e.sign(e.ed, "EdDSA", hdr("EdDSA", edKID), std)
	edSig, edInput := sigBytes(t, edValid), signingInput(edValid)
	edSisL := edAddL(withS(edSig, 32, make([]byte, 32)), 1) // genuine R, S = L
	var weakKeyCases []tokenCase
	for _, w := range weakEdKeys() {
		weakKeyCases = append(weakKeyCases, tokenCase{
			name: "EdDSA R = identity, S = 0 under a skipped weak key: " + w.name,
			tok:  join(hdr("EdDSA", w.kid), std, identitySig()), want: core.ErrUnknownKey,
		})
	}

	rsaSig := sigBytes(t, valid)
	vh, vp, vs := segments(valid)

	// Tokens whose signature segment uses '-' or '_', for the standard-alphabet case.
	withURLChars := valid
	for i := 0; !strings.ContainsAny(withURLChars, "-_"); i++ {
		if i == 20 {
			t.Fatal("no token with '-' or '_' in 20 tries")
		}
		withURLChars = e.good(`"n":` + strconv.Itoa(i))
	}
	stdAlphabet := strings.NewReplacer("-", "+", "_", "/").Replace(withURLChars)

	// Header segment of length 2 or 3 mod 4, signed, for the non-canonical cases.
	var ncHeader string
	for pad := 0; ; pad++ {
		h := hdr("RS256", rsaKID, `"p":"`+strings.Repeat("x", pad)+`"`)
		if l := len(b64.EncodeToString([]byte(h))); l%4 == 2 || l%4 == 3 {
			ncHeader = h
			break
		}
	}
	ncTok := e.signed(ncHeader, std)
	nh, np, ns := segments(ncTok)

	// Attacker-controlled key sources in the header.
	evilJWK, _ := json.Marshal(e.evilRSA.JWK())
	cert := selfSignedCert(t, e.evilRSA)
	evilURL := e.evil.URL + "/jwks"
	jku := `"jku":` + jsonString(evilURL)
	x5u := `"x5u":` + jsonString(e.evil.URL+"/cert.pem")
	jwkHdr := `"jwk":` + string(evilJWK)
	x5c := `"x5c":[` + jsonString(cert) + `]`

	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	issEscaped := `"iss":` + strings.ReplaceAll(jsonString(e.iss.URL), "/", `\/`)

	return append(weakKeyCases, []tokenCase{
		// Algorithm: none and HMAC can never be accepted.
		{name: "alg none, empty signature", tok: join(hdr("none", rsaKID), std, nil), want: core.ErrAlgorithmNotAllowed},
		{name: "alg none, signature segment present", tok: join(hdr("none", rsaKID), std, []byte("x")), want: core.ErrAlgorithmNotAllowed},
		{name: "alg None", tok: join(hdr("None", rsaKID), std, []byte("x")), want: core.ErrAlgorithmNotAllowed},
		{name: "alg NONE", tok: join(hdr("NONE", rsaKID), std, []byte("x")), want: core.ErrAlgorithmNotAllowed},
		{name: "alg none with a genuine RS256 signature", tok: e.sign(e.rsa, "RS256", hdr("none", rsaKID), std), want: core.ErrAlgorithmNotAllowed},
		{name: "alg empty string", tok: join(hdr("", rsaKID), std, rsaSig), want: core.ErrAlgorithmNotAllowed},
		{name: "alg rs256 (lower case)", tok: e.sign(e.rsa, "RS256", hdr("rs256", rsaKID), std), want: core.ErrAlgorithmNotAllowed},
		{name: "alg with trailing space", tok: e.sign(e.rsa, "RS256", hdr("RS256 ", rsaKID), std), want: core.ErrAlgorithmNotAllowed},
		{name: "alg Ed25519 (fully specified name, not allowed)", tok: e.sign(e.ed, "EdDSA", hdr("Ed25519", edKID), std), want: core.ErrAlgorithmNotAllowed},
		{name: "alg missing", tok: e.signed(obj(`"kid":`+jsonString(rsaKID)), std), want: core.ErrTokenMalformed},
		{name: "alg only as ALG", tok: e.signed(obj(`"ALG":"RS256"`, `"kid":`+jsonString(rsaKID)), std), want: core.ErrTokenMalformed},
		{name: "alg null", tok: e.signed(obj(`"alg":null`, `"kid":`+jsonString(rsaKID)), std), want: core.ErrTokenMalformed},
		{name: "alg number 1e400", tok: e.signed(obj(`"alg":1e400`, `"kid":`+jsonString(rsaKID)), std), want: core.ErrTokenMalformed},
		{name: "alg array", tok: e.signed(obj(`"alg":["RS256"]`, `"kid":`+jsonString(rsaKID)), std), want: core.ErrTokenMalformed},
		{name: "alg written with escapes (same string), genuine", tok: e.signed(obj(`"alg":"RS\u0032\u0035\u0036"`, `"kid":`+jsonString(rsaKID)), std), want: nil},
		{name: "HS256 keyed with the RSA public key PEM (CVE-2017-11424)", tok: hmacToken("HS256", pemKey, hdr("HS256", rsaKID), std), want: core.ErrAlgorithmNotAllowed},
		{name: "HS384 keyed with the RSA public key PEM", tok: hmacToken("HS384", pemKey, hdr("HS384", rsaKID), std), want: core.ErrAlgorithmNotAllowed},
		{name: "HS512 keyed with the RSA public key PEM", tok: hmacToken("HS512", pemKey, hdr("HS512", rsaKID), std), want: core.ErrAlgorithmNotAllowed},
		{name: "HS256 keyed with the public key DER", tok: hmacToken("HS256", der, hdr("HS256", rsaKID), std), want: core.ErrAlgorithmNotAllowed},
		{name: "HS256 keyed with the public JWK JSON", tok: hmacToken("HS256", jwkJSON, hdr("HS256", rsaKID), std), want: core.ErrAlgorithmNotAllowed},
		{name: "HS256 keyed with the modulus bytes, no kid", tok: hmacToken("HS256", pub.N.Bytes(), hdr("HS256", ""), std), want: core.ErrAlgorithmNotAllowed},

		// One key, one algorithm.
		{name: "ES256 header with an RSA kid", tok: forgedBy(e.ec, "ES256", rsaKID, std), want: core.ErrKeyMismatch},
		{name: "RS256 header with an EC kid", tok: forgedBy(e.rsa, "RS256", ecKID, std), want: core.ErrKeyMismatch},
		{name: "EdDSA header with an EC kid", tok: forgedBy(e.ed, "EdDSA", ecKID, std), want: core.ErrKeyMismatch},
		{name: "ES256 header with an Ed25519 kid", tok: forgedBy(e.ec, "ES256", edKID, std), want: core.ErrKeyMismatch},
		{name: "ES384 header with a P-256 kid", tok: forgedBy(e.ec384, "ES384", ecKID, std), want: core.ErrKeyMismatch},
		{name: "ES256 header with a P-384 kid", tok: forgedBy(e.ec, "ES256", ec384KID, std), want: core.ErrKeyMismatch},
		{name: "PS256 genuinely signed by an RSA key whose JWK states RS256", tok: forgedBy(e.rsa, "PS256", rsaKID, std), want: core.ErrKeyMismatch},
		{name: "RS512 genuinely signed by an RSA key whose JWK states RS256", tok: forgedBy(e.rsa, "RS512", rsaKID, std), want: core.ErrKeyMismatch},
		{name: "PS256 on an RSA key that states no alg, genuine", tok: forgedBy(e.rsaNoAlg, "PS256", e.rsaNoAlg.ID, std), want: nil},
		{name: "RS256 on an RSA key that states no alg, genuine", tok: forgedBy(e.rsaNoAlg, "RS256", e.rsaNoAlg.ID, std), want: nil},
		{name: "no kid while the JWKS holds several keys", tok: e.signed(hdr("RS256", ""), std), want: core.ErrUnknownKey},

		// Signatures.
		{name: "ES256 r=s=0 (CVE-2022-21449)", tok: join(hdr("ES256", ecKID), std, make([]byte, 64)), want: core.ErrSignatureInvalid},
		{name: "ES256 r=s=n (curve order)", tok: join(hdr("ES256", ecKID), std, nn), want: core.ErrSignatureInvalid},
		{name: "ES256 r=0, genuine s", tok: ecInput + "." + b64.EncodeToString(rZero), want: core.ErrSignatureInvalid},
		{name: "ES384 r=s=0", tok: join(hdr("ES384", ec384KID), std, make([]byte, 96)), want: core.ErrSignatureInvalid},
		{name: "EdDSA all-zero signature", tok: join(hdr("EdDSA", edKID), std, make([]byte, 64)), want: core.ErrSignatureInvalid},
		{name: "RS256 all-zero signature", tok: join(hdr("RS256", rsaKID), std, make([]byte, 256)), want: core.ErrSignatureInvalid},
		{name: "RS256 signature truncated by one byte", tok: signingInput(valid) + "." + b64.EncodeToString(rsaSig[:255]), want: core.ErrSignatureInvalid},
		{name: "RS256 signature extended by one byte", tok: signingInput(valid) + "." + b64.EncodeToString(append(slices.Clone(rsaSig), 0)), want: core.ErrSignatureInvalid},
		{name: "ES256 signature extended to 65 bytes", tok: ecInput + "." + b64.EncodeToString(append(slices.Clone(ecSig), 1)), want: core.ErrSignatureInvalid},
		{name: "empty signature segment", tok: signingInput(valid) + ".", want: core.ErrTokenMalformed},
		{name: "signature moved from another genuine token", tok: signingInput(e.good(`"scope":"admin"`)) + "." + vs, want: core.ErrSignatureInvalid},
		{name: "signed by the attacker's key under the issuer's kid", tok: forgedBy(e.evilRSA, "RS256", rsaKID, std), want: core.ErrSignatureInvalid},
		{name: "ES256 high-s twin of a genuine signature (malleable, same claims)", tok: ecInput + "." + b64.EncodeToString(highS), want: nil},
		{name: "ES256 s=0, genuine r", tok: ecInput + "." + b64.EncodeToString(withS(ecSig, 32, make([]byte, 32))), want: core.ErrSignatureInvalid},
		{name: "ES256 r=n, genuine s", tok: ecInput + "." + b64.EncodeToString(withR(ecSig, 32, n256b)), want: core.ErrSignatureInvalid},
		{name: "ES256 s=n, genuine r", tok: ecInput + "." + b64.EncodeToString(withS(ecSig, 32, n256b)), want: core.ErrSignatureInvalid},
		{name: "ES256 r=2^256-1, genuine s", tok: ecInput + "." + b64.EncodeToString(withR(ecSig, 32, bytes32FF())), want: core.ErrSignatureInvalid},
		{name: "ES256 s=2^256-1, genuine r", tok: ecInput + "." + b64.EncodeToString(withS(ecSig, 32, bytes32FF())), want: core.ErrSignatureInvalid},
		{name: "ES384 r=n, genuine s", tok: ec384Input + "." + b64.EncodeToString(withR(ec384Sig, 48, n384b)), want: core.ErrSignatureInvalid},
		{name: "ES384 s=0, genuine r", tok: ec384Input + "." + b64.EncodeToString(withS(ec384Sig, 48, make([]byte, 48))), want: core.ErrSignatureInvalid},
		{name: "ES512 genuine", tok: ec521Valid, want: nil},
		{name: "ES512 r+n (same r modulo n), genuine s", tok: ec521Input + "." + b64.EncodeToString(withR(ec521Sig, 66, plusN521(ec521Sig[:66]))), want: core.ErrSignatureInvalid},
		{name: "ES512 s+n (same s modulo n), genuine r", tok: ec521Input + "." + b64.EncodeToString(withS(ec521Sig, 66, plusN521(ec521Sig[66:]))), want: core.ErrSignatureInvalid},
		{name: "EdDSA S+L (same S modulo L), genuine R", tok: edInput + "." + b64.EncodeToString(edAddL(edSig, 1)), want: core.ErrSignatureInvalid},
		{name: "EdDSA S+2L, genuine R", tok: edInput + "." + b64.EncodeToString(edAddL(edSig, 2)), want: core.ErrSignatureInvalid},
		{name: "EdDSA S=L, genuine R", tok: edInput + "." + b64.EncodeToString(edSisL), want: core.ErrSignatureInvalid},
		{name: "EdDSA R = identity, S = 0 under a genuine key", tok: join(hdr("EdDSA", edKID), std, identitySig()), want: core.ErrSignatureInvalid},

		// A signature failure is never masked by a claims failure (CVE-2024-51744).
		{name: "expired and badly signed", tok: forgedBy(e.evilRSA, "RS256", rsaKID, noExp(pastExp)), want: core.ErrSignatureInvalid},
		{name: "expired, wrong iss, wrong aud and badly signed", tok: forgedBy(e.evilRSA, "RS256", rsaKID, obj(`"iss":"x"`, `"aud":"y"`, pastExp)), want: core.ErrSignatureInvalid},
		{name: "not yet valid and badly signed", tok: forgedBy(e.evilRSA, "RS256", rsaKID, e.std(`"nbf":`+future)), want: core.ErrSignatureInvalid},
		{name: "duplicate claims and badly signed", tok: forgedBy(e.evilRSA, "RS256", rsaKID, e.std(pastExp)), want: core.ErrSignatureInvalid},
		{name: "payload not JSON and badly signed", tok: forgedBy(e.evilRSA, "RS256", rsaKID, "not json"), want: core.ErrSignatureInvalid},
		{name: "payload not base64 and badly signed", tok: vh + ".!!!!." + vs, want: core.ErrSignatureInvalid, viaHeader: core.ErrInvalidRequest},

		// Structure and size (size cap cases are in TestHostileSizeCap).
		{name: "16 KiB of dots (CVE-2025-30204)", tok: strings.Repeat(".", core.DefaultMaxTokenSize), want: core.ErrTokenMalformed},
		{name: "header then 8000 dots", tok: vh + strings.Repeat(".", 8000), want: core.ErrTokenMalformed},
		{name: "two segments", tok: vh + "." + vp, want: core.ErrTokenMalformed},
		{name: "four segments", tok: valid + "." + vs, want: core.ErrTokenMalformed},
		{name: "five segments (JWE shape)", tok: vh + ".." + vp + "." + vs + ".x", want: core.ErrTokenMalformed},
		{name: "empty token", tok: "", want: core.ErrTokenMalformed, viaHeader: core.ErrInvalidRequest},
		{name: "empty header segment", tok: "." + vp + "." + vs, want: core.ErrTokenMalformed},
		{name: "empty payload segment, genuine signature", tok: e.signed(hdr("RS256", rsaKID), ""), want: core.ErrTokenMalformed},
		{name: "padding on the header segment", tok: vh + "==." + vp + "." + vs, want: core.ErrTokenMalformed, viaHeader: core.ErrInvalidRequest},
		{name: "padding on the signature segment", tok: valid + "==", want: core.ErrTokenMalformed},
		{name: "standard alphabet (+ and /)", tok: stdAlphabet, want: core.ErrTokenMalformed},
		{name: "CR LF inside the header segment", tok: vh[:4] + "\r\n" + vh[4:] + "." + vp + "." + vs, want: core.ErrTokenMalformed, viaHeader: core.ErrInvalidRequest},
		{name: "LF inside the signature segment", tok: vh + "." + vp + "." + vs[:4] + "\n" + vs[4:], want: core.ErrTokenMalformed, viaHeader: core.ErrInvalidRequest},
		{name: "space inside the payload segment (signature checked first)", tok: vh + "." + vp[:4] + " " + vp[4:] + "." + vs, want: core.ErrSignatureInvalid, viaHeader: core.ErrInvalidRequest},
		{name: "non-canonical trailing bits in the header", tok: nonCanonical(t, nh) + "." + np + "." + ns, want: core.ErrTokenMalformed},
		{name: "non-canonical trailing bits in the signature (same bytes)", tok: nh + "." + np + "." + nonCanonical(t, ns), want: core.ErrTokenMalformed},
		{name: "header is an array", tok: e.signed(`["alg","RS256"]`, std), want: core.ErrTokenMalformed},
		{name: "header is a string", tok: e.signed(`"RS256"`, std), want: core.ErrTokenMalformed},
		{name: "header is null", tok: e.signed(`null`, std), want: core.ErrTokenMalformed},
		{name: "header is a number", tok: e.signed(`1e999`, std), want: core.ErrTokenMalformed},
		{name: "header with trailing data", tok: e.signed(hdr("RS256", rsaKID)+"x", std), want: core.ErrTokenMalformed},
		{name: "header with a byte order mark", tok: e.signed("\ufeff"+hdr("RS256", rsaKID), std), want: core.ErrTokenMalformed},
		{name: "header nested 40 deep", tok: e.signed(hdr("RS256", rsaKID, `"x":`+deep(40)), std), want: core.ErrTokenMalformed},
		{name: "header nested 20 deep in an unknown parameter, genuine", tok: e.signed(hdr("RS256", rsaKID, `"x":`+deep(20)), std), want: nil},
		{name: "header with a huge number in an unknown parameter, genuine", tok: e.signed(hdr("RS256", rsaKID, `"x":1e999999`, `"y":`+strings.Repeat("9", 4000)), std), want: nil},
		{name: "header with invalid UTF-8", tok: e.signed(hdr("RS256", rsaKID, `"x":"`+"\xff\xfe"+`"`), std), want: core.ErrTokenMalformed},
		{name: "header alg twice (none, then RS256)", tok: e.signed(obj(`"alg":"none"`, `"alg":"RS256"`, `"kid":`+jsonString(rsaKID)), std), want: core.ErrDuplicateClaim},
		{name: "header alg twice, escaped name", tok: e.signed(obj(`"alg":"RS256"`, `"\u0061lg":"none"`, `"kid":`+jsonString(rsaKID)), std), want: core.ErrDuplicateClaim},
		{name: "header kid twice", tok: e.signed(hdr("RS256", rsaKID, `"kid":"other"`), std), want: core.ErrDuplicateClaim},

		// crit and key-source parameters.
		{name: "crit empty array", tok: e.signed(hdr("RS256", rsaKID, `"crit":[]`), std), want: core.ErrUnsupportedHeader},
		{name: "crit [exp]", tok: e.signed(hdr("RS256", rsaKID, `"crit":["exp"]`, `"exp":1`), std), want: core.ErrUnsupportedHeader},
		{name: "crit [b64] with b64 false (RFC 7797)", tok: e.signed(hdr("RS256", rsaKID, `"crit":["b64"]`, `"b64":false`), std), want: core.ErrUnsupportedHeader},
		{name: "crit null", tok: e.signed(hdr("RS256", rsaKID, `"crit":null`), std), want: core.ErrUnsupportedHeader},
		{name: "jku to the attacker, attacker-signed, issuer kid", tok: e.sign(e.evilRSA, "RS256", hdr("RS256", rsaKID, jku), std), want: core.ErrSignatureInvalid},
		{name: "jku to the attacker, attacker-signed, attacker kid", tok: e.sign(e.evilRSA, "RS256", hdr("RS256", e.evilRSA.ID, jku), std), want: core.ErrUnknownKey},
		{name: "x5u to the attacker, attacker-signed", tok: e.sign(e.evilRSA, "RS256", hdr("RS256", e.evilRSA.ID, x5u), std), want: core.ErrUnknownKey},
		{name: "jwk embedding the attacker's key, attacker-signed", tok: e.sign(e.evilRSA, "RS256", hdr("RS256", e.evilRSA.ID, jwkHdr), std), want: core.ErrUnknownKey},
		{name: "jwk embedding the attacker's key, issuer kid", tok: e.sign(e.evilRSA, "RS256", hdr("RS256", rsaKID, jwkHdr), std), want: core.ErrSignatureInvalid},
		{name: "jwk without kid, attacker-signed", tok: e.sign(e.evilRSA, "RS256", hdr("RS256", "", jwkHdr), std), want: core.ErrUnknownKey},
		{name: "x5c with the attacker's certificate, attacker-signed", tok: e.sign(e.evilRSA, "RS256", hdr("RS256", e.evilRSA.ID, x5c), std), want: core.ErrUnknownKey},
		{name: "jku, x5u, jwk, x5c on a genuine token (ignored)", tok: e.signed(hdr("RS256", rsaKID, jku, x5u, jwkHdr, x5c), std), want: nil},

		// kid is an opaque map key.
		{name: "kid path traversal", tok: forgedBy(e.evilRSA, "RS256", "../../../../etc/passwd", std), want: core.ErrUnknownKey},
		{name: "kid SQL-ish", tok: forgedBy(e.evilRSA, "RS256", "' OR '1'='1' --", std), want: core.ErrUnknownKey},
		{name: "kid is the attacker's URL", tok: forgedBy(e.evilRSA, "RS256", evilURL, std), want: core.ErrUnknownKey},
		{name: "kid 8 KiB long", tok: forgedBy(e.evilRSA, "RS256", strings.Repeat("k", 8<<10), std), want: core.ErrUnknownKey},
		{name: "kid with NUL", tok: forgedBy(e.evilRSA, "RS256", rsaKID+"\x00", std), want: core.ErrUnknownKey},
		{name: "kid with trailing space", tok: forgedBy(e.rsa, "RS256", rsaKID+" ", std), want: core.ErrUnknownKey},
		{name: "kid number", tok: e.signed(obj(`"alg":"RS256"`, `"kid":1`), std), want: core.ErrTokenMalformed},
		{name: "kid null", tok: e.signed(obj(`"alg":"RS256"`, `"kid":null`), std), want: core.ErrTokenMalformed},
		{name: "kid object", tok: e.signed(obj(`"alg":"RS256"`, `"kid":{"$ne":""}`), std), want: core.ErrTokenMalformed},
		{name: "kid array of the real kid", tok: e.signed(obj(`"alg":"RS256"`, `"kid":[`+jsonString(rsaKID)+`]`), std), want: core.ErrTokenMalformed},

		// Claims: strict decoding, genuinely signed.
		{name: "payload is an array", tok: e.signed(hdr("RS256", rsaKID), `[`+std+`]`), want: core.ErrTokenMalformed},
		{name: "payload is a string", tok: e.signed(hdr("RS256", rsaKID), `"claims"`), want: core.ErrTokenMalformed},
		{name: "payload is an empty object", tok: e.signed(hdr("RS256", rsaKID), `{}`), want: core.ErrMissingClaim},
		{name: "payload with trailing data", tok: e.signed(hdr("RS256", rsaKID), std+`{}`), want: core.ErrTokenMalformed},
		{name: "payload nested 40 deep", tok: e.good(`"x":` + deep(40)), want: core.ErrTokenMalformed},
		{name: "invalid UTF-8 in a claim value", tok: e.good(`"name":"` + "\xc3\x28" + `"`), want: core.ErrTokenMalformed},
		{name: "invalid UTF-8 in a claim name", tok: e.good(`"` + "\xff" + `":1`), want: core.ErrTokenMalformed},
		{name: "overlong UTF-8 encoding of '/' in a claim", tok: e.good(`"x":"` + "\xc0\xaf" + `"`), want: core.ErrTokenMalformed},
		{name: "raw control character in a claim", tok: e.good(`"x":"a` + "\x01" + `"`), want: core.ErrTokenMalformed},
		{name: "lone surrogate escape in sub (valid JSON, kept as U+FFFD)", tok: e.signed(hdr("RS256", rsaKID), obj(e.mIss, e.mAud, e.mExp, `"sub":"\ud800"`)), want: nil},
		{name: "names differing only in lone surrogates", tok: e.good(`"\ud800":1`, `"\udbff":2`), want: core.ErrDuplicateClaim},
		{name: "exp twice (expired first)", tok: e.signed(hdr("RS256", rsaKID), noExp(pastExp, e.mExp)), want: core.ErrDuplicateClaim},
		{name: "exp twice (expired last)", tok: e.good(pastExp), want: core.ErrDuplicateClaim},
		{name: "exp and escaped \\u0065xp", tok: e.good(`"\u0065xp":` + past), want: core.ErrDuplicateClaim},
		{name: "aud twice", tok: e.signed(hdr("RS256", rsaKID), noAud(`"aud":"other"`, e.mAud)), want: core.ErrDuplicateClaim},
		{name: "iss twice", tok: e.good(`"iss":"https://evil.example"`), want: core.ErrDuplicateClaim},
		{name: "scope twice", tok: e.good(`"scope":"a"`, `"scope":"admin"`), want: core.ErrDuplicateClaim},
		{name: "only EXP (upper case), no exp", tok: e.signed(hdr("RS256", rsaKID), noExp(`"EXP":`+future)), want: core.ErrMissingClaim},
		{name: "EXP expired beside a valid exp (EXP is not exp)", tok: e.good(`"EXP":` + past), want: nil},
		{name: "only Aud, no aud", tok: e.signed(hdr("RS256", rsaKID), noAud(`"Aud":"account"`)), want: core.ErrAudienceInvalid},
		{name: "only ISS, no iss", tok: e.signed(hdr("RS256", rsaKID), noIss(`"ISS":`+jsonString(e.iss.URL))), want: core.ErrIssuerInvalid},
		{name: "escaped name \\u0065xp is exp", tok: e.signed(hdr("RS256", rsaKID), noExp(`"\u0065xp":`+future)), want: nil},
		{name: "Cyrillic look-alike of exp", tok: e.signed(hdr("RS256", rsaKID), noExp(`"eх\u0070":`+future)), want: core.ErrMissingClaim},
		{name: "exp missing", tok: e.signed(hdr("RS256", rsaKID), noExp()), want: core.ErrMissingClaim},
		{name: "exp as string", tok: e.signed(hdr("RS256", rsaKID), noExp(`"exp":"`+future+`"`)), want: core.ErrClaimType},
		{name: "exp as bool", tok: e.signed(hdr("RS256", rsaKID), noExp(`"exp":true`)), want: core.ErrClaimType},
		{name: "exp as null", tok: e.signed(hdr("RS256", rsaKID), noExp(`"exp":null`)), want: core.ErrClaimType},
		{name: "exp as \"NaN\"", tok: e.signed(hdr("RS256", rsaKID), noExp(`"exp":"NaN"`)), want: core.ErrClaimType},
		{name: "exp as bare NaN (not JSON)", tok: e.signed(hdr("RS256", rsaKID), noExp(`"exp":NaN`)), want: core.ErrTokenMalformed},
		{name: "exp as bare Infinity (not JSON)", tok: e.signed(hdr("RS256", rsaKID), noExp(`"exp":Infinity`)), want: core.ErrTokenMalformed},
		{name: "exp 1e400 (overflows to +Inf)", tok: e.signed(hdr("RS256", rsaKID), noExp(`"exp":1e400`)), want: core.ErrClaimType},
		{name: "exp -1e400", tok: e.signed(hdr("RS256", rsaKID), noExp(`"exp":-1e400`)), want: core.ErrClaimType},
		{name: "exp as array", tok: e.signed(hdr("RS256", rsaKID), noExp(`"exp":[`+future+`]`)), want: core.ErrClaimType},
		{name: "exp as object", tok: e.signed(hdr("RS256", rsaKID), noExp(`"exp":{"$gt":0}`)), want: core.ErrClaimType},
		{name: "exp with a leading zero (not JSON)", tok: e.signed(hdr("RS256", rsaKID), noExp(`"exp":0`+future)), want: core.ErrTokenMalformed},
		{name: "exp hexadecimal (not JSON)", tok: e.signed(hdr("RS256", rsaKID), noExp(`"exp":0x7fffffff`)), want: core.ErrTokenMalformed},
		{name: "exp negative", tok: e.signed(hdr("RS256", rsaKID), noExp(`"exp":-1`)), want: core.ErrTokenExpired},
		{name: "exp fractional, 60.5 s ago", tok: e.signed(hdr("RS256", rsaKID), noExp(`"exp":`+strconv.FormatInt(e.now-61, 10)+`.5`)), want: core.ErrTokenExpired},
		{name: "exp fractional, in an hour", tok: e.signed(hdr("RS256", rsaKID), noExp(`"exp":`+future+`.25`)), want: nil},
		{name: "exp in exponent form, in an hour", tok: e.signed(hdr("RS256", rsaKID), noExp(`"exp":`+strconv.FormatFloat(float64(e.now+3600), 'e', -1, 64))), want: nil},
		{name: "exp 1e308 (far future; the issuer's choice)", tok: e.signed(hdr("RS256", rsaKID), noExp(`"exp":1e308`)), want: nil},
		{name: "aud as number", tok: e.signed(hdr("RS256", rsaKID), noAud(`"aud":1`)), want: core.ErrClaimType},
		{name: "aud as object", tok: e.signed(hdr("RS256", rsaKID), noAud(`"aud":{"account":true}`)), want: core.ErrClaimType},
		{name: "aud as null", tok: e.signed(hdr("RS256", rsaKID), noAud(`"aud":null`)), want: core.ErrClaimType},
		{name: "aud as empty array", tok: e.signed(hdr("RS256", rsaKID), noAud(`"aud":[]`)), want: core.ErrAudienceInvalid},
		{name: "aud array with null", tok: e.signed(hdr("RS256", rsaKID), noAud(`"aud":[null,"account"]`)), want: core.ErrClaimType},
		{name: "aud array with a number", tok: e.signed(hdr("RS256", rsaKID), noAud(`"aud":["account",1]`)), want: core.ErrClaimType},
		{name: "aud nested array", tok: e.signed(hdr("RS256", rsaKID), noAud(`"aud":[["account"]]`)), want: core.ErrClaimType},
		{name: "aud differs in case", tok: e.signed(hdr("RS256", rsaKID), noAud(`"aud":"Account"`)), want: core.ErrAudienceInvalid},
		{name: "aud with trailing space", tok: e.signed(hdr("RS256", rsaKID), noAud(`"aud":"account "`)), want: core.ErrAudienceInvalid},
		{name: "aud as empty string", tok: e.signed(hdr("RS256", rsaKID), noAud(`"aud":""`)), want: core.ErrAudienceInvalid},
		{name: "aud array holding the audience second", tok: e.signed(hdr("RS256", rsaKID), noAud(`"aud":["other","account"]`)), want: nil},
		{name: "iss with a trailing slash", tok: e.signed(hdr("RS256", rsaKID), noIss(`"iss":`+jsonString(e.iss.URL+"/"))), want: core.ErrIssuerInvalid},
		{name: "iss in upper case", tok: e.signed(hdr("RS256", rsaKID), noIss(`"iss":`+jsonString(strings.ToUpper(e.iss.URL)))), want: core.ErrIssuerInvalid},
		{name: "iss with a NUL suffix", tok: e.signed(hdr("RS256", rsaKID), noIss(`"iss":`+jsonString(e.iss.URL+"\x00"))), want: core.ErrIssuerInvalid},
		{name: "iss as array", tok: e.signed(hdr("RS256", rsaKID), noIss(`"iss":[`+jsonString(e.iss.URL)+`]`)), want: core.ErrClaimType},
		{name: "iss missing", tok: e.signed(hdr("RS256", rsaKID), noIss()), want: core.ErrIssuerInvalid},
		{name: "iss written with escaped slashes (same string)", tok: e.signed(hdr("RS256", rsaKID), noIss(issEscaped)), want: nil},
		{name: "nbf in an hour", tok: e.good(`"nbf":` + future), want: core.ErrTokenNotYetValid},
		{name: "nbf 20 s ahead (within leeway)", tok: e.good(`"nbf":` + strconv.FormatInt(e.now+20, 10)), want: nil},
		{name: "nbf as string", tok: e.good(`"nbf":"0"`), want: core.ErrClaimType},
		{name: "iat in an hour", tok: e.signed(hdr("RS256", rsaKID), obj(e.mIss, e.mAud, e.mExp, `"iat":`+future)), want: core.ErrIssuedInFuture},
		{name: "iat 20 s ahead (within leeway)", tok: e.signed(hdr("RS256", rsaKID), obj(e.mIss, e.mAud, e.mExp, `"iat":`+strconv.FormatInt(e.now+20, 10))), want: nil},
		{name: "iat as string", tok: e.signed(hdr("RS256", rsaKID), obj(e.mIss, e.mAud, e.mExp, `"iat":"now"`)), want: core.ErrClaimType},
		{name: "sub as number", tok: e.signed(hdr("RS256", rsaKID), obj(e.mIss, e.mAud, e.mExp, `"sub":42`)), want: core.ErrClaimType},
		{name: "scope as number", tok: e.good(`"scope":1`), want: core.ErrClaimType},
		{name: "scope array holding a number", tok: e.good(`"scope":["a",1]`), want: core.ErrClaimType},
		{name: "scp as object", tok: e.good(`"scp":{"a":true}`), want: core.ErrClaimType},
		{name: "client_id as number", tok: e.good(`"client_id":7`), want: core.ErrClaimType},
		{name: "token_use id (Cognito ID token shape)", tok: e.good(`"token_use":"id"`), want: core.ErrTokenType},
		{name: "800 distinct custom claims, genuine", tok: e.good(manyClaims(800)), want: nil},

		// Cognito preset: client-id check instead of aud, token_use must be access.
		{name: "Cognito access token", v: e.cognito, tok: e.signed(hdr("RS256", rsaKID), noAud(`"client_id":"cognito-client"`, `"token_use":"access"`)), want: nil},
		{name: "Cognito ID token (aud = client id, token_use id)", v: e.cognito, tok: e.signed(hdr("RS256", rsaKID), noAud(`"aud":"cognito-client"`, `"token_use":"id"`)), want: core.ErrAudienceInvalid},
		{name: "Cognito ID token without aud", v: e.cognito, tok: e.signed(hdr("RS256", rsaKID), noAud(`"client_id":"cognito-client"`, `"token_use":"id"`)), want: core.ErrTokenType},
		{name: "Cognito token_use Access (case)", v: e.cognito, tok: e.signed(hdr("RS256", rsaKID), noAud(`"client_id":"cognito-client"`, `"token_use":"Access"`)), want: core.ErrTokenType},
		{name: "Cognito token_use missing", v: e.cognito, tok: e.signed(hdr("RS256", rsaKID), noAud(`"client_id":"cognito-client"`)), want: core.ErrMissingClaim},
		{name: "Cognito token_use as number", v: e.cognito, tok: e.signed(hdr("RS256", rsaKID), noAud(`"client_id":"cognito-client"`, `"token_use":1`)), want: core.ErrClaimType},
		{name: "Cognito other client", v: e.cognito, tok: e.signed(hdr("RS256", rsaKID), noAud(`"client_id":"other"`, `"token_use":"access"`)), want: core.ErrClientInvalid},
		{name: "Cognito no client_id, azp only", v: e.cognito, tok: e.signed(hdr("RS256", rsaKID), noAud(`"azp":"cognito-client"`, `"token_use":"access"`)), want: core.ErrClientInvalid},

		// Header typ with WithRequireATJWT (RFC 9068).
		{name: "typ at+jwt", v: e.at, tok: e.signed(hdr("RS256", rsaKID, `"typ":"at+jwt"`), std), want: nil},
		{name: "typ AT+JWT", v: e.at, tok: e.signed(hdr("RS256", rsaKID, `"typ":"AT+JWT"`), std), want: nil},
		{name: "typ application/at+jwt", v: e.at, tok: e.signed(hdr("RS256", rsaKID, `"typ":"application/at+jwt"`), std), want: nil},
		{name: "typ Application/AT+JWT", v: e.at, tok: e.signed(hdr("RS256", rsaKID, `"typ":"Application/AT+JWT"`), std), want: nil},
		{name: "typ JWT", v: e.at, tok: e.signed(hdr("RS256", rsaKID, `"typ":"JWT"`), std), want: core.ErrTokenType},
		{name: "typ missing", v: e.at, tok: e.signed(hdr("RS256", rsaKID), std), want: core.ErrTokenType},
		{name: "typ with trailing space", v: e.at, tok: e.signed(hdr("RS256", rsaKID, `"typ":"at+jwt "`), std), want: core.ErrTokenType},
		{name: "typ with a media-type parameter", v: e.at, tok: e.signed(hdr("RS256", rsaKID, `"typ":"application/at+jwt; charset=utf-8"`), std), want: core.ErrTokenType},
		{name: "typ jwt+at", v: e.at, tok: e.signed(hdr("RS256", rsaKID, `"typ":"jwt+at"`), std), want: core.ErrTokenType},
		{name: "typ as number", v: e.at, tok: e.signed(hdr("RS256", rsaKID, `"typ":1`), std), want: core.ErrTokenMalformed},
		{name: "typ at+jwt only in the payload", v: e.at, tok: e.signed(hdr("RS256", rsaKID), e.std(`"typ":"at+jwt"`)), want: core.ErrTokenType},
		{name: "typ at+jwt, badly signed", v: e.at, tok: forgedBy(e.evilRSA, "RS256", rsaKID, std), want: core.ErrSignatureInvalid},
	}...)
}

func bytes32FF() []byte { return bytes.Repeat([]byte{0xff}, 32) }

func countOf(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

func manyClaims(n int) string {
	ms := make([]string, n)
	for i := range ms {
		ms[i] = `"c` + strconv.Itoa(i) + `":` + strconv.Itoa(i)
	}
	return strings.Join(ms, ",")
}

func selfSignedCert(t *testing.T, k *authtest.Key) string {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "attacker"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Signer.Public(), k.Signer)
	if err != nil {
		t.Fatalf("certificate: %v", err)
	}
	return b64.EncodeToString(der)
}

// serve answers one request the way every adapter must: the verifier's
// decision, written by core.
func serve(v *core.Verifier, r *http.Request) *http.Response {
	rec := httptest.NewRecorder()
	p, err := v.Authenticate(r.Context(), core.FromHTTP(r))
	if err != nil {
		core.AsError(err).WriteHTTP(rec)
	} else {
		rec.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(rec).Encode(map[string]string{"sub": p.Subject})
	}
	return rec.Result()
}

// checkAnswer checks an HTTP answer against the sentinel it must carry.
func checkAnswer(t *testing.T, resp *http.Response, want error) {
	t.Helper()
	if got := resp.StatusCode; got != statusOf(want) {
		t.Fatalf("HTTP status = %d, want %d", got, statusOf(want))
	}
	if want == nil {
		return
	}
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("body: %v", err)
	}
	ch := resp.Header.Get("WWW-Authenticate")
	switch statusOf(want) {
	case 400:
		if body.Error != "invalid_request" || !strings.Contains(ch, `error="invalid_request"`) {
			t.Fatalf("400 answer %q / %q", body.Error, ch)
		}
	case 401:
		if errors.Is(want, core.ErrNoCredentials) {
			if ch != `Bearer realm="api"` {
				t.Fatalf("challenge %q, want a bare one", ch)
			}
		} else if body.Error != "invalid_token" || !strings.HasPrefix(ch, `Bearer realm="api", error="invalid_token", error_description="`) {
			t.Fatalf("401 answer %q / %q", body.Error, ch)
		}
	}
}

// outcome renders a result for the -v log: the sentinel and the status.
func outcome(err error) string {
	if err == nil {
		return "accepted (200)"
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return s.Error() + " (" + strconv.Itoa(statusOf(err)) + ")"
		}
	}
	return err.Error()
}

func TestHostileTokens(t *testing.T) {
	e := newHostileEnv(t)
	ctx := context.Background()
	for _, tc := range e.tokenCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			v := tc.v
			if v == nil {
				v = e.v
			}
			p, err := v.Verify(ctx, tc.tok)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Verify refused: %v", err)
				}
				if p.Issuer != e.iss.URL {
					t.Fatalf("principal issuer %q", p.Issuer)
				}
			} else {
				if !errors.Is(err, tc.want) {
					t.Fatalf("Verify = %v, want %v", err, tc.want)
				}
				checkRefusal(t, err, tc.tok)
			}
			viaHeader := tc.want
			if tc.viaHeader != nil {
				viaHeader = tc.viaHeader
			}
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("Authorization", "Bearer "+tc.tok)
			p2, err2 := v.Authenticate(ctx, core.FromHTTP(r))
			if viaHeader == nil && err2 != nil || viaHeader != nil && !errors.Is(err2, viaHeader) {
				t.Fatalf("Authenticate = %v (%v), want %v", err2, p2, viaHeader)
			}
			checkAnswer(t, serve(v, r), viaHeader)
			t.Logf("outcome: %s", outcome(err))
		})
	}
	// No verifier ever fetched anything but the issuer's own discovery
	// document and JWKS, whatever the headers said.
	allowed := []string{e.iss.JWKSURL(), e.iss.URL + "/.well-known/openid-configuration"}
	for i, rec := range e.recorders {
		urls := rec.fetched()
		for _, u := range urls {
			if !slices.Contains(allowed, u) {
				t.Errorf("verifier %d fetched %q", i, u)
			}
		}
		// The initial load plus at most one unknown-kid refresh (the
		// cooldown is an hour): a table full of unknown kids cannot make
		// the verifier hammer the issuer.
		if n := countOf(urls, e.iss.JWKSURL()); n > 2 {
			t.Errorf("verifier %d fetched the JWKS %d times", i, n)
		}
	}
	if n := e.evilHits.Load(); n != 0 {
		t.Errorf("the attacker's server was contacted %d times", n)
	}
}

// directCreds is a request's credential sources, set directly (values net/http
// would not carry on the wire, such as raw control bytes, included).
type directCreds struct {
	plainGET
	auth   []string
	query  string // the raw query
	cookie *string
}

func (c directCreds) Header(name string) []string {
	if strings.EqualFold(name, "Authorization") {
		return c.auth
	}
	return nil
}
func (c directCreds) RawQuery() string { return c.query }
func (c directCreds) Cookie(name string) []string {
	if name == "at" && c.cookie != nil {
		return []string{*c.cookie}
	}
	return nil
}

func TestHostileRequests(t *testing.T) {
	e := newHostileEnv(t)
	tok := e.good()
	big := strings.Repeat("A", core.DefaultMaxTokenSize+1)
	str := func(s string) *string { return &s }
	tests := []struct {
		name       string
		sources    bool // query and cookie enabled
		cookieOnly bool // cookie enabled, query off
		c          directCreds
		want       error
	}{
		{name: "no Authorization", want: core.ErrNoCredentials},
		{name: "empty Authorization", c: directCreds{auth: []string{""}}, want: core.ErrNoCredentials},
		{name: "Basic scheme", c: directCreds{auth: []string{"Basic dXNlcjpwYXNz"}}, want: core.ErrNoCredentials},
		{name: "DPoP scheme without a DPoP header", c: directCreds{auth: []string{"DPoP " + tok}}, want: core.ErrInvalidDPoPProof},
		{name: "BearerX scheme", c: directCreds{auth: []string{"BearerX " + tok}}, want: core.ErrNoCredentials},
		{name: "Cyrillic look-alike scheme", c: directCreds{auth: []string{"Веаrer " + tok}}, want: core.ErrNoCredentials},
		{name: "bEaReR (case-insensitive scheme)", c: directCreds{auth: []string{"bEaReR " + tok}}, want: nil},
		{name: "several spaces", c: directCreds{auth: []string{"Bearer     " + tok}}, want: nil},
		{name: "Bearer alone", c: directCreds{auth: []string{"Bearer"}}, want: core.ErrInvalidRequest},
		{name: "Bearer and spaces", c: directCreds{auth: []string{"Bearer   "}}, want: core.ErrInvalidRequest},
		{name: "tab separator", c: directCreds{auth: []string{"Bearer\t" + tok}}, want: core.ErrInvalidRequest},
		{name: "slash separator (fuzz regression)", c: directCreds{auth: []string{"Bearer/" + tok}}, want: core.ErrInvalidRequest},
		{name: "no-break space separator", c: directCreds{auth: []string{"Bearer\u00a0" + tok}}, want: core.ErrInvalidRequest},
		{name: "comma separator", c: directCreds{auth: []string{"Bearer," + tok}}, want: core.ErrInvalidRequest},
		{name: "trailing space", c: directCreds{auth: []string{"Bearer " + tok + " "}}, want: core.ErrInvalidRequest},
		{name: "two credentials in one field", c: directCreds{auth: []string{"Bearer " + tok + ", Bearer " + tok}}, want: core.ErrInvalidRequest},
		{name: "Bearer Bearer token", c: directCreds{auth: []string{"Bearer Bearer " + tok}}, want: core.ErrInvalidRequest},
		{name: "quote in the token", c: directCreds{auth: []string{`Bearer ab"cd`}}, want: core.ErrInvalidRequest},
		{name: "NUL in the token", c: directCreds{auth: []string{"Bearer " + tok + "\x00"}}, want: core.ErrInvalidRequest},
		{name: "CR LF in the token", c: directCreds{auth: []string{"Bearer " + tok + "\r\nX-Injected: 1"}}, want: core.ErrInvalidRequest},
		{name: "only padding", c: directCreds{auth: []string{"Bearer =="}}, want: core.ErrInvalidRequest},
		{name: "padding in the middle", c: directCreds{auth: []string{"Bearer ab==.cd"}}, want: core.ErrInvalidRequest},
		{name: "non-ASCII in the token", c: directCreds{auth: []string{"Bearer tökén"}}, want: core.ErrInvalidRequest},
		{name: "two Authorization fields", c: directCreds{auth: []string{"Bearer " + tok, "Bearer " + tok}}, want: core.ErrMultipleCredentials},
		{name: "Bearer and Basic fields", c: directCreds{auth: []string{"Basic dXNlcjpwYXNz", "Bearer " + tok}}, want: core.ErrMultipleCredentials},
		{name: "over the cap with bad characters (size is checked first)", c: directCreds{auth: []string{"Bearer " + strings.Repeat("$", core.DefaultMaxTokenSize+1)}}, want: core.ErrTokenTooLarge},
		{name: "1 MiB token", c: directCreds{auth: []string{"Bearer " + strings.Repeat("A", 1<<20)}}, want: core.ErrTokenTooLarge},
		{name: "query token while the query source is off", c: directCreds{query: "access_token=" + tok}, want: core.ErrNoCredentials},
		{name: "header token and an unrelated parameter while off", c: directCreds{auth: []string{"Bearer " + tok}, query: "access_tokens=x&token=y&access%5Ftoken2=z"}, want: nil},
		{name: "header and query tokens while off (one method per request)", c: directCreds{auth: []string{"Bearer " + tok}, query: "access_token=junk"}, want: core.ErrMultipleCredentials},
		{name: "header token and an empty access_token while off", c: directCreds{auth: []string{"Bearer " + tok}, query: "access_token"}, want: core.ErrMultipleCredentials},
		{name: "malformed header beside a query token while off", c: directCreds{auth: []string{"Bearer a b"}, query: "access_token=x"}, want: core.ErrInvalidRequest},
		{name: "cookie and query tokens while the query source is off", cookieOnly: true, c: directCreds{query: "a=1&access_token=x", cookie: str(tok)}, want: core.ErrMultipleCredentials},
		{name: "header and query tokens", sources: true, c: directCreds{auth: []string{"Bearer " + tok}, query: "access_token=" + tok}, want: core.ErrMultipleCredentials},
		{name: "header and cookie tokens", sources: true, c: directCreds{auth: []string{"Bearer " + tok}, cookie: str(tok)}, want: core.ErrMultipleCredentials},
		{name: "query and cookie tokens", sources: true, c: directCreds{query: "access_token=" + tok, cookie: str(tok)}, want: core.ErrMultipleCredentials},
		{name: "two query tokens", sources: true, c: directCreds{query: "access_token=" + tok + "&access_token=" + tok}, want: core.ErrMultipleCredentials},
		{name: "query token and a twin with a bad escape", sources: true, c: directCreds{query: "access_token=" + tok + "&access_token=%zz"}, want: core.ErrMultipleCredentials},
		{name: "query token and a %-encoded twin", sources: true, c: directCreds{query: "access_token=" + tok + "&access%5Ftoken=x"}, want: core.ErrMultipleCredentials},
		{name: "empty query token", sources: true, c: directCreds{query: "access_token="}, want: core.ErrInvalidRequest},
		{name: "query pair without =", sources: true, c: directCreds{query: "access_token"}, want: core.ErrInvalidRequest},
		{name: "query token with a bad escape", sources: true, c: directCreds{query: "access_token=" + tok + "%zz"}, want: core.ErrInvalidRequest},
		{name: "query token with a cut escape", sources: true, c: directCreds{query: "access_token=" + tok + "%4"}, want: core.ErrInvalidRequest},
		{name: "query token with a semicolon (no separator)", sources: true, c: directCreds{query: "access_token=" + tok + ";x=1"}, want: core.ErrInvalidRequest},
		{name: "query token with + (a space)", sources: true, c: directCreds{query: "access_token=" + tok + "+"}, want: core.ErrInvalidRequest},
		{name: "query token beside pairs with bad escapes and semicolons", sources: true, c: directCreds{query: "%zz=1&a=%zz&b;c=d&&access_token=" + tok}, want: nil},
		{name: "query name with a bad escape is another name", sources: true, c: directCreds{query: "access_token%zz=x&access_token=" + tok}, want: nil},
		{name: "%-encoded query name and token", sources: true, c: directCreds{query: "%61ccess%5ftoken=" + strings.ReplaceAll(tok, ".", "%2E")}, want: nil},
		{name: "query token over the cap", sources: true, c: directCreds{query: "access_token=" + big}, want: core.ErrTokenTooLarge},
		{name: "encoded query token over the cap, bad escape too (size first)", sources: true, c: directCreds{query: "access_token=%zz" + strings.Repeat("%41", core.DefaultMaxTokenSize)}, want: core.ErrTokenTooLarge},
		{name: "encoded query token at the cap once decoded", sources: true, c: directCreds{query: "access_token=" + strings.Repeat("%41", core.DefaultMaxTokenSize)}, want: core.ErrTokenMalformed},
		{name: "cookie token with a quote", sources: true, c: directCreds{cookie: str(`a"b`)}, want: core.ErrInvalidRequest},
		{name: "cookie token over the cap", sources: true, c: directCreds{cookie: str(big)}, want: core.ErrTokenTooLarge},
		{name: "empty cookie (ignored)", sources: true, c: directCreds{cookie: str("")}, want: core.ErrNoCredentials},
		{name: "Basic field beside a query token", sources: true, c: directCreds{auth: []string{"Basic dXNlcjpwYXNz"}, query: "access_token=" + tok}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := e.v
			switch {
			case tt.sources:
				v = e.srcs
			case tt.cookieOnly:
				v = e.cookieOnly
			}
			p, err := v.Authenticate(context.Background(), tt.c)
			if tt.want == nil {
				if err != nil || p == nil {
					t.Fatalf("Authenticate = %v, %v; want accepted", p, err)
				}
			} else {
				if !errors.Is(err, tt.want) {
					t.Fatalf("Authenticate = %v, want %v", err, tt.want)
				}
				if e := checkRefusal(t, err, ""); e.Status != statusOf(tt.want) {
					t.Fatalf("status %d, want %d", e.Status, statusOf(tt.want))
				}
			}
			t.Logf("outcome: %s", outcome(err))
		})
	}
}

// exactToken returns a genuine token of exactly n bytes, padded through an
// unknown header parameter and a custom claim.
func (e *hostileEnv) exactToken(t *testing.T, n int) string {
	t.Helper()
	sigLen := len(b64.EncodeToString(make([]byte, 256))) // RS256, 2048-bit key
	for hp := 0; hp < 4; hp++ {
		h := hdr("RS256", e.rsa.ID, `"p":"`+strings.Repeat("h", hp)+`"`)
		hl := len(b64.EncodeToString([]byte(h)))
		base := len(e.std(`"pad":""`))
		for pad := max(0, (n-hl-sigLen-2)*3/4-base-8); pad < (n-hl-sigLen-2)*3/4-base+8; pad++ {
			p := e.std(`"pad":"` + strings.Repeat("x", pad) + `"`)
			if hl+1+len(b64.EncodeToString([]byte(p)))+1+sigLen == n {
				tok := e.signed(h, p)
				if len(tok) != n {
					t.Fatalf("built %d bytes, want %d", len(tok), n)
				}
				return tok
			}
		}
	}
	t.Fatalf("no padding gives a %d-byte token", n)
	return ""
}

// TestHostileSizeCap: a genuine token of exactly the cap is accepted, one
// byte more is refused before any decoding, through Verify and a request.
func TestHostileSizeCap(t *testing.T) {
	e := newHostileEnv(t)
	ctx := context.Background()
	// The documented default cap, 16 KiB (docs/security.md), written out so
	// that a change of DefaultMaxTokenSize fails here.
	at := e.exactToken(t, 16<<10)
	over := e.exactToken(t, 16<<10+1)
	tests := []struct {
		name string
		tok  string
		want error
	}{
		{"exactly 16384 bytes, genuine", at, nil},
		{"16385 bytes, genuine", over, core.ErrTokenTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := e.v.Verify(ctx, tt.tok); !errors.Is(err, tt.want) && (tt.want != nil || err != nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("Authorization", "Bearer "+tt.tok)
			checkAnswer(t, serve(e.v, r), tt.want)
			// Over a real loopback connection too: net/http's default
			// header limit (1 MiB) carries a full-size token.
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				resp := serve(e.v, r)
				for k, vs := range resp.Header {
					w.Header()[k] = vs
				}
				w.WriteHeader(resp.StatusCode)
			}))
			defer srv.Close()
			req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
			req.Header.Set("Authorization", "Bearer "+tt.tok)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatalf("request: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != statusOf(tt.want) {
				t.Fatalf("status over the wire = %d, want %d", resp.StatusCode, statusOf(tt.want))
			}
		})
	}
	// A custom cap moves the boundary.
	small := newVerifier(t, e.iss, core.WithAudiences(authtest.DefaultAudience),
		core.WithLogger(slog.New(slog.DiscardHandler)), core.WithMaxTokenSize(2048))
	if _, err := small.Verify(ctx, e.exactToken(t, 2048)); err != nil {
		t.Fatalf("2048-byte token under a 2048 cap: %v", err)
	}
	if _, err := small.Verify(ctx, e.exactToken(t, 2049)); !errors.Is(err, core.ErrTokenTooLarge) {
		t.Fatalf("2049-byte token under a 2048 cap: %v", err)
	}
}

// bytesPerOp measures the heap bytes allocated per call of fn.
func bytesPerOp(fn func(), runs int) float64 {
	fn()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range runs {
		fn()
	}
	runtime.ReadMemStats(&after)
	return float64(after.TotalAlloc-before.TotalAlloc) / float64(runs)
}

// TestHostileRefusalCostIsFlat: tokens made of dots (CVE-2025-30204) and
// tokens over the cap are refused with the same small allocation whatever
// their length — no work proportional to the number of dots or bytes.
func TestHostileRefusalCostIsFlat(t *testing.T) {
	e := newHostileEnv(t)
	ctx := context.Background()
	valid := e.good()
	h, _, _ := segments(valid)
	tests := []struct {
		name  string
		small string
		large string
		want  error
	}{
		{"dots only", strings.Repeat(".", 8), strings.Repeat(".", core.DefaultMaxTokenSize), core.ErrTokenMalformed},
		{"a genuine header then dots", h + strings.Repeat(".", 8), h + strings.Repeat(".", core.DefaultMaxTokenSize-len(h)), core.ErrTokenMalformed},
		{"segments a.b.c.d...", strings.Repeat("a.", 8), strings.Repeat("a.", core.DefaultMaxTokenSize/2), core.ErrTokenMalformed},
		{"over the cap", strings.Repeat("A", core.DefaultMaxTokenSize+1), strings.Repeat("A", 1<<20), core.ErrTokenTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, tok := range []string{tt.small, tt.large} {
				if _, err := e.v.Verify(ctx, tok); !errors.Is(err, tt.want) {
					t.Fatalf("Verify(%d bytes) = %v, want %v", len(tok), err, tt.want)
				}
			}
			as := testing.AllocsPerRun(100, func() { _, _ = e.v.Verify(ctx, tt.small) })
			al := testing.AllocsPerRun(100, func() { _, _ = e.v.Verify(ctx, tt.large) })
			if al > as {
				t.Errorf("allocations grow with the token: %v for %d bytes, %v for %d bytes", as, len(tt.small), al, len(tt.large))
			}
			bl := bytesPerOp(func() { _, _ = e.v.Verify(ctx, tt.large) }, 200)
			// The refusal's *Error and challenge are a few hundred bytes;
			// anything proportional to a 16 KiB token would show here.
			if bl > 2048 {
				t.Errorf("%.0f bytes allocated per refusal of a %d-byte token", bl, len(tt.large))
			}
			t.Logf("outcome: %s; %.0f allocs, %.0f bytes per refusal of %d bytes", outcome(tt.want), al, bl, len(tt.large))
		})
	}
}

// TestHostileKeyConfusionProbe signs one payload with every key the issuer
// publishes under every algorithm, always naming that key's kid: only the
// key's own family (and its stated alg, where it states one) is accepted.
func TestHostileKeyConfusionProbe(t *testing.T) {
	e := newHostileEnv(t)
	ctx := context.Background()
	// Keys of each family that the JWKS does not hold.
	signers := map[string]*authtest.Key{"ES256": e.evilEC}
	for _, a := range []string{"ES384", "ES512", "EdDSA"} {
		signers[a] = newKey(t, a)
	}
	for _, a := range []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"} {
		signers[a] = e.evilRSA
	}
	family := func(k *authtest.Key) []string {
		switch pub := k.Signer.Public().(type) {
		case *rsa.PublicKey:
			return []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
		case *ecdsa.PublicKey:
			return []string{map[int]string{256: "ES256", 384: "ES384", 521: "ES512"}[pub.Curve.Params().BitSize]}
		default:
			return []string{"EdDSA"}
		}
	}
	for _, key := range []*authtest.Key{e.rsa, e.ec, e.ec384, e.ed, e.rsaNoAlg} {
		for _, alg := range authtest.Algorithms {
			t.Run(key.ID[:5]+"/"+alg, func(t *testing.T) {
				fits := slices.Contains(family(key), alg) && (key.OmitAlg || key.Alg == alg)
				var tok string
				if slices.Contains(family(key), alg) {
					tok = e.sign(key, alg, hdr(alg, key.ID), e.std()) // genuine signature
				} else {
					tok = e.sign(signers[alg], alg, hdr(alg, key.ID), e.std()) // another key of alg's family
				}
				_, err := e.v.Verify(ctx, tok)
				switch {
				case fits && err != nil:
					t.Fatalf("refused %s on its own key: %v", alg, err)
				case !fits && !errors.Is(err, core.ErrKeyMismatch):
					t.Fatalf("%s under a %s key = %v, want %v", alg, key.Alg, err, core.ErrKeyMismatch)
				}
			})
		}
	}
}

// TestHostileIdentityKeyForgery shows the forgery the weak-key check
// prevents is real: with any encoding of the identity point as the public
// key, Go's crypto/ed25519 accepts the signature R = identity, S = 0 for
// every message ([S]B - [k]A is the identity), so a JWKS that loaded such a
// key would let anyone mint tokens under its kid. The catalogue sends that
// forgery under each weak key and expects ErrUnknownKey. Should
// crypto/ed25519 ever refuse it, this test says so.
func TestHostileIdentityKeyForgery(t *testing.T) {
	// The canonical encoding, with the sign bit, as y = p+1, and both.
	keys := []struct{ name, hex string }{smallOrderEd[0], nonCanonicalEd[0], nonCanonicalEd[2], nonCanonicalEd[3]}
	msg := make([]byte, 100)
	for _, k := range keys {
		t.Run(k.name, func(t *testing.T) {
			pub := ed25519.PublicKey(decodeHex(t, k.hex))
			for range 8 {
				if _, err := rand.Read(msg); err != nil {
					t.Fatal(err)
				}
				if !ed25519.Verify(pub, msg, identitySig()) {
					t.Fatalf("ed25519.Verify refused the identity forgery for key %x", []byte(pub))
				}
			}
			// The same forgery as a token, under the JWKS's copy of the key.
			tok := join(hdr("EdDSA", "x"), "{}", identitySig())
			if !ed25519.Verify(pub, []byte(signingInput(tok)), identitySig()) {
				t.Fatal("ed25519.Verify refused the forged token")
			}
		})
	}
}
