package fiberauth_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
	"github.com/jwksauth/jwksauth/fiberauth"
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
func call(app *fiber.App, path, token string) {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := app.Test(r, -1)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, resp.Header.Get("WWW-Authenticate"), strings.TrimSpace(string(body)))
}

func ExampleMiddleware() {
	iss, v, err := devVerifier()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer iss.Close()
	defer v.Close()

	// ReadBufferSize: fasthttp refuses headers over 4 KiB by default; core accepts 16 KiB tokens.
	app := fiber.New(fiber.Config{ReadBufferSize: 32 << 10})
	app.Use(fiberauth.Middleware(v))
	app.Get("/me", func(c *fiber.Ctx) error {
		p, _ := fiberauth.Principal(c)
		return c.SendString(p.Subject)
	})

	token, _ := iss.Mint(nil)
	call(app, "/me", token)
	call(app, "/me", "")
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

	app := fiber.New(fiber.Config{ReadBufferSize: 32 << 10})
	app.Use(fiberauth.Middleware(v))
	app.Get("/notes", fiberauth.RequireScopes(v, "note:read"), func(c *fiber.Ctx) error {
		return c.JSON(fiber.Map{"success": true})
	})

	reader, _ := iss.Mint(authtest.Claims{"scope": "note:read"})
	writer, _ := iss.Mint(authtest.Claims{"scope": "note:create"})
	call(app, "/notes", reader)
	call(app, "/notes", writer)
	// Output:
	// 200  {"success":true}
	// 403 Bearer realm="api", error="insufficient_scope", scope="note:read" {"error":"insufficient_scope","error_description":"the access token lacks a required scope"}
}

// An API that MCP clients and other discovering clients find by themselves:
// the metadata document (RFC 9728) in one line, and its URL in every challenge.
func ExampleMountResourceMetadata() {
	iss, _ := authtest.NewIssuer()
	defer iss.Close()
	v, _ := core.New(context.Background(), core.WithIssuer(iss.URL),
		core.WithResource("https://api.example.com/mcp", core.ResourceMetadata{Name: "Notes MCP"}))
	defer v.Close()

	app := fiber.New()
	fiberauth.MountResourceMetadata(app, v)
	app.Post("/mcp", fiberauth.RequireScopes(v, "notes:read"), func(c *fiber.Ctx) error { return c.SendString("ok") })

	resp, _ := app.Test(httptest.NewRequest("POST", "/mcp", nil))
	fmt.Println(resp.StatusCode, resp.Header.Values("WWW-Authenticate")[0])

	resp, _ = app.Test(httptest.NewRequest("GET", v.ResourceMetadataPath(), nil))
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, strings.Contains(string(body), `"scopes_supported":["notes:read"]`))
	// Output:
	// 401 Bearer realm="api", resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/mcp"
	// 200 true
}
