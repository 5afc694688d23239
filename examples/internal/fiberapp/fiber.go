// Package fiberapp serves the example notes API (package app) with Fiber: its
// routes, pages and error answers, and nothing of the other frameworks, so
// that each example binary links only its own framework.
package fiberapp

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/examples/internal/app"
	"github.com/jwksauth/jwksauth/fiberauth"
)

// Framework serves the notes API with Fiber.
var Framework = app.Framework{Name: "fiber", Server: func(s app.Service) app.Server { return fiberServer{NewFiber(s)} }}

// NewFiber returns s on Fiber: the notes API guarded by s.Verifier, and s's pages.
func NewFiber(s app.Service) *fiber.App {
	f := fiber.New(fiber.Config{
		// Fiber's default 4 KiB buffer answers 431 to headers core accepts
		// (tokens up to 16 KiB).
		ReadBufferSize: 32 << 10,
		// Route exactly as Gin and Echo do.
		CaseSensitive: true,
		StrictRouting: true,
		// Unknown routes and methods get the same JSON as with Gin and Echo.
		ErrorHandler: func(c *fiber.Ctx, err error) error {
			var fe *fiber.Error
			switch {
			case errors.As(err, &fe) && fe.Code == http.StatusNotFound:
				return writeFiber(c, app.NotFound())
			case errors.As(err, &fe) && fe.Code == http.StatusMethodNotAllowed:
				return writeFiber(c, app.MethodNotAllowed())
			}
			return fiber.DefaultErrorHandler(c, err)
		},
		DisableStartupMessage: true,
		ReadTimeout:           30 * time.Second,
		IdleTimeout:           60 * time.Second,
	})

	for _, pg := range s.Pages() {
		// Add, not Get: Get would also answer HEAD, which Gin and Echo do not.
		f.Add(http.MethodGet, pg.Path, adaptor.HTTPHandler(pg.Handler))
	}
	v := s.Verifier
	if s.ResourceMetadata() {
		fiberauth.MountResourceMetadata(f, v)
	}
	for _, rt := range app.Routes {
		onError := fiberauth.WithErrorHandler(func(c *fiber.Ctx, err *core.Error) error {
			s.Refused(rt, err)
			return fiberauth.WriteError(c, err)
		})
		chain := app.Guards(v, rt,
			func() fiber.Handler { return fiberauth.Middleware(v, onError) },
			func(r *core.Requirement) fiber.Handler { return fiberauth.Require(v, r, onError) })
		chain = append(chain, func(c *fiber.Ctx) error {
			// The principal lives in c.Locals: use it before returning.
			p, _ := fiberauth.Principal(c)
			return writeFiber(c, s.Serve(rt, p, c.Params(app.ParamID)))
		})
		// Add, not Get: Get would also answer HEAD, which Gin and Echo do not.
		f.Add(rt.Method, rt.Path, chain...)
	}
	return f
}

func writeFiber(c *fiber.Ctx, r app.Reply) error {
	for k, v := range r.Header {
		c.Set(k, v[0])
	}
	return c.Status(r.Status).Send(r.Body)
}

// fiberServer adapts *fiber.App to app.Server.
type fiberServer struct{ app *fiber.App }

func (s fiberServer) Serve(ln net.Listener) error { return s.app.Listener(ln) }

func (s fiberServer) Shutdown(ctx context.Context) error { return s.app.ShutdownWithContext(ctx) }
