package fiberauth_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
	"github.com/jwksauth/jwksauth/fiberauth"
)

// respond answers every test route with what the accessor and the request's
// context hold.
func respond(c *fiber.Ctx) error {
	p, _ := fiberauth.Principal(c)
	fromCtx, _ := core.PrincipalFromContext(c.UserContext())
	status, body := authtest.Respond(p, fromCtx)
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Status(status).Send(body)
}

// newApp returns a fiber app whose read buffer holds a header with the
// largest token core accepts (fasthttp answers 431 beyond 4 KiB by default).
func newApp() *fiber.App { return fiber.New(fiber.Config{ReadBufferSize: 32 << 10}) }

// conformanceApp mounts the routes as documented on the authtest.Route* constants.
func conformanceApp(c *authtest.Conformance) *fiber.App {
	v := c.Verifier
	mw := fiberauth.Middleware(v)
	app := newApp()
	app.Get(authtest.RouteProtected, mw, respond)
	app.Get(authtest.RouteOptional, fiberauth.Middleware(v, fiberauth.Optional()), respond)
	app.Get(authtest.RouteRead, mw, fiberauth.RequireScopes(v, authtest.ScopeRead), respond)
	app.Get(authtest.RouteAll, mw, fiberauth.RequireScopes(v, authtest.ScopeRead, authtest.ScopeCreate), respond)
	app.Get(authtest.RouteAny, mw, fiberauth.RequireAnyScope(v, authtest.ScopeRead, authtest.ScopeUpdate), respond)
	app.Get(authtest.RouteRole, mw, fiberauth.Require(v, v.RequireRoles(authtest.RoleAdmin)), respond)
	app.Get(authtest.RouteGuardOnly, fiberauth.RequireScopes(v, authtest.ScopeRead), respond)
	app.Get(authtest.RouteSources, fiberauth.Middleware(c.Sources), respond)
	app.Get(authtest.RouteOutage, fiberauth.Middleware(c.Outage), respond)
	return app
}

func serve(app *fiber.App) authtest.Do {
	return func(r *http.Request) (*http.Response, error) { return app.Test(r, -1) }
}

func TestConformance(t *testing.T) {
	c := authtest.NewConformance(t)
	c.Run(t, serve(conformanceApp(c)))
}

// fixture is an issuer and a verifier that counts its verifications.
type fixture struct {
	iss      *authtest.Issuer
	v        *core.Verifier
	verifies atomic.Int64
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{iss: authtest.MustIssuer(t)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := core.New(context.Background(),
		core.WithIssuer(f.iss.URL),
		core.WithAudiences(authtest.DefaultAudience),
		core.WithHooks(core.Hooks{OnVerify: func(core.VerifyInfo) { f.verifies.Add(1) }}),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close() })
	if err := v.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	f.v = v
	return f
}

// answer is the part of a response the tests look at.
type answer struct {
	Code int
	Body string
}

func get(t *testing.T, app *fiber.App, path, token string) answer {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, path, nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := app.Test(r, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, _ = io.Copy(&b, resp.Body)
	return answer{resp.StatusCode, b.String()}
}

func TestSkipper(t *testing.T) {
	f := newFixture(t)
	skip := fiberauth.WithSkipper(func(c *fiber.Ctx) bool { return c.Route().Path == "/public" })
	r := newApp()
	r.Get("/public", fiberauth.Middleware(f.v, skip), respond)
	r.Get("/private", fiberauth.Middleware(f.v, skip), respond)
	r.Get("/public-guard", fiberauth.Require(f.v, f.v.RequireScopes(authtest.ScopeRead), fiberauth.WithSkipper(func(*fiber.Ctx) bool { return true })), respond)
	for _, tc := range []struct {
		name, path string
		want       int
		verifies   int64
	}{
		{"skipped middleware", "/public", http.StatusOK, 0},
		{"not skipped", "/private", http.StatusUnauthorized, 1},
		{"skipped guard", "/public-guard", http.StatusOK, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.verifies.Store(0)
			rec := get(t, r, tc.path, "")
			if rec.Code != tc.want {
				t.Errorf("status = %d, want %d (body %s)", rec.Code, tc.want, rec.Body)
			}
			if n := f.verifies.Load(); n != tc.verifies {
				t.Errorf("verifier called %d times, want %d", n, tc.verifies)
			}
		})
	}
}

func TestErrorHandler(t *testing.T) {
	f := newFixture(t)
	var got *core.Error
	handler := fiberauth.WithErrorHandler(func(c *fiber.Ctx, err *core.Error) error {
		got = err
		return c.Status(http.StatusTeapot).JSON(fiber.Map{"code": err.Code})
	})
	reached := false
	next := func(c *fiber.Ctx) error { reached = true; return nil }
	r := newApp()
	r.Get("/mw", fiberauth.Middleware(f.v, handler), next)
	r.Get("/guard", fiberauth.Require(f.v, f.v.RequireScopes(authtest.ScopeCreate), handler), next)
	r.Get("/default", fiberauth.Middleware(f.v, fiberauth.WithErrorHandler(nil)), next)
	read := f.iss.MustMint(t, authtest.Claims{"scope": authtest.ScopeRead})
	forged, err := authtest.NewKey("RS256")
	if err != nil {
		t.Fatal(err)
	}
	bad := f.iss.MustMint(t, nil, authtest.SignedBy(forged), authtest.Header("kid", f.iss.SigningKey().ID))
	for _, tc := range []struct {
		name, path, token string
		status            int
		kind              error // nil: the handler must not be called
	}{
		{"no credential", "/mw", "", http.StatusTeapot, core.ErrNoCredentials},
		{"bad signature", "/mw", bad, http.StatusTeapot, core.ErrSignatureInvalid},
		{"missing scope", "/guard", read, http.StatusTeapot, core.ErrInsufficientScope},
		{"nil handler keeps the default", "/default", "", http.StatusUnauthorized, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, reached = nil, false
			rec := get(t, r, tc.path, tc.token)
			if rec.Code != tc.status {
				t.Errorf("status = %d, want %d", rec.Code, tc.status)
			}
			if reached {
				t.Error("the next handler ran after a refusal")
			}
			if tc.kind == nil {
				if got != nil {
					t.Errorf("custom handler called with %v", got)
				}
				return
			}
			if !errors.Is(got, tc.kind) {
				t.Errorf("handler got %v, want %v", got, tc.kind)
			}
		})
	}
}

func TestGuardReusesPrincipal(t *testing.T) {
	f := newFixture(t)
	v := f.v
	r := newApp()
	r.Get("/both", fiberauth.Middleware(v), fiberauth.RequireScopes(v, authtest.ScopeRead), respond)
	r.Get("/two-guards", fiberauth.RequireScopes(v, authtest.ScopeRead), fiberauth.RequireAnyScope(v, authtest.ScopeRead), respond)
	r.Get("/alone", fiberauth.RequireScopes(v, authtest.ScopeRead), respond)
	r.Get("/optional-guard", fiberauth.Require(v, v.RequireScopes(authtest.ScopeRead), fiberauth.Optional()), respond)
	read := f.iss.MustMint(t, authtest.Claims{"scope": authtest.ScopeRead})
	for _, tc := range []struct {
		name, path, token string
		status            int
		verifies          int64
	}{
		{"middleware then guard", "/both", read, http.StatusOK, 1},
		{"guard then guard", "/two-guards", read, http.StatusOK, 1},
		{"guard alone", "/alone", read, http.StatusOK, 1},
		{"guard ignores Optional", "/optional-guard", "", http.StatusUnauthorized, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.verifies.Store(0)
			rec := get(t, r, tc.path, tc.token)
			if rec.Code != tc.status {
				t.Errorf("status = %d, want %d (body %s)", rec.Code, tc.status, rec.Body)
			}
			if n := f.verifies.Load(); n != tc.verifies {
				t.Errorf("verifier called %d times, want %d", n, tc.verifies)
			}
		})
	}
}

// subjectOf stands for application code below the handler: it sees only a context.Context.
func subjectOf(ctx context.Context) string {
	if p, ok := core.PrincipalFromContext(ctx); ok {
		return p.Subject
	}
	return ""
}

func TestPrincipalStorage(t *testing.T) {
	f := newFixture(t)
	var stored, accessor *core.Principal
	var fromCtx string
	r := newApp()
	r.Get("/", fiberauth.Middleware(f.v), func(c *fiber.Ctx) error {
		stored, _ = c.Locals(fiberauth.PrincipalKey).(*core.Principal)
		accessor, _ = fiberauth.Principal(c)
		fromCtx = subjectOf(c.UserContext())
		return nil
	})
	rec := get(t, r, "/", f.iss.MustMint(t, authtest.Claims{"sub": "alice"}))
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, body %s", rec.Code, rec.Body)
	}
	if stored == nil || stored != accessor {
		t.Errorf("c.Get(PrincipalKey) = %v, Principal = %v: want the same principal", stored, accessor)
	}
	if accessor == nil || accessor.Subject != "alice" || fromCtx != "alice" {
		t.Errorf("subject: accessor %v, context %q, want alice", accessor, fromCtx)
	}
}

func TestPrincipalAbsent(t *testing.T) {
	for _, tc := range []struct {
		name  string
		value any // stored under PrincipalKey; nil stores nothing
	}{
		{"nothing stored", nil},
		{"another type under the key", "alice"},
		{"typed nil", (*core.Principal)(nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var (
				p  *core.Principal
				ok bool
			)
			app := newApp()
			app.Get("/", func(c *fiber.Ctx) error {
				if tc.value != nil {
					c.Locals(fiberauth.PrincipalKey, tc.value)
				}
				p, ok = fiberauth.Principal(c)
				return nil
			})
			if rec := get(t, app, "/", ""); rec.Code != http.StatusOK {
				t.Fatalf("status = %d", rec.Code)
			}
			if ok || p != nil {
				t.Errorf("Principal = %v, %v; want nil, false", p, ok)
			}
		})
	}
}

// TestLargeToken sends a valid token of about 12 KiB (under core's 16 KiB
// cap) through an app with the documented ReadBufferSize.
func TestLargeToken(t *testing.T) {
	f := newFixture(t)
	app := newApp()
	app.Get("/", fiberauth.Middleware(f.v), respond)
	token := f.iss.MustMint(t, authtest.Claims{"pad": strings.Repeat("x", 9<<10)})
	if len(token) < 12<<10 || len(token) > core.DefaultMaxTokenSize {
		t.Fatalf("token is %d bytes, want 12 KiB..16 KiB", len(token))
	}
	if rec := get(t, app, "/", token); rec.Code != http.StatusOK {
		t.Errorf("status = %d, want 200 (body %s)", rec.Code, rec.Body)
	}
}

// TestHeaderNameCase sends a lower-case authorization field name, with and
// without fasthttp's header-name normalizing.
func TestHeaderNameCase(t *testing.T) {
	f := newFixture(t)
	token := f.iss.MustMint(t, nil)
	for _, tc := range []struct {
		name          string
		disableNormal bool
	}{
		{"normalizing", false},
		{"names kept as sent", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := fiber.New(fiber.Config{DisableHeaderNormalizing: tc.disableNormal})
			app.Get("/", fiberauth.Middleware(f.v), respond)
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
