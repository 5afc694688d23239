package echoauth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
	"github.com/jwksauth/jwksauth/echoauth"
)

// respond answers every test route with what the accessor and the request's
// context hold.
func respond(c echo.Context) error {
	p, _ := echoauth.Principal(c)
	fromCtx, _ := core.PrincipalFromContext(c.Request().Context())
	status, body := authtest.Respond(p, fromCtx)
	return c.Blob(status, "application/json", body)
}

// conformanceApp mounts the routes as documented on the authtest.Route* constants.
func conformanceApp(c *authtest.Conformance) *echo.Echo {
	v := c.Verifier
	mw := echoauth.Middleware(v)
	e := echo.New()
	e.GET(authtest.RouteProtected, respond, mw)
	e.GET(authtest.RouteOptional, respond, echoauth.Middleware(v, echoauth.Optional()))
	e.GET(authtest.RouteRead, respond, mw, echoauth.RequireScopes(v, authtest.ScopeRead))
	e.GET(authtest.RouteAll, respond, mw, echoauth.RequireScopes(v, authtest.ScopeRead, authtest.ScopeCreate))
	e.GET(authtest.RouteAny, respond, mw, echoauth.RequireAnyScope(v, authtest.ScopeRead, authtest.ScopeUpdate))
	e.GET(authtest.RouteRole, respond, mw, echoauth.Require(v, v.RequireRoles(authtest.RoleAdmin)))
	e.GET(authtest.RouteGuardOnly, respond, echoauth.RequireScopes(v, authtest.ScopeRead))
	e.GET(authtest.RouteSources, respond, echoauth.Middleware(c.Sources))
	e.GET(authtest.RouteOutage, respond, echoauth.Middleware(c.Outage))
	return e
}

func serve(h http.Handler) authtest.Do {
	return func(r *http.Request) (*http.Response, error) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Result(), nil
	}
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

func get(t *testing.T, h http.Handler, path, token string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, path, nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

func TestSkipper(t *testing.T) {
	f := newFixture(t)
	skip := echoauth.WithSkipper(func(c echo.Context) bool { return c.Path() == "/public" })
	r := echo.New()
	r.GET("/public", respond, echoauth.Middleware(f.v, skip))
	r.GET("/private", respond, echoauth.Middleware(f.v, skip))
	r.GET("/public-guard", respond, echoauth.Require(f.v, f.v.RequireScopes(authtest.ScopeRead), echoauth.WithSkipper(func(echo.Context) bool { return true })))
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
	handler := echoauth.WithErrorHandler(func(c echo.Context, err *core.Error) error {
		got = err
		return c.JSON(http.StatusTeapot, map[string]string{"code": err.Code})
	})
	reached := false
	next := func(c echo.Context) error { reached = true; return nil }
	r := echo.New()
	r.GET("/mw", next, echoauth.Middleware(f.v, handler))
	r.GET("/guard", next, echoauth.Require(f.v, f.v.RequireScopes(authtest.ScopeCreate), handler))
	r.GET("/default", next, echoauth.Middleware(f.v, echoauth.WithErrorHandler(nil)))
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
	r := echo.New()
	r.GET("/both", respond, echoauth.Middleware(v), echoauth.RequireScopes(v, authtest.ScopeRead))
	r.GET("/two-guards", respond, echoauth.RequireScopes(v, authtest.ScopeRead), echoauth.RequireAnyScope(v, authtest.ScopeRead))
	r.GET("/alone", respond, echoauth.RequireScopes(v, authtest.ScopeRead))
	r.GET("/optional-guard", respond, echoauth.Require(v, v.RequireScopes(authtest.ScopeRead), echoauth.Optional()))
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
	r := echo.New()
	r.GET("/", func(c echo.Context) error {
		stored, _ = c.Get(echoauth.PrincipalKey).(*core.Principal)
		accessor, _ = echoauth.Principal(c)
		fromCtx = subjectOf(c.Request().Context())
		return nil
	}, echoauth.Middleware(f.v))
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
			c := echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/", nil), httptest.NewRecorder())
			if tc.value != nil {
				c.Set(echoauth.PrincipalKey, tc.value)
			}
			if p, ok := echoauth.Principal(c); ok || p != nil {
				t.Errorf("Principal = %v, %v; want nil, false", p, ok)
			}
		})
	}
}
