package echoauth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest/conformance"
	"github.com/jwksauth/jwksauth/echoauth"
)

// respond answers every test route with what the accessor and the request's
// context hold.
func respond(c echo.Context) error {
	p, _ := echoauth.Principal(c)
	fromCtx, _ := core.PrincipalFromContext(c.Request().Context())
	status, body := conformance.Respond(p, fromCtx)
	return c.Blob(status, "application/json", body)
}

// conformanceApp mounts the routes as documented on the conformance.Route* constants.
func conformanceApp(c *conformance.Suite) *echo.Echo {
	v := c.Verifier
	mw := echoauth.Middleware(v)
	e := echo.New()
	e.GET(conformance.RouteProtected, respond, mw)
	e.GET(conformance.RouteOptional, respond, echoauth.Middleware(v, echoauth.Optional()))
	e.GET(conformance.RouteRead, respond, mw, echoauth.RequireScopes(v, conformance.ScopeRead))
	e.GET(conformance.RouteAll, respond, mw, echoauth.RequireScopes(v, conformance.ScopeRead, conformance.ScopeCreate))
	e.GET(conformance.RouteAny, respond, mw, echoauth.RequireAnyScope(v, conformance.ScopeRead, conformance.ScopeUpdate))
	e.GET(conformance.RouteRole, respond, mw, echoauth.Require(v, v.RequireRoles(conformance.RoleAdmin)))
	e.GET(conformance.RouteGuardOnly, respond, echoauth.RequireScopes(v, conformance.ScopeRead))
	e.GET(conformance.RouteSources, respond, echoauth.Middleware(c.Sources))
	e.GET(conformance.RouteOutage, respond, echoauth.Middleware(c.Outage))
	for _, rt := range c.Routes {
		mws := []echo.MiddlewareFunc{echoauth.Middleware(rt.Verifier)}
		if rt.Requirement != nil {
			mws = append(mws, echoauth.Require(rt.Verifier, rt.Requirement))
		}
		e.GET(rt.Path, respond, mws...)
	}
	echoauth.MountResourceMetadata(e, c.Resource)
	return e
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

// adapter is the Echo glue of the shared adapter checks (conformance.Adapter).
var adapter = conformance.Adapter{
	Skipper: func(v *core.Verifier) conformance.Do {
		skip := echoauth.WithSkipper(func(c echo.Context) bool { return c.Path() == "/public" })
		e := echo.New()
		e.GET("/public", respond, echoauth.Middleware(v, skip))
		e.GET("/private", respond, echoauth.Middleware(v, skip))
		e.GET("/public-guard", respond, echoauth.Require(v, v.RequireScopes(conformance.ScopeRead), echoauth.WithSkipper(func(echo.Context) bool { return true })))
		return serve(e)
	},
	ErrorHandler: func(v *core.Verifier, record func(*core.Error), next func()) conformance.Do {
		handler := echoauth.WithErrorHandler(func(c echo.Context, err *core.Error) error {
			record(err)
			return c.JSON(http.StatusTeapot, map[string]string{"code": err.Code})
		})
		last := func(echo.Context) error { next(); return nil }
		e := echo.New()
		e.GET("/mw", last, echoauth.Middleware(v, handler))
		e.GET("/guard", last, echoauth.Require(v, v.RequireScopes(conformance.ScopeCreate), handler))
		e.GET("/default", last, echoauth.Middleware(v, echoauth.WithErrorHandler(nil)))
		return serve(e)
	},
	LaxErrorHandler: func(v *core.Verifier, next func()) conformance.Do {
		last := func(echo.Context) error { next(); return nil }
		e := echo.New()
		e.GET("/silent", last, echoauth.Middleware(v, echoauth.WithErrorHandler(func(echo.Context, *core.Error) error { return nil })))
		e.GET("/returns", last, echoauth.Middleware(v, echoauth.WithErrorHandler(func(_ echo.Context, err *core.Error) error { return err })))
		e.GET("/wraps", last, echoauth.Middleware(v, echoauth.WithErrorHandler(func(_ echo.Context, err *core.Error) error { return fmt.Errorf("auth: %w", err) })))
		return serve(e)
	},
	Guards: func(v *core.Verifier) conformance.Do {
		e := echo.New()
		e.GET("/both", respond, echoauth.Middleware(v), echoauth.RequireScopes(v, conformance.ScopeRead))
		e.GET("/two-guards", respond, echoauth.RequireScopes(v, conformance.ScopeRead), echoauth.RequireAnyScope(v, conformance.ScopeRead))
		e.GET("/alone", respond, echoauth.RequireScopes(v, conformance.ScopeRead))
		e.GET("/optional-guard", respond, echoauth.Middleware(v, echoauth.Optional()), echoauth.RequireScopes(v, conformance.ScopeRead))
		return serve(e)
	},
	Storage: func(v *core.Verifier, seen func(context.Context, *core.Principal, *core.Principal)) conformance.Do {
		e := echo.New()
		e.GET("/", func(c echo.Context) error {
			stored, _ := c.Get(echoauth.PrincipalKey).(*core.Principal)
			p, _ := echoauth.Principal(c)
			seen(c.Request().Context(), stored, p)
			return nil
		}, echoauth.Middleware(v))
		return serve(e)
	},
	Absent: func(_ *testing.T, value any) (*core.Principal, bool) {
		c := echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/", nil), httptest.NewRecorder())
		if value != nil {
			c.Set(echoauth.PrincipalKey, value)
		}
		return echoauth.Principal(c)
	},
}

func TestAdapter(t *testing.T) { adapter.Run(t) }

// Only core's own error, returned as is, is answered by the adapter. An
// application error that wraps it (Echo's SetInternal idiom) goes to the
// application's HTTPErrorHandler, as the documentation says.
func TestErrorHandlerWrappedErrorReachesTheApp(t *testing.T) {
	f := conformance.NewFixture(t)
	e := echo.New()
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		_ = c.JSON(http.StatusUnauthorized, map[string]string{"app": "own format"})
	}
	wrap := echoauth.WithErrorHandler(func(c echo.Context, err *core.Error) error {
		return echo.NewHTTPError(err.Status, "unauthorized").SetInternal(err)
	})
	e.GET("/", func(c echo.Context) error { return c.String(http.StatusOK, "ok") }, echoauth.Middleware(f.Verifier, wrap))
	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if got := strings.TrimSpace(w.Body.String()); got != `{"app":"own format"}` {
		t.Fatalf("body %s: the application's HTTPErrorHandler was bypassed", got)
	}
}
