package echoauth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
	"github.com/jwksauth/jwksauth/echoauth"
)

// devVerifier starts an in-process issuer on loopback and a verifier for
// it. A real application calls core.New with its provider's issuer URL.
func devVerifier() (*authtest.Issuer, *core.Verifier, error) {
	iss, err := authtest.NewIssuer()
	if err != nil {
		return nil, nil, err
	}
	v, err := core.New(context.Background(), core.WithIssuer(iss.URL), core.WithAudiences(authtest.DefaultAudience))
	if err != nil {
		iss.Close()
		return nil, nil, err
	}
	return iss, v, v.Ready(context.Background())
}

// call sends one GET with an optional bearer token and prints the answer.
func call(h http.Handler, path, token string) {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	fmt.Println(rec.Code, rec.Header().Get("WWW-Authenticate"), strings.TrimSpace(rec.Body.String()))
}

func ExampleMiddleware() {
	iss, v, err := devVerifier()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer iss.Close()
	defer v.Close()

	e := echo.New()
	e.Use(echoauth.Middleware(v))
	e.GET("/me", func(c echo.Context) error {
		p, _ := echoauth.Principal(c)
		return c.String(http.StatusOK, p.Subject)
	})

	token, _ := iss.Mint(nil)
	call(e, "/me", token)
	call(e, "/me", "")
	// Output:
	// 200  user-123
	// 401 Bearer realm="api" {"error":"unauthorized","error_description":"a bearer token is required"}
}

func ExampleRequireScopes() {
	iss, v, err := devVerifier()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer iss.Close()
	defer v.Close()

	e := echo.New()
	e.Use(echoauth.Middleware(v))
	e.GET("/notes", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]bool{"success": true})
	}, echoauth.RequireScopes(v, "note:read"))

	reader, _ := iss.Mint(authtest.Claims{"scope": "note:read"})
	writer, _ := iss.Mint(authtest.Claims{"scope": "note:create"})
	call(e, "/notes", reader)
	call(e, "/notes", writer)
	// Output:
	// 200  {"success":true}
	// 403 Bearer realm="api", error="insufficient_scope", scope="note:read" {"error":"insufficient_scope","error_description":"the access token lacks a required scope"}
}
