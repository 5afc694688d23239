package conformance

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
)

// The routes of the sender-constrained token cases (RFC 9449, RFC 8705).
// Each is the middleware with its Suite verifier, answering with
// Respond; Suite.Routes lists them with their verifiers.
const (
	// RouteDPoPRequired: Suite.DPoPRequired (WithDPoPRequired).
	RouteDPoPRequired = "/dpop-required"
	// RouteDPoPNonce: Suite.DPoPNonce (WithDPoPNonces, in memory).
	RouteDPoPNonce = "/dpop-nonce"
	// RouteProofStoreDown: Suite.ProofStoreDown, whose replay store fails.
	RouteProofStoreDown = "/proof-store-down"
	// RouteCertProxy: Suite.CertProxy (WithClientCertFromTrustedProxy).
	RouteCertProxy = "/cert-proxy"
)

// Origin is the scheme and host of every conformance request: the URL a
// DPoP proof's htu names is Origin followed by the route.
const Origin = "http://example.com"

// Route is a path an adapter mounts behind its middleware with Verifier,
// then, when Requirement is not nil, its guard Require(Verifier,
// Requirement), answering with Respond.
type Route struct {
	Path        string
	Verifier    *core.Verifier
	Requirement *core.Requirement
}

// errStoreDown is the failure of the replay store behind RouteProofStoreDown.
var errStoreDown = errors.New("conformance: replay store unreachable")

// downStore is a ReplayStore that cannot be reached, as a network store
// is during an outage.
type downStore struct{}

func (downStore) FirstSeen(context.Context, string, time.Duration) (bool, error) {
	return false, errStoreDown
}

// newClientCertificate returns the DER of a self-signed client certificate.
func newClientCertificate() ([]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "authtest client"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	return x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
}

// ClientCertHeader is the RFC 9440 Client-Cert field value of a certificate.
func ClientCertHeader(der []byte) string { return ":" + base64.StdEncoding.EncodeToString(der) + ":" }

func dpopAuth(tok, proof string) http.Header {
	h := http.Header{"Authorization": {"DPoP " + tok}}
	if proof != "" {
		h["Dpop"] = []string{proof}
	}
	return h
}

func badProof(code, desc string) Want {
	return Want{Status: 401, Challenges: []string{`Bearer realm="api"`,
		`DPoP realm="api", ` + authtest.DPoPAlgs + `, error="` + code + `", error_description="` + desc + `"`},
		Body: `{"error":"` + code + `","error_description":"` + desc + `"}`}
}

// okBound is the answer of a route to a DPoP-bound token of key k.
func okBound(k *authtest.Key, scopes ...string) Want {
	w := ok(authtest.DefaultSubject, scopes...)
	w.Body = w.Body[:len(w.Body)-1] + `,"dpop_jkt":"` + k.Thumbprint() + `"}`
	return w
}

// dpopCases are the sender-constrained token cases (RFC 9449 §7, RFC 8705 §3).
func (c *Suite) dpopCases(t testing.TB) []Case {
	i := c.Issuer
	m := func(claims authtest.Claims, opts ...authtest.MintOption) string {
		return i.MustMint(t, claims, opts...)
	}
	key, err := authtest.NewKey("ES256")
	if err != nil {
		t.Fatalf("conformance: %v", err)
	}
	other, err := authtest.NewKey("EdDSA")
	if err != nil {
		t.Fatalf("conformance: %v", err)
	}
	u := Origin + RouteProtected
	p := func(tok string, opts ...authtest.ProofOption) string {
		return authtest.MustProof(t, key, http.MethodGet, u, tok, opts...)
	}
	bound := m(authtest.Claims{"scope": ScopeRead}, authtest.BoundTo(key))
	unbound := m(authtest.Claims{"scope": ScopeRead})
	noScope := m(nil, authtest.BoundTo(key))
	replayed := p(bound)
	invalid := func() Want { return badProof("invalid_dpop_proof", "the DPoP proof is invalid") }
	rows := []Case{
		{Name: "dpop: bound token with its proof", Path: RouteProtected, Header: dpopAuth(bound, replayed), Want: okBound(key, ScopeRead)},
		{Name: "dpop: the same proof again", Path: RouteProtected, Header: dpopAuth(bound, replayed), Want: invalid()},
		{Name: "dpop: a new proof for the cached token", Path: RouteProtected, Header: dpopAuth(bound, p(bound)), Want: okBound(key, ScopeRead)},
		{Name: "dpop: scheme in lower case", Path: RouteProtected, Header: http.Header{"Authorization": {"dpop " + bound}, "Dpop": {p(bound)}}, Want: okBound(key, ScopeRead)},
		{Name: "dpop: htu with upper-case scheme and host and the default port", Path: RouteProtected, Header: dpopAuth(bound, authtest.MustProof(t, key, "GET", "HTTP://EXAMPLE.COM:80"+RouteProtected, bound)), Want: okBound(key, ScopeRead)},
		{Name: "dpop: query ignored in htu", Path: RouteProtected, Query: "a=1", Header: dpopAuth(bound, p(bound)), Want: okBound(key, ScopeRead)},
		{Name: "dpop: bound token as bearer", Path: RouteProtected, Header: bearer(bound), Want: invalidToken("the access token is bound to a DPoP key")},
		{Name: "dpop: bound token as bearer with a proof", Path: RouteProtected, Header: http.Header{"Authorization": {"Bearer " + bound}, "Dpop": {p(bound)}}, Want: invalidToken("the access token is bound to a DPoP key")},
		{Name: "dpop: unbound token under the DPoP scheme", Path: RouteProtected, Header: dpopAuth(unbound, p(unbound)), Want: invalidToken("the access token is not bound to a DPoP key")},
		{Name: "dpop: proof by another key", Path: RouteProtected, Header: dpopAuth(bound, authtest.MustProof(t, other, "GET", u, bound)), Want: invalidToken("the DPoP proof key does not match the access token")},
		{Name: "dpop: unsupported confirmation method", Path: RouteProtected, Header: bearer(m(authtest.Claims{"cnf": map[string]any{"kid": "k1"}})), Want: invalidToken("the access token confirmation method is not supported")},
		{Name: "dpop: empty jkt", Path: RouteProtected, Header: dpopAuth(m(authtest.Claims{"cnf": map[string]any{"jkt": ""}}), p("")), Want: invalidToken("the access token confirmation method is not supported")},
		{Name: "dpop: no DPoP header", Path: RouteProtected, Header: dpopAuth(bound, ""), Want: invalid()},
		{Name: "dpop: two DPoP headers", Path: RouteProtected, Header: http.Header{"Authorization": {"DPoP " + bound}, "Dpop": {p(bound), p(bound)}}, Want: invalid()},
		{Name: "dpop: htm of another method", Path: RouteProtected, Header: dpopAuth(bound, p(bound, authtest.ProofClaim("htm", "POST"))), Want: invalid()},
		{Name: "dpop: htu of another path", Path: RouteProtected, Header: dpopAuth(bound, p(bound, authtest.ProofClaim("htu", Origin+RouteRead))), Want: invalid()},
		{Name: "dpop: htu of another host", Path: RouteProtected, Header: dpopAuth(bound, p(bound, authtest.ProofClaim("htu", "http://example.org"+RouteProtected))), Want: invalid()},
		{Name: "dpop: ath of another token", Path: RouteProtected, Header: dpopAuth(bound, p(unbound)), Want: invalid()},
		{Name: "dpop: no ath", Path: RouteProtected, Header: dpopAuth(bound, p(bound, authtest.ProofClaim("ath", authtest.Omit))), Want: invalid()},
		{Name: "dpop: iat too old", Path: RouteProtected, Header: dpopAuth(bound, p(bound, authtest.ProofIssuedAt(time.Now().Add(-6*time.Minute)))), Want: invalid()},
		{Name: "dpop: iat in the future", Path: RouteProtected, Header: dpopAuth(bound, p(bound, authtest.ProofIssuedAt(time.Now().Add(2*time.Minute)))), Want: invalid()},
		{Name: "dpop: no jti", Path: RouteProtected, Header: dpopAuth(bound, p(bound, authtest.ProofClaim("jti", authtest.Omit))), Want: invalid()},
		{Name: "dpop: typ JWT", Path: RouteProtected, Header: dpopAuth(bound, p(bound, authtest.ProofHeader("typ", "JWT"))), Want: invalid()},
		{Name: "dpop: private key in jwk", Path: RouteProtected, Header: dpopAuth(bound, p(bound, authtest.ProofWithPrivateKey())), Want: invalid()},
		{Name: "dpop: alg HS256", Path: RouteProtected, Header: dpopAuth(bound, p(bound, authtest.ProofHeader("alg", "HS256"))), Want: invalid()},
		{Name: "dpop: alg none", Path: RouteProtected, Header: dpopAuth(bound, p(bound, authtest.ProofHeader("alg", "none"))), Want: invalid()},
		{Name: "dpop: signature of another key", Path: RouteProtected, Header: dpopAuth(bound, p(bound, authtest.ProofHeader("jwk", jwkOf(other)), authtest.ProofHeader("alg", "ES256"))), Want: invalid()},
		{Name: "dpop: proof over the size cap", Path: RouteProtected, Header: dpopAuth(bound, strings.Repeat("a", 8<<10+1)), Want: invalid()},
		{Name: "dpop: proof not a JWS", Path: RouteProtected, Header: dpopAuth(bound, "not.a.proof"), Want: invalid()},
		{Name: "dpop: scope missing", Path: RouteRead, Header: dpopAuth(noScope, authtest.MustProof(t, key, "GET", Origin+RouteRead, noScope)), Want: Want{Status: 403,
			Challenges: []string{`DPoP realm="api", ` + authtest.DPoPAlgs + `, error="insufficient_scope", scope="` + ScopeRead + `"`},
			Body:       `{"error":"insufficient_scope","error_description":"the access token lacks a required scope"}`}},
		{Name: "dpop: scope present", Path: RouteRead, Header: dpopAuth(bound, authtest.MustProof(t, key, "GET", Origin+RouteRead, bound)), Want: okBound(key, ScopeRead)},
	}
	return append(rows, c.dpopModeCases(t, key, bound, unbound)...)
}

// dpopModeCases are the cases of the verifiers with other DPoP and
// certificate settings.
func (c *Suite) dpopModeCases(t testing.TB, key *authtest.Key, bound, unbound string) []Case {
	dpopOnly := func(params string) []string { return []string{`DPoP realm="api", ` + authtest.DPoPAlgs + params} }
	req := func(tok string) string { return authtest.MustProof(t, key, "GET", Origin+RouteDPoPRequired, tok) }
	nonceURL := Origin + RouteDPoPNonce
	nonce := c.currentNonce(t, key, bound, nonceURL)
	der, err := newClientCertificate()
	if err != nil {
		t.Fatalf("conformance: %v", err)
	}
	otherDER, err := newClientCertificate()
	if err != nil {
		t.Fatalf("conformance: %v", err)
	}
	certBound := c.Issuer.MustMint(t, authtest.Claims{"scope": ScopeRead}, authtest.BoundToCertificate(der))
	certOK := ok(authtest.DefaultSubject, ScopeRead)
	certOK.Body = certOK.Body[:len(certOK.Body)-1] + `,"x5t#S256":"` + authtest.CertificateThumbprint(der) + `"}`
	mismatch := invalidToken("the access token is bound to another client certificate")
	withCert := func(tok, field string) http.Header {
		return http.Header{"Authorization": {"Bearer " + tok}, "Client-Cert": {field}}
	}
	return []Case{
		{Name: "dpop required: no credential", Path: RouteDPoPRequired, Want: Want{Status: 401, Challenges: dpopOnly(""), Body: noCredBody}},
		{Name: "dpop required: bearer token", Path: RouteDPoPRequired, Header: bearer(unbound), Want: Want{Status: 401,
			Challenges: dpopOnly(`, error="invalid_token", error_description="a DPoP-bound access token is required"`),
			Body:       `{"error":"invalid_token","error_description":"a DPoP-bound access token is required"}`}},
		{Name: "dpop required: bound token with its proof", Path: RouteDPoPRequired, Header: dpopAuth(bound, req(bound)), Want: okBound(key, ScopeRead)},
		{Name: "dpop required: bad proof", Path: RouteDPoPRequired, Header: dpopAuth(bound, authtest.MustProof(t, key, "POST", Origin+RouteDPoPRequired, bound)), Want: Want{Status: 401,
			Challenges: dpopOnly(`, error="invalid_dpop_proof", error_description="the DPoP proof is invalid"`),
			Body:       `{"error":"invalid_dpop_proof","error_description":"the DPoP proof is invalid"}`}},
		{Name: "dpop nonce: proof without one", Path: RouteDPoPNonce, Header: dpopAuth(bound, authtest.MustProof(t, key, "GET", nonceURL, bound)),
			Want: withNonce(badProof("use_dpop_nonce", "the DPoP proof needs a current server nonce"))},
		{Name: "dpop nonce: proof with a stale one", Path: RouteDPoPNonce, Header: dpopAuth(bound, authtest.MustProof(t, key, "GET", nonceURL, bound, authtest.ProofNonce("stale"))),
			Want: withNonce(badProof("use_dpop_nonce", "the DPoP proof needs a current server nonce"))},
		{Name: "dpop nonce: proof with the current one", Path: RouteDPoPNonce, Header: dpopAuth(bound, authtest.MustProof(t, key, "GET", nonceURL, bound, authtest.ProofNonce(nonce))),
			Want: withNonce(okBound(key, ScopeRead))},
		{Name: "dpop nonce: bearer token, no nonce", Path: RouteDPoPNonce, Header: bearer(unbound), Want: ok(authtest.DefaultSubject, ScopeRead)},
		{Name: "dpop: replay store unreachable", Path: RouteProofStoreDown, Header: dpopAuth(bound, authtest.MustProof(t, key, "GET", Origin+RouteProofStoreDown, bound)),
			Want: Want{Status: 503, Body: `{"error":"temporarily_unavailable","error_description":"the DPoP proof cannot be checked right now"}`, RetryAfter: true}},
		{Name: "dpop: replay store unreachable, bearer token", Path: RouteProofStoreDown, Header: bearer(unbound), Want: ok(authtest.DefaultSubject, ScopeRead)},
		{Name: "mtls: certificate-bound token without a certificate", Path: RouteProtected, Header: bearer(certBound), Want: mismatch},
		{Name: "mtls: Client-Cert from an untrusted proxy", Path: RouteProtected, Header: withCert(certBound, ClientCertHeader(der)), Want: mismatch},
		{Name: "mtls: Client-Cert from the trusted proxy", Path: RouteCertProxy, Header: withCert(certBound, ClientCertHeader(der)), Want: certOK},
		{Name: "mtls: Client-Cert of another certificate", Path: RouteCertProxy, Header: withCert(certBound, ClientCertHeader(otherDER)), Want: mismatch},
		{Name: "mtls: Client-Cert not a byte sequence", Path: RouteCertProxy, Header: withCert(certBound, base64.StdEncoding.EncodeToString(der)), Want: mismatch},
		{Name: "mtls: two Client-Cert fields", Path: RouteCertProxy, Header: http.Header{"Authorization": {"Bearer " + certBound}, "Client-Cert": {ClientCertHeader(der), ClientCertHeader(der)}}, Want: mismatch},
		{Name: "mtls: certificate-bound token, no certificate, trusted proxy", Path: RouteCertProxy, Header: bearer(certBound), Want: mismatch},
	}
}

// currentNonce asks the nonce verifier for its current nonce, as a client
// learns it: from the refusal of a proof without one.
func (c *Suite) currentNonce(t testing.TB, key *authtest.Key, tok, url string) string {
	r, _ := http.NewRequest(http.MethodGet, url, nil)
	r.Header.Set("Authorization", "DPoP "+tok)
	r.Header.Set("DPoP", authtest.MustProof(t, key, "GET", url, tok))
	_, err := c.DPoPNonce.Authenticate(context.Background(), core.FromHTTP(r))
	var e *core.Error
	if !errors.As(err, &e) || e.DPoPNonce == "" {
		t.Fatalf("conformance: no nonce from a proof without one: %v", err)
	}
	return e.DPoPNonce
}

func withNonce(w Want) Want {
	w.DPoPNonce = true
	return w
}

// jwkOf is k's public JWK as a proof header carries it.
func jwkOf(k *authtest.Key) map[string]any {
	j := k.JWK()
	delete(j, "kid")
	delete(j, "use")
	return j
}
