package ginauth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
	"github.com/jwksauth/jwksauth/ginauth"
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

	r := gin.New()
	r.Use(ginauth.Middleware(v))
	r.GET("/me", func(c *gin.Context) {
		p, _ := ginauth.Principal(c)
		c.String(http.StatusOK, p.Subject)
	})

	token, _ := iss.Mint(nil)
	call(r, "/me", token)
	call(r, "/me", "")
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

	r := gin.New()
	r.Use(ginauth.Middleware(v))
	r.GET("/notes", ginauth.RequireScopes(v, "note:read"), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"success": true})
	})

	reader, _ := iss.Mint(authtest.Claims{"scope": "note:read"})
	writer, _ := iss.Mint(authtest.Claims{"scope": "note:create"})
	call(r, "/notes", reader)
	call(r, "/notes", writer)
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

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	ginauth.MountResourceMetadata(r, v)
	r.POST("/mcp", ginauth.RequireScopes(v, "notes:read"), func(c *gin.Context) { c.String(200, "ok") })

	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("POST", "/mcp", nil))
	fmt.Println(rec.Code, rec.Header().Values("WWW-Authenticate")[0])

	rec = httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("GET", v.ResourceMetadataPath(), nil))
	fmt.Println(rec.Code, strings.Contains(rec.Body.String(), `"scopes_supported":["notes:read"]`))
	// Output:
	// 401 Bearer realm="api", resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/mcp"
	// 200 true
}
