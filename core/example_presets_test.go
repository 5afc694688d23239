package core_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
)

// The examples below sign tokens shaped like each provider's with a
// loopback issuer, so they run offline. In production, leave out the
// stand-in lines: the preset derives the provider's real JWKS URL.

// standIn starts the loopback issuer whose keys replace the provider's.
func standIn() (*authtest.Issuer, []core.Option) {
	iss, err := authtest.NewIssuer()
	if err != nil {
		fmt.Println(err)
		return nil, nil
	}
	return iss, []core.Option{
		core.WithJWKSURL(iss.JWKSURL()),
		core.WithLogger(slog.New(slog.DiscardHandler)),
	}
}

// Amazon Cognito: access tokens carry no aud; the app client ids are the
// audience rule, token_use must be "access", groups are roles.
func ExampleCognito() {
	iss, standInOpts := standIn()
	if iss == nil {
		return
	}
	defer iss.Close()
	ctx := context.Background()

	v, err := core.New(ctx, append([]core.Option{
		core.Cognito("eu-west-1", "eu-west-1_AbC123xyZ", "5eh3kq7ncd1f2g3h4i5j6k7l8m"),
	}, standInOpts...)...)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer v.Close()
	_ = v.Ready(ctx)

	claims := authtest.Claims{
		"iss":            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123xyZ",
		"aud":            authtest.Omit,
		"client_id":      "5eh3kq7ncd1f2g3h4i5j6k7l8m",
		"token_use":      "access",
		"scope":          "notes/read",
		"cognito:groups": []string{"admin"},
	}
	p, err := v.Verify(ctx, mintAs(iss, claims))
	fmt.Println(p.ClientID, p.Scopes, p.Roles, err)
	fmt.Println(v.RequireRoles("admin").Check(p))

	claims["token_use"] = "id" // an ID token
	_, err = v.Verify(ctx, mintAs(iss, claims))
	fmt.Println(errors.Is(err, core.ErrTokenType))
	// Output:
	// 5eh3kq7ncd1f2g3h4i5j6k7l8m [notes/read] [admin] <nil>
	// <nil>
	// true
}

// Auth0: the issuer ends in "/"; RBAC permissions guard routes as roles.
func ExampleAuth0() {
	iss, standInOpts := standIn()
	if iss == nil {
		return
	}
	defer iss.Close()
	ctx := context.Background()

	v, err := core.New(ctx, append([]core.Option{
		core.Auth0("example.eu.auth0.com", "https://notes.example.com"),
	}, standInOpts...)...)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer v.Close()
	_ = v.Ready(ctx)

	token := mintAs(iss, authtest.Claims{
		"iss":         "https://example.eu.auth0.com/",
		"aud":         []string{"https://notes.example.com", "https://example.eu.auth0.com/userinfo"},
		"azp":         "Xq7mT2pLk9vR4sW1nB6cY3dF8gH0jK5z",
		"scope":       "openid read:notes",
		"permissions": []string{"read:notes", "delete:notes"},
	})
	p, err := v.Verify(ctx, token)
	fmt.Println(p.Scopes, p.Roles, err)
	fmt.Println(v.RequireRoles("delete:notes").Check(p))
	// Output:
	// [openid read:notes] [read:notes delete:notes] <nil>
	// <nil>
}

// Okta custom authorization server: scp is an array, cid the client.
func ExampleOkta() {
	iss, standInOpts := standIn()
	if iss == nil {
		return
	}
	defer iss.Close()
	ctx := context.Background()

	v, err := core.New(ctx, append([]core.Option{
		core.Okta("example.okta.com", "default", "api://default"),
	}, standInOpts...)...)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer v.Close()
	_ = v.Ready(ctx)

	token := mintAs(iss, authtest.Claims{
		"iss": "https://example.okta.com/oauth2/default",
		"aud": "api://default",
		"cid": "0oa1b2c3d4e5f6g7h8i9",
		"scp": []string{"notes.read"},
		"ver": 1,
	}, authtest.Header("typ", authtest.Omit))
	p, err := v.Verify(ctx, token)
	fmt.Println(p.ClientID, p.Scopes, err)
	// Output:
	// 0oa1b2c3d4e5f6g7h8i9 [notes.read] <nil>
}

// Entra ID v2.0: scp is a string of delegated permissions, roles holds app
// roles; azp must be present, which ID tokens lack.
func ExampleEntraID() {
	iss, standInOpts := standIn()
	if iss == nil {
		return
	}
	defer iss.Close()
	ctx := context.Background()

	const tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	const api = "6e74172b-be56-4843-9ff4-e66a39bb12e3"
	v, err := core.New(ctx, append([]core.Option{core.EntraID(tenant, api)}, standInOpts...)...)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer v.Close()
	_ = v.Ready(ctx)

	claims := authtest.Claims{
		"iss": "https://login.microsoftonline.com/" + tenant + "/v2.0",
		"aud": api,
		"azp": "a5d8c2f1-3b4e-4d6a-9c8b-7e1f0a2d3c4b",
		"scp": "Notes.Read Notes.Write",
		"ver": "2.0",
	}
	p, err := v.Verify(ctx, mintAs(iss, claims))
	fmt.Println(p.Scopes, err)

	claims["azp"] = authtest.Omit // the shape of an ID token
	_, err = v.Verify(ctx, mintAs(iss, claims))
	fmt.Println(errors.Is(err, core.ErrMissingClaim))
	// Output:
	// [Notes.Read Notes.Write] <nil>
	// true
}

// Keycloak: realm roles, plus the API client's own roles on request; the
// payload typ must be "Bearer".
func ExampleKeycloak() {
	iss, standInOpts := standIn()
	if iss == nil {
		return
	}
	defer iss.Close()
	ctx := context.Background()

	v, err := core.New(ctx, append([]core.Option{
		core.Keycloak("https://sso.example.com", "notes", "notes-api"),
		core.WithKeycloakClientRoles("notes-api"),
	}, standInOpts...)...)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer v.Close()
	_ = v.Ready(ctx)

	claims := authtest.Claims{
		"iss":             "https://sso.example.com/realms/notes",
		"aud":             []string{"notes-api", "account"},
		"typ":             "Bearer",
		"azp":             "notes-web",
		"scope":           "openid notes:read",
		"realm_access":    map[string]any{"roles": []string{"notes-admin"}},
		"resource_access": map[string]any{"notes-api": map[string]any{"roles": []string{"editor"}}},
	}
	p, err := v.Verify(ctx, mintAs(iss, claims))
	fmt.Println(p.Roles, err)

	claims["typ"] = "ID"
	_, err = v.Verify(ctx, mintAs(iss, claims))
	fmt.Println(errors.Is(err, core.ErrTokenType))
	// Output:
	// [notes-admin editor] <nil>
	// true
}

// Google: both spellings of the issuer; aud is the caller's chosen audience.
func ExampleGoogle() {
	iss, standInOpts := standIn()
	if iss == nil {
		return
	}
	defer iss.Close()
	ctx := context.Background()

	v, err := core.New(ctx, append([]core.Option{
		core.Google("https://notes-abc123-ew.a.run.app"),
	}, standInOpts...)...)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer v.Close()
	_ = v.Ready(ctx)

	for _, issuer := range []string{"https://accounts.google.com", "accounts.google.com"} {
		token := mintAs(iss, authtest.Claims{
			"iss":   issuer,
			"aud":   "https://notes-abc123-ew.a.run.app",
			"email": "caller@project.iam.gserviceaccount.com",
		})
		p, err := v.Verify(ctx, token)
		fmt.Println(p.Issuer, err)
	}
	// Output:
	// https://accounts.google.com <nil>
	// accounts.google.com <nil>
}

// Any provider of RFC 9068 JWT access tokens; keys are discovered.
func ExampleRFC9068() {
	iss, err := authtest.NewIssuer() // stands in for your provider
	if err != nil {
		fmt.Println(err)
		return
	}
	defer iss.Close()
	ctx := context.Background()

	v, err := core.New(ctx, core.RFC9068(iss.URL, "urn:notes"), core.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer v.Close()
	_ = v.Ready(ctx)

	claims := authtest.Claims{"aud": "urn:notes", "client_id": "client-a", "scope": "notes:read"}
	p, err := v.Verify(ctx, mintAs(iss, claims, authtest.Header("typ", "at+jwt")))
	fmt.Println(p.ClientID, p.Scopes, err)

	_, err = v.Verify(ctx, mintAs(iss, claims)) // typ JWT: an ID token
	fmt.Println(errors.Is(err, core.ErrTokenType))
	// Output:
	// client-a [notes:read] <nil>
	// true
}

// mintAs signs claims with iss; a failure (a bug) leaves the token empty,
// which the Output check then shows.
func mintAs(iss *authtest.Issuer, claims authtest.Claims, opts ...authtest.MintOption) string {
	token, _ := iss.Mint(claims, opts...)
	return token
}
