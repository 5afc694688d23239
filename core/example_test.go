package core_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
)

// A Verifier for one issuer, used directly on a token.
func ExampleVerifier_Verify() {
	iss, _ := authtest.NewIssuer() // stands in for your provider
	defer iss.Close()

	ctx := context.Background()
	v, err := core.New(ctx,
		core.WithIssuer(iss.URL),
		core.WithAudiences("account"),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer v.Close()
	_ = v.Ready(ctx) // optional: wait for the first key set

	token, _ := iss.Mint(authtest.Claims{"scope": "example:note:read"})
	p, err := v.Verify(ctx, token)
	fmt.Println(p.Subject, p.Scopes, err)

	_, err = v.Verify(ctx, "not-a-token")
	fmt.Println(core.AsError(err).Status, errors.Is(err, core.ErrTokenMalformed))
	// Output:
	// user-123 [example:note:read] <nil>
	// 401 true
}

// The whole HTTP decision for a net/http request: credential, token, scope.
func ExampleVerifier_Authorize() {
	iss, _ := authtest.NewIssuer()
	defer iss.Close()
	ctx := context.Background()
	v, _ := core.New(ctx, core.WithIssuer(iss.URL), core.WithAudiences("account"))
	defer v.Close()
	_ = v.Ready(ctx)

	canCreate := v.RequireScopes("example:note:create")
	handler := func(w http.ResponseWriter, r *http.Request) {
		p, err := v.Authorize(r.Context(), core.FromHTTP(r), nil, canCreate)
		if err != nil {
			core.AsError(err).WriteHTTP(w)
			return
		}
		fmt.Fprintf(w, "hello %s", p.Subject)
	}

	token, _ := iss.Mint(authtest.Claims{"scope": "example:note:read"})
	r := httptest.NewRequest(http.MethodPost, "/notes", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	handler(w, r)
	fmt.Println(w.Code)
	fmt.Println(w.Header().Get("WWW-Authenticate"))
	fmt.Println(w.Body.String())
	// Output:
	// 403
	// Bearer realm="api", error="insufficient_scope", scope="example:note:create"
	// {"error":"insufficient_scope","error_description":"the access token lacks a required scope"}
}

// Custom claims decode into your own type.
func ExampleDecodeClaims() {
	iss, _ := authtest.NewIssuer()
	defer iss.Close()
	ctx := context.Background()
	v, _ := core.New(ctx, core.WithIssuer(iss.URL), core.WithAudiences("account"))
	defer v.Close()
	_ = v.Ready(ctx)

	token, _ := iss.Mint(authtest.Claims{"tenant": "acme"})
	p, _ := v.Verify(ctx, token)

	type myClaims struct {
		Tenant string `json:"tenant"`
	}
	c, err := core.DecodeClaims[myClaims](p)
	fmt.Println(c.Tenant, err)
	// Output: acme <nil>
}

// Code below the handler reads the principal from the context, with no
// framework import.
func ExamplePrincipalFromContext() {
	ctx := core.WithPrincipal(context.Background(), &core.Principal{Subject: "user-123"})
	if p, ok := core.PrincipalFromContext(ctx); ok {
		fmt.Println(p.Subject)
	}
	// Output: user-123
}
