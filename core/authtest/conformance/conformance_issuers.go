package conformance

import (
	"testing"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
)

// RouteIssuers is the middleware with Suite.Issuers, a Verifier of
// two issuers (Suite.Issuer and Suite.Issuer2) that publish a
// key under the same kid.
const RouteIssuers = "/issuers"

// newIssuers builds the second issuer, with a signing key of its own under
// the kid of the first issuer's, and the Verifier of both.
func (c *Suite) newIssuers(t testing.TB) {
	c.Issuer2 = authtest.MustIssuer(t)
	k, err := authtest.NewKey("RS256")
	if err != nil {
		t.Fatalf("conformance: %v", err)
	}
	k.ID = c.Issuer.SigningKey().ID
	c.Issuer2.AddKey(k, true)
	v, err := core.New(t.Context(), core.WithAudiences(authtest.DefaultAudience), core.WithIssuers(core.Issuer{URL: c.Issuer.URL}, core.Issuer{URL: c.Issuer2.URL}))
	if err != nil {
		t.Fatalf("conformance: %v", err)
	}
	t.Cleanup(func() { _ = v.Close() })
	c.Issuers = v
	c.Routes = append(c.Routes, Route{Path: RouteIssuers, Verifier: v})
}

// issuerCases are the many-issuer cases.
func (c *Suite) issuerCases(t testing.TB) []Case {
	one, two := c.Issuer, c.Issuer2
	return []Case{
		{Name: "issuers: token of the first", Path: RouteIssuers, Header: bearer(one.MustMint(t, authtest.Claims{"scope": ScopeRead})), Want: ok(authtest.DefaultSubject, ScopeRead)},
		{Name: "issuers: token of the second", Path: RouteIssuers, Header: bearer(two.MustMint(t, authtest.Claims{"scope": ScopeRead})), Want: ok(authtest.DefaultSubject, ScopeRead)},
		{Name: "issuers: an issuer not listed", Path: RouteIssuers, Header: bearer(one.MustMint(t, authtest.Claims{"iss": "https://unknown.example"})), Want: invalidToken("the access token issuer is not accepted")},
		{Name: "issuers: claims the second, signed by the first's key of the same kid", Path: RouteIssuers, Header: bearer(one.MustMint(t, authtest.Claims{"iss": two.URL})), Want: invalidToken("the access token signature is invalid")},
		{Name: "issuers: no iss", Path: RouteIssuers, Header: bearer(one.MustMint(t, authtest.Claims{"iss": authtest.Omit})), Want: invalidToken("the access token issuer is not accepted")},
	}
}
