package core_test

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
)

// dpopFixture is an issuer, a client's DPoP key and a token bound to it.
type dpopFixture struct {
	iss   *authtest.Issuer
	key   *authtest.Key
	bound string
}

func newDPoPFixture(t *testing.T) dpopFixture {
	t.Helper()
	iss := authtest.MustIssuer(t)
	key, err := authtest.NewKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	return dpopFixture{iss: iss, key: key, bound: iss.MustMint(t, authtest.Claims{"scope": "a"}, authtest.BoundTo(key))}
}

// dpopRequest is a GET of url carrying tok under the DPoP scheme and, when
// not "", the proof.
func dpopRequest(url, tok, proof string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, url, nil)
	r.Header.Set("Authorization", "DPoP "+tok)
	if proof != "" {
		r.Header.Set("DPoP", proof)
	}
	return r
}

// TestDPoPProofChecks holds every proof check to its own sentinel, through
// Authenticate: each failing proof matches ErrInvalidDPoPProof and the
// check's sentinel, and no other check's.
func TestDPoPProofChecks(t *testing.T) {
	f := newDPoPFixture(t)
	v := newVerifier(t, f.iss, core.WithAudiences(authtest.DefaultAudience))
	const url = "http://api.example/notes"
	other, err := authtest.NewKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	rsa1024, err := authtest.NewRSAKey("RS256", 1024)
	if err != nil {
		t.Fatal(err)
	}
	otherJWK := other.JWK()
	delete(otherJWK, "kid")
	p := func(opts ...authtest.ProofOption) string {
		return authtest.MustProof(t, f.key, "GET", url, f.bound, opts...)
	}
	checks := []error{
		core.ErrDPoPProofCount, core.ErrDPoPProofTooLarge, core.ErrDPoPProofMalformed, core.ErrDPoPProofDuplicate,
		core.ErrDPoPProofCrit, core.ErrDPoPProofType, core.ErrDPoPProofAlgorithm, core.ErrDPoPProofNoKey,
		core.ErrDPoPProofPrivateKey, core.ErrDPoPProofBadKey, core.ErrDPoPProofWeakKey, core.ErrDPoPProofKeyMismatch,
		core.ErrDPoPProofSignature, core.ErrDPoPProofClaimMissing, core.ErrDPoPProofClaimInvalid, core.ErrDPoPProofMethod,
		core.ErrDPoPProofURI, core.ErrDPoPProofTooOld, core.ErrDPoPProofFuture, core.ErrDPoPProofTokenHash,
		core.ErrDPoPProofReplayed,
	}
	used := p()
	if _, err := v.Authenticate(context.Background(), core.FromHTTP(dpopRequest(url, f.bound, used))); err != nil {
		t.Fatalf("valid proof refused: %v", err)
	}
	// A proof whose claims name htm twice, validly signed.
	jwk, err := json.Marshal(jwkWithout(f.key))
	if err != nil {
		t.Fatal(err)
	}
	dup, err := f.key.Sign("ES256", []byte(`{"typ":"dpop+jwt","alg":"ES256","jwk":`+string(jwk)+`}`),
		[]byte(`{"jti":"j1","htm":"GET","htm":"GET","htu":"`+url+`","iat":`+itoa(time.Now().Unix())+`,"ath":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		proof string
		want  error
	}{
		{"no DPoP header", "", core.ErrDPoPProofCount},
		{"over 8 KiB", strings.Repeat("a", 8<<10+1), core.ErrDPoPProofTooLarge},
		{"two segments", "a.b", core.ErrDPoPProofMalformed},
		{"duplicate claim", dup, core.ErrDPoPProofDuplicate},
		{"crit", p(authtest.ProofHeader("crit", []string{"exp"})), core.ErrDPoPProofCrit},
		{"typ JWT", p(authtest.ProofHeader("typ", "JWT")), core.ErrDPoPProofType},
		{"no typ", p(authtest.ProofHeader("typ", authtest.Omit)), core.ErrDPoPProofType},
		{"alg HS256", p(authtest.ProofHeader("alg", "HS256")), core.ErrDPoPProofAlgorithm},
		{"alg none", p(authtest.ProofHeader("alg", "none")), core.ErrDPoPProofAlgorithm},
		{"no jwk", p(authtest.ProofHeader("jwk", authtest.Omit)), core.ErrDPoPProofNoKey},
		{"private jwk", p(authtest.ProofWithPrivateKey()), core.ErrDPoPProofPrivateKey},
		{"symmetric jwk", p(authtest.ProofHeader("jwk", map[string]any{"kty": "oct", "k": "c2VjcmV0"})), core.ErrDPoPProofPrivateKey},
		{"jwk of no known type", p(authtest.ProofHeader("jwk", map[string]any{"kty": "XYZ"})), core.ErrDPoPProofBadKey},
		{"RSA 1024", authtest.MustProof(t, rsa1024, "GET", url, f.bound), core.ErrDPoPProofWeakKey},
		{"alg of another key type", base64.RawURLEncoding.EncodeToString([]byte(`{"typ":"dpop+jwt","alg":"RS256","jwk":`+string(jwk)+`}`)) + used[strings.IndexByte(used, '.'):], core.ErrDPoPProofKeyMismatch},
		{"signed by another key", p(authtest.ProofHeader("jwk", otherJWK)), core.ErrDPoPProofSignature},
		{"no jti", p(authtest.ProofClaim("jti", authtest.Omit)), core.ErrDPoPProofClaimMissing},
		{"no ath", p(authtest.ProofClaim("ath", authtest.Omit)), core.ErrDPoPProofClaimMissing},
		{"iat a string", p(authtest.ProofClaim("iat", "now")), core.ErrDPoPProofClaimInvalid},
		{"htm POST", p(authtest.ProofClaim("htm", "POST")), core.ErrDPoPProofMethod},
		{"htm get", p(authtest.ProofClaim("htm", "get")), core.ErrDPoPProofMethod},
		{"htu of another path", p(authtest.ProofClaim("htu", "http://api.example/other")), core.ErrDPoPProofURI},
		{"htu https", p(authtest.ProofClaim("htu", "https://api.example/notes")), core.ErrDPoPProofURI},
		{"iat 6 minutes old", p(authtest.ProofIssuedAt(time.Now().Add(-6 * time.Minute))), core.ErrDPoPProofTooOld},
		{"iat 2 minutes ahead", p(authtest.ProofIssuedAt(time.Now().Add(2 * time.Minute))), core.ErrDPoPProofFuture},
		{"ath of another token", p(authtest.ProofClaim("ath", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")), core.ErrDPoPProofTokenHash},
		{"replayed", used, core.ErrDPoPProofReplayed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Authenticate(context.Background(), core.FromHTTP(dpopRequest(url, f.bound, tt.proof)))
			wantErr(t, err, core.ErrInvalidDPoPProof, http.StatusUnauthorized)
			for _, s := range checks {
				if errors.Is(err, s) != (s == tt.want) {
					t.Fatalf("err %v: errors.Is(%v) = %v", err, s, errors.Is(err, s))
				}
			}
			if got := core.AsError(err).Reason(); got != "invalid_dpop_proof" {
				t.Fatalf("Reason = %q", got)
			}
		})
	}
}

func jwkWithout(k *authtest.Key) map[string]any {
	j := k.JWK()
	delete(j, "kid")
	delete(j, "use")
	return j
}

// TestDPoPPublicURL: behind a proxy the request reaches the API as plain
// http to an internal host; the client signed the public URL.
func TestDPoPPublicURL(t *testing.T) {
	f := newDPoPFixture(t)
	const public = "https://api.example.com"
	tests := []struct {
		name string
		opts []core.Option
		want error
	}{
		{"without WithPublicURL", nil, core.ErrDPoPProofURI},
		{"with WithPublicURL", []core.Option{core.WithPublicURL(public + "/ignored/path")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVerifier(t, f.iss, append(tt.opts, core.WithAudiences(authtest.DefaultAudience))...)
			r := dpopRequest("http://10.0.0.7:8080/notes/1?x=1", f.bound, authtest.MustProof(t, f.key, "GET", public+"/notes/1", f.bound))
			_, err := v.Authenticate(context.Background(), core.FromHTTP(r))
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := core.New(context.Background(), core.WithIssuer(f.iss.URL), core.WithAudiences("a"), core.WithPublicURL("ftp://x")); err == nil {
		t.Fatal("New accepted an ftp public URL")
	}
}

// TestDPoPBoundTokenNeverBearer: a bound token is refused wherever no proof
// can be checked: as a bearer credential, through Verify, and from every
// bearer source.
func TestDPoPBoundTokenNeverBearer(t *testing.T) {
	f := newDPoPFixture(t)
	v := newVerifier(t, f.iss, core.WithAudiences(authtest.DefaultAudience), core.WithQueryToken(), core.WithCookieToken("at"))
	if _, err := v.Verify(context.Background(), f.bound); !errors.Is(err, core.ErrBoundTokenAsBearer) {
		t.Fatalf("Verify = %v", err)
	}
	// Verified (and cached) once under the DPoP scheme, still refused as bearer.
	if _, err := v.Authenticate(context.Background(), core.FromHTTP(dpopRequest("http://x/", f.bound, authtest.MustProof(t, f.key, "GET", "http://x/", f.bound)))); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*http.Request{
		httptest.NewRequest("GET", "http://x/?access_token="+f.bound, nil),
		func() *http.Request {
			r := httptest.NewRequest("GET", "http://x/", nil)
			r.AddCookie(&http.Cookie{Name: "at", Value: f.bound})
			return r
		}(),
		func() *http.Request {
			r := httptest.NewRequest("GET", "http://x/", nil)
			r.Header.Set("Authorization", "Bearer "+f.bound)
			return r
		}(),
	} {
		_, err := v.Authenticate(context.Background(), core.FromHTTP(r))
		wantErr(t, err, core.ErrBoundTokenAsBearer, http.StatusUnauthorized)
	}
	certBound := f.iss.MustMint(t, authtest.Claims{"cnf": map[string]any{"x5t#S256": authtest.CertificateThumbprint([]byte("der"))}})
	if _, err := v.Verify(context.Background(), certBound); !errors.Is(err, core.ErrCertificateMismatch) {
		t.Fatalf("Verify(certificate-bound) = %v", err)
	}
	for _, cnf := range []any{map[string]any{}, map[string]any{"jkt": 1}, map[string]any{"jkt": "short"}, map[string]any{"jwk": map[string]any{}}} {
		tok := f.iss.MustMint(t, authtest.Claims{"cnf": cnf})
		if _, err := v.Verify(context.Background(), tok); !errors.Is(err, core.ErrUnsupportedBinding) {
			t.Fatalf("cnf %v: Verify = %v", cnf, err)
		}
	}
	tok := f.iss.MustMint(t, authtest.Claims{"cnf": "jkt"})
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, core.ErrClaimType) {
		t.Fatalf("cnf a string: Verify = %v", err)
	}
}

// TestCertificateBoundTLS checks a certificate-bound token against the TLS
// connection's client certificate, as net/http reports it.
func TestCertificateBoundTLS(t *testing.T) {
	iss := authtest.MustIssuer(t)
	srv := httptest.NewUnstartedServer(nil)
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAnyClientCert}
	v := newVerifier(t, iss, core.WithAudiences(authtest.DefaultAudience))
	var seen atomic.Value
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := v.Authenticate(r.Context(), core.FromHTTP(r))
		if err != nil {
			seen.Store(err)
			core.AsError(err).WriteHTTP(w)
			return
		}
		_, _ = w.Write([]byte(p.CertificateThumbprint))
	})
	srv.StartTLS()
	defer srv.Close()
	client := func(cert tls.Certificate) *http.Client {
		tr := srv.Client().Transport.(*http.Transport).Clone()
		tr.TLSClientConfig.Certificates = []tls.Certificate{cert}
		return &http.Client{Transport: tr}
	}
	cert := clientCert(t)
	mine, theirs := client(cert), client(clientCert(t))
	tok := iss.MustMint(t, nil, authtest.BoundToCertificate(cert.Certificate[0]))
	get := func(c *http.Client, tok string) int {
		r, _ := http.NewRequest("GET", srv.URL, nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		resp, err := c.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := get(mine, tok); got != 200 {
		t.Fatalf("own certificate: %d (%v)", got, seen.Load())
	}
	if got := get(theirs, tok); got != 401 {
		t.Fatalf("another certificate: %d", got)
	}
	if err, _ := seen.Load().(error); !errors.Is(err, core.ErrCertificateMismatch) {
		t.Fatalf("err = %v", err)
	}
}

func clientCert(t *testing.T) tls.Certificate {
	t.Helper()
	k, err := authtest.NewKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Signer.Public(), k.Signer)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k.Signer}
}

// TestDPoPNoncesAndResponseHeader: with nonces on, a proof must carry the
// current one; refusals and successes hand out the current nonce.
func TestDPoPNoncesAndResponseHeader(t *testing.T) {
	f := newDPoPFixture(t)
	v := newVerifier(t, f.iss, core.WithAudiences(authtest.DefaultAudience), core.WithDPoPNonces(nil))
	const url = "http://x/"
	_, err := v.Authenticate(context.Background(), core.FromHTTP(dpopRequest(url, f.bound, authtest.MustProof(t, f.key, "GET", url, f.bound))))
	wantErr(t, err, core.ErrUseDPoPNonce, http.StatusUnauthorized)
	e := core.AsError(err)
	if e.DPoPNonce == "" || e.Header().Get("DPoP-Nonce") != e.DPoPNonce {
		t.Fatalf("nonce %q, header %v", e.DPoPNonce, e.Header())
	}
	p, err := v.Authenticate(context.Background(), core.FromHTTP(dpopRequest(url, f.bound, authtest.MustProof(t, f.key, "GET", url, f.bound, authtest.ProofNonce(e.DPoPNonce)))))
	if err != nil {
		t.Fatal(err)
	}
	if got := v.ResponseHeader(context.Background(), p).Get("DPoP-Nonce"); got != e.DPoPNonce {
		t.Fatalf("ResponseHeader nonce = %q, want %q", got, e.DPoPNonce)
	}
	plain := newVerifier(t, f.iss, core.WithAudiences(authtest.DefaultAudience))
	if h := plain.ResponseHeader(context.Background(), p); h != nil {
		t.Fatalf("nonces off: ResponseHeader = %v", h)
	}
}

// failingNonces is a nonce source whose backend is down.
type failingNonces struct{}

func (failingNonces) Current(context.Context, string) (bool, error) {
	return false, errors.New("nonce backend down")
}
func (failingNonces) Issue(context.Context) (string, error) {
	return "", errors.New("nonce backend down")
}

// TestDPoPStoreOutage: a failing replay store or nonce source is a 503, and
// a proof is never accepted while it fails.
func TestDPoPStoreOutage(t *testing.T) {
	f := newDPoPFixture(t)
	for _, opt := range []core.Option{core.WithDPoPReplayStore(storeFunc(func() (bool, error) { return false, errors.New("down") })), core.WithDPoPNonces(failingNonces{})} {
		v := newVerifier(t, f.iss, core.WithAudiences(authtest.DefaultAudience), opt)
		_, err := v.Authenticate(context.Background(), core.FromHTTP(dpopRequest("http://x/", f.bound, authtest.MustProof(t, f.key, "GET", "http://x/", f.bound, authtest.ProofNonce("n")))))
		wantErr(t, err, core.ErrProofStoreUnavailable, http.StatusServiceUnavailable)
		if e := core.AsError(err); e.RetryAfter < 1 || len(e.Challenges()) != 0 {
			t.Fatalf("Retry-After %d, challenges %q", e.RetryAfter, e.Challenges())
		}
	}
}

type storeFunc func() (bool, error)

func (f storeFunc) FirstSeen(context.Context, string, time.Duration) (bool, error) { return f() }

// TestDPoPReplayRace: of many concurrent requests with one proof, exactly
// one is accepted.
func TestDPoPReplayRace(t *testing.T) {
	f := newDPoPFixture(t)
	v := newVerifier(t, f.iss, core.WithAudiences(authtest.DefaultAudience))
	proof := authtest.MustProof(t, f.key, "GET", "http://x/", f.bound)
	var wg sync.WaitGroup
	var ok, replayed atomic.Int32
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := v.Authenticate(context.Background(), core.FromHTTP(dpopRequest("http://x/", f.bound, proof)))
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, core.ErrDPoPProofReplayed):
				replayed.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 || replayed.Load() != 63 {
		t.Fatalf("accepted %d, replayed %d", ok.Load(), replayed.Load())
	}
}

// TestDPoPOptions: New refuses DPoP settings that would weaken the check.
func TestDPoPOptions(t *testing.T) {
	iss := authtest.MustIssuer(t)
	for _, tt := range []struct {
		name string
		opt  core.Option
	}{
		{"HS256 proofs", core.WithDPoPAlgorithms("ES256", "HS256")},
		{"none proofs", core.WithDPoPAlgorithms("none")},
		{"unknown alg", core.WithDPoPAlgorithms("ES257")},
		{"window 0", core.WithDPoPProofWindow(0)},
		{"window 2h", core.WithDPoPProofWindow(2 * time.Hour)},
		{"public URL with a query", core.WithPublicURL("https://api.example?x=1")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := core.New(context.Background(), core.WithIssuer(iss.URL), core.WithAudiences("a"), tt.opt); err == nil {
				t.Fatal("New accepted it")
			}
		})
	}
	v := newVerifier(t, iss, core.WithAudiences("a"), core.WithDPoPAlgorithms("ES256", "EdDSA"), core.WithDPoPRequired())
	_, err := v.Authenticate(context.Background(), core.FromHTTP(httptest.NewRequest("GET", "/", nil)))
	want := []string{`DPoP realm="api", algs="ES256 EdDSA"`}
	if got := core.AsError(err).Challenges(); len(got) != 1 || got[0] != want[0] {
		t.Fatalf("challenges = %q, want %q", got, want)
	}
}
