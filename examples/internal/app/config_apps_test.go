package app_test

import (
	"net/http"
	"testing"

	"github.com/jwksauth/jwksauth/core/authtest"
	"github.com/jwksauth/jwksauth/examples/internal/app"
)

// TestPermittedClientIDsApps: with one ISSUER, PERMITTED_CLIENT_IDS reaches
// the verifier on every framework: a token without aud (the shape of
// Cognito access tokens) passes by its client id, and a token of another
// client is refused even with a permitted audience.
func TestPermittedClientIDsApps(t *testing.T) {
	iss := authtest.MustIssuer(t)
	noAud := iss.MustMint(t, authtest.Claims{"aud": authtest.Omit, "client_id": "app-1", "scope": app.ScopeRead})
	otherClient := iss.MustMint(t, authtest.Claims{"client_id": "app-2", "scope": app.ScopeRead})
	for _, fw := range frameworks {
		t.Run(fw.Name, func(t *testing.T) {
			base := startApp(t, fw, map[string]string{app.EnvIssuer: iss.URL, app.EnvClientIDs: "app-1"})
			if got := call(t, http.MethodGet, base+"/notes", "Bearer "+noAud); got.status != http.StatusOK {
				t.Errorf("token without aud of a permitted client: %d %s", got.status, got.body)
			}
			if got := call(t, http.MethodGet, base+"/notes", "Bearer "+otherClient); got.status != http.StatusUnauthorized || !authtest.JSONEqual(got.body, []byte(`{"error":"invalid_token","error_description":"the access token client is not accepted"}`)) {
				t.Errorf("token of another client: %d %s", got.status, got.body)
			}
		})
	}
}

// TestJWKSURLApps: JWKS_URL gives the keys' location, where the issuer's
// discovery document names none: the app verifies tokens with the keys it
// fetched from there on every framework.
func TestJWKSURLApps(t *testing.T) {
	iss := authtest.MustIssuer(t)
	iss.SetDiscovery("jwks_uri", authtest.Omit)
	tok := iss.MustMint(t, authtest.Claims{"scope": app.ScopeRead})
	for _, fw := range frameworks {
		t.Run(fw.Name, func(t *testing.T) {
			base := startApp(t, fw, map[string]string{app.EnvIssuer: iss.URL, app.EnvJWKSURL: iss.JWKSURL()})
			if got := call(t, http.MethodGet, base+"/notes", "Bearer "+tok); got.status != http.StatusOK {
				t.Errorf("token: %d %s", got.status, got.body)
			}
		})
	}
}
