package app_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/jwksauth/jwksauth/core/authtest"
	"github.com/jwksauth/jwksauth/examples/internal/app"
)

// TestManyIssuersResource: with ISSUER a list and RESOURCE_URL set, the
// metadata document names every issuer as an authorization server, in the
// order given, and a token of either issuer for the resource is accepted.
func TestManyIssuersResource(t *testing.T) {
	const resource = "https://notes.example.com/api"
	one, two := authtest.MustIssuer(t), authtest.MustIssuer(t)
	for _, fw := range frameworks {
		t.Run(fw.Name, func(t *testing.T) {
			base := startApp(t, fw, map[string]string{app.EnvIssuer: one.URL + ", " + two.URL, app.EnvResourceURL: resource})
			get := call(t, "GET", base+metadataWellKnown+"/api")
			var d resourceDoc
			if get.status != 200 || json.Unmarshal(get.body, &d) != nil {
				t.Fatalf("GET the document: %d %s", get.status, get.body)
			}
			if want := []string{one.URL, two.URL}; d.Resource != resource || !slices.Equal(d.AuthorizationServers, want) {
				t.Errorf("document %s: want resource %s and authorization_servers %q", get.body, resource, want)
			}
			for _, iss := range []*authtest.Issuer{one, two} {
				tok := iss.MustMint(t, authtest.Claims{"aud": resource, "scope": app.ScopeRead})
				if a := call(t, "GET", base+"/notes", "Bearer "+tok); a.status != 200 {
					t.Errorf("%s: a token for the resource: %d %s", iss.URL, a.status, a.body)
				}
			}
		})
	}
}
