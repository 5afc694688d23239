package conformance

import (
	"net/http"
	"testing"

	"github.com/jwksauth/jwksauth/core/authtest"
)

// The routes of the Protected Resource Metadata cases (RFC 9728), behind
// Suite.Resource, whose resource identifier is ResourceID. An adapter
// also mounts its metadata handler for Suite.Resource (at
// ResourceMetadataPath).
const (
	// RouteResource: the middleware with Suite.Resource.
	RouteResource = "/resource"
	// RouteResourceCreate: the middleware, then Suite.ResourceCreate
	// (the all-of guard for ScopeCreate).
	RouteResourceCreate = "/resource-create"
	// ResourceID is Suite.Resource's resource identifier.
	ResourceID = "https://api.example.com/notes"
	// ResourceMetadataPath is where its metadata document is served.
	ResourceMetadataPath = "/.well-known/oauth-protected-resource/notes"
	// ResourceName is its resource_name.
	ResourceName = "Notes API"
)

// metadataCases are the cases of Protected Resource Metadata (RFC 9728)
// and of the resource as audience (RFC 8707): docs/mcp.md.
func (c *Suite) metadataCases(t testing.TB) []Case {
	i := c.Issuer
	rm := `, resource_metadata="https://api.example.com` + ResourceMetadataPath + `"`
	// The exact bytes every framework serves: members in this order.
	doc := `{"resource":"` + ResourceID + `","authorization_servers":["` + i.URL + `"],` +
		`"scopes_supported":["` + ScopeCreate + `","` + ScopeRead + `"],"bearer_methods_supported":["header"],` +
		`"resource_name":"` + ResourceName + `",` +
		`"dpop_signing_alg_values_supported":["RS256","RS384","RS512","PS256","PS384","PS512","ES256","ES384","ES512","EdDSA"],` +
		`"dpop_bound_access_tokens_required":false}`
	served := http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"public, max-age=3600"}, "Access-Control-Allow-Origin": {"*"}}
	forResource := i.MustMint(t, authtest.Claims{"aud": ResourceID, "scope": ScopeRead})
	forOther := i.MustMint(t, authtest.Claims{"aud": "https://other.example.com", "scope": ScopeRead})
	withRM := func(params string) []string {
		return []string{`Bearer realm="api"` + rm + params, `DPoP realm="api"` + rm + `, ` + authtest.DPoPAlgs + params}
	}
	desc := func(code, d string) string { return `, error="` + code + `", error_description="` + d + `"` }
	return []Case{
		{Name: "metadata: GET", Path: ResourceMetadataPath, Want: Want{Status: 200, Body: doc, RawBody: true, Headers: served}},
		{Name: "metadata: HEAD", Method: http.MethodHead, Path: ResourceMetadataPath, Want: Want{Status: 200, RawBody: true, Headers: served}},
		{Name: "metadata: POST", Method: http.MethodPost, Path: ResourceMetadataPath, Want: Want{Status: 405,
			Body:    `{"error":"method_not_allowed","error_description":"use GET or HEAD"}`,
			Headers: http.Header{"Allow": {"GET, HEAD"}}}},
		{Name: "resource: no credential", Path: RouteResource, Want: Want{Status: 401, Challenges: withRM(""), Body: noCredBody}},
		{Name: "resource: token for the resource", Path: RouteResource, Header: bearer(forResource), Want: ok(authtest.DefaultSubject, ScopeRead)},
		{Name: "resource: token for another resource", Path: RouteResource, Header: bearer(forOther), Want: Want{Status: 401,
			Challenges: withRM(desc("invalid_token", "the access token audience is not accepted")),
			Body:       `{"error":"invalid_token","error_description":"the access token audience is not accepted"}`}},
		{Name: "resource: malformed credential", Path: RouteResource, Header: http.Header{"Authorization": {"Bearer a b"}}, Want: Want{Status: 400,
			Challenges: withRM(desc("invalid_request", "the bearer credential is malformed")),
			Body:       `{"error":"invalid_request","error_description":"the bearer credential is malformed"}`}},
		{Name: "resource: scope missing", Path: RouteResourceCreate, Header: bearer(forResource), Want: Want{Status: 403,
			Challenges: []string{`Bearer realm="api"` + rm + `, error="insufficient_scope", scope="` + ScopeCreate + `"`},
			Body:       `{"error":"insufficient_scope","error_description":"the access token lacks a required scope"}`}},
	}
}
