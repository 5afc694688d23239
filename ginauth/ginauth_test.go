package ginauth_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest/conformance"
	"github.com/jwksauth/jwksauth/ginauth"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

// respond answers every test route with what the accessor and the request's
// context hold.
func respond(c *gin.Context) {
	p, _ := ginauth.Principal(c)
	fromCtx, _ := core.PrincipalFromContext(c.Request.Context())
	status, body := conformance.Respond(p, fromCtx)
	c.Data(status, "application/json", body)
}

// conformanceApp mounts the routes as documented on the conformance.Route* constants.
func conformanceApp(c *conformance.Suite) *gin.Engine {
	v := c.Verifier
	mw := ginauth.Middleware(v)
	r := gin.New()
	r.GET(conformance.RouteProtected, mw, respond)
	r.GET(conformance.RouteOptional, ginauth.Middleware(v, ginauth.Optional()), respond)
	r.GET(conformance.RouteRead, mw, ginauth.RequireScopes(v, conformance.ScopeRead), respond)
	r.GET(conformance.RouteAll, mw, ginauth.RequireScopes(v, conformance.ScopeRead, conformance.ScopeCreate), respond)
	r.GET(conformance.RouteAny, mw, ginauth.RequireAnyScope(v, conformance.ScopeRead, conformance.ScopeUpdate), respond)
	r.GET(conformance.RouteRole, mw, ginauth.Require(v, v.RequireRoles(conformance.RoleAdmin)), respond)
	r.GET(conformance.RouteGuardOnly, ginauth.RequireScopes(v, conformance.ScopeRead), respond)
	r.GET(conformance.RouteSources, ginauth.Middleware(c.Sources), respond)
	r.GET(conformance.RouteOutage, ginauth.Middleware(c.Outage), respond)
	for _, rt := range c.Routes {
		hs := []gin.HandlerFunc{ginauth.Middleware(rt.Verifier)}
		if rt.Requirement != nil {
			hs = append(hs, ginauth.Require(rt.Verifier, rt.Requirement))
		}
		r.GET(rt.Path, append(hs, respond)...)
	}
	ginauth.MountResourceMetadata(r, c.Resource)
	return r
}

func serve(h http.Handler) conformance.Do {
	return func(r *http.Request) (*http.Response, error) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Result(), nil
	}
}

func TestConformance(t *testing.T) {
	c := conformance.New(t)
	c.Run(t, serve(conformanceApp(c)))
}

// adapter is the Gin glue of the shared adapter checks (conformance.Adapter).
var adapter = conformance.Adapter{
	Skipper: func(v *core.Verifier) conformance.Do {
		skip := ginauth.WithSkipper(func(c *gin.Context) bool { return c.FullPath() == "/public" })
		r := gin.New()
		r.GET("/public", ginauth.Middleware(v, skip), respond)
		r.GET("/private", ginauth.Middleware(v, skip), respond)
		r.GET("/public-guard", ginauth.Require(v, v.RequireScopes(conformance.ScopeRead), ginauth.WithSkipper(func(*gin.Context) bool { return true })), respond)
		return serve(r)
	},
	ErrorHandler: func(v *core.Verifier, record func(*core.Error), next func()) conformance.Do {
		handler := ginauth.WithErrorHandler(func(c *gin.Context, err *core.Error) {
			record(err)
			c.JSON(http.StatusTeapot, gin.H{"code": err.Code})
		})
		last := func(*gin.Context) { next() }
		r := gin.New()
		r.GET("/mw", ginauth.Middleware(v, handler), last)
		r.GET("/guard", ginauth.Require(v, v.RequireScopes(conformance.ScopeCreate), handler), last)
		r.GET("/default", ginauth.Middleware(v, ginauth.WithErrorHandler(nil)), last)
		return serve(r)
	},
	LaxErrorHandler: func(v *core.Verifier, next func()) conformance.Do {
		silent := ginauth.WithErrorHandler(func(*gin.Context, *core.Error) {})
		last := func(*gin.Context) { next() }
		r := gin.New()
		r.GET("/silent", ginauth.Middleware(v, silent), last)
		r.GET("/returns", ginauth.Middleware(v, silent), last) // Gin's handlers return nothing
		r.GET("/wraps", ginauth.Middleware(v, silent), last)
		return serve(r)
	},
	Guards: func(v *core.Verifier) conformance.Do {
		r := gin.New()
		r.GET("/both", ginauth.Middleware(v), ginauth.RequireScopes(v, conformance.ScopeRead), respond)
		r.GET("/two-guards", ginauth.RequireScopes(v, conformance.ScopeRead), ginauth.RequireAnyScope(v, conformance.ScopeRead), respond)
		r.GET("/alone", ginauth.RequireScopes(v, conformance.ScopeRead), respond)
		r.GET("/optional-guard", ginauth.Middleware(v, ginauth.Optional()), ginauth.RequireScopes(v, conformance.ScopeRead), respond)
		return serve(r)
	},
	Storage: func(v *core.Verifier, seen func(context.Context, *core.Principal, *core.Principal)) conformance.Do {
		r := gin.New()
		r.GET("/", ginauth.Middleware(v), func(c *gin.Context) {
			v, _ := c.Get(ginauth.PrincipalKey)
			stored, _ := v.(*core.Principal)
			p, _ := ginauth.Principal(c)
			seen(c.Request.Context(), stored, p)
		})
		return serve(r)
	},
	Absent: func(_ *testing.T, value any) (*core.Principal, bool) {
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		if value != nil {
			c.Set(ginauth.PrincipalKey, value)
		}
		return ginauth.Principal(c)
	},
}

func TestAdapter(t *testing.T) { adapter.Run(t) }

// Gin's central error rendering: the error handler only records the error
// with c.Error, and a middleware further out renders c.Errors after
// c.Next. The answer must be that middleware's one body, with core's
// status and challenge; without such a middleware, core's status and
// challenge with an empty body, never an empty 200.
func TestErrorHandlerRecordingWithCError(t *testing.T) {
	f := conformance.NewFixture(t)
	record := ginauth.WithErrorHandler(func(c *gin.Context, err *core.Error) { _ = c.Error(err) })
	ok := func(c *gin.Context) { c.String(http.StatusOK, "ok") }
	r := gin.New()
	rendered := r.Group("/rendered", func(c *gin.Context) {
		c.Next()
		if len(c.Errors) > 0 {
			e, _ := c.Errors.Last().Err.(*core.Error)
			c.JSON(e.Status, gin.H{"app_error": e.Status})
		}
	})
	rendered.GET("", ginauth.Middleware(f.Verifier, record), ok)
	r.GET("/rendered-text", func(c *gin.Context) {
		c.Next()
		if len(c.Errors) > 0 {
			c.String(c.Writer.Status(), "refused")
		}
	}, ginauth.Middleware(f.Verifier, record), ok)
	r.GET("/unrendered", ginauth.Middleware(f.Verifier, record), ok)
	// An error an earlier middleware recorded is not the error handler's:
	// a handler that writes and records nothing still gets core's answer.
	silent := ginauth.WithErrorHandler(func(*gin.Context, *core.Error) {})
	r.GET("/earlier-error", func(c *gin.Context) { _ = c.Error(errors.New("traced")) }, ginauth.Middleware(f.Verifier, silent), ok)
	for _, tc := range []struct{ path, body, contentType string }{
		{"/rendered", `{"app_error":401}`, "application/json; charset=utf-8"},
		{"/rendered-text", "refused", "text/plain; charset=utf-8"},
		{"/unrendered", "", ""},
		{"/earlier-error", `{"error":"unauthorized","error_description":"a bearer token is required"}`, "application/json"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			w := httptest.NewRecorder()
			r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, tc.path, nil))
			if w.Code != http.StatusUnauthorized || w.Header().Get("WWW-Authenticate") != `Bearer realm="api"` {
				t.Errorf("status %d, challenge %q; want 401 and core's challenge", w.Code, w.Header().Get("WWW-Authenticate"))
			}
			if got := w.Body.String(); got != tc.body {
				t.Errorf("body %q, want %q (one body, the renderer's)", got, tc.body)
			}
			if got := w.Header().Get("Content-Type"); got != tc.contentType {
				t.Errorf("Content-Type %q, want %q", got, tc.contentType)
			}
		})
	}
}

// TestServerAnswersFirst pins what net/http's server itself does, before
// Gin or the middleware runs, with requests fasthttp (under Fiber) hands to
// its app: docs/security.md lists these as accepted behaviours. Raw bytes
// go to a real server, since a client would refuse to send them.
func TestServerAnswersFirst(t *testing.T) {
	f := conformance.NewFixture(t)
	r := gin.New()
	r.GET("/", ginauth.Middleware(f.Verifier), respond)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	tok := f.Issuer.MustMint(t, nil)
	tooLarge := `Bearer realm="api", error="invalid_token", error_description="the access token is too large"`
	for _, tc := range []struct {
		name, req string
		status    int
		challenge string
	}{
		// Fiber: core's 400 invalid_request challenge.
		{"control byte in the token", "GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ab\x01cd\r\n\r\n", http.StatusBadRequest, ""},
		// Fiber: served (200).
		{"control byte in another header", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\nAuthorization: Bearer " + tok + "\r\n\r\n", http.StatusBadRequest, ""},
		// Fiber: served (200).
		{"HTTP/1.1 without Host", "GET / HTTP/1.1\r\nAuthorization: Bearer " + tok + "\r\n\r\n", http.StatusBadRequest, ""},
		// Fiber: fasthttp's 431 beyond ReadBufferSize.
		{"40 KiB header", "GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + strings.Repeat("a", 40<<10) + "\r\n\r\n", http.StatusUnauthorized, tooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := io.WriteString(conn, tc.req); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.status || resp.Header.Get("WWW-Authenticate") != tc.challenge {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), tc.status, tc.challenge)
			}
		})
	}
}
