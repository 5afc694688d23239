// Package echoapp serves the example notes API (package app) with Echo: its
// routes, pages and error answers, and nothing of the other frameworks, so
// that each example binary links only its own framework.
package echoapp

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/echoauth"
	"github.com/jwksauth/jwksauth/examples/internal/app"
)

// Framework serves the notes API with Echo.
var Framework = app.Framework{Name: "echo", Server: func(s app.Service) app.Server { return app.NewHTTPServer(NewEcho(s)) }}

// NewEcho returns s on Echo: the notes API guarded by s.Verifier, and s's pages.
func NewEcho(s app.Service) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	// allow lists each path's methods in the order they are registered
	// below, as Gin and Fiber write them in Allow (Echo's own Allow puts
	// OPTIONS first, then the methods in a fixed order).
	allow := map[string][]string{}
	for _, pg := range s.Pages() {
		allow[pg.Path] = append(allow[pg.Path], http.MethodGet)
	}
	for _, rt := range app.Routes {
		allow[rt.Path] = append(allow[rt.Path], rt.Method)
	}
	// Answer unknown routes and methods with the same JSON as Gin and Fiber.
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		var he *echo.HTTPError
		switch {
		case c.Response().Committed:
		case errors.As(err, &he) && he.Code == http.StatusNotFound:
			_ = writeEcho(c, app.NotFound())
		case errors.As(err, &he) && he.Code == http.StatusMethodNotAllowed:
			c.Response().Header().Set(echo.HeaderAllow, strings.Join(allow[c.Path()], ", "))
			_ = writeEcho(c, app.MethodNotAllowed())
		default:
			e.DefaultHTTPErrorHandler(err, c)
		}
	}
	// Echo answers OPTIONS to a known path itself (204); Gin and Fiber
	// answer it as any method no route takes. The router marks such a
	// request with the Allow value it computed.
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if c.Request().Method == http.MethodOptions && c.Get(echo.ContextKeyHeaderAllow) != nil {
				return echo.ErrMethodNotAllowed
			}
			return next(c)
		}
	})

	for _, pg := range s.Pages() {
		e.GET(pg.Path, echo.WrapHandler(pg.Handler))
	}
	v := s.Verifier
	if s.ResourceMetadata() {
		echoauth.MountResourceMetadata(e, v)
	}
	for _, rt := range app.Routes {
		onError := echoauth.WithErrorHandler(func(c echo.Context, err *core.Error) error {
			s.Refused(rt, err)
			return echoauth.WriteError(c, err)
		})
		chain := app.Guards(v, rt,
			func() echo.MiddlewareFunc { return echoauth.Middleware(v, onError) },
			func(r *core.Requirement) echo.MiddlewareFunc { return echoauth.Require(v, r, onError) })
		e.Add(rt.Method, rt.Path, func(c echo.Context) error {
			p, _ := echoauth.Principal(c)
			return writeEcho(c, s.Serve(rt, p, c.Param(app.ParamID)))
		}, chain...)
	}
	return e
}

func writeEcho(c echo.Context, r app.Reply) error {
	for k, v := range r.Header {
		c.Response().Header().Set(k, v[0])
	}
	return c.Blob(r.Status, r.Header.Get("Content-Type"), r.Body)
}
