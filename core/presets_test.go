package core_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
)

// The provider presets are tested with tokens shaped like each provider's
// real ones, signed by a loopback issuer. Only the key location is moved to
// that issuer (WithJWKSURL after the preset): the issuer the preset derived,
// its audiences and claim rules stay, so every token carries the provider's
// real iss. The derived JWKS URLs are checked separately, on the derived
// configuration (presets_internal_test.go).

// presetVerifier builds a verifier from opts with the keys of iss, and
// waits for them.
func presetVerifier(t *testing.T, iss *authtest.Issuer, opts ...core.Option) *core.Verifier {
	t.Helper()
	return readyVerifier(t, append(slices.Clone(opts), core.WithJWKSURL(iss.JWKSURL()), core.WithoutTokenCache(),
		core.WithLogger(slog.New(slog.DiscardHandler)))...)
}

// presetCase is one token: the provider's base token changed by claims
// (authtest.Omit removes a claim) and header, and what the verifier must
// make of it.
type presetCase struct {
	name   string
	claims authtest.Claims
	header []authtest.MintOption
	want   error // nil: accepted
	scopes []string
	roles  []string
	client string
}

// noTyp drops the header typ, which Cognito and Okta do not send.
var noTyp = authtest.Header("typ", authtest.Omit)

func runPresetCases(t *testing.T, iss *authtest.Issuer, v *core.Verifier, base authtest.Claims, header []authtest.MintOption, cases []presetCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			claims := maps.Clone(base)
			maps.Copy(claims, tc.claims)
			token := iss.MustMint(t, claims, slices.Concat(header, tc.header)...)
			p, err := v.Verify(context.Background(), token)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
				if e := core.AsError(err); e.Status != http.StatusUnauthorized || e.Code != "invalid_token" {
					t.Fatalf("answer %d %q, want 401 invalid_token", e.Status, e.Code)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !slices.Equal(p.Scopes, tc.scopes) && (len(p.Scopes) > 0 || len(tc.scopes) > 0) {
				t.Errorf("scopes = %q, want %q", p.Scopes, tc.scopes)
			}
			if !slices.Equal(p.Roles, tc.roles) && (len(p.Roles) > 0 || len(tc.roles) > 0) {
				t.Errorf("roles = %q, want %q", p.Roles, tc.roles)
			}
			if p.ClientID != tc.client {
				t.Errorf("client = %q, want %q", p.ClientID, tc.client)
			}
			if p.Issuer != claims["iss"] {
				t.Errorf("issuer = %q, want %q", p.Issuer, claims["iss"])
			}
		})
	}
}

// with returns base changed by extra (authtest.Omit removes).
func with(base, extra authtest.Claims) authtest.Claims {
	out := maps.Clone(base)
	maps.Copy(out, extra)
	return out
}

// --- Cognito --------------------------------------------------------------

const (
	cognitoRegion = "eu-west-1"
	cognitoPool   = "eu-west-1_AbC123xyZ"
	cognitoIss    = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123xyZ"
	cognitoClient = "5eh3kq7ncd1f2g3h4i5j6k7l8m"
	cognitoOther  = "7ab8cd9ef0gh1ij2kl3mn4op5q"
)

func TestCognitoPreset(t *testing.T) {
	iss := authtest.MustIssuer(t)
	v := presetVerifier(t, iss, core.Cognito(cognitoRegion, cognitoPool, cognitoClient))
	// A user's access token, as Cognito issues it (no aud, no header typ).
	access := authtest.Claims{
		"iss":            cognitoIss,
		"sub":            "3f1c2a4e-9b7d-4e21-a0c3-5d6e7f8a9b0c",
		"aud":            authtest.Omit,
		"cognito:groups": []string{"admin", "editors"},
		"token_use":      "access",
		"scope":          "aws.cognito.signin.user.admin notes/read",
		"auth_time":      time.Now().Unix(),
		"client_id":      cognitoClient,
		"username":       "jane",
		"origin_jti":     "7e0c6b1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e",
		"event_id":       "b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e",
	}
	// The same user's ID token: token_use "id", aud = the app client.
	id := with(access, authtest.Claims{
		"token_use": "id", "aud": cognitoClient, "client_id": authtest.Omit, "scope": authtest.Omit,
		"cognito:username": "jane", "email": "jane@example.com", "email_verified": true, "username": authtest.Omit,
	})
	runPresetCases(t, iss, v, access, []authtest.MintOption{noTyp}, []presetCase{
		{name: "user access token", scopes: []string{"aws.cognito.signin.user.admin", "notes/read"},
			roles: []string{"admin", "editors"}, client: cognitoClient},
		{name: "client credentials access token", claims: authtest.Claims{
			"sub": cognitoClient, "cognito:groups": authtest.Omit, "username": authtest.Omit, "version": 2,
			"scope": "notes/read notes/write"},
			scopes: []string{"notes/read", "notes/write"}, client: cognitoClient},
		{name: "ID token", claims: id, want: core.ErrAudienceInvalid},
		{name: "token_use id without aud", claims: authtest.Claims{"token_use": "id"}, want: core.ErrTokenType},
		{name: "token_use absent", claims: authtest.Claims{"token_use": authtest.Omit}, want: core.ErrMissingClaim},
		{name: "token_use in another case", claims: authtest.Claims{"token_use": "Access"}, want: core.ErrTokenType},
		{name: "token_use not a string", claims: authtest.Claims{"token_use": []string{"access"}}, want: core.ErrClaimType},
		{name: "another app client", claims: authtest.Claims{"client_id": cognitoOther}, want: core.ErrClientInvalid},
		{name: "client only in azp", claims: authtest.Claims{"client_id": authtest.Omit, "azp": cognitoClient}, want: core.ErrClientInvalid},
		{name: "an aud nobody permitted", claims: authtest.Claims{"aud": cognitoClient}, want: core.ErrAudienceInvalid},
		{name: "another pool of the region", claims: authtest.Claims{
			"iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_ZzZ999yyY"}, want: core.ErrIssuerInvalid},
		{name: "issuer with a trailing slash", claims: authtest.Claims{"iss": cognitoIss + "/"}, want: core.ErrIssuerInvalid},
		{name: "groups not a list of strings", claims: authtest.Claims{"cognito:groups": 7}, want: core.ErrClaimType},
	})

	t.Run("groups guard routes", func(t *testing.T) {
		p, err := v.Verify(context.Background(), iss.MustMint(t, access, noTyp))
		if err != nil {
			t.Fatal(err)
		}
		if err := v.RequireRoles("admin").Check(p); err != nil {
			t.Errorf("RequireRoles(admin): %v", err)
		}
		err = v.RequireAnyRole("billing", "auditors").Check(p)
		if !errors.Is(err, core.ErrInsufficientScope) || core.AsError(err).Status != http.StatusForbidden {
			t.Errorf("RequireAnyRole(billing, auditors) = %v, want 403", err)
		}
	})
}

// --- Auth0 ----------------------------------------------------------------

const (
	auth0Domain = "example.eu.auth0.com"
	auth0Iss    = "https://example.eu.auth0.com/"
	auth0API    = "https://notes.example.com"
	auth0Client = "Xq7mT2pLk9vR4sW1nB6cY3dF8gH0jK5z"
)

func TestAuth0Preset(t *testing.T) {
	iss := authtest.MustIssuer(t)
	v := presetVerifier(t, iss, core.Auth0(auth0Domain, auth0API))
	// Default token profile: typ JWT, aud [api, userinfo], azp, permissions (RBAC).
	access := authtest.Claims{
		"iss":         auth0Iss,
		"sub":         "auth0|64f1c2a3b4d5e6f7a8b9c0d1",
		"aud":         []string{auth0API, auth0Iss + "userinfo"},
		"azp":         auth0Client,
		"scope":       "openid profile read:notes",
		"permissions": []string{"read:notes", "delete:notes"},
	}
	runPresetCases(t, iss, v, access, nil, []presetCase{
		{name: "user access token", scopes: []string{"openid", "profile", "read:notes"},
			roles: []string{"read:notes", "delete:notes"}, client: auth0Client},
		{name: "machine-to-machine token", claims: authtest.Claims{
			"sub": auth0Client + "@clients", "aud": auth0API, "gty": "client-credentials",
			"scope": "read:notes", "permissions": authtest.Omit},
			scopes: []string{"read:notes"}, client: auth0Client},
		{name: "RFC 9068 profile token", claims: authtest.Claims{
			"aud": auth0API, "azp": authtest.Omit, "client_id": auth0Client, "permissions": authtest.Omit},
			header: []authtest.MintOption{authtest.Header("typ", "at+jwt")},
			scopes: []string{"openid", "profile", "read:notes"}, client: auth0Client},
		{name: "ID token", claims: authtest.Claims{
			"aud": auth0Client, "azp": authtest.Omit, "scope": authtest.Omit, "permissions": authtest.Omit,
			"nonce": "n-0S6_WzA2Mj", "name": "Jane", "email": "jane@example.com", "sid": "s1"},
			want: core.ErrAudienceInvalid},
		{name: "issuer without the trailing slash", claims: authtest.Claims{"iss": "https://example.eu.auth0.com"},
			want: core.ErrIssuerInvalid},
		{name: "another tenant", claims: authtest.Claims{"iss": "https://other.eu.auth0.com/"}, want: core.ErrIssuerInvalid},
		{name: "only the userinfo audience", claims: authtest.Claims{"aud": auth0Iss + "userinfo"}, want: core.ErrAudienceInvalid},
		{name: "another API", claims: authtest.Claims{"aud": "https://billing.example.com"}, want: core.ErrAudienceInvalid},
	})

	t.Run("permissions guard as roles, not as scopes", func(t *testing.T) {
		p, err := v.Verify(context.Background(), iss.MustMint(t, access))
		if err != nil {
			t.Fatal(err)
		}
		if err := v.RequireRoles("delete:notes").Check(p); err != nil {
			t.Errorf("RequireRoles(delete:notes): %v", err)
		}
		if err := v.RequireScopes("delete:notes").Check(p); !errors.Is(err, core.ErrInsufficientScope) {
			t.Errorf("RequireScopes(delete:notes) = %v, want insufficient scope: the app did not ask for it", err)
		}
	})

	t.Run("permissions as scopes on request", func(t *testing.T) {
		v := presetVerifier(t, iss, core.Auth0(auth0Domain, auth0API), core.WithScopeClaims("scope", "permissions"))
		p, err := v.Verify(context.Background(), iss.MustMint(t, access))
		if err != nil {
			t.Fatal(err)
		}
		// Scopes come claim by claim in the configured order (scope, then
		// permissions), each claim's values in token order.
		want := []string{"openid", "profile", "read:notes", "delete:notes"}
		if !slices.Equal(p.Scopes, want) {
			t.Errorf("scopes = %q, want %q", p.Scopes, want)
		}
	})

	t.Run("RFC 9068 profile required on request", func(t *testing.T) {
		v := presetVerifier(t, iss, core.Auth0(auth0Domain, auth0API), core.WithRequireATJWT())
		_, err := v.Verify(context.Background(), iss.MustMint(t, access))
		if !errors.Is(err, core.ErrTokenType) {
			t.Errorf("default-profile token: err = %v, want %v", err, core.ErrTokenType)
		}
		if _, err := v.Verify(context.Background(), iss.MustMint(t, access, authtest.Header("typ", "at+jwt"))); err != nil {
			t.Errorf("at+jwt token refused: %v", err)
		}
	})
}

// --- Okta -----------------------------------------------------------------

const (
	oktaDomain = "example.okta.com"
	oktaIss    = "https://example.okta.com/oauth2/default"
	oktaAud    = "api://default"
	oktaClient = "0oa1b2c3d4e5f6g7h8i9"
)

func TestOktaPreset(t *testing.T) {
	iss := authtest.MustIssuer(t)
	v := presetVerifier(t, iss, core.Okta(oktaDomain, "default", oktaAud))
	// A custom authorization server's access token: no header typ, scp array, cid.
	access := authtest.Claims{
		"ver":       1,
		"jti":       "AT.Xq8nJ2Lr5tYw0vBc3dFg6hJk9mNp1sQu4xZa7",
		"iss":       oktaIss,
		"aud":       oktaAud,
		"cid":       oktaClient,
		"uid":       "00u1a2b3c4d5e6f7g8h9",
		"scp":       []string{"openid", "notes.read"},
		"auth_time": time.Now().Unix(),
		"sub":       "jane@example.com",
	}
	// The ID token: aud = the client id, no cid, no scp.
	id := with(access, authtest.Claims{
		"aud": oktaClient, "cid": authtest.Omit, "scp": authtest.Omit, "uid": authtest.Omit, "jti": "ID.abc",
		"sub": "00u1a2b3c4d5e6f7g8h9", "idp": "00o1a2b3c4", "amr": []string{"pwd"}, "nonce": "n-0S6",
		"name": "Jane", "email": "jane@example.com", "at_hash": "MTIzNDU2Nzg5MDEyMzQ1Ng",
	})
	runPresetCases(t, iss, v, access, []authtest.MintOption{noTyp}, []presetCase{
		{name: "user access token", scopes: []string{"openid", "notes.read"}, client: oktaClient},
		{name: "client credentials token", claims: authtest.Claims{
			"sub": oktaClient, "uid": authtest.Omit, "auth_time": authtest.Omit, "scp": []string{"notes.read"}},
			scopes: []string{"notes.read"}, client: oktaClient},
		{name: "ID token", claims: id, want: core.ErrAudienceInvalid},
		{name: "org authorization server token", claims: authtest.Claims{
			"iss": "https://example.okta.com", "aud": "https://example.okta.com"}, want: core.ErrIssuerInvalid},
		{name: "another custom authorization server", claims: authtest.Claims{
			"iss": "https://example.okta.com/oauth2/aus9z8y7x6w5v4u3t2s1"}, want: core.ErrIssuerInvalid},
		{name: "cid absent", claims: authtest.Claims{"cid": authtest.Omit}, want: core.ErrMissingClaim},
		{name: "cid not a string", claims: authtest.Claims{"cid": 12}, want: core.ErrClaimType},
		{name: "scp not strings", claims: authtest.Claims{"scp": []int{1}}, want: core.ErrClaimType},
	})

	t.Run("ID token whose client is also a permitted audience", func(t *testing.T) {
		v := presetVerifier(t, iss, core.Okta(oktaDomain, "default", oktaAud, oktaClient))
		_, err := v.Verify(context.Background(), iss.MustMint(t, id, noTyp))
		if !errors.Is(err, core.ErrMissingClaim) {
			t.Errorf("err = %v, want %v (no cid)", err, core.ErrMissingClaim)
		}
	})
}

// --- Entra ID -------------------------------------------------------------

const (
	entraTenant  = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	entraAPI     = "6e74172b-be56-4843-9ff4-e66a39bb12e3"
	entraClient  = "a5d8c2f1-3b4e-4d6a-9c8b-7e1f0a2d3c4b"
	entraV2Iss   = "https://login.microsoftonline.com/" + entraTenant + "/v2.0"
	entraV1Iss   = "https://sts.windows.net/" + entraTenant + "/"
	entraGraphID = "00000003-0000-0000-c000-000000000000"
)

func TestEntraIDPreset(t *testing.T) {
	iss := authtest.MustIssuer(t)
	v := presetVerifier(t, iss, core.EntraID(entraTenant, entraAPI))
	now := time.Now().Unix()
	// A v2.0 delegated access token: scp string, azp, no jti.
	access := authtest.Claims{
		"aud": entraAPI, "iss": entraV2Iss, "nbf": now, "jti": authtest.Omit,
		"aio": "AWQAm/8TAAAA", "azp": entraClient, "azpacr": "0", "name": "Jane Doe",
		"oid": "690222be-ff1a-4d56-abd1-7e4f7d38e474", "preferred_username": "jane@contoso.com",
		"rh": "0.AAAA", "scp": "Notes.Read Notes.Write", "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
		"tid": entraTenant, "uti": "fqiBqXLPj0eQa82S-IYFAA", "ver": "2.0",
	}
	// An ID token of an app registration that is both the SPA and the API:
	// aud is the same GUID, but there is no azp.
	id := with(access, authtest.Claims{
		"azp": authtest.Omit, "azpacr": authtest.Omit, "scp": authtest.Omit, "nonce": "n-0S6",
	})
	runPresetCases(t, iss, v, access, nil, []presetCase{
		{name: "delegated access token", scopes: []string{"Notes.Read", "Notes.Write"}, client: entraClient},
		{name: "application token", claims: authtest.Claims{
			"scp": authtest.Omit, "roles": []string{"Notes.Read.All"}, "idtyp": "app",
			"name": authtest.Omit, "preferred_username": authtest.Omit, "sub": "690222be-ff1a-4d56-abd1-7e4f7d38e474"},
			roles: []string{"Notes.Read.All"}, client: entraClient},
		{name: "ID token with the API's own client id as aud", claims: id, want: core.ErrMissingClaim},
		{name: "Microsoft Graph token", claims: authtest.Claims{"aud": entraGraphID},
			header: []authtest.MintOption{authtest.Header("nonce", "AQABAAAAAAD")}, want: core.ErrAudienceInvalid},
		{name: "v1.0 token", claims: authtest.Claims{"iss": entraV1Iss, "ver": "1.0"}, want: core.ErrIssuerInvalid},
		{name: "another tenant", claims: authtest.Claims{
			"iss": "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0"}, want: core.ErrIssuerInvalid},
		{name: "client id only in appid", claims: authtest.Claims{"azp": authtest.Omit, "appid": entraClient},
			want: core.ErrMissingClaim},
	})
}

func TestEntraIDv1Preset(t *testing.T) {
	iss := authtest.MustIssuer(t)
	v := presetVerifier(t, iss, core.EntraIDv1(entraTenant, "api://notes", entraAPI))
	now := time.Now().Unix()
	access := authtest.Claims{
		"aud": "api://notes", "iss": entraV1Iss, "nbf": now, "jti": authtest.Omit,
		"acr": "1", "aio": "AVQAq/8TAAAA", "amr": []string{"pwd"}, "appid": entraClient, "appidacr": "0",
		"family_name": "Doe", "given_name": "Jane", "ipaddr": "192.0.2.10", "name": "Jane Doe",
		"oid": "690222be-ff1a-4d56-abd1-7e4f7d38e474", "rh": "0.AAAA", "scp": "Notes.Read",
		"sub": "l3_roISQU222bULS9yi2k0XpqpOiMz5H3ZACo1GeXA", "tid": entraTenant,
		"unique_name": "jane@contoso.com", "upn": "jane@contoso.com", "uti": "fqiBqXLPj0eQa82S-IYFAA", "ver": "1.0",
	}
	runPresetCases(t, iss, v, access, nil, []presetCase{
		{name: "delegated access token (App ID URI)", scopes: []string{"Notes.Read"}, client: entraClient},
		{name: "delegated access token (client id)", claims: authtest.Claims{"aud": entraAPI},
			scopes: []string{"Notes.Read"}, client: entraClient},
		{name: "ID token", claims: authtest.Claims{"aud": entraAPI, "appid": authtest.Omit, "appidacr": authtest.Omit,
			"scp": authtest.Omit, "nonce": "n-0S6"}, want: core.ErrMissingClaim},
		{name: "issuer without the trailing slash", claims: authtest.Claims{"iss": strings.TrimSuffix(entraV1Iss, "/")},
			want: core.ErrIssuerInvalid},
		{name: "v2.0 token", claims: authtest.Claims{"iss": entraV2Iss}, want: core.ErrIssuerInvalid},
		{name: "Microsoft Graph token", claims: authtest.Claims{"aud": "https://graph.microsoft.com"},
			header: []authtest.MintOption{authtest.Header("nonce", "AQABAAAAAAD")}, want: core.ErrAudienceInvalid},
	})
}

// --- Keycloak -------------------------------------------------------------

const (
	keycloakBase = "https://sso.example.com"
	keycloakIss  = "https://sso.example.com/realms/notes"
	keycloakAPI  = "notes-api"
	keycloakWeb  = "notes-web"
)

func TestKeycloakPreset(t *testing.T) {
	iss := authtest.MustIssuer(t)
	// Keycloak's JWKS also lists the realm's RSA-OAEP encryption key.
	enc, err := authtest.NewKey("RS256")
	if err != nil {
		t.Fatal(err)
	}
	encJWK := enc.JWK()
	encJWK["use"], encJWK["alg"] = "enc", "RSA-OAEP"
	raw, _ := json.Marshal(encJWK)
	iss.SetExtraJWKs(raw)

	v := presetVerifier(t, iss, core.Keycloak(keycloakBase, "notes", keycloakAPI))
	access := authtest.Claims{
		"iss": keycloakIss, "aud": []string{keycloakAPI, "account"}, "sub": "f3b8c1d2-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
		"typ": "Bearer", "azp": keycloakWeb, "session_state": "9a8b7c6d", "sid": "9a8b7c6d", "acr": "1",
		"allowed-origins": []string{"https://notes.example.com"},
		"realm_access":    map[string]any{"roles": []string{"offline_access", "uma_authorization", "notes-admin"}},
		"resource_access": map[string]any{
			keycloakAPI: map[string]any{"roles": []string{"editor"}},
			"account":   map[string]any{"roles": []string{"manage-account", "view-profile"}},
		},
		"scope": "openid profile email notes:read", "email_verified": true, "preferred_username": "jane",
	}
	realmRoles := []string{"offline_access", "uma_authorization", "notes-admin"}
	scopes := []string{"openid", "profile", "email", "notes:read"}
	runPresetCases(t, iss, v, access, nil, []presetCase{
		{name: "access token", scopes: scopes, roles: realmRoles, client: keycloakWeb},
		{name: "only the default account audience", claims: authtest.Claims{"aud": "account"}, want: core.ErrAudienceInvalid},
		{name: "no aud (Keycloak's default)", claims: authtest.Claims{"aud": authtest.Omit}, want: core.ErrAudienceInvalid},
		{name: "ID token", claims: authtest.Claims{"typ": "ID", "aud": keycloakWeb, "nonce": "n-0S6",
			"realm_access": authtest.Omit, "resource_access": authtest.Omit, "scope": authtest.Omit},
			want: core.ErrAudienceInvalid},
		{name: "ID token of the API's own client", claims: authtest.Claims{"typ": "ID", "aud": keycloakAPI},
			want: core.ErrTokenType},
		{name: "refresh token signed like an access token", claims: authtest.Claims{"typ": "Refresh"}, want: core.ErrTokenType},
		{name: "refresh token as Keycloak signs it (HS512)", claims: authtest.Claims{"typ": "Refresh"},
			header: []authtest.MintOption{authtest.Header("alg", "HS512")}, want: core.ErrAlgorithmNotAllowed},
		{name: "typ absent", claims: authtest.Claims{"typ": authtest.Omit}, want: core.ErrTokenType},
		{name: "typ not a string", claims: authtest.Claims{"typ": 1}, want: core.ErrClaimType},
		{name: "another realm", claims: authtest.Claims{"iss": "https://sso.example.com/realms/master"}, want: core.ErrIssuerInvalid},
		{name: "legacy /auth issuer", claims: authtest.Claims{"iss": "https://sso.example.com/auth/realms/notes"}, want: core.ErrIssuerInvalid},
		{name: "realm roles as a space-separated string", claims: authtest.Claims{
			"realm_access": map[string]any{"roles": "a b"}}, scopes: scopes, roles: []string{"a", "b"}, client: keycloakWeb},
		{name: "realm_access not an object", claims: authtest.Claims{"realm_access": []string{"admin"}}, want: core.ErrClaimType},
	})

	t.Run("tokens without aud accepted by client", func(t *testing.T) {
		v := presetVerifier(t, iss, core.Keycloak(keycloakBase, "notes"), core.WithClientIDs(keycloakWeb))
		tok := iss.MustMint(t, with(access, authtest.Claims{"aud": authtest.Omit}))
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Errorf("refused: %v", err)
		}
		tok = iss.MustMint(t, with(access, authtest.Claims{"aud": authtest.Omit, "azp": "admin-cli"}))
		if _, err := v.Verify(context.Background(), tok); !errors.Is(err, core.ErrClientInvalid) {
			t.Errorf("another client: err = %v, want %v", err, core.ErrClientInvalid)
		}
	})

	t.Run("client roles of the named client only", func(t *testing.T) {
		v := presetVerifier(t, iss, core.Keycloak(keycloakBase, "notes", keycloakAPI), core.WithKeycloakClientRoles(keycloakAPI))
		p, err := v.Verify(context.Background(), iss.MustMint(t, access))
		if err != nil {
			t.Fatal(err)
		}
		want := append(slices.Clone(realmRoles), "editor")
		if !slices.Equal(p.Roles, want) {
			t.Errorf("roles = %q, want %q", p.Roles, want)
		}
		if err := v.RequireRoles("manage-account").Check(p); !errors.Is(err, core.ErrInsufficientScope) {
			t.Errorf("a role of the account client passed: %v", err)
		}
		if err := v.RequireRoles("editor", "notes-admin").Check(p); err != nil {
			t.Errorf("RequireRoles(editor, notes-admin): %v", err)
		}
	})
}

// --- Google ---------------------------------------------------------------

const googleAud = "https://notes-abc123-ew.a.run.app"

func TestGooglePreset(t *testing.T) {
	iss := authtest.MustIssuer(t)
	v := presetVerifier(t, iss, core.Google(googleAud))
	// An ID token a service account obtained for the service's URL.
	id := authtest.Claims{
		"iss": "https://accounts.google.com", "aud": googleAud, "azp": "113450287762309875431",
		"sub": "113450287762309875431", "email": "caller@project.iam.gserviceaccount.com", "email_verified": true,
		"jti": authtest.Omit,
	}
	runPresetCases(t, iss, v, id, nil, []presetCase{
		{name: "https issuer", client: "113450287762309875431"},
		{name: "issuer without scheme", claims: authtest.Claims{"iss": "accounts.google.com"}, client: "113450287762309875431"},
		{name: "http issuer", claims: authtest.Claims{"iss": "http://accounts.google.com"}, want: core.ErrIssuerInvalid},
		{name: "issuer with a trailing slash", claims: authtest.Claims{"iss": "https://accounts.google.com/"}, want: core.ErrIssuerInvalid},
		{name: "token for another service", claims: authtest.Claims{"aud": "https://billing-abc123-ew.a.run.app"}, want: core.ErrAudienceInvalid},
		{name: "scope claims are not read", claims: authtest.Claims{"scope": "admin"}, client: "113450287762309875431"},
	})
}

// --- RFC 9068 (generic) ---------------------------------------------------

func TestRFC9068Preset(t *testing.T) {
	iss := authtest.MustIssuer(t)
	// The issuer is the loopback one: this preset discovers the keys.
	v, err := core.New(context.Background(), core.RFC9068(iss.URL, "urn:notes"), core.WithoutTokenCache(),
		core.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := v.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	if iss.DiscoveryHits() == 0 {
		t.Error("the keys were not discovered")
	}
	access := authtest.Claims{"iss": iss.URL, "aud": "urn:notes", "sub": "client-a", "client_id": "client-a", "scope": "notes:read"}
	at := []authtest.MintOption{authtest.Header("typ", "at+jwt")}
	runPresetCases(t, iss, v, access, at, []presetCase{
		{name: "access token", scopes: []string{"notes:read"}, client: "client-a"},
		{name: "application/at+jwt", header: []authtest.MintOption{authtest.Header("typ", "application/AT+JWT")},
			scopes: []string{"notes:read"}, client: "client-a"},
		{name: "ID token (typ JWT)", header: []authtest.MintOption{authtest.Header("typ", "JWT")}, want: core.ErrTokenType},
		{name: "no typ", header: []authtest.MintOption{noTyp}, want: core.ErrTokenType},
		{name: "client only in azp", claims: authtest.Claims{"client_id": authtest.Omit, "azp": "client-a"}, want: core.ErrMissingClaim},
		{name: "no jti", claims: authtest.Claims{"jti": authtest.Omit}, want: core.ErrMissingClaim},
		{name: "no iat", claims: authtest.Claims{"iat": authtest.Omit}, want: core.ErrMissingClaim},
		{name: "no sub", claims: authtest.Claims{"sub": authtest.Omit}, want: core.ErrMissingClaim},
		{name: "wrong audience", claims: authtest.Claims{"aud": "urn:other"}, want: core.ErrAudienceInvalid},
	})
}

// --- Derivation and validation ------------------------------------------

func TestPresetInvalidInput(t *testing.T) {
	tests := []struct {
		name string
		opt  core.Option
		want string // a word the error must contain, naming the cause
	}{
		{"Cognito empty region", core.Cognito("", "eu-west-1_abc", "c"), "AWS region"},
		{"Cognito region with a path", core.Cognito("eu-west-1/x", "eu-west-1_abc", "c"), "AWS region"},
		{"Cognito China partition", core.Cognito("cn-north-1", "cn-north-1_abc", "c"), "China"},
		{"Cognito empty pool", core.Cognito("eu-west-1", "", "c"), "user pool"},
		{"Cognito pool of another region", core.Cognito("eu-west-1", "us-east-1_abc", "c"), "user pool"},
		{"Cognito pool with a path", core.Cognito("eu-west-1", "eu-west-1_abc/../x", "c"), "user pool"},
		{"Cognito without client ids", core.Cognito("eu-west-1", "eu-west-1_abc"), "client ids"},
		{"Cognito empty client id", core.Cognito("eu-west-1", "eu-west-1_abc", ""), "empty"},
		{"Auth0 empty domain", core.Auth0("", "api"), "domain"},
		{"Auth0 domain with scheme", core.Auth0("https://example.eu.auth0.com", "api"), "domain"},
		{"Auth0 domain with slash", core.Auth0("example.eu.auth0.com/", "api"), "domain"},
		{"Auth0 without audience", core.Auth0("example.eu.auth0.com"), "audiences"},
		{"Okta empty domain", core.Okta("", "default", "api://default"), "domain"},
		{"Okta org server", core.Okta("example.okta.com", "", "api://default"), "org server"},
		{"Okta server id with a path", core.Okta("example.okta.com", "default/v1", "api://default"), "authorization server"},
		{"Okta without audience", core.Okta("example.okta.com", "default"), "audiences"},
		{"Entra multi-tenant", core.EntraID("common", entraAPI), "multi-tenant"},
		{"Entra organizations", core.EntraIDv1("organizations", entraAPI), "multi-tenant"},
		{"Entra domain as tenant", core.EntraID("contoso.onmicrosoft.com", entraAPI), "GUID"},
		{"Entra empty tenant", core.EntraID("", entraAPI), "GUID"},
		{"Entra without audience", core.EntraID(entraTenant), "audiences"},
		{"Keycloak empty base", core.Keycloak("", "notes", "api"), "base URL"},
		{"Keycloak base without scheme", core.Keycloak("sso.example.com", "notes", "api"), "base URL"},
		{"Keycloak base with query", core.Keycloak("https://sso.example.com/?a=b", "notes", "api"), "base URL"},
		{"Keycloak plain http", core.Keycloak("http://sso.example.com", "notes", "api"), "plain http"},
		{"Keycloak empty realm", core.Keycloak(keycloakBase, "", "api"), "realm"},
		{"Keycloak realm with slash", core.Keycloak(keycloakBase, "a/b", "api"), "realm"},
		{"Keycloak without audience or client", core.Keycloak(keycloakBase, "notes"), "audiences"},
		{"Keycloak client roles of no client", core.WithKeycloakClientRoles(), "client id"},
		{"Keycloak client roles with a dot", core.WithKeycloakClientRoles("notes.api"), "'.'"},
		{"Google without audience", core.Google(), "audiences"},
		{"RFC 9068 without issuer", core.RFC9068("", "api"), "issuer"},
		{"RFC 9068 plain http", core.RFC9068("http://id.example.com", "api"), "plain http"},
		{"empty required claim", core.WithRequiredClaims(""), "required claim"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := []core.Option{tc.opt}
			if strings.HasPrefix(tc.name, "Keycloak client roles") || strings.HasPrefix(tc.name, "empty required") {
				opts = []core.Option{core.Keycloak(keycloakBase, "notes", "api"), tc.opt}
			}
			v, err := core.New(context.Background(), append(opts, core.WithLogger(slog.New(slog.DiscardHandler)))...)
			if err == nil {
				_ = v.Close()
				t.Fatal("New accepted it")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %q, want it to mention %q", err, tc.want)
			}
		})
	}
}
