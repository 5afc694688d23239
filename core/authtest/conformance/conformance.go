package conformance

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
)

// The routes an adapter mounts to run the conformance table. Each handler
// answers with Respond.
const (
	// RouteProtected: the middleware with Suite.Verifier.
	RouteProtected = "/protected"
	// RouteOptional: the middleware with Suite.Verifier, optional authentication.
	RouteOptional = "/optional"
	// RouteRead: the middleware, then the all-of scope guard for ScopeRead.
	RouteRead = "/read"
	// RouteAll: the middleware, then the all-of guard for ScopeRead and ScopeCreate.
	RouteAll = "/all"
	// RouteAny: the middleware, then the any-of guard for ScopeRead and ScopeUpdate.
	RouteAny = "/any"
	// RouteRole: the middleware, then the role guard (all-of) for RoleAdmin.
	RouteRole = "/role"
	// RouteGuardOnly: the all-of guard for ScopeRead alone, without the middleware.
	RouteGuardOnly = "/guard-only"
	// RouteSources: the middleware with Suite.Sources (query and cookie tokens on).
	RouteSources = "/sources"
	// RouteOutage: the middleware with Suite.Outage (its JWKS is down).
	RouteOutage = "/outage"
)

// Scopes and roles used by the conformance routes.
const (
	ScopeRead   = "example:note:read"
	ScopeCreate = "example:note:create"
	ScopeUpdate = "example:note:update"
	RoleAdmin   = "admin"
	// CookieName is the cookie Suite.Sources reads.
	CookieName = "access_token"
)

// Respond is the handler behind every conformance route. fromAccessor is
// what the adapter's typed accessor returned, fromContext what
// core.PrincipalFromContext returned on the request's context. Both must
// be the same principal (or both nil on an anonymous optional route).
func Respond(fromAccessor, fromContext *core.Principal) (status int, body []byte) {
	if fromAccessor != fromContext {
		return http.StatusInternalServerError, []byte(`{"error":"accessor and context disagree"}`)
	}
	if fromAccessor == nil {
		return http.StatusOK, []byte(`{"anonymous":true}`)
	}
	b, _ := json.Marshal(struct {
		Sub    string   `json:"sub"`
		Scopes []string `json:"scopes"`
		DPoP   string   `json:"dpop_jkt,omitempty"`
		Cert   string   `json:"x5t#S256,omitempty"`
	}{fromAccessor.Subject, append([]string{}, fromAccessor.Scopes...), fromAccessor.DPoPThumbprint, fromAccessor.CertificateThumbprint})
	return http.StatusOK, b
}

// Case is one request of the conformance table and its exact answer.
type Case struct {
	Name   string
	Method string // default GET
	Path   string
	Query  string      // raw query, without "?"
	Header http.Header // request headers; several Authorization values are sent as separate fields
	Want   Want
}

// Want is the exact answer: status, every WWW-Authenticate field in order
// (byte for byte; nil means none), the JSON body (compared as JSON values) and whether a
// Retry-After with a positive number of seconds is required.
type Want struct {
	Status     int
	Challenges []string
	Body       string
	RetryAfter bool
	// DPoPNonce requires a DPoP-Nonce header (RFC 9449 §8); without it,
	// the answer must have none.
	DPoPNonce bool
	// RawBody compares the body byte for byte instead of as JSON values.
	RawBody bool
	// Headers lists more response headers the answer must have, each with
	// exactly these values.
	Headers http.Header
}

// Suite is the shared table that keeps the adapters identical.
type Suite struct {
	Issuer   *authtest.Issuer
	Verifier *core.Verifier // audience DefaultAudience, role claim "roles"
	Sources  *core.Verifier // as Verifier, plus WithQueryToken and WithCookieToken(CookieName)
	Outage   *core.Verifier // an issuer whose JWKS endpoint is down
	// DPoPRequired, DPoPNonce, ProofStoreDown and CertProxy are Verifier
	// with WithDPoPRequired, with WithDPoPNonces(nil), with a replay store
	// that fails, and with WithClientCertFromTrustedProxy.
	DPoPRequired, DPoPNonce, ProofStoreDown, CertProxy *core.Verifier
	// Routes are the routes an adapter mounts behind its middleware, each
	// with its verifier, besides those of the Route* constants above
	// RouteDPoPRequired.
	Routes []Route
	// Resource is Verifier with WithResource(ResourceID, {Name:
	// ResourceName}); ResourceCreate its requirement of ScopeCreate, and
	// ScopeRead is named by another of its requirements, so that
	// scopes_supported lists both.
	Resource       *core.Verifier
	ResourceCreate *core.Requirement
	// Issuer2 is a second issuer, and Issuers the Verifier of Issuer and
	// Issuer2 (WithIssuers), mounted at RouteIssuers.
	Issuer2 *authtest.Issuer
	Issuers *core.Verifier
	Cases   []Case
}

// New starts the issuers, builds the verifiers (waiting for their
// keys) and the cases. Everything is closed when the test ends.
func New(t testing.TB) *Suite {
	t.Helper()
	iss := authtest.MustIssuer(t)
	down := authtest.MustIssuer(t)
	down.SetFault(authtest.FaultDown)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	mk := func(url string, extra ...core.Option) *core.Verifier {
		opts := append([]core.Option{
			core.WithIssuer(url),
			core.WithAudiences(authtest.DefaultAudience),
			core.WithRoleClaims("roles"),
		}, extra...)
		v, err := core.New(ctx, opts...)
		if err != nil {
			t.Fatalf("conformance: %v", err)
		}
		t.Cleanup(func() { _ = v.Close() })
		return v
	}
	c := &Suite{
		Issuer:   iss,
		Verifier: mk(iss.URL),
		Sources:  mk(iss.URL, core.WithQueryToken(), core.WithCookieToken(CookieName)),
		Outage:   mk(down.URL, core.WithJWKSURL(down.JWKSURL())),

		DPoPRequired:   mk(iss.URL, core.WithDPoPRequired()),
		DPoPNonce:      mk(iss.URL, core.WithDPoPNonces(nil)),
		ProofStoreDown: mk(iss.URL, core.WithDPoPReplayStore(downStore{})),
		CertProxy:      mk(iss.URL, core.WithClientCertFromTrustedProxy()),
		Resource:       mk(iss.URL, core.WithResource(ResourceID, core.ResourceMetadata{Name: ResourceName})),
	}
	c.ResourceCreate = c.Resource.RequireScopes(ScopeCreate)
	_ = c.Resource.RequireAnyScope(ScopeRead, ScopeCreate)
	c.Routes = []Route{
		{Path: RouteDPoPRequired, Verifier: c.DPoPRequired}, {Path: RouteDPoPNonce, Verifier: c.DPoPNonce},
		{Path: RouteProofStoreDown, Verifier: c.ProofStoreDown}, {Path: RouteCertProxy, Verifier: c.CertProxy},
		{Path: RouteResource, Verifier: c.Resource}, {Path: RouteResourceCreate, Verifier: c.Resource, Requirement: c.ResourceCreate},
	}
	c.newIssuers(t)
	rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
	defer rcancel()
	for _, v := range []*core.Verifier{c.Verifier, c.Sources, c.DPoPRequired, c.DPoPNonce, c.ProofStoreDown, c.CertProxy, c.Resource, c.Issuers} {
		if err := v.Ready(rctx); err != nil {
			t.Fatalf("conformance: %v", err)
		}
	}
	c.Cases = append(c.cases(t), c.hostileCases(t)...)
	c.Cases = append(c.Cases, c.dpopCases(t)...)
	c.Cases = append(c.Cases, c.metadataCases(t)...)
	c.Cases = append(c.Cases, c.issuerCases(t)...)
	return c
}

const noCredBody = `{"error":"unauthorized","error_description":"a bearer token is required"}`

// bare is the pair of challenges of a request without credentials.
var bare = authtest.Challenges("")

func failure(status int, code, desc string) Want {
	return Want{Status: status, Challenges: authtest.Challenges(`, error="` + code + `", error_description="` + desc + `"`),
		Body: `{"error":"` + code + `","error_description":"` + desc + `"}`}
}

func invalidRequest() Want {
	return failure(400, "invalid_request", "the bearer credential is malformed")
}

func twoMethods() Want {
	return failure(400, "invalid_request", "only one bearer credential may be sent")
}

func invalidToken(desc string) Want { return failure(401, "invalid_token", desc) }

func insufficient(scope string) Want {
	ch := `Bearer realm="api", error="insufficient_scope"`
	if scope != "" {
		ch += `, scope="` + scope + `"`
	}
	return Want{Status: 403, Challenges: []string{ch}, Body: `{"error":"insufficient_scope","error_description":"the access token lacks a required scope"}`}
}

func ok(sub string, scopes ...string) Want {
	b, _ := json.Marshal(map[string]any{"sub": sub, "scopes": append([]string{}, scopes...)})
	return Want{Status: 200, Body: string(b)}
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

// toks are the tokens the bearer cases send.
type toks struct {
	read, readCreate, update, forged, hs, none, dup, huge string
	m                                                     func(authtest.Claims, ...authtest.MintOption) string
}

func (c *Suite) cases(t testing.TB) []Case {
	i := c.Issuer
	m := func(claims authtest.Claims, opts ...authtest.MintOption) string {
		return i.MustMint(t, claims, opts...)
	}
	now := time.Now()
	read := m(authtest.Claims{"scope": ScopeRead})
	readCreate := m(authtest.Claims{"scope": ScopeRead + " " + ScopeCreate})
	update := m(authtest.Claims{"scope": ScopeUpdate})
	other, err := authtest.NewKey("RS256")
	if err != nil {
		t.Fatalf("conformance: %v", err)
	}
	forged := m(authtest.Claims{"scope": ScopeRead}, authtest.SignedBy(other), authtest.Header("kid", i.SigningKey().ID))
	hs := m(authtest.Claims{"scope": ScopeRead}, authtest.Header("alg", "HS256"))
	none := m(authtest.Claims{"scope": ScopeRead}, authtest.Header("alg", "none"))
	dup := dupClaimToken(t, i)
	huge := strings.Repeat("a", core.DefaultMaxTokenSize+1)
	k := toks{read: read, readCreate: readCreate, update: update, forged: forged, hs: hs, none: none, dup: dup, huge: huge, m: m}
	return slices.Concat(credentialCases(k), tokenCases(k, i, now), scopeCases(k))
}

// credentialCases are the cases of reading the credential (RFC 6750 §2).
func credentialCases(k toks) []Case {
	read, huge := k.read, k.huge
	noPerm := noCredBody
	return []Case{
		// reading the credential (RFC 6750 §2)
		{Name: "no credential", Path: RouteProtected, Want: Want{Status: 401, Challenges: bare, Body: noPerm}},
		{Name: "basic scheme", Path: RouteProtected, Header: http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}}, Want: Want{Status: 401, Challenges: bare, Body: noPerm}},
		{Name: "bearer lower case", Path: RouteProtected, Header: http.Header{"Authorization": {"bearer " + read}}, Want: ok(authtest.DefaultSubject, ScopeRead)},
		{Name: "bearer upper case", Path: RouteProtected, Header: http.Header{"Authorization": {"BEARER " + read}}, Want: ok(authtest.DefaultSubject, ScopeRead)},
		{Name: "several spaces", Path: RouteProtected, Header: http.Header{"Authorization": {"Bearer   " + read}}, Want: ok(authtest.DefaultSubject, ScopeRead)},
		{Name: "bearer without token", Path: RouteProtected, Header: http.Header{"Authorization": {"Bearer"}}, Want: invalidRequest()},
		{Name: "inner whitespace", Path: RouteProtected, Header: http.Header{"Authorization": {"Bearer abc def"}}, Want: invalidRequest()},
		{Name: "tab separator", Path: RouteProtected, Header: http.Header{"Authorization": {"Bearer\t" + read}}, Want: invalidRequest()},
		{Name: "outside b64token", Path: RouteProtected, Header: http.Header{"Authorization": {"Bearer abc$def"}}, Want: invalidRequest()},
		{Name: "padding inside token", Path: RouteProtected, Header: http.Header{"Authorization": {"Bearer ab=cd"}}, Want: invalidRequest()},
		{Name: "two authorization headers", Path: RouteProtected, Header: http.Header{"Authorization": {"Bearer " + read, "Bearer " + read}}, Want: twoMethods()},
		{Name: "query token ignored by default", Path: RouteProtected, Query: "access_token=" + read, Want: Want{Status: 401, Challenges: bare, Body: noPerm}},
		{Name: "query token when enabled", Path: RouteSources, Query: "access_token=" + read, Want: ok(authtest.DefaultSubject, ScopeRead)},
		{Name: "cookie token when enabled", Path: RouteSources, Header: http.Header{"Cookie": {CookieName + "=" + read}}, Want: ok(authtest.DefaultSubject, ScopeRead)},
		{Name: "header and query token", Path: RouteSources, Query: "access_token=" + read, Header: bearer(read), Want: twoMethods()},
		{Name: "two cookie tokens", Path: RouteSources, Header: http.Header{"Cookie": {CookieName + "=" + read + "; " + CookieName + "=" + read}}, Want: twoMethods()},
		{Name: "cookie with spaces around its name and value", Path: RouteSources, Header: http.Header{"Cookie": {"x=1;  " + CookieName + " = " + read}}, Want: ok(authtest.DefaultSubject, ScopeRead)},
		{Name: "cookie twin with a space before =", Path: RouteSources, Header: http.Header{"Cookie": {CookieName + "=" + read + "; " + CookieName + " =x"}}, Want: twoMethods()},
		{Name: "cookie token and a twin no cookie may hold", Path: RouteSources, Header: http.Header{"Cookie": {CookieName + "=" + read + "; " + CookieName + `=a\b`}}, Want: twoMethods()},
		{Name: "header and cookie token", Path: RouteSources, Header: http.Header{"Authorization": {"Bearer " + read}, "Cookie": {CookieName + "=" + read}}, Want: twoMethods()},
		{Name: "two query tokens", Path: RouteSources, Query: "access_token=" + read + "&access_token=" + read, Want: twoMethods()},
		// The query as core parses it, for every framework: pairs split at
		// "&" only, names and values form-decoded, a name with a bad escape
		// naming no parameter core reads (docs/security.md).
		{Name: "query token and a twin with a bad escape", Path: RouteSources, Query: "access_token=" + read + "&access_token=%zz", Want: twoMethods()},
		{Name: "query token and a twin holding a semicolon", Path: RouteSources, Query: "access_token=" + read + "&access_token=a;b", Want: twoMethods()},
		{Name: "query token and a %-encoded twin", Path: RouteSources, Query: "access_token=" + read + "&access%5Ftoken=" + read, Want: twoMethods()},
		{Name: "query token with a bad escape", Path: RouteSources, Query: "access_token=%zz", Want: invalidRequest()},
		{Name: "query token holding a semicolon", Path: RouteSources, Query: "access_token=" + read + ";x=1", Want: invalidRequest()},
		{Name: "query token holding a plus (a space)", Path: RouteSources, Query: "access_token=" + read + "+", Want: invalidRequest()},
		{Name: "query token before a hash", Path: RouteSources, Query: "access_token=" + read + "#x", Want: invalidRequest()},
		{Name: "%-encoded query name and token", Path: RouteSources, Query: "%61ccess%5Ftoken=" + strings.ReplaceAll(read, ".", "%2E"), Want: ok(authtest.DefaultSubject, ScopeRead)},
		{Name: "query name with a plus is another name", Path: RouteSources, Query: "access_token+=x&access+token=y&access_token=" + read, Want: ok(authtest.DefaultSubject, ScopeRead)},
		{Name: "query name with a bad escape is another name", Path: RouteSources, Query: "access_token%zz=x&%zz=y&access_token=" + read, Want: ok(authtest.DefaultSubject, ScopeRead)},
		{Name: "query token beside pairs with semicolons and bad escapes", Path: RouteSources, Query: "a=1;b=2&c=%zz&&access_token=" + read, Want: ok(authtest.DefaultSubject, ScopeRead)},
		{Name: "header and a query token holding a semicolon", Path: RouteSources, Query: "access_token=a;b", Header: bearer(read), Want: twoMethods()},
		// RFC 6750 §2: one method per request, even while the query source
		// is off and the query token itself would be ignored.
		{Name: "header and query token, query source off", Path: RouteProtected, Query: "access_token=x", Header: bearer(read), Want: twoMethods()},
		{Name: "header and a query token holding a semicolon, query source off", Path: RouteProtected, Query: "access_token=a;b", Header: bearer(read), Want: twoMethods()},
		{Name: "header and a %-encoded query token name, query source off", Path: RouteProtected, Query: "x=1&access%5ftoken=", Header: bearer(read), Want: twoMethods()},
		{Name: "header and unrelated parameters, query source off", Path: RouteProtected, Query: "access_tokens=x&access_token%zz=y&token=z", Header: bearer(read), Want: ok(authtest.DefaultSubject, ScopeRead)},
		{Name: "token over the size cap", Path: RouteProtected, Header: bearer(huge), Want: invalidToken("the access token is too large")},
	}
}

// tokenCases are the cases of validating the token (docs/security.md).
func tokenCases(k toks, i *authtest.Issuer, now time.Time) []Case {
	read, forged, hs, none, dup, m := k.read, k.forged, k.hs, k.none, k.dup, k.m
	return []Case{
		// validating the token (docs/security.md)
		{Name: "valid token", Path: RouteProtected, Header: bearer(read), Want: ok(authtest.DefaultSubject, ScopeRead)},
		{Name: "not a JWT", Path: RouteProtected, Header: bearer("abc.def"), Want: invalidToken("the access token is malformed")},
		{Name: "four segments", Path: RouteProtected, Header: bearer(read + ".abc"), Want: invalidToken("the access token is malformed")},
		{Name: "forged signature", Path: RouteProtected, Header: bearer(forged), Want: invalidToken("the access token signature is invalid")},
		{Name: "alg HS256 with the public key", Path: RouteProtected, Header: bearer(hs), Want: invalidToken("the signing algorithm is not accepted")},
		{Name: "alg none", Path: RouteProtected, Header: bearer(none), Want: invalidToken("the signing algorithm is not accepted")},
		{Name: "crit header", Path: RouteProtected, Header: bearer(m(nil, authtest.Header("crit", []string{"exp"}))), Want: invalidToken("the access token header is not supported")},
		{Name: "unknown kid", Path: RouteProtected, Header: bearer(m(nil, authtest.Header("kid", "nope"))), Want: invalidToken("the signing key is not known")},
		{Name: "expired", Path: RouteProtected, Header: bearer(m(authtest.Claims{"exp": now.Add(-time.Minute).Unix()})), Want: invalidToken("the access token has expired")},
		{Name: "expired within leeway", Path: RouteProtected, Header: bearer(m(authtest.Claims{"exp": now.Add(-10 * time.Second).Unix()})), Want: ok(authtest.DefaultSubject)},
		{Name: "no exp", Path: RouteProtected, Header: bearer(m(authtest.Claims{"exp": authtest.Omit})), Want: invalidToken("the access token lacks a required claim")},
		{Name: "exp as string", Path: RouteProtected, Header: bearer(m(authtest.Claims{"exp": strconv.FormatInt(now.Add(time.Hour).Unix(), 10)})), Want: invalidToken("the access token is malformed")},
		{Name: "nbf in the future", Path: RouteProtected, Header: bearer(m(authtest.Claims{"nbf": now.Add(time.Hour).Unix()})), Want: invalidToken("the access token is not valid yet")},
		{Name: "iat in the future", Path: RouteProtected, Header: bearer(m(authtest.Claims{"iat": now.Add(time.Hour).Unix()})), Want: invalidToken("the access token was issued in the future")},
		{Name: "wrong issuer", Path: RouteProtected, Header: bearer(m(authtest.Claims{"iss": i.URL + "/"})), Want: invalidToken("the access token issuer is not accepted")},
		{Name: "wrong audience", Path: RouteProtected, Header: bearer(m(authtest.Claims{"aud": "other"})), Want: invalidToken("the access token audience is not accepted")},
		{Name: "audience array", Path: RouteProtected, Header: bearer(m(authtest.Claims{"aud": []string{"other", authtest.DefaultAudience}})), Want: ok(authtest.DefaultSubject)},
		{Name: "no audience, no client check", Path: RouteProtected, Header: bearer(m(authtest.Claims{"aud": authtest.Omit})), Want: invalidToken("the access token audience is not accepted")},
		{Name: "cognito id token", Path: RouteProtected, Header: bearer(m(authtest.Claims{"token_use": "id"})), Want: invalidToken("the token is not an access token")},
		{Name: "duplicate claim", Path: RouteProtected, Header: bearer(dup), Want: invalidToken("the access token is malformed")},
	}
}

// scopeCases are the cases of scopes and roles (RFC 6750 §3.1), optional authentication and the outage answer.
func scopeCases(k toks) []Case {
	read, readCreate, update, forged, m := k.read, k.readCreate, k.update, k.forged, k.m
	noPerm := noCredBody
	return []Case{
		// scopes (RFC 6750 §3.1, insufficient_scope)
		{Name: "scope present", Path: RouteRead, Header: bearer(read), Want: ok(authtest.DefaultSubject, ScopeRead)},
		{Name: "scope missing", Path: RouteRead, Header: bearer(update), Want: insufficient(ScopeRead)},
		{Name: "scope case differs", Path: RouteRead, Header: bearer(m(authtest.Claims{"scope": "EXAMPLE:NOTE:READ"})), Want: insufficient(ScopeRead)},
		{Name: "scope prefix is not the scope", Path: RouteRead, Header: bearer(m(authtest.Claims{"scope": ScopeRead + ":all"})), Want: insufficient(ScopeRead)},
		{Name: "scp array", Path: RouteRead, Header: bearer(m(authtest.Claims{"scp": []string{ScopeRead}})), Want: ok(authtest.DefaultSubject, ScopeRead)},
		{Name: "scope guard without token", Path: RouteRead, Want: Want{Status: 401, Challenges: bare, Body: noPerm}},
		{Name: "scope guard with invalid token", Path: RouteRead, Header: bearer(forged), Want: invalidToken("the access token signature is invalid")},
		{Name: "all-of met", Path: RouteAll, Header: bearer(readCreate), Want: ok(authtest.DefaultSubject, ScopeRead, ScopeCreate)},
		{Name: "all-of half met", Path: RouteAll, Header: bearer(read), Want: insufficient(ScopeRead + " " + ScopeCreate)},
		{Name: "any-of met by the second", Path: RouteAny, Header: bearer(update), Want: ok(authtest.DefaultSubject, ScopeUpdate)},
		{Name: "any-of not met", Path: RouteAny, Header: bearer(m(authtest.Claims{"scope": ScopeCreate})), Want: insufficient(ScopeRead + " " + ScopeUpdate)},
		{Name: "role present", Path: RouteRole, Header: bearer(m(authtest.Claims{"roles": []string{RoleAdmin}})), Want: ok(authtest.DefaultSubject)},
		{Name: "role missing", Path: RouteRole, Header: bearer(read), Want: insufficient("")},
		{Name: "guard alone authenticates", Path: RouteGuardOnly, Header: bearer(read), Want: ok(authtest.DefaultSubject, ScopeRead)},
		{Name: "guard alone without token", Path: RouteGuardOnly, Want: Want{Status: 401, Challenges: bare, Body: noPerm}},
		// optional authentication
		{Name: "optional anonymous", Path: RouteOptional, Want: Want{Status: 200, Body: `{"anonymous":true}`}},
		{Name: "optional with token", Path: RouteOptional, Header: bearer(read), Want: ok(authtest.DefaultSubject, ScopeRead)},
		{Name: "optional with bad token", Path: RouteOptional, Header: bearer(forged), Want: invalidToken("the access token signature is invalid")},
		// outage (docs/operations.md)
		{Name: "keys unreachable", Path: RouteOutage, Header: bearer(read), Want: Want{Status: 503,
			Body: `{"error":"temporarily_unavailable","error_description":"the signing keys cannot be fetched right now"}`, RetryAfter: true}},
	}
}

// dupClaimToken signs a payload with "exp" twice: first expired, then valid.
// A decoder that keeps the last duplicate would accept it.
func dupClaimToken(t testing.TB, i *authtest.Issuer) string {
	k := i.SigningKey()
	now := time.Now()
	payload := `{"iss":"` + i.URL + `","aud":"` + authtest.DefaultAudience + `","sub":"` + authtest.DefaultSubject +
		`","exp":` + strconv.FormatInt(now.Add(-time.Hour).Unix(), 10) +
		`,"exp":` + strconv.FormatInt(now.Add(time.Hour).Unix(), 10) + `}`
	tok, err := k.Sign(k.Alg, []byte(`{"alg":"`+k.Alg+`","kid":"`+k.ID+`"}`), []byte(payload))
	if err != nil {
		t.Fatalf("conformance: %v", err)
	}
	return tok
}

// Do sends one request to the application under test and returns its answer.
type Do func(*http.Request) (*http.Response, error)

// Run sends every case through do and checks the exact answer.
func (c *Suite) Run(t *testing.T, do Do) {
	t.Helper()
	for _, tc := range c.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			CheckCase(t, tc, do)
		})
	}
}

// Request builds the *http.Request of a case.
func (tc Case) Request() *http.Request {
	method := tc.Method
	if method == "" {
		method = http.MethodGet
	}
	target := tc.Path
	if tc.Query != "" {
		target += "?" + tc.Query
	}
	r := httptest.NewRequest(method, Origin+target, nil)
	for k, vs := range tc.Header {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	return r
}

// CheckCase sends one case through do and checks status, challenge, body and Retry-After.
func CheckCase(t testing.TB, tc Case, do Do) {
	t.Helper()
	resp, err := do(tc.Request())
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != tc.Want.Status {
		t.Errorf("status = %d, want %d (body %s)", resp.StatusCode, tc.Want.Status, body)
	}
	if got := resp.Header.Values("WWW-Authenticate"); !slices.Equal(got, tc.Want.Challenges) {
		t.Errorf("WWW-Authenticate fields = %q, want %q", got, tc.Want.Challenges)
	}
	if tc.Want.RawBody && string(body) != tc.Want.Body || !tc.Want.RawBody && !authtest.JSONEqual(body, []byte(tc.Want.Body)) {
		t.Errorf("body = %s, want %s", body, tc.Want.Body)
	}
	checkHeaders(t, tc.Want, resp.Header)
}

// checkHeaders checks the answer's headers besides the challenges.
func checkHeaders(t testing.TB, want Want, h http.Header) {
	t.Helper()
	for k, vs := range want.Headers {
		if got := h.Values(k); !slices.Equal(got, vs) {
			t.Errorf("%s = %q, want %q", k, got, vs)
		}
	}
	if n := h.Get("DPoP-Nonce"); want.DPoPNonce != (n != "") {
		t.Errorf("DPoP-Nonce = %q, want one: %v", n, want.DPoPNonce)
	}
	ra := h.Get("Retry-After")
	if want.RetryAfter {
		if n, err := strconv.Atoi(ra); err != nil || n <= 0 {
			t.Errorf("Retry-After = %q, want a positive number of seconds", ra)
		}
	} else if ra != "" {
		t.Errorf("Retry-After = %q, want none", ra)
	}
	if want.Status >= 400 && !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Errorf("Content-Type = %q, want application/json", h.Get("Content-Type"))
	}
	// An answer about credentials must not be stored by a cache on the way
	// (RFC 6750 §5.3 asks the same of answers that carry tokens).
	if cc := h.Get("Cache-Control"); want.Status >= 400 && cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
}

// hostileCases are the hostile-input cases that every adapter
// must answer exactly as core does (core/hostile_test.go has the full
// catalogue, with the precise sentinel of each).
// hostile is what the hostile cases build their tokens from.
type hostile struct {
	t                           testing.TB
	i                           *authtest.Issuer
	k, other, ec                *authtest.Key
	m                           func(authtest.Claims, ...authtest.MintOption) string
	sign                        func(key *authtest.Key, alg, header, payload string) string
	claims                      func(members ...string) string
	hdr                         func(alg string, extra ...string) string
	unsigned                    func(alg string) string
	now                         time.Time
	exp, iss, aud, sub, std     string
	valid, zeroSig, stdAlphabet string
	malformed, notAllowed       Want
}

func (c *Suite) hostileCases(t testing.TB) []Case {
	i := c.Issuer
	k := i.SigningKey()
	m := func(claims authtest.Claims, opts ...authtest.MintOption) string {
		return i.MustMint(t, claims, opts...)
	}
	sign := func(key *authtest.Key, alg, header, payload string) string {
		tok, err := key.Sign(alg, []byte(header), []byte(payload))
		if err != nil {
			t.Fatalf("conformance: %v", err)
		}
		return tok
	}
	now := time.Now()
	exp := `"exp":` + strconv.FormatInt(now.Add(time.Hour).Unix(), 10)
	iss := `"iss":"` + i.URL + `"`
	aud := `"aud":"` + authtest.DefaultAudience + `"`
	sub := `"sub":"` + authtest.DefaultSubject + `"`
	claims := func(members ...string) string { return "{" + strings.Join(members, ",") + "}" }
	hdr := func(alg string, extra ...string) string {
		return claims(append([]string{`"alg":"` + alg + `"`, `"kid":"` + k.ID + `"`}, extra...)...)
	}
	std := claims(iss, aud, sub, exp)
	unsigned := func(alg string) string {
		return base64.RawURLEncoding.EncodeToString([]byte(hdr(alg))) + "." + base64.RawURLEncoding.EncodeToString([]byte(std)) + "."
	}
	other, err := authtest.NewKey("RS256")
	if err != nil {
		t.Fatalf("conformance: %v", err)
	}
	ec, err := authtest.NewKey("ES256")
	if err != nil {
		t.Fatalf("conformance: %v", err)
	}
	valid := m(nil)
	cut := strings.LastIndexByte(valid, '.')
	zeroSig := valid[:cut+1] + base64.RawURLEncoding.EncodeToString(make([]byte, 256))
	stdAlphabet := stdAlphabetToken(t, m)
	malformed := invalidToken("the access token is malformed")
	notAllowed := invalidToken("the signing algorithm is not accepted")
	h := hostile{t: t, i: i, k: k, other: other, ec: ec, m: m, sign: sign, claims: claims, hdr: hdr, unsigned: unsigned, now: now,
		exp: exp, iss: iss, aud: aud, sub: sub, std: std, valid: valid, zeroSig: zeroSig, stdAlphabet: stdAlphabet,
		malformed: malformed, notAllowed: notAllowed}
	return slices.Concat(hostileSigning(h), hostileJSON(h))
}

// hostileSigning are hostile algorithms, signatures and sizes.
func hostileSigning(h hostile) []Case {
	t := h.t
	i, k, m, sign, now, hdr, std, unsigned, other, ec, valid, zeroSig, stdAlphabet, malformed, notAllowed := h.i, h.k, h.m, h.sign, h.now, h.hdr, h.std, h.unsigned, h.other, h.ec, h.valid, h.zeroSig, h.stdAlphabet, h.malformed, h.notAllowed
	return []Case{
		{Name: "hostile: alg None", Path: RouteProtected, Header: bearer(unsigned("None")), Want: notAllowed},
		{Name: "hostile: alg NONE", Path: RouteProtected, Header: bearer(unsigned("NONE")), Want: notAllowed},
		{Name: "hostile: alg rs256 (lower case)", Path: RouteProtected, Header: bearer(sign(k, "RS256", hdr("rs256"), std)), Want: notAllowed},
		{Name: "hostile: HS512 with the public key", Path: RouteProtected, Header: bearer(m(nil, authtest.Header("alg", "HS512"))), Want: notAllowed},
		{Name: "hostile: ES256 header with the RSA kid", Path: RouteProtected, Header: bearer(m(nil, authtest.SignedBy(ec), authtest.Header("kid", k.ID))),
			Want: invalidToken("the signing algorithm does not match the key")},
		{Name: "hostile: PS256 signed by the RS256 key", Path: RouteProtected, Header: bearer(m(nil, authtest.Header("alg", "PS256"))),
			Want: invalidToken("the signing algorithm does not match the key")},
		{Name: "hostile: all-zero signature", Path: RouteProtected, Header: bearer(zeroSig), Want: invalidToken("the access token signature is invalid")},
		{Name: "hostile: expired and badly signed", Path: RouteProtected, Header: bearer(m(authtest.Claims{"exp": now.Add(-time.Hour).Unix()}, authtest.SignedBy(other), authtest.Header("kid", k.ID))),
			Want: invalidToken("the access token signature is invalid")},
		{Name: "hostile: jku to another server, badly signed", Path: RouteProtected,
			Header: bearer(m(nil, authtest.SignedBy(other), authtest.Header("kid", k.ID), authtest.Header("jku", "http://127.0.0.1:9/jwks"))), Want: invalidToken("the access token signature is invalid")},
		{Name: "hostile: many dots", Path: RouteProtected, Header: bearer(strings.Repeat(".", 4096)), Want: malformed},
		{Name: "hostile: genuine token of exactly the size cap", Path: RouteProtected, Header: bearer(exactSizeToken(t, i, core.DefaultMaxTokenSize)), Want: ok(authtest.DefaultSubject)},
		{Name: "hostile: genuine token one byte over the size cap", Path: RouteProtected, Header: bearer(exactSizeToken(t, i, core.DefaultMaxTokenSize+1)),
			Want: invalidToken("the access token is too large")},
		{Name: "hostile: padded signature", Path: RouteProtected, Header: bearer(valid + "=="), Want: malformed},
		{Name: "hostile: standard base64 alphabet", Path: RouteProtected, Header: bearer(stdAlphabet), Want: malformed},
		{Name: "hostile: slash after Bearer", Path: RouteProtected, Header: http.Header{"Authorization": {"Bearer/" + valid}}, Want: invalidRequest()},
	}
}

// hostileJSON are hostile header and claims JSON.
func hostileJSON(h hostile) []Case {
	i, k, m, sign, exp, iss, aud, sub, claims, hdr, std, malformed := h.i, h.k, h.m, h.sign, h.exp, h.iss, h.aud, h.sub, h.claims, h.hdr, h.std, h.malformed
	return []Case{
		{Name: "hostile: crit empty array", Path: RouteProtected, Header: bearer(sign(k, k.Alg, hdr(k.Alg, `"crit":[]`), std)),
			Want: invalidToken("the access token header is not supported")},
		{Name: "hostile: alg twice in the header", Path: RouteProtected, Header: bearer(sign(k, k.Alg, hdr(k.Alg, `"alg":"none"`), std)), Want: malformed},
		{Name: "hostile: kid as a number", Path: RouteProtected, Header: bearer(sign(k, k.Alg, `{"alg":"`+k.Alg+`","kid":1}`, std)), Want: malformed},
		{Name: "hostile: kid path traversal", Path: RouteProtected, Header: bearer(m(nil, authtest.Header("kid", "../../../../etc/passwd"))),
			Want: invalidToken("the signing key is not known")},
		{Name: "hostile: exp and escaped exp", Path: RouteProtected, Header: bearer(sign(k, k.Alg, hdr(k.Alg), claims(iss, aud, sub, exp, `"\u0065xp":0`))), Want: malformed},
		{Name: "hostile: EXP instead of exp", Path: RouteProtected, Header: bearer(sign(k, k.Alg, hdr(k.Alg), claims(iss, aud, sub, `"EXP":9999999999`))),
			Want: invalidToken("the access token lacks a required claim")},
		{Name: "hostile: exp 1e400", Path: RouteProtected, Header: bearer(sign(k, k.Alg, hdr(k.Alg), claims(iss, aud, sub, `"exp":1e400`))), Want: malformed},
		{Name: "hostile: Aud instead of aud", Path: RouteProtected, Header: bearer(sign(k, k.Alg, hdr(k.Alg), claims(iss, sub, exp, `"Aud":"`+authtest.DefaultAudience+`"`))),
			Want: invalidToken("the access token audience is not accepted")},
		{Name: "hostile: aud as a number", Path: RouteProtected, Header: bearer(sign(k, k.Alg, hdr(k.Alg), claims(iss, sub, exp, `"aud":1`))), Want: malformed},
		{Name: "hostile: iss in upper case", Path: RouteProtected, Header: bearer(m(authtest.Claims{"iss": strings.ToUpper(i.URL)})),
			Want: invalidToken("the access token issuer is not accepted")},
		{Name: "hostile: invalid UTF-8 in a claim", Path: RouteProtected, Header: bearer(sign(k, k.Alg, hdr(k.Alg), claims(iss, aud, sub, exp, "\"name\":\"\xff\""))), Want: malformed},
	}
}

// stdAlphabetToken is a genuine token with '-' or '_' rewritten to the
// standard base64 alphabet's '+' and '/'.
func stdAlphabetToken(t testing.TB, m func(authtest.Claims, ...authtest.MintOption) string) string {
	for n := range 20 {
		if tok := m(authtest.Claims{"n": n}); strings.ContainsAny(tok, "-_") {
			return strings.NewReplacer("-", "+", "_", "/").Replace(tok)
		}
	}
	t.Fatalf("conformance: no token with '-' or '_' in 20 tries")
	return ""
}

// exactSizeToken mints a genuine token of exactly n bytes, padded through a
// custom claim and an unknown header parameter.
func exactSizeToken(t testing.TB, i *authtest.Issuer, n int) string {
	for hp := 0; hp < 4; hp++ {
		h := authtest.Header("x-pad", strings.Repeat("h", hp))
		base := len(i.MustMint(t, authtest.Claims{"pad": ""}, h))
		for pad := max(0, (n-base)*3/4-4); pad <= (n-base)*3/4+4; pad++ {
			if tok := i.MustMint(t, authtest.Claims{"pad": strings.Repeat("x", pad)}, h); len(tok) == n {
				return tok
			}
		}
	}
	t.Fatalf("conformance: no padding gives a %d-byte token", n)
	return ""
}
