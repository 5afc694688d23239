package ginauth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
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
	status, body := authtest.Respond(p, fromCtx)
	c.Data(status, "application/json", body)
}

// conformanceApp mounts the routes as documented on the authtest.Route* constants.
func conformanceApp(c *authtest.Conformance) *gin.Engine {
	v := c.Verifier
	mw := ginauth.Middleware(v)
	r := gin.New()
	r.GET(authtest.RouteProtected, mw, respond)
	r.GET(authtest.RouteOptional, ginauth.Middleware(v, ginauth.Optional()), respond)
	r.GET(authtest.RouteRead, mw, ginauth.RequireScopes(v, authtest.ScopeRead), respond)
	r.GET(authtest.RouteAll, mw, ginauth.RequireScopes(v, authtest.ScopeRead, authtest.ScopeCreate), respond)
	r.GET(authtest.RouteAny, mw, ginauth.RequireAnyScope(v, authtest.ScopeRead, authtest.ScopeUpdate), respond)
	r.GET(authtest.RouteRole, mw, ginauth.Require(v, v.RequireRoles(authtest.RoleAdmin)), respond)
	r.GET(authtest.RouteGuardOnly, ginauth.RequireScopes(v, authtest.ScopeRead), respond)
	r.GET(authtest.RouteSources, ginauth.Middleware(c.Sources), respond)
	r.GET(authtest.RouteOutage, ginauth.Middleware(c.Outage), respond)
	return r
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
	skip := ginauth.WithSkipper(func(c *gin.Context) bool { return c.FullPath() == "/public" })
	r := gin.New()
	r.GET("/public", ginauth.Middleware(f.v, skip), respond)
	r.GET("/private", ginauth.Middleware(f.v, skip), respond)
	r.GET("/public-guard", ginauth.Require(f.v, f.v.RequireScopes(authtest.ScopeRead), ginauth.WithSkipper(func(*gin.Context) bool { return true })), respond)
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
	handler := ginauth.WithErrorHandler(func(c *gin.Context, err *core.Error) {
		got = err
		c.JSON(http.StatusTeapot, gin.H{"code": err.Code})
	})
	reached := false
	next := func(c *gin.Context) { reached = true }
	r := gin.New()
	r.GET("/mw", ginauth.Middleware(f.v, handler), next)
	r.GET("/guard", ginauth.Require(f.v, f.v.RequireScopes(authtest.ScopeCreate), handler), next)
	r.GET("/default", ginauth.Middleware(f.v, ginauth.WithErrorHandler(nil)), next)
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
	r := gin.New()
	r.GET("/both", ginauth.Middleware(v), ginauth.RequireScopes(v, authtest.ScopeRead), respond)
	r.GET("/two-guards", ginauth.RequireScopes(v, authtest.ScopeRead), ginauth.RequireAnyScope(v, authtest.ScopeRead), respond)
	r.GET("/alone", ginauth.RequireScopes(v, authtest.ScopeRead), respond)
	r.GET("/optional-guard", ginauth.Require(v, v.RequireScopes(authtest.ScopeRead), ginauth.Optional()), respond)
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
	r := gin.New()
	r.GET("/", ginauth.Middleware(f.v), func(c *gin.Context) {
		v, _ := c.Get(ginauth.PrincipalKey)
		stored, _ = v.(*core.Principal)
		accessor, _ = ginauth.Principal(c)
		fromCtx = subjectOf(c.Request.Context())
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
			c, _ := gin.CreateTestContext(httptest.NewRecorder())
			if tc.value != nil {
				c.Set(ginauth.PrincipalKey, tc.value)
			}
			if p, ok := ginauth.Principal(c); ok || p != nil {
				t.Errorf("Principal = %v, %v; want nil, false", p, ok)
			}
		})
	}
}
