package app

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/echoauth"
)

// Echo serves the notes API with Echo.
var Echo = Framework{Name: "echo", Server: func(v *core.Verifier) Server { return newHTTPServer(NewEcho(v)) }}

// NewEcho returns the notes API on Echo, guarded by v.
func NewEcho(v *core.Verifier) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	// Answer unknown routes and methods with the same JSON as Gin and Fiber.
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		var he *echo.HTTPError
		switch {
		case c.Response().Committed:
		case errors.As(err, &he) && he.Code == http.StatusNotFound:
			_ = writeEcho(c, NotFound())
		case errors.As(err, &he) && he.Code == http.StatusMethodNotAllowed:
			_ = writeEcho(c, MethodNotAllowed())
		default:
			e.DefaultHTTPErrorHandler(err, c)
		}
	}

	auth := echoauth.Middleware(v)
	for _, rt := range Routes {
		var chain []echo.MiddlewareFunc
		if !rt.Public {
			chain = append(chain, auth)
		}
		if len(rt.Scopes) > 0 {
			chain = append(chain, echoauth.RequireScopes(v, rt.Scopes...))
		}
		e.Add(rt.Method, rt.Path, func(c echo.Context) error {
			p, _ := echoauth.Principal(c)
			return writeEcho(c, rt.Serve(p, c.Param(ParamID)))
		}, chain...)
	}
	return e
}

func writeEcho(c echo.Context, r Reply) error {
	for k, v := range r.Header {
		c.Response().Header().Set(k, v[0])
	}
	return c.Blob(r.Status, r.Header.Get("Content-Type"), r.Body)
}
