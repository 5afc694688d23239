package core

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Provider presets.
//
// A preset is an Option that configures a Verifier for one provider's
// access tokens in one call: it derives the exact issuer and the JWKS URL
// from the provider's identifiers, and sets where scopes, roles and the
// client id are read and which claims mark an access token. Give the preset
// first; options after it refine it (WithScopeClaims, WithRoleClaims,
// WithClientIDs, WithAudiences, WithRequireATJWT, ...).
//
// Presets only add checks: a preset never turns off WithRequireATJWT, a
// payload type or required claims set by an earlier option. It does replace
// the issuer, its aliases, the JWKS URL and the scope, role and client-id
// claim names, since those say where the provider writes things.
//
// A preset refuses malformed identifiers (an empty region, a domain with a
// scheme, a tenant that is not a GUID): New then returns the error. Nothing
// is fetched while the options are applied.
//
// docs/providers.md shows each preset with its traps.

// setProvider replaces what identifies the provider's tokens and keys.
func (c *config) setProvider(issuer, jwksURL string, aliases ...string) {
	c.issuer = issuer
	c.jwksURL = jwksURL
	c.issuerAliases = aliases
}

func (c *config) require(names ...string) {
	for _, n := range names {
		if !slices.Contains(c.requiredClaims, n) {
			c.requiredClaims = append(c.requiredClaims, n)
		}
	}
}

var (
	awsRegion  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	poolSuffix = regexp.MustCompile(`^[0-9A-Za-z]+$`)
	oktaASID   = regexp.MustCompile(`^[0-9A-Za-z]+$`)
	entraGUID  = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// hostName reports whether s is a DNS host name without scheme, port or
// path: labels of letters, digits and inner hyphens.
func hostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		if strings.IndexFunc(label, notHostChar) >= 0 {
			return false
		}
	}
	return true
}

// notHostChar reports a rune that no label of a host name holds: anything
// but ASCII letters, digits and '-'.
func notHostChar(r rune) bool {
	return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-')
}

// Cognito configures an Amazon Cognito user pool's access tokens.
//
// Issuer https://cognito-idp.{region}.amazonaws.com/{userPoolID} (no
// trailing slash); keys from {issuer}/.well-known/jwks.json, without
// discovery. The token's client_id must be one of clientIDs (the app
// clients of the pool allowed to call this API): Cognito access tokens carry
// no aud, so this client check is their audience rule, and at least one
// client id is required. A token that does carry an aud is refused unless
// WithAudiences permits it. token_use must be present and equal "access":
// the pool's ID tokens (token_use "id", aud = client id) are refused.
// Scopes are read from scope; roles from cognito:groups (RequireRoles).
//
// The region must look like "eu-west-1" and the pool id must begin with it
// ("eu-west-1_AbC123xyZ"). The China partition (amazonaws.com.cn) is not
// derived: configure it with WithIssuer and WithJWKSURL.
func Cognito(region, userPoolID string, clientIDs ...string) Option {
	return func(c *config) {
		switch {
		case !awsRegion.MatchString(region):
			c.fail("jwksauth: Cognito: %q is not an AWS region such as eu-west-1", region)
			return
		case strings.HasPrefix(region, "cn-"):
			c.fail("jwksauth: Cognito: the China partition is not derived; use WithIssuer and WithJWKSURL")
			return
		}
		suffix, ok := strings.CutPrefix(userPoolID, region+"_")
		if !ok || !poolSuffix.MatchString(suffix) {
			c.fail("jwksauth: Cognito: %q is not a user pool id of region %s (%s_…)", userPoolID, region, region)
			return
		}
		iss := "https://cognito-idp." + region + ".amazonaws.com/" + userPoolID
		c.setProvider(iss, iss+"/.well-known/jwks.json")
		c.clientIDs = append(c.clientIDs, clientIDs...)
		c.clientIDClaims = []string{"client_id"}
		c.scopeClaims = []string{"scope"}
		c.roleClaims = []string{"cognito:groups"}
		c.require("token_use") // present; verify refuses any value but "access"
	}
}

// Auth0 configures an Auth0 tenant's access tokens for the APIs named by
// audiences (each an API Identifier, such as "https://notes.example.com").
//
// domain is the tenant's domain without scheme or path
// ("example.eu.auth0.com", or the custom domain tokens are issued under).
// Issuer https://{domain}/ — with the trailing slash Auth0 writes; keys from
// https://{domain}/.well-known/jwks.json, without discovery. aud (a string,
// or an array such as [api, https://{domain}/userinfo]) must hold one of
// audiences; ID tokens, whose aud is the application's client id, are
// refused for that reason, so never list a client id as an audience.
// Scopes are read from scope. The RBAC permissions claim is read as roles,
// so RequireRoles and RequireAnyRole guard on permissions; it is not added
// to the scopes, because Auth0 puts every permission of the user in it,
// including those the calling application did not ask for. To treat
// permissions as scopes anyway, add WithScopeClaims("scope", "permissions")
// after the preset. The client id is client_id, else azp. Tenants on the
// RFC 9068 token profile can add WithRequireATJWT.
func Auth0(domain string, audiences ...string) Option {
	return func(c *config) {
		if !hostName(domain) {
			c.fail("jwksauth: Auth0: %q is not a domain such as example.eu.auth0.com (no scheme, no path)", domain)
			return
		}
		base := "https://" + strings.ToLower(domain) + "/"
		c.setProvider(base, base+".well-known/jwks.json")
		c.audiences = append(c.audiences, audiences...)
		c.clientIDClaims = []string{"client_id", "azp"}
		c.scopeClaims = []string{"scope"}
		c.roleClaims = []string{"permissions"}
	}
}

// Okta configures the access tokens of an Okta custom authorization server
// ("default", or an id such as "aus1a2b3c4d5e6f7g8h9") for the audiences of
// that server (such as "api://default").
//
// domain is the Okta domain without scheme or path ("example.okta.com").
// Issuer https://{domain}/oauth2/{authServerID}; keys from {issuer}/v1/keys,
// without discovery. aud must hold one of audiences. Scopes are read from
// scp (an array). The client id is cid, and cid must be present: Okta
// writes it into every access token and into no ID token, so ID tokens are
// refused even where their aud would match. No roles are read; for a groups
// claim you added to the server, use WithRoleClaims("groups") after the
// preset. An empty authServerID is refused: tokens of the Okta org
// authorization server are meant for Okta's own APIs only and cannot be
// validated by a third party.
func Okta(domain, authServerID string, audiences ...string) Option {
	return func(c *config) {
		if !hostName(domain) {
			c.fail("jwksauth: Okta: %q is not a domain such as example.okta.com (no scheme, no path)", domain)
			return
		}
		if !oktaASID.MatchString(authServerID) {
			c.fail("jwksauth: Okta: %q is not a custom authorization server id (\"default\" or aus…); org server tokens cannot be validated by an API", authServerID)
			return
		}
		iss := "https://" + strings.ToLower(domain) + "/oauth2/" + authServerID
		c.setProvider(iss, iss+"/v1/keys")
		c.audiences = append(c.audiences, audiences...)
		c.clientIDClaims = []string{"cid"}
		c.scopeClaims = []string{"scp"}
		c.roleClaims = nil
		c.require("cid")
	}
}

// EntraID configures Microsoft Entra ID (Azure AD) v2.0 access tokens of
// one tenant, for an API whose audiences are its application (client) id
// GUID, which is what v2.0 tokens carry in aud.
//
// tenantID is the tenant's GUID; "common", "organizations", "consumers" and
// domain names are refused, since tokens name the GUID and multi-tenant
// issuers are templates. Issuer https://login.microsoftonline.com/{tenant}/v2.0;
// keys from https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys,
// without discovery. aud must hold one of audiences. Scopes are read from
// scp (a space-separated string: delegated permissions), roles from roles
// (app roles, and the permissions of application tokens: guard those with
// RequireRoles). The client id is azp, and azp must be present: access
// tokens carry it, ID tokens do not. Microsoft Graph tokens (aud Graph,
// header nonce) are refused; they are not meant to be verified by anyone
// but Graph.
//
// Tokens are v2.0 only when the API's manifest sets
// requestedAccessTokenVersion (accessTokenAcceptedVersion) to 2; otherwise
// Entra issues v1.0 tokens: use EntraIDv1.
func EntraID(tenantID string, audiences ...string) Option {
	return entra(tenantID, "https://login.microsoftonline.com/{tenant}/v2.0",
		"https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys", "azp", audiences)
}

// EntraIDv1 configures Microsoft Entra ID v1.0 access tokens of one tenant
// (the default version for APIs whose manifest does not ask for v2.0).
// audiences are what the API's v1.0 tokens carry in aud: its App ID URI
// ("api://notes") or its client id.
//
// Issuer https://sts.windows.net/{tenant}/ — with the trailing slash Entra
// writes; keys from https://login.microsoftonline.com/{tenant}/discovery/keys,
// without discovery. Everything else is as for EntraID, except that the
// client id is appid, which must be present.
func EntraIDv1(tenantID string, audiences ...string) Option {
	return entra(tenantID, "https://sts.windows.net/{tenant}/",
		"https://login.microsoftonline.com/{tenant}/discovery/keys", "appid", audiences)
}

func entraTenant(c *config, tenantID string) (string, bool) {
	tid := strings.ToLower(tenantID)
	switch {
	case tid == "common" || tid == "organizations" || tid == "consumers":
		c.fail("jwksauth: EntraID: %q is a multi-tenant endpoint; give the tenant id GUID of the tenant whose tokens you accept", tenantID)
		return "", false
	case !entraGUID.MatchString(tid):
		c.fail("jwksauth: EntraID: %q is not a tenant id GUID", tenantID)
		return "", false
	}
	return tid, true
}

// entra is EntraID and EntraIDv1 for one tenant: {tenant} in issuer and
// keys stands for its id; clientClaim names the client id, which must be
// present.
func entra(tenantID, issuer, keys, clientClaim string, audiences []string) Option {
	return func(c *config) {
		tid, ok := entraTenant(c, tenantID)
		if !ok {
			return
		}
		c.setProvider(strings.ReplaceAll(issuer, "{tenant}", tid), strings.ReplaceAll(keys, "{tenant}", tid))
		c.audiences = append(c.audiences, audiences...)
		c.clientIDClaims = []string{clientClaim}
		c.scopeClaims = []string{"scp"}
		c.roleClaims = []string{"roles"}
		c.require(clientClaim)
	}
}

// Keycloak configures the access tokens of one Keycloak realm.
//
// baseURL is the server's URL ("https://sso.example.com", or
// "https://sso.example.com/auth" for Keycloak before 17 and servers
// started with that context path). Issuer {baseURL}/realms/{realm}; keys
// from {issuer}/protocol/openid-connect/certs, without discovery; an
// encryption key in that set is skipped. aud must hold one of audiences:
// Keycloak only puts an API in aud through an audience mapper (or client
// scope), so configure one. Do not accept "account": Keycloak adds it to
// almost every token of the realm. Tokens without aud (Keycloak's default)
// can instead be accepted by client with WithClientIDs, read from azp.
// The payload typ must be "Bearer": ID tokens ("ID") and refresh tokens
// ("Refresh") are refused. Scopes are read from scope, roles from
// realm_access.roles; add client roles with WithKeycloakClientRoles.
func Keycloak(baseURL, realm string, audiences ...string) Option {
	return func(c *config) {
		u, err := url.Parse(baseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
			u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
			c.fail("jwksauth: Keycloak: %q is not a base URL such as https://sso.example.com", baseURL)
			return
		}
		if realm == "" || strings.ContainsAny(realm, "/?#") || !headerSafe(realm) {
			c.fail("jwksauth: Keycloak: %q is not a realm name", realm)
			return
		}
		iss := strings.TrimRight(baseURL, "/") + "/realms/" + url.PathEscape(realm)
		c.setProvider(iss, iss+"/protocol/openid-connect/certs")
		c.audiences = append(c.audiences, audiences...)
		c.clientIDClaims = []string{"azp"}
		c.scopeClaims = []string{"scope"}
		c.roleClaims = []string{"realm_access.roles"}
		c.payloadTyp = "Bearer"
	}
}

// WithKeycloakClientRoles adds the client roles of the named Keycloak
// clients (resource_access.{client}.roles) to the roles, next to the realm
// roles. Give it after Keycloak, which replaces the role claims. Name only
// clients whose roles mean something to this API — usually its own client:
// a realm role and a client role with the same name become one role.
// Client ids containing '.' cannot be addressed and are refused.
// Default: no client roles.
func WithKeycloakClientRoles(clients ...string) Option {
	return func(c *config) {
		if len(clients) == 0 {
			c.fail("jwksauth: WithKeycloakClientRoles needs at least one client id")
		}
		for _, id := range clients {
			if id == "" || strings.Contains(id, ".") {
				c.fail("jwksauth: WithKeycloakClientRoles: client id %q is empty or contains '.'", id)
				continue
			}
			c.roleClaims = append(c.roleClaims, "resource_access."+id+".roles")
		}
	}
}

// Google configures tokens signed by Google's OpenID provider. Google's
// access tokens are opaque; what reaches an API as a JWT bearer token is a
// Google ID token (service-to-service calls from Cloud Run, Cloud
// Scheduler, Pub/Sub push, or a user's sign-in), whose aud is the OAuth
// client id or the audience the caller asked for (often the service URL).
//
// Issuer https://accounts.google.com, with accounts.google.com accepted as
// well since Google writes both; keys from
// https://www.googleapis.com/oauth2/v3/certs, without discovery. aud must
// hold one of audiences. No scopes or roles are read (Google ID tokens carry
// none); the client id is azp. Any Google account can obtain an ID token
// for any audience it names, so check the caller's identity (email, sub)
// in the handler, with DecodeClaims.
func Google(audiences ...string) Option {
	return func(c *config) {
		c.setProvider("https://accounts.google.com", "https://www.googleapis.com/oauth2/v3/certs", "accounts.google.com")
		c.audiences = append(c.audiences, audiences...)
		c.clientIDClaims = []string{"azp"}
		c.scopeClaims = nil
		c.roleClaims = nil
	}
}

// RFC9068 configures any OpenID provider that issues JWT access tokens in
// the RFC 9068 profile (oidc-provider, Auth0's RFC 9068 profile, Ory Hydra
// with JWT tokens, ...), beyond what WithIssuer alone checks.
//
// The issuer is given exactly; the keys are discovered from
// {issuer}/.well-known/openid-configuration. aud must hold one of
// audiences. The header typ must be at+jwt (or application/at+jwt): this
// is what refuses the provider's ID tokens. client_id, sub, iat and jti
// must be present (RFC 9068 §2.2); the client id is client_id. Scopes are
// read from scope. No roles are read.
func RFC9068(issuer string, audiences ...string) Option {
	return func(c *config) {
		if issuer == "" {
			c.fail("jwksauth: RFC9068: an issuer is required")
			return
		}
		c.setProvider(issuer, "")
		c.audiences = append(c.audiences, audiences...)
		c.requireATJWT = true
		c.clientIDClaims = []string{"client_id"}
		c.scopeClaims = []string{"scope"}
		c.roleClaims = nil
		c.require("client_id", "sub", "iat", "jti")
	}
}
