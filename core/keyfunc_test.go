package core_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha512"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
)

// kfParse parses tok with golang-jwt's own parser and the verifier's
// Keyfunc, with the claim options a caller is told to pass.
func kfParse(e *cacheEnv, tok string) (*jwt.Token, error) {
	return jwt.Parse(tok, e.v.Keyfunc(context.Background()),
		jwt.WithIssuer(e.iss.URL),
		jwt.WithAudience(authtest.DefaultAudience),
		jwt.WithExpirationRequired(),
	)
}

// kfWantErr checks that golang-jwt refused tok because the key function
// did, for the reason kind, with the HTTP answer status.
func kfWantErr(t *testing.T, err error, status int, kind error) {
	t.Helper()
	if err == nil {
		t.Fatalf("parsed; want %v", kind)
	}
	if !errors.Is(err, kind) || !errors.Is(err, jwt.ErrTokenUnverifiable) {
		t.Fatalf("err = %v, want %v from the key function (jwt.ErrTokenUnverifiable)", err, kind)
	}
	if got := core.AsError(err).Status; got != status {
		t.Fatalf("status %d, want %d (err %v)", got, status, err)
	}
}

// kfJWK publishes k's JWK, edited, as an extra key of iss.
func kfJWK(t *testing.T, k *authtest.Key, edit func(map[string]any)) json.RawMessage {
	t.Helper()
	return jwkOf(t, k, k.ID, edit)
}

func TestKeyfuncServesTheVerifiersKeys(t *testing.T) {
	t.Parallel()
	iss := authtest.MustIssuer(t) // RS256
	// Keys published without alg: each must still serve its own family only.
	rsaNoAlg, p256NoAlg, edNoAlg := newKey(t, "RS256"), newKey(t, "ES256"), newKey(t, "EdDSA")
	// A key the verifier skips (RSA under 2048 bits).
	weak, err := authtest.NewRSAKey("RS256", 1024)
	if err != nil {
		t.Fatal(err)
	}
	// A second key under the signing key's kid.
	twin := newKey(t, "RS256")
	twin.ID = iss.SigningKey().ID
	noAlg := func(m map[string]any) { delete(m, "alg") }
	iss.SetExtraJWKs(kfJWK(t, rsaNoAlg, noAlg), kfJWK(t, p256NoAlg, noAlg), kfJWK(t, edNoAlg, noAlg),
		kfJWK(t, weak, nil), kfJWK(t, twin, nil))
	e := startVerifier(t, iss, core.WithUnknownKIDCooldown(time.Hour))
	e.ready()
	if s := e.probe.Skipped(); len(s) != 1 || s[0].kid != weak.ID {
		t.Fatalf("skipped %v, want the weak key only", s)
	}

	signed := func(k *authtest.Key, alg string) string {
		return iss.MustMint(t, nil, authtest.SignedBy(k), authtest.Header("alg", alg))
	}
	hs256 := func(k *authtest.Key) string {
		// HMAC keyed with the public JWK's bytes: the algorithm-confusion attack.
		hdr, _ := json.Marshal(map[string]any{"alg": "HS256", "kid": k.ID, "typ": "JWT"})
		payload, _ := json.Marshal(iss.DefaultClaims())
		tok, err := k.Sign("HS256", hdr, payload)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	tests := []struct {
		name   string
		tok    string
		status int   // 0: parses
		want   error // the key function's reason
	}{
		{"valid token", iss.MustMint(t, nil), 0, nil},
		{"key without alg, its own family (PS256 on RSA)", signed(rsaNoAlg, "PS256"), 0, nil},
		{"key without alg, ES256 on P-256", signed(p256NoAlg, "ES256"), 0, nil},
		{"key without alg, EdDSA on Ed25519", signed(edNoAlg, "EdDSA"), 0, nil},
		{"second key of a shared kid", iss.MustMint(t, nil, authtest.SignedBy(twin)), 0, nil},
		{"HS256 keyed with the public key", hs256(iss.SigningKey()), http.StatusUnauthorized, core.ErrAlgorithmNotAllowed},
		{"HS256 keyed with a key without alg", hs256(rsaNoAlg), http.StatusUnauthorized, core.ErrAlgorithmNotAllowed},
		{"ES256 under an RSA key without alg", iss.MustMint(t, nil, authtest.SignedBy(p256NoAlg), authtest.Header("kid", rsaNoAlg.ID)), http.StatusUnauthorized, core.ErrKeyMismatch},
		{"ES384 under a P-256 key without alg", iss.MustMint(t, nil, authtest.SignedBy(newKey(t, "ES384")), authtest.Header("kid", p256NoAlg.ID)), http.StatusUnauthorized, core.ErrKeyMismatch},
		{"ES256 under an Ed25519 key", iss.MustMint(t, nil, authtest.SignedBy(p256NoAlg), authtest.Header("kid", edNoAlg.ID)), http.StatusUnauthorized, core.ErrKeyMismatch},
		{"PS256 under a key published as RS256", signed(iss.SigningKey(), "PS256"), http.StatusUnauthorized, core.ErrKeyMismatch},
		{"token of a skipped weak key", iss.MustMint(t, nil, authtest.SignedBy(weak)), http.StatusUnauthorized, core.ErrUnknownKey},
		{"alg none", iss.MustMint(t, nil, authtest.Header("alg", "none")), http.StatusUnauthorized, core.ErrAlgorithmNotAllowed},
		{"crit header", iss.MustMint(t, nil, authtest.Header("crit", []string{"exp"})), http.StatusUnauthorized, core.ErrUnsupportedHeader},
		{"kid that is not a string", iss.MustMint(t, nil, authtest.Header("kid", 7)), http.StatusUnauthorized, core.ErrTokenMalformed},
		{"no kid, several keys", iss.MustMint(t, nil, authtest.Header("kid", authtest.Omit)), http.StatusUnauthorized, core.ErrUnknownKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := kfParse(e, tc.tok)
			switch {
			case tc.want == nil:
				if err != nil || !tok.Valid {
					t.Fatalf("Parse: %v", err)
				}
				if sub, _ := tok.Claims.GetSubject(); sub != authtest.DefaultSubject {
					t.Fatalf("sub %q", sub)
				}
			case tc.status == 0: // refused by golang-jwt itself
				if err == nil || !errors.Is(err, tc.want) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
			default:
				kfWantErr(t, err, tc.status, tc.want)
			}
		})
	}
}

// A token without kid is served by a one-key set, as Verify serves it.
func TestKeyfuncTokenWithoutKID(t *testing.T) {
	t.Parallel()
	iss := p256Issuer(t)
	e := startVerifier(t, iss)
	e.ready()
	if _, err := kfParse(e, iss.MustMint(t, nil, authtest.Header("kid", authtest.Omit))); err != nil {
		t.Fatalf("Parse: %v", err)
	}
	other := newKey(t, "ES256") // published by nobody
	_, err := kfParse(e, iss.MustMint(t, nil, authtest.SignedBy(other), authtest.Header("kid", authtest.Omit)))
	if !errors.Is(err, jwt.ErrTokenSignatureInvalid) {
		t.Fatalf("err = %v, want a bad signature", err)
	}
}

// An unknown kid starts one JWKS refresh, shared with Verify's cooldown:
// the rotated key then parses; another unknown kid within the cooldown
// fails at once without a fetch.
func TestKeyfuncRefreshesForAnUnknownKID(t *testing.T) {
	t.Parallel()
	iss := p256Issuer(t)
	e := startVerifier(t, iss, core.WithUnknownKIDCooldown(time.Hour))
	e.ready()
	before := iss.JWKSHits()
	if _, err := iss.Rotate("ES256"); err != nil {
		t.Fatal(err)
	}
	if _, err := kfParse(e, iss.MustMint(t, nil)); err != nil {
		t.Fatalf("token of the rotated key: %v", err)
	}
	if got := iss.JWKSHits() - before; got != 1 {
		t.Fatalf("%d JWKS fetches, want 1", got)
	}
	if last := e.probe.last(t); last.Reason != "unknown kid" || last.Err != nil {
		t.Fatalf("last refresh %+v, want a successful unknown-kid refresh", last)
	}
	// Verify sees the same cache: no fetch of its own.
	e.mustVerify(iss.MustMint(t, nil))

	began := time.Now()
	_, err := kfParse(e, unknownKIDToken(t, iss))
	kfWantErr(t, err, http.StatusUnauthorized, core.ErrUnknownKey)
	if d := time.Since(began); d > time.Second {
		t.Fatalf("an unknown kid in the cooldown waited %v", d)
	}
	if got := iss.JWKSHits() - before; got != 1 || e.probe.cooldown.Load() != 1 {
		t.Fatalf("%d JWKS fetches, %d cooldown answers; want 1 and 1", got, e.probe.cooldown.Load())
	}
}

// While the JWKS cannot be fetched, cached keys keep parsing and a kid
// that is not cached is an outage (503), not a bad token.
func TestKeyfuncDuringAnOutage(t *testing.T) {
	t.Parallel()
	iss := p256Issuer(t)
	e := startVerifier(t, iss)
	e.ready()
	iss.SetFault(authtest.FaultDown)
	if _, err := kfParse(e, iss.MustMint(t, nil)); err != nil {
		t.Fatalf("cached key during an outage: %v", err)
	}
	_, err := kfParse(e, unknownKIDToken(t, iss))
	kfWantErr(t, err, http.StatusServiceUnavailable, core.ErrKeysUnavailable)
	if core.AsError(err).RetryAfter <= 0 {
		t.Fatal("503 without Retry-After")
	}
}

// A rotation that withdraws a key withdraws it from the key function too.
func TestKeyfuncFollowsTheLoadedSet(t *testing.T) {
	t.Parallel()
	iss := p256Issuer(t)
	iss.SetCacheControl("max-age=0")
	e := startVerifier(t, iss, core.WithRefreshBounds(20*time.Millisecond, time.Second), core.WithUnknownKIDCooldown(time.Hour))
	e.ready()
	old := iss.SigningKey()
	oldTok := iss.MustMint(t, nil)
	if _, err := kfParse(e, oldTok); err != nil {
		t.Fatal(err)
	}
	if _, err := iss.Rotate("ES256"); err != nil {
		t.Fatal(err)
	}
	iss.Retire(old.ID)
	n := len(e.probe.Refreshes())
	waitFor(t, 5*time.Second, func() bool { return len(e.probe.Refreshes()) >= n+2 }, "two refreshes")
	_, err := kfParse(e, oldTok)
	kfWantErr(t, err, http.StatusUnauthorized, core.ErrUnknownKey)
	if _, err := kfParse(e, iss.MustMint(t, nil)); err != nil {
		t.Fatalf("token of the new key: %v", err)
	}
}

// One key function, many goroutines, while refreshes replace the set.
func TestKeyfuncConcurrentUse(t *testing.T) {
	t.Parallel()
	iss := p256Issuer(t)
	iss.SetCacheControl("max-age=0")
	e := startVerifier(t, iss, core.WithRefreshBounds(5*time.Millisecond, time.Second))
	e.ready()
	kf := e.v.Keyfunc(context.Background())
	tok := iss.MustMint(t, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			for range 100 {
				if _, err := jwt.Parse(tok, kf); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Parse: %v", err)
	}
}

// A nil Verifier's key function refuses every token.
func TestKeyfuncOfNilVerifier(t *testing.T) {
	iss := p256Issuer(t)
	var v *core.Verifier
	_, err := jwt.Parse(iss.MustMint(t, nil), v.Keyfunc(context.Background()))
	if !errors.Is(err, core.ErrMisconfigured) {
		t.Fatalf("err = %v, want ErrMisconfigured", err)
	}
}

// One key, one algorithm, for a key published without alg too. A P-256
// key's owner can label a token ES384: hash with SHA-384, sign (ECDSA
// truncates the digest to the curve's size) and pad r and s to 48 bytes.
// keyfunc alone reads the key by kid, finds no alg to compare, and
// golang-jwt's ES384 accepts the P-256 key; Verifier.Keyfunc refuses it.
func TestKeyfuncBindsTheAlgToTheKeyFamily(t *testing.T) {
	t.Parallel()
	iss := p256Issuer(t) // ES256, a P-256 key
	key := iss.SigningKey()
	key.OmitAlg = true
	e := startVerifier(t, iss)
	e.ready()

	hdr, _ := json.Marshal(map[string]any{"alg": "ES384", "kid": key.ID, "typ": "JWT"})
	payload, _ := json.Marshal(iss.DefaultClaims())
	input := b64.EncodeToString(hdr) + "." + b64.EncodeToString(payload)
	digest := sha512.Sum384([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key.Signer.(*ecdsa.PrivateKey), digest[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := append(r.FillBytes(make([]byte, 48)), s.FillBytes(make([]byte, 48))...)
	tok := input + "." + b64.EncodeToString(sig)

	plain, err := keyfunc.NewJWKSetJSON(iss.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jwt.Parse(tok, plain.Keyfunc); err != nil {
		t.Fatalf("keyfunc alone refused the token (%v): this test no longer shows what the wrapper adds", err)
	}
	_, err = kfParse(e, tok)
	kfWantErr(t, err, http.StatusUnauthorized, core.ErrKeyMismatch)
}

// BenchmarkKeyfunc is jwt.Parse of one RS256 token with the Verifier's key
// function, and with keyfunc alone over the same JWKS, for comparison.
func BenchmarkKeyfunc(b *testing.B) {
	iss, v, tok := benchSetup(b)
	plain, err := keyfunc.NewJWKSetJSON(iss.JWKS())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	rows := []struct {
		name string
		kf   jwt.Keyfunc
	}{{"verifier", v.Keyfunc(ctx)}, {"keyfunc-alone", plain.Keyfunc}}
	for _, row := range rows {
		b.Run(row.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := jwt.Parse(tok, row.kf, jwt.WithExpirationRequired()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestKeyfuncRefusesBoundTokens: golang-jwt with Keyfunc checks no proof,
// so a token with cnf must not verify through it.
func TestKeyfuncRefusesBoundTokens(t *testing.T) {
	iss := authtest.MustIssuer(t)
	v := newVerifier(t, iss, core.WithAudiences(authtest.DefaultAudience))
	key, err := authtest.NewKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{
		iss.MustMint(t, nil, authtest.BoundTo(key)),
		iss.MustMint(t, nil, authtest.BoundToCertificate([]byte("der"))),
	} {
		if _, err := jwt.Parse(tok, v.Keyfunc(context.Background())); !errors.Is(err, core.ErrBoundTokenAsBearer) {
			t.Fatalf("bound token: %v", err)
		}
	}
	if _, err := jwt.Parse(iss.MustMint(t, nil), v.Keyfunc(context.Background())); err != nil {
		t.Fatalf("plain token: %v", err)
	}
}
