package fiberauth_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
	"github.com/jwksauth/jwksauth/core/authtest/conformance"
	"github.com/jwksauth/jwksauth/fiberauth"
)

// respond answers every test route with what the accessor and the request's
// context hold.
func respond(c *fiber.Ctx) error {
	p, _ := fiberauth.Principal(c)
	fromCtx, _ := core.PrincipalFromContext(c.UserContext())
	status, body := conformance.Respond(p, fromCtx)
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Status(status).Send(body)
}

// newApp returns a fiber app whose read buffer holds a header with the
// largest token core accepts (fasthttp answers 431 beyond 4 KiB by default).
func newApp() *fiber.App { return fiber.New(fiber.Config{ReadBufferSize: 32 << 10}) }

// conformanceApp mounts the routes as documented on the conformance.Route* constants.
func conformanceApp(c *conformance.Suite) *fiber.App {
	v := c.Verifier
	mw := fiberauth.Middleware(v)
	app := newApp()
	app.Get(conformance.RouteProtected, mw, respond)
	app.Get(conformance.RouteOptional, fiberauth.Middleware(v, fiberauth.Optional()), respond)
	app.Get(conformance.RouteRead, mw, fiberauth.RequireScopes(v, conformance.ScopeRead), respond)
	app.Get(conformance.RouteAll, mw, fiberauth.RequireScopes(v, conformance.ScopeRead, conformance.ScopeCreate), respond)
	app.Get(conformance.RouteAny, mw, fiberauth.RequireAnyScope(v, conformance.ScopeRead, conformance.ScopeUpdate), respond)
	app.Get(conformance.RouteRole, mw, fiberauth.Require(v, v.RequireRoles(conformance.RoleAdmin)), respond)
	app.Get(conformance.RouteGuardOnly, fiberauth.RequireScopes(v, conformance.ScopeRead), respond)
	app.Get(conformance.RouteSources, fiberauth.Middleware(c.Sources), respond)
	app.Get(conformance.RouteOutage, fiberauth.Middleware(c.Outage), respond)
	for _, rt := range c.Routes {
		hs := []fiber.Handler{fiberauth.Middleware(rt.Verifier)}
		if rt.Requirement != nil {
			hs = append(hs, fiberauth.Require(rt.Verifier, rt.Requirement))
		}
		app.Get(rt.Path, append(hs, respond)...)
	}
	fiberauth.MountResourceMetadata(app, c.Resource)
	return app
}

func serve(app *fiber.App) conformance.Do {
	return func(r *http.Request) (*http.Response, error) { return app.Test(r, -1) }
}

func TestConformance(t *testing.T) {
	c := conformance.New(t)
	c.Run(t, serve(conformanceApp(c)))
}

// adapter is the Fiber glue of the shared adapter checks (conformance.Adapter).
var adapter = conformance.Adapter{
	Skipper: func(v *core.Verifier) conformance.Do {
		skip := fiberauth.WithSkipper(func(c *fiber.Ctx) bool { return c.Route().Path == "/public" })
		app := newApp()
		app.Get("/public", fiberauth.Middleware(v, skip), respond)
		app.Get("/private", fiberauth.Middleware(v, skip), respond)
		app.Get("/public-guard", fiberauth.Require(v, v.RequireScopes(conformance.ScopeRead), fiberauth.WithSkipper(func(*fiber.Ctx) bool { return true })), respond)
		return serve(app)
	},
	ErrorHandler: func(v *core.Verifier, record func(*core.Error), next func()) conformance.Do {
		handler := fiberauth.WithErrorHandler(func(c *fiber.Ctx, err *core.Error) error {
			record(err)
			return c.Status(http.StatusTeapot).JSON(fiber.Map{"code": err.Code})
		})
		last := func(*fiber.Ctx) error { next(); return nil }
		app := newApp()
		app.Get("/mw", fiberauth.Middleware(v, handler), last)
		app.Get("/guard", fiberauth.Require(v, v.RequireScopes(conformance.ScopeCreate), handler), last)
		app.Get("/default", fiberauth.Middleware(v, fiberauth.WithErrorHandler(nil)), last)
		return serve(app)
	},
	LaxErrorHandler: func(v *core.Verifier, next func()) conformance.Do {
		last := func(*fiber.Ctx) error { next(); return nil }
		app := newApp()
		app.Get("/silent", fiberauth.Middleware(v, fiberauth.WithErrorHandler(func(*fiber.Ctx, *core.Error) error { return nil })), last)
		app.Get("/returns", fiberauth.Middleware(v, fiberauth.WithErrorHandler(func(_ *fiber.Ctx, err *core.Error) error { return err })), last)
		app.Get("/wraps", fiberauth.Middleware(v, fiberauth.WithErrorHandler(func(_ *fiber.Ctx, err *core.Error) error { return fmt.Errorf("auth: %w", err) })), last)
		return serve(app)
	},
	Guards: func(v *core.Verifier) conformance.Do {
		app := newApp()
		app.Get("/both", fiberauth.Middleware(v), fiberauth.RequireScopes(v, conformance.ScopeRead), respond)
		app.Get("/two-guards", fiberauth.RequireScopes(v, conformance.ScopeRead), fiberauth.RequireAnyScope(v, conformance.ScopeRead), respond)
		app.Get("/alone", fiberauth.RequireScopes(v, conformance.ScopeRead), respond)
		app.Get("/optional-guard", fiberauth.Middleware(v, fiberauth.Optional()), fiberauth.RequireScopes(v, conformance.ScopeRead), respond)
		return serve(app)
	},
	Storage: func(v *core.Verifier, seen func(context.Context, *core.Principal, *core.Principal)) conformance.Do {
		app := newApp()
		app.Get("/", fiberauth.Middleware(v), func(c *fiber.Ctx) error {
			stored, _ := c.Locals(fiberauth.PrincipalKey).(*core.Principal)
			p, _ := fiberauth.Principal(c)
			seen(c.UserContext(), stored, p)
			return nil
		})
		return serve(app)
	},
	// Absent runs the accessor inside a handler: a *fiber.Ctx exists only
	// while the app serves a request.
	Absent: func(t *testing.T, value any) (p *core.Principal, ok bool) {
		app := newApp()
		app.Get("/", func(c *fiber.Ctx) error {
			if value != nil {
				c.Locals(fiberauth.PrincipalKey, value)
			}
			p, ok = fiberauth.Principal(c)
			return nil
		})
		if rec := conformance.Get(t, serve(app), "/", ""); rec.Code != http.StatusOK {
			t.Fatalf("status = %d", rec.Code)
		}
		return p, ok
	},
}

func TestAdapter(t *testing.T) { adapter.Run(t) }

// TestLargeToken sends a valid token of about 12 KiB (under core's 16 KiB
// cap) through an app with the documented ReadBufferSize.
func TestLargeToken(t *testing.T) {
	f := conformance.NewFixture(t)
	app := newApp()
	app.Get("/", fiberauth.Middleware(f.Verifier), respond)
	token := f.Issuer.MustMint(t, authtest.Claims{"pad": strings.Repeat("x", 9<<10)})
	if len(token) < 12<<10 || len(token) > core.DefaultMaxTokenSize {
		t.Fatalf("token is %d bytes, want 12 KiB..16 KiB", len(token))
	}
	if rec := conformance.Get(t, serve(app), "/", token); rec.Code != http.StatusOK {
		t.Errorf("status = %d, want 200 (body %s)", rec.Code, rec.Body)
	}
}

// TestHeaderNameCase sends a lower-case authorization field name, with and
// without fasthttp's header-name normalizing.
func TestHeaderNameCase(t *testing.T) {
	f := conformance.NewFixture(t)
	token := f.Issuer.MustMint(t, nil)
	for _, tc := range []struct {
		name          string
		disableNormal bool
	}{
		{"normalizing", false},
		{"names kept as sent", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := fiber.New(fiber.Config{DisableHeaderNormalizing: tc.disableNormal})
			app.Get("/", fiberauth.Middleware(f.Verifier), respond)
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header["authorization"] = []string{"Bearer " + token}
			resp, err := app.Test(r, -1)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("status = %d, want 200", resp.StatusCode)
			}
		})
	}
}

// TestAuthorizationValueOWS sends raw HTTP/1.1 requests, which fasthttp
// parses without trimming tabs around a field value. RFC 9110 §5.5: spaces
// and tabs around a value are not part of it, and net/http (under Gin and
// Echo) trims both, so Fiber must read the same token. (app.Test writes the
// request through net/http, which would trim the tab before Fiber saw it.)
func TestAuthorizationValueOWS(t *testing.T) {
	f := conformance.NewFixture(t)
	app := newApp()
	app.Get("/", fiberauth.Middleware(f.Verifier), respond)
	h := app.Handler()
	tok := f.Issuer.MustMint(t, nil)
	for name, field := range map[string]string{
		"leading tab":  "Authorization:\tBearer " + tok,
		"trailing tab": "Authorization: Bearer " + tok + "\t",
		"both":         "Authorization: \t Bearer " + tok + " \t ",
	} {
		t.Run(name, func(t *testing.T) {
			var req fasthttp.Request
			raw := "GET / HTTP/1.1\r\nHost: api.example\r\n" + field + "\r\n\r\n"
			if err := req.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
				t.Fatal(err)
			}
			var rc fasthttp.RequestCtx
			rc.Init(&req, nil, nil)
			h(&rc)
			if st := rc.Response.StatusCode(); st != http.StatusOK {
				t.Fatalf("status %d (%s), want 200 as on Gin and Echo", st, rc.Response.Body())
			}
		})
	}
}

// TestServerAnswersFirst pins what fasthttp itself does with requests that
// net/http (under Gin and Echo) refuses, or accepts, before any middleware
// runs: docs/security.md lists these as accepted behaviours. Raw bytes go
// to a real listener, since app.Test writes requests through net/http.
func TestServerAnswersFirst(t *testing.T) {
	f := conformance.NewFixture(t)
	app := newApp()
	app.Get("/", fiberauth.Middleware(f.Verifier), respond)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	tok := f.Issuer.MustMint(t, nil)
	for _, tc := range []struct {
		name, req string
		status    int
		challenge string
	}{
		// net/http: a plain 400 Bad Request, no challenge.
		{"control byte in the token", "GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ab\x01cd\r\n\r\n", http.StatusBadRequest,
			`Bearer realm="api", error="invalid_request", error_description="the bearer credential is malformed"`},
		// net/http: a plain 400 Bad Request.
		{"control byte in another header", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\nAuthorization: Bearer " + tok + "\r\n\r\n", http.StatusOK, ""},
		// net/http: 400 missing required Host header.
		{"HTTP/1.1 without Host", "GET / HTTP/1.1\r\nAuthorization: Bearer " + tok + "\r\n\r\n", http.StatusOK, ""},
		// net/http (1 MiB of headers by default): core's 401, too large.
		{"40 KiB header", "GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + strings.Repeat("a", 40<<10) + "\r\n\r\n", http.StatusRequestHeaderFieldsTooLarge, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := rawRequest(t, ln.Addr().String(), tc.req)
			if resp.StatusCode != tc.status || resp.Header.Get("WWW-Authenticate") != tc.challenge {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), tc.status, tc.challenge)
			}
		})
	}
}

// rawRequest writes req to addr as it is and reads the answer.
func rawRequest(t *testing.T, addr, req string) *http.Response {
	t.Helper()
	var conn net.Conn
	var err error
	for range 50 { // the listener is served from another goroutine
		if conn, err = net.Dial("tcp", addr); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp
}
