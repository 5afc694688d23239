package core

import (
	"slices"
	"strings"
	"testing"
)

// What each provider preset derives: the real providers' issuers and JWKS
// URLs, which presets_test.go's token tests replace by a loopback JWKS.

// The tenant and names of presets_test.go's Entra ID, Keycloak and Okta
// tokens.
const (
	entraTenantID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	entraAPI      = "6e74172b-be56-4843-9ff4-e66a39bb12e3"
	keycloakBase  = "https://sso.example.com"
	keycloakAPI   = "notes-api"
	oktaDomain    = "example.okta.com"
	oktaAud       = "api://default"
)

func TestPresetDerivedSettings(t *testing.T) {
	tests := []struct {
		name     string
		opts     []Option
		issuer   string
		jwks     string
		aliases  []string
		required []string
		payload  string
	}{
		{name: "Cognito", opts: []Option{Cognito("us-gov-west-1", "us-gov-west-1_aB3", "c1")},
			issuer:   "https://cognito-idp.us-gov-west-1.amazonaws.com/us-gov-west-1_aB3",
			jwks:     "https://cognito-idp.us-gov-west-1.amazonaws.com/us-gov-west-1_aB3/.well-known/jwks.json",
			required: []string{"token_use"}},
		{name: "Auth0", opts: []Option{Auth0("Example.EU.auth0.com", "api")},
			issuer: "https://example.eu.auth0.com/", jwks: "https://example.eu.auth0.com/.well-known/jwks.json"},
		{name: "Auth0 custom domain", opts: []Option{Auth0("login.example.com", "api")},
			issuer: "https://login.example.com/", jwks: "https://login.example.com/.well-known/jwks.json"},
		{name: "Okta default server", opts: []Option{Okta("example.okta.com", "default", "api://default")},
			issuer: "https://example.okta.com/oauth2/default", jwks: "https://example.okta.com/oauth2/default/v1/keys",
			required: []string{"cid"}},
		{name: "Okta custom server", opts: []Option{Okta("id.example.com", "aus1a2b3c4d5e6f7g8h9", "api://notes")},
			issuer: "https://id.example.com/oauth2/aus1a2b3c4d5e6f7g8h9", jwks: "https://id.example.com/oauth2/aus1a2b3c4d5e6f7g8h9/v1/keys",
			required: []string{"cid"}},
		{name: "Entra ID v2", opts: []Option{EntraID(strings.ToUpper(entraTenantID), entraAPI)},
			issuer:   "https://login.microsoftonline.com/" + entraTenantID + "/v2.0",
			jwks:     "https://login.microsoftonline.com/" + entraTenantID + "/discovery/v2.0/keys",
			required: []string{"azp"}},
		{name: "Entra ID v1", opts: []Option{EntraIDv1(entraTenantID, "api://notes")},
			issuer: "https://sts.windows.net/" + entraTenantID + "/", jwks: "https://login.microsoftonline.com/" + entraTenantID + "/discovery/keys",
			required: []string{"appid"}},
		{name: "Keycloak", opts: []Option{Keycloak("https://sso.example.com/", "notes", "notes-api")},
			issuer: "https://sso.example.com/realms/notes", jwks: "https://sso.example.com/realms/notes/protocol/openid-connect/certs",
			payload: "Bearer"},
		{name: "Keycloak before 17", opts: []Option{Keycloak("https://sso.example.com/auth", "notes", "notes-api")},
			issuer: "https://sso.example.com/auth/realms/notes", jwks: "https://sso.example.com/auth/realms/notes/protocol/openid-connect/certs",
			payload: "Bearer"},
		{name: "Keycloak on loopback", opts: []Option{Keycloak("http://127.0.0.1:8081", "dev realm", "notes-api")},
			issuer: "http://127.0.0.1:8081/realms/dev%20realm", jwks: "http://127.0.0.1:8081/realms/dev%20realm/protocol/openid-connect/certs",
			payload: "Bearer"},
		{name: "Google", opts: []Option{Google("aud")},
			issuer: "https://accounts.google.com", jwks: "https://www.googleapis.com/oauth2/v3/certs", aliases: []string{"accounts.google.com"}},
		{name: "RFC 9068", opts: []Option{RFC9068("https://id.example.com", "urn:notes")},
			issuer: "https://id.example.com", jwks: "", required: []string{"client_id", "sub", "iat", "jti"}},
		{name: "a later WithIssuer and WithJWKSURL win",
			opts:   []Option{Auth0("example.eu.auth0.com", "api"), WithIssuer("https://login.example.com/"), WithJWKSURL("https://login.example.com/jwks")},
			issuer: "https://login.example.com/", jwks: "https://login.example.com/jwks"},
		{name: "a later preset replaces the provider",
			opts:   []Option{Google("aud"), Auth0("example.eu.auth0.com", "api")},
			issuer: "https://example.eu.auth0.com/", jwks: "https://example.eu.auth0.com/.well-known/jwks.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := configured(tc.opts...)
			if err != nil {
				t.Fatalf("invalid: %v", err)
			}
			if s.issuer != tc.issuer || s.jwksURL != tc.jwks {
				t.Errorf("issuer, JWKS = %q, %q; want %q, %q", s.issuer, s.jwksURL, tc.issuer, tc.jwks)
			}
			if !slices.Equal(s.issuerAliases, tc.aliases) {
				t.Errorf("aliases = %q, want %q", s.issuerAliases, tc.aliases)
			}
			if !slices.Equal(s.requiredClaims, tc.required) {
				t.Errorf("required claims = %q, want %q", s.requiredClaims, tc.required)
			}
			if s.payloadTyp != tc.payload {
				t.Errorf("payload typ = %q, want %q", s.payloadTyp, tc.payload)
			}
		})
	}
}

// A preset never weakens what an earlier option made stricter.
func TestPresetsOnlyAddChecks(t *testing.T) {
	s, err := configured(WithRequireATJWT(), WithRequiredClaims("jti"),
		Keycloak(keycloakBase, "notes", keycloakAPI), Okta(oktaDomain, "default", oktaAud))
	if err != nil {
		t.Fatal(err)
	}
	if !s.requireATJWT || s.payloadTyp != "Bearer" || !slices.Equal(s.requiredClaims, []string{"jti", "cid"}) {
		t.Errorf("at+jwt required %v, payload typ %q, required claims %q: an earlier check was dropped",
			s.requireATJWT, s.payloadTyp, s.requiredClaims)
	}
	// And its audiences add to earlier ones.
	if !slices.Equal(s.audiences, []string{keycloakAPI, oktaAud}) {
		t.Errorf("audiences = %q", s.audiences)
	}
}
