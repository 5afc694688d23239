package core_test

// Fuzz targets for every input path of core: credential
// extraction, token decoding and verification, and the JWKS parser (the
// strict JSON reader has its own, in core/internal/strictjson). Each target checks its result against an independent
// oracle, not just for panics. Without -fuzz they run their seed corpus
// (f.Add plus testdata/fuzz/<Target>) as ordinary tests; `make fuzz` runs
// each briefly.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"math/big"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
	"github.com/jwksauth/jwksauth/core/internal/jwks"
	"github.com/jwksauth/jwksauth/core/internal/strictjson"
)

// fixedNow is the fixed clock of the fuzz verifiers, so that an input means the
// same thing on every run.
var fixedNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

const sessionCookie = "session_token"

// The documented limits the oracles apply: a token header has at most 32
// parameters (docs/security.md, "Header segment, strictly"), and the leeway
// is 30 s by default (WithLeeway; docs/configuration.md).
const (
	maxHeaderParams = 32
	defaultLeeway   = 30 * time.Second
)

// sentinels are every sentinel a Verifier may report.
var sentinels = []error{
	core.ErrNoCredentials, core.ErrInvalidRequest, core.ErrMultipleCredentials, core.ErrTokenTooLarge,
	core.ErrTokenMalformed, core.ErrUnsupportedHeader, core.ErrAlgorithmNotAllowed, core.ErrUnknownKey,
	core.ErrKeyMismatch, core.ErrSignatureInvalid, core.ErrDuplicateClaim, core.ErrClaimType,
	core.ErrMissingClaim, core.ErrTokenExpired, core.ErrTokenNotYetValid, core.ErrIssuedInFuture,
	core.ErrIssuerInvalid, core.ErrAudienceInvalid, core.ErrClientInvalid, core.ErrTokenType,
	core.ErrInsufficientScope, core.ErrKeysUnavailable, core.ErrMisconfigured,
	core.ErrDPoPRequired, core.ErrBoundTokenAsBearer, core.ErrTokenNotBound, core.ErrDPoPKeyMismatch,
	core.ErrCertificateMismatch, core.ErrUnsupportedBinding, core.ErrInvalidDPoPProof, core.ErrUseDPoPNonce,
	core.ErrProofStoreUnavailable,
}

// fixture is an issuer with one key per algorithm family, a verifier on
// the fixed clock, and tokens known to be valid.
type fixture struct {
	iss   *authtest.Issuer
	v     *core.Verifier
	valid []string // valid tokens, by construction
}

// fixedClockVerifier is a verifier of iss for the default audience, on the
// fixed clock, without logs, then opts.
func fixedClockVerifier(t testing.TB, iss *authtest.Issuer, opts ...core.Option) *core.Verifier {
	t.Helper()
	return newVerifier(t, iss, append([]core.Option{
		core.WithAudiences(authtest.DefaultAudience),
		core.WithClock(func() time.Time { return fixedNow }),
		core.WithLogger(slog.New(slog.DiscardHandler)),
	}, opts...)...)
}

// newFixture starts an issuer signing with algs[0] that also publishes a
// key for each further algorithm, and mints one valid token per key.
func newFixture(t testing.TB, algs []string, opts ...core.Option) *fixture {
	t.Helper()
	iss := authtest.MustIssuer(t, authtest.WithAlgorithm(algs[0]))
	iss.SetClock(func() time.Time { return fixedNow })
	for _, a := range algs[1:] {
		iss.AddKey(newKey(t, a), false)
	}
	fx := &fixture{iss: iss, v: fixedClockVerifier(t, iss, opts...)}
	for _, k := range iss.Keys() {
		fx.valid = append(fx.valid, iss.MustMint(t, authtest.Claims{"scope": "a b"}, authtest.SignedBy(k)))
	}
	return fx
}

// checkRefusal checks the invariants of every refusal: an *Error carrying
// exactly one sentinel, a status of 400, 401 or 503, a challenge and body
// that are fixed text (never the input), and a valid JSON body.
func checkRefusal(t *testing.T, err error, input string) *core.Error {
	t.Helper()
	var e *core.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T (%v) is not a *core.Error", err, err)
	}
	n := 0
	for _, s := range sentinels {
		if errors.Is(err, s) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("error %v matches %d sentinels, want exactly 1", err, n)
	}
	switch e.Status {
	case 400, 401:
		if len(e.Challenges()) == 0 {
			t.Fatalf("status %d without a challenge", e.Status)
		}
	case 503:
		if !errors.Is(err, core.ErrKeysUnavailable) && !errors.Is(err, core.ErrProofStoreUnavailable) {
			t.Fatalf("503 for %v", err)
		}
	default:
		t.Fatalf("status %d", e.Status)
	}
	if !json.Valid(e.Body()) {
		t.Fatalf("body %q is not JSON", e.Body())
	}
	for _, s := range append(e.Challenges(), string(e.Body()), e.Description) {
		for i := 0; i < len(s); i++ {
			if s[i] < 0x20 || s[i] > 0x7e {
				t.Fatalf("non-printable byte in %q", s)
			}
		}
		if len(input) >= 12 && strings.Contains(s, input) {
			t.Fatalf("the answer %q echoes the input", s)
		}
	}
	return e
}

// signingInput is the part of a compact JWS that the signature covers.
func signingInput(tok string) string {
	if i := strings.LastIndexByte(tok, '.'); i >= 0 {
		return tok[:i]
	}
	return tok
}

// ---------------------------------------------------------------------------
// Credential extraction.

// fuzzedCreds is a request's credential sources built from fuzzed strings.
type fuzzedCreds struct {
	plainGET
	auth      []string
	query     string // the raw query
	cookie    string
	hasCookie bool
}

func (c fuzzedCreds) Header(name string) []string {
	if !strings.EqualFold(name, "Authorization") {
		return nil
	}
	return c.auth
}
func (c fuzzedCreds) RawQuery() string { return c.query }
func (c fuzzedCreds) Cookie(name string) []string {
	if name != sessionCookie || !c.hasCookie {
		return nil
	}
	return []string{c.cookie}
}

// The oracle for RFC 6750 §2 as docs/security.md states it, written with
// regular expressions rather than the byte scanning of credentials.go.
var (
	reBearerAlone = regexp.MustCompile(`^(?i:bearer)$`)
	reBearerSP    = regexp.MustCompile(`(?s)^(?i:bearer) +(.*)$`)
	reOtherScheme = regexp.MustCompile("^(?i:bearer)[!#$%&'*+\\-.^_`|~0-9A-Za-z]")
	reBearerStart = regexp.MustCompile(`^(?i:bearer)`)
	reB64Token    = regexp.MustCompile(`^[A-Za-z0-9\-._~+/]+=*$`)
	reEscape      = regexp.MustCompile(`%[0-9A-Fa-f]{2}`)
)

// oracleQueryValues returns the still encoded values of every access_token
// pair of a raw query: pairs split at "&" alone, names decoded by
// url.QueryUnescape, a name it cannot decode being no access_token.
func oracleQueryValues(q string) []string {
	var out []string
	for _, pair := range strings.Split(q, "&") {
		k, v, _ := strings.Cut(pair, "=")
		if name, err := url.QueryUnescape(k); err == nil && name == "access_token" {
			out = append(out, v)
		}
	}
	return out
}

// oracleQueryToken decodes and classifies one query value: the size cap
// on the decoded length (a bad "%" counting as one byte) first, then the
// escapes, then the token syntax.
func oracleQueryToken(raw string, maxSize int) (string, error) {
	if len(raw)-2*len(reEscape.FindAllString(raw, -1)) > maxSize {
		return "", core.ErrTokenTooLarge
	}
	tok, err := url.QueryUnescape(raw)
	if err != nil {
		return "", core.ErrInvalidRequest
	}
	return tok, oracleToken(tok, maxSize)
}

// oracleToken classifies one token value (from any source).
func oracleToken(tok string, maxSize int) error {
	if len(tok) > maxSize {
		return core.ErrTokenTooLarge
	}
	if !reB64Token.MatchString(tok) {
		return core.ErrInvalidRequest
	}
	return nil
}

// oracleCredential returns the token a request carries, or the sentinel the
// request must be refused with.
func oracleCredential(c fuzzedCreds, query, cookie bool, maxSize int) (string, error) {
	if len(c.auth) > 1 {
		return "", core.ErrMultipleCredentials
	}
	token, found := "", false
	if len(c.auth) == 1 {
		h := c.auth[0]
		switch m := reBearerSP.FindStringSubmatch(h); {
		case reBearerAlone.MatchString(h):
			return "", core.ErrInvalidRequest
		case m != nil:
			if m[1] == "" {
				return "", core.ErrInvalidRequest
			}
			if err := oracleToken(m[1], maxSize); err != nil {
				return "", err
			}
			token, found = m[1], true
		case reOtherScheme.MatchString(h):
		case reBearerStart.MatchString(h):
			return "", core.ErrInvalidRequest
		}
	}
	qs := oracleQueryValues(c.query)
	if query && len(qs) > 0 {
		if len(qs) > 1 || found {
			return "", core.ErrMultipleCredentials
		}
		tok, err := oracleQueryToken(qs[0], maxSize)
		if err != nil {
			return "", err
		}
		token, found = tok, true
	}
	if cookie && c.hasCookie && c.cookie != "" {
		if found {
			return "", core.ErrMultipleCredentials
		}
		if err := oracleToken(c.cookie, maxSize); err != nil {
			return "", err
		}
		token, found = c.cookie, true
	}
	if !found {
		return "", core.ErrNoCredentials
	}
	if !query && len(qs) > 0 { // RFC 6750 §2: one method, even when the query is not read
		return "", core.ErrMultipleCredentials
	}
	return token, nil
}

// FuzzAuthenticate fuzzes the credential sources of a request (up to two
// Authorization fields, a raw query, a cookie) through
// Verifier.Authenticate, on a verifier with only the header enabled and one
// with the query and cookie enabled too, against the regexp oracle above.
// A request the oracle extracts a token from must get exactly what Verify
// gives that token.
func FuzzAuthenticate(f *testing.F) {
	const maxSize = 1024 // the smallest cap, so the fuzzer can reach it
	fx := newFixture(f, []string{"EdDSA", "ES256"}, core.WithMaxTokenSize(maxSize))
	sources := fixedClockVerifier(f, fx.iss, core.WithMaxTokenSize(maxSize), core.WithQueryToken(), core.WithCookieToken(sessionCookie))
	tok := fx.valid[0]
	for _, s := range []struct {
		a1, a2        string
		nAuth         uint8
		query         string
		cookie        string
		cookieSet, qc bool
	}{
		{a1: "Bearer " + tok, nAuth: 1},
		{a1: "bearer   " + tok, nAuth: 1},
		{a1: "BEARER " + fx.valid[1], nAuth: 1},
		{a1: "Bearer", nAuth: 1},
		{a1: "Bearer ", nAuth: 1},
		{a1: "Bearer\t" + tok, nAuth: 1},
		{a1: "Bearer " + tok + " ", nAuth: 1},
		{a1: "Bearer a b", nAuth: 1},
		{a1: "Bearer ab=cd", nAuth: 1},
		{a1: "Bearer abc==", nAuth: 1},
		{a1: "Bearer\u00a0" + tok, nAuth: 1},
		{a1: "Bearerx " + tok, nAuth: 1},
		{a1: "Basic dXNlcjpwYXNz", nAuth: 1},
		{a1: "", nAuth: 1},
		{a1: "Bearer " + tok, a2: "Bearer " + tok, nAuth: 2},
		{a1: "Bearer " + strings.Repeat("A", maxSize), nAuth: 1},
		{a1: "Bearer " + strings.Repeat("A", maxSize+1), nAuth: 1},
		{a1: "Bearer " + strings.Repeat(".", 200), nAuth: 1},
		{query: "access_token=" + tok, qc: true},
		{query: "access_token=" + tok + "&access_token=" + tok, qc: true},
		{query: "access_token=" + tok + "&access_token=%zz", qc: true},
		{query: "access_token=", qc: true},
		{query: "access_token", qc: true},
		{query: "access_token=" + tok + "%4", qc: true},
		{query: "access_token=a;b", qc: true},
		{query: "x=%zz;y&access%5Ftoken=" + tok + "&access_token%zz=1", qc: true},
		{query: "acc%65ss_token=" + strings.ReplaceAll(tok, ".", "%2e") + "+", qc: true},
		{a1: "Bearer " + tok, nAuth: 1, query: "access_token=" + tok, qc: true},
		{a1: "Bearer " + tok, nAuth: 1, query: "access_token=a;b"},
		{a1: "Bearer " + tok, nAuth: 1, query: "access_token=" + tok},
		{a1: "Bearer " + tok, nAuth: 1, query: "access_tokens=" + tok},
		{cookie: tok, cookieSet: true, qc: true},
		{cookie: "", cookieSet: true, qc: true},
		{a1: "Bearer " + tok, cookie: tok, cookieSet: true, nAuth: 1, qc: true},
		{cookie: "a\"b", cookieSet: true, qc: true},
	} {
		f.Add(s.a1, s.a2, s.nAuth, s.query, s.cookie, s.cookieSet, s.qc)
	}
	f.Fuzz(func(t *testing.T, a1, a2 string, nAuth uint8, query, cookie string, cookieSet, withSources bool) {
		c := fuzzedCreds{auth: []string{a1, a2}[:nAuth%3], query: query, cookie: cookie, hasCookie: cookieSet}
		v := fx.v
		if withSources {
			v = sources
		}
		ctx := context.Background()
		want, wantErr := oracleCredential(c, withSources, withSources, maxSize)
		p, err := v.Authenticate(ctx, c)
		if wantErr != nil {
			if !errors.Is(err, wantErr) {
				t.Fatalf("Authenticate(%+v) = %v, want %v", c, err, wantErr)
			}
			checkRefusal(t, err, "")
			op, oerr := v.AuthenticateOptional(ctx, c)
			if errors.Is(wantErr, core.ErrNoCredentials) {
				if op != nil || oerr != nil {
					t.Fatalf("AuthenticateOptional without credential = %v, %v", op, oerr)
				}
			} else if !errors.Is(oerr, wantErr) {
				t.Fatalf("AuthenticateOptional = %v, want %v", oerr, wantErr)
			}
			return
		}
		// A token was extracted: the answer is exactly Verify's.
		vp, verr := v.Verify(ctx, want)
		if (err == nil) != (verr == nil) || (err != nil && core.AsError(err).Error() != core.AsError(verr).Error()) {
			t.Fatalf("Authenticate = %v, Verify(extracted) = %v", err, verr)
		}
		for _, s := range []error{core.ErrNoCredentials, core.ErrInvalidRequest, core.ErrMultipleCredentials} {
			if errors.Is(err, s) {
				t.Fatalf("request with one well-formed token refused as %v", s)
			}
		}
		if err != nil {
			checkRefusal(t, err, want)
			return
		}
		if p == nil || vp == nil || !slices.Contains(fx.valid, want) {
			t.Fatalf("accepted %q, which was never minted", want)
		}
	})
}

// ---------------------------------------------------------------------------
// Token decoding and verification.

// FuzzVerify fuzzes whole tokens. Whatever the input, Verify refuses it with
// a well-formed *Error, or accepts it only when its signed part is exactly
// that of a token the issuer minted.
func FuzzVerify(f *testing.F) {
	fx := newFixture(f, []string{"RS256", "ES256", "EdDSA", "PS384"})
	for _, tok := range fx.valid {
		f.Add(tok)
		f.Add(tok + ".")
		f.Add(signingInput(tok) + ".")
		f.Add(strings.ReplaceAll(tok, ".", ".."))
	}
	h := b64.EncodeToString([]byte(`{"alg":"none"}`))
	p := b64.EncodeToString([]byte(`{"exp":9999999999}`))
	for _, s := range []string{"", ".", "..", "...", h + "." + p + ".", h + "." + p, "a.b.c", "e30.e30.e30",
		strings.Repeat(".", 4096), "eyJhbGciOiJSUzI1NiJ9.e30.AAAA", "eyJhbGciOiJSUzI1NiJ9==.e30.AAAA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		p, err := fx.v.Verify(context.Background(), tok)
		if err != nil {
			if e := checkRefusal(t, err, tok); e.Status != 401 {
				t.Fatalf("status %d for a token", e.Status)
			}
			return
		}
		in := signingInput(tok)
		if !slices.ContainsFunc(fx.valid, func(v string) bool { return signingInput(v) == in }) {
			t.Fatalf("accepted a token that was never minted: %q", tok)
		}
		if p.Issuer != fx.iss.URL || !slices.Contains(p.Audience, authtest.DefaultAudience) {
			t.Fatalf("accepted principal %+v", p)
		}
	})
}

// FuzzVerifySegments mutates the segments of a validly signed token:
//
//	mode 0: fuzzed header and payload JSON under the original signature;
//	mode 1: fuzzed header and payload JSON signed by the issuer's real key,
//	        so the claims reader and every claim rule see signed hostile JSON;
//	mode 2: the original header and payload with a fuzzed signature;
//	mode 3: the three segments as raw text (no base64 encoding).
//
// In mode 1 an independent oracle (encoding/json plus the rules of
// docs/security.md) decides: an accepted token must satisfy every rule, and a token
// the oracle finds plainly valid must be accepted.
func FuzzVerifySegments(f *testing.F) {
	fx := newFixture(f, []string{"EdDSA"})
	key := fx.iss.SigningKey()
	orig := fx.valid[0]
	parts := strings.Split(orig, ".")
	oh, _ := b64.DecodeString(parts[0])
	op, _ := b64.DecodeString(parts[1])
	osig, _ := b64.DecodeString(parts[2])
	for m := range uint8(4) {
		f.Add(oh, op, osig, m)
	}
	iss, kid := fx.iss.URL, key.ID
	exp, now := fixedNow.Unix()+3600, fixedNow.Unix()
	hdr := func(extra string) []byte { return []byte(`{"alg":"EdDSA","kid":"` + kid + `"` + extra + `}`) }
	claims := func(extra string) []byte {
		return []byte(`{"iss":"` + iss + `","aud":"account","exp":` + itoa(exp) + extra + `}`)
	}
	for _, s := range []struct{ h, p []byte }{
		{hdr(""), claims("")},
		{[]byte(`{"alg":"EdDSA"}`), claims(`,"iat":` + itoa(now))},
		{hdr(`,"typ":"at+jwt"`), claims(`,"scope":"a b","scp":["c"],"client_id":"x"`)},
		{hdr(`,"alg":"EdDSA"`), claims("")},
		{hdr(`,"crit":[]`), claims("")},
		{hdr(params(maxHeaderParams - 2)), claims("")},
		{hdr(params(maxHeaderParams - 1)), claims("")},
		{hdr(`,"jku":"http://127.0.0.1:1/jwks","x5u":"http://127.0.0.1:1/c","jwk":{"kty":"OKP"},"x5c":["AA"]`), claims("")},
		{[]byte(`{"alg":"none","kid":"` + kid + `"}`), claims("")},
		{[]byte(`{"alg":"ES256","kid":"` + kid + `"}`), claims("")},
		{[]byte(`{"alg":"EdDSA","kid":7}`), claims("")},
		{[]byte(`{"alg":"EdDSA","\u0061lg":"none"}`), claims("")},
		{[]byte(`["alg","EdDSA"]`), claims("")},
		{hdr(""), claims(`,"\u0065xp":0`)},
		{hdr(""), claims(`,"EXP":0`)},
		{hdr(""), []byte(`{"iss":"` + iss + `","Aud":"account","exp":` + itoa(exp) + `}`)},
		{hdr(""), []byte(`{"iss":"` + iss + `/","aud":"account","exp":` + itoa(exp) + `}`)},
		{hdr(""), []byte(`{"iss":"` + iss + `","aud":["x","account"],"exp":` + itoa(exp) + `.5}`)},
		{hdr(""), []byte(`{"iss":"` + iss + `","aud":"account","exp":"` + itoa(exp) + `"}`)},
		{hdr(""), []byte(`{"iss":"` + iss + `","aud":"account","exp":1e400}`)},
		{hdr(""), []byte(`{"iss":"` + iss + `","aud":"account","exp":` + itoa(exp) + `,"nbf":` + itoa(exp) + `}`)},
		{hdr(""), []byte(`{"iss":"` + iss + `","aud":[],"client_id":"x","exp":` + itoa(exp) + `}`)},
		{hdr(""), claims(`,"token_use":"id"`)},
		{hdr(""), claims(`,"scope":["a",1]`)},
		{hdr(""), claims(`,"sub":"\ud800\udc00","x":"\xff"`)},
		{hdr(""), claims(`,"n":` + strings.Repeat("[", 40) + strings.Repeat("]", 40))},
		{hdr(""), claims(` `)},
		{hdr(""), append(claims(""), '{', '}')},
	} {
		f.Add(s.h, s.p, osig, uint8(1))
	}
	f.Fuzz(func(t *testing.T, header, payload, sig []byte, mode uint8) {
		var tok string
		switch mode % 4 {
		case 0:
			tok = b64.EncodeToString(header) + "." + b64.EncodeToString(payload) + "." + parts[2]
		case 1:
			var err error
			if tok, err = key.Sign(key.Alg, header, payload); err != nil {
				t.Fatalf("sign: %v", err)
			}
		case 2:
			tok = parts[0] + "." + parts[1] + "." + b64.EncodeToString(sig)
		case 3:
			tok = string(header) + "." + string(payload) + "." + string(sig)
		}
		p, err := fx.v.Verify(context.Background(), tok)
		if err != nil {
			checkRefusal(t, err, tok)
		}
		switch mode % 4 {
		case 0:
			if err == nil && (!bytes.Equal(header, oh) || !bytes.Equal(payload, op)) {
				t.Fatalf("accepted changed header/payload under the original signature: %q", tok)
			}
		case 2:
			if err == nil && !bytes.Equal(sig, osig) {
				t.Fatalf("accepted a different signature: %q", tok)
			}
		case 3:
			if err == nil && signingInput(tok) != signingInput(orig) {
				t.Fatalf("accepted a token that was never signed: %q", tok)
			}
		case 1:
			bad, unsure := oracleSigned(header, payload, iss, kid)
			if err == nil && bad != "" {
				t.Fatalf("accepted a signed token that breaks a rule (%s):\nheader  %s\npayload %s", bad, header, payload)
			}
			if err != nil && bad == "" && unsure == "" {
				t.Fatalf("refused a plainly valid signed token: %v\nheader  %s\npayload %s", err, header, payload)
			}
			if err == nil && (p.Issuer != iss || p.Algorithm != "EdDSA" || p.KeyID != kid) {
				t.Fatalf("principal %+v", p)
			}
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// params is n header parameters p0 … p<n-1>, each after a comma.
func params(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(`,"p` + strconv.Itoa(i) + `":0`)
	}
	return b.String()
}

// oracleSigned applies the rules of docs/security.md to a header and payload that
// carry a genuine signature of the issuer's only key (EdDSA), using
// encoding/json. bad names a rule the token breaks; unsure names a feature
// on which a strict reader may legitimately refuse what encoding/json
// accepts (invalid UTF-8, deep nesting), so acceptance is not required.
func oracleSigned(header, payload []byte, iss, kid string) (bad, unsure string) {
	h, hdup, err := topLevel(header)
	if err != nil {
		return "header is not a JSON object: " + err.Error(), ""
	}
	c, cdup, err := topLevel(payload)
	if err != nil {
		return "payload is not a JSON object: " + err.Error(), ""
	}
	if hdup || cdup {
		return "duplicate member", ""
	}
	if len(h) > maxHeaderParams {
		return "too many header parameters", ""
	}
	if !utf8.Valid(header) || !utf8.Valid(payload) {
		unsure = "invalid UTF-8"
	}
	if nesting(header) > strictjson.MaxDepth || nesting(payload) > strictjson.MaxDepth {
		unsure = "deep nesting"
	}
	str := func(m map[string]json.RawMessage, name string) (string, bool, bool) {
		raw, ok := m[name]
		if !ok {
			return "", false, true
		}
		var s string
		if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
			return "", true, false
		}
		return s, true, true
	}
	num := func(name string) (float64, bool, bool) {
		raw, ok := c[name]
		if !ok {
			return 0, false, true
		}
		if raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
			return 0, true, false
		}
		var x float64
		if json.Unmarshal(raw, &x) != nil || math.IsInf(x, 0) {
			return 0, true, false
		}
		return x, true, true
	}
	strs := func(name string) ([]string, bool, bool) {
		raw, ok := c[name]
		if !ok {
			return nil, false, true
		}
		var s string
		if raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
			return []string{s}, true, true
		}
		var a []any
		if raw[0] != '[' || json.Unmarshal(raw, &a) != nil {
			return nil, true, false
		}
		out := make([]string, 0, len(a))
		for _, x := range a {
			s, ok := x.(string)
			if !ok {
				return nil, true, false
			}
			out = append(out, s)
		}
		return out, true, true
	}

	// Header.
	alg, has, ok := str(h, "alg")
	if !has || !ok || alg != "EdDSA" {
		return "alg", unsure
	}
	if k, has, ok := str(h, "kid"); !ok || (has && k != kid) {
		return "kid", unsure
	}
	if _, _, ok := str(h, "typ"); !ok {
		return "typ type", unsure
	}
	if _, has := h["crit"]; has {
		return "crit", unsure
	}

	// Claims: types first, then values.
	for _, name := range []string{"iss", "sub", "jti", "token_use", "client_id"} {
		if _, _, ok := str(c, name); !ok {
			return name + " type", unsure
		}
	}
	for _, name := range []string{"exp", "nbf", "iat"} {
		if _, _, ok := num(name); !ok {
			return name + " type", unsure
		}
	}
	for _, name := range []string{"aud", "scope", "scp"} {
		if _, _, ok := strs(name); !ok {
			return name + " type", unsure
		}
	}
	if _, has := c["azp"]; has {
		if _, _, ok := str(c, "azp"); !ok && unsure == "" {
			unsure = "azp type (checked only when it is the client id)"
		}
	}
	n := float64(fixedNow.UnixNano()) / 1e9
	lw := defaultLeeway.Seconds()
	exp, has, _ := num("exp")
	if !has {
		return "exp missing", unsure
	}
	if !(n < exp+lw) {
		return "expired", unsure
	}
	if nbf, has, _ := num("nbf"); has && n < nbf-lw {
		return "nbf", unsure
	}
	if iat, has, _ := num("iat"); has && iat > n+lw {
		return "iat", unsure
	}
	if s, has, _ := str(c, "iss"); !has || s != iss {
		return "iss", unsure
	}
	aud, has, _ := strs("aud")
	if !has || !slices.Contains(aud, authtest.DefaultAudience) {
		return "aud", unsure
	}
	if tu, has, _ := str(c, "token_use"); has && tu != "access" {
		return "token_use", unsure
	}
	return "", unsure
}

// topLevel decodes one JSON object with encoding/json, keeping each
// member's raw value, and reports whether a name occurs twice.
func topLevel(b []byte) (map[string]json.RawMessage, bool, error) {
	if !json.Valid(b) {
		return nil, false, errors.New("invalid JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return nil, false, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, false, errors.New("not an object")
	}
	out := map[string]json.RawMessage{}
	dup := false
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, false, err
		}
		k := kt.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, false, err
		}
		if _, seen := out[k]; seen {
			dup = true
		}
		out[k] = raw
	}
	if _, err := dec.Token(); err != nil {
		return nil, false, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false, errors.New("trailing data")
	}
	return out, dup, nil
}

// nesting returns the deepest nesting of arrays and objects in JSON text.
func nesting(b []byte) int {
	depth, deepest, inStr := 0, 0, false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// ---------------------------------------------------------------------------
// JWKS parsing.

// FuzzParseJWKS fuzzes JWKS bodies. A body is refused only when it is not a
// JSON object with a "keys" array; otherwise every element is either loaded
// or skipped, and every loaded key is one the verifier can safely use:
// RSA of at least 2048 bits with a sane exponent, an EC point on its curve,
// a 32-byte Ed25519 key that is canonically encoded and not of small order,
// and a stated alg of its own family.
func FuzzParseJWKS(f *testing.F) {
	var keys []any
	for _, a := range authtest.Algorithms {
		k := newKey(f, a)
		keys = append(keys, k.JWK())
		b, _ := json.Marshal(map[string]any{"keys": []any{k.JWK()}})
		f.Add(b)
	}
	small, err := authtest.NewRSAKey("RS256", 1024)
	if err != nil {
		f.Fatalf("NewRSAKey: %v", err)
	}
	b, _ := json.Marshal(map[string]any{"keys": append(keys, small.JWK())})
	f.Add(b)
	rsaJWK := keys[0].(map[string]any)
	variant := func(change map[string]any) []byte {
		m := map[string]any{}
		for k, v := range rsaJWK {
			m[k] = v
		}
		for k, v := range change {
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		b, _ := json.Marshal(map[string]any{"keys": []any{m}})
		return b
	}
	for _, change := range []map[string]any{
		{"use": "enc"}, {"alg": "HS256"}, {"alg": "ES256"}, {"alg": "none"}, {"e": "AQ"}, {"e": "AAAAAAAAAAAB"},
		{"n": "AQAB"}, {"n": ""}, {"kty": "oct", "k": "c2VjcmV0"}, {"kid": nil}, {"kid": 5}, {"key_ops": []string{"encrypt"}},
		{"key_ops": "verify"}, {"x5c": []string{"MIIB"}, "x5u": "http://127.0.0.1:1/x"}, {"n": 5}, {"e": "AQAB=="},
	} {
		f.Add(variant(change))
	}
	for _, s := range []string{
		`{"keys":[]}`, `{"keys":{}}`, `{"keys":null}`, `{}`, `[]`, `{"keys":[1,"a",null,[],{}]}`,
		`{"keys":[],"keys":[]}`, `{"Keys":[]}`, `{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}]}`,
		`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AAAA"}]}`, `{"keys":[{"kty":"OKP","crv":"X25519","x":"` + strings.Repeat("A", 43) + `"}]}`,
		`{"keys":[{"kty":"EC","crv":"P-256K","x":"AA","y":"AA"}]}`, `{"keys":[{"kty":"RSA","kty":"EC"}]}`,
		`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"` + b64.EncodeToString(decodeHex(f, smallOrderEd[0].hex)) + `"}]}`,
		`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"` + b64.EncodeToString(decodeHex(f, nonCanonicalEd[2].hex)) + `"}]}`,
		`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"` + b64.EncodeToString(decodeHex(f, smallOrderEd[4].hex)) + `"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, skipped, err := jwks.Parse(body, nil, time.Now())
		obj, dup, oerr := topLevel(body)
		var elems []json.RawMessage
		keysOK := oerr == nil && !dup && obj["keys"] != nil && json.Unmarshal(obj["keys"], &elems) == nil && obj["keys"][0] == '['
		if err != nil {
			if keysOK && utf8.Valid(body) && nesting(body) <= strictjson.MaxDepth {
				t.Fatalf("refused a JWKS with a keys array: %v", err)
			}
			return
		}
		if !keysOK {
			t.Fatalf("accepted %q, which has no keys array", body)
		}
		if got.Count()+len(skipped) != len(elems) {
			t.Fatalf("%d loaded + %d skipped of %d keys", got.Count(), len(skipped), len(elems))
		}
		if only := got.Only() != nil; only != (got.Count() == 1) {
			t.Fatalf("one-key set %v with %d keys", only, got.Count())
		}
		for k := range got.Keys() {
			checkLoadedKey(t, k)
		}
	})
}

func checkLoadedKey(t *testing.T, key *jwks.Key) {
	t.Helper()
	k := struct{ KID, Alg, Kind string }{key.KID(), key.Alg(), key.Kind().String()}
	family := map[string]string{"RSA": "RS256 RS384 RS512 PS256 PS384 PS512", "P-256": "ES256", "P-384": "ES384", "P-521": "ES512", "Ed25519": "EdDSA"}[k.Kind]
	if family == "" || (k.Alg != "" && !slices.Contains(strings.Fields(family), k.Alg)) {
		t.Fatalf("key %q of kind %q states alg %q", k.KID, k.Kind, k.Alg)
	}
	switch pub := key.Public().(type) {
	case *rsa.PublicKey:
		if k.Kind != "RSA" || pub.N.BitLen() < 2048 || pub.E < 3 || pub.E%2 == 0 {
			t.Fatalf("unusable RSA key loaded: %d bits, e=%d", pub.N.BitLen(), pub.E)
		}
	case *ecdsa.PublicKey:
		if _, err := pub.ECDH(); k.Kind != pub.Curve.Params().Name || err != nil { // ECDH fails for a point off the curve
			t.Fatalf("EC key off its curve loaded (%s)", k.Kind)
		}
	case ed25519.PublicKey:
		if k.Kind != "Ed25519" || len(pub) != ed25519.PublicKeySize {
			t.Fatalf("Ed25519 key of %d bytes loaded", len(pub))
		}
		if weakEd25519(pub) {
			t.Fatalf("weak Ed25519 key %x loaded", []byte(pub))
		}
	default:
		t.Fatalf("key of type %T loaded", pub)
	}
}

// weakEd25519 is the reference for the Ed25519 key check, written from the
// encodings rather than from curve arithmetic: an encoding is canonical when
// y is below p = 2^255-19 and x = 0 (only for y = 1 and y = p-1) carries no
// sign bit; a canonical encoding is of small order when it is one of the
// eight points smallOrderEd lists.
func weakEd25519(pub []byte) bool {
	be := slices.Clone(pub)
	sign := be[31] >> 7
	be[31] &= 0x7f
	slices.Reverse(be)
	y := new(big.Int).SetBytes(be)
	p := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	pm1 := new(big.Int).Sub(p, big.NewInt(1))
	if y.Cmp(p) >= 0 || sign == 1 && (y.Cmp(big.NewInt(1)) == 0 || y.Cmp(pm1) == 0) {
		return true
	}
	for _, tp := range smallOrderEd {
		if hex.EncodeToString(pub) == tp.hex {
			return true
		}
	}
	return false
}
