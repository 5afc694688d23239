package app

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/fiberauth"
)

// Fiber serves the notes API with Fiber.
var Fiber = Framework{Name: "fiber", Server: func(v *core.Verifier) Server { return fiberServer{NewFiber(v)} }}

// NewFiber returns the notes API on Fiber, guarded by v.
func NewFiber(v *core.Verifier) *fiber.App {
	app := fiber.New(fiber.Config{
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
				return writeFiber(c, NotFound())
			case errors.As(err, &fe) && fe.Code == http.StatusMethodNotAllowed:
				return writeFiber(c, MethodNotAllowed())
			}
			return fiber.DefaultErrorHandler(c, err)
		},
		DisableStartupMessage: true,
		ReadTimeout:           30 * time.Second,
		IdleTimeout:           60 * time.Second,
	})

	auth := fiberauth.Middleware(v)
	for _, rt := range Routes {
		var chain []fiber.Handler
		if !rt.Public {
			chain = append(chain, auth)
		}
		if len(rt.Scopes) > 0 {
			chain = append(chain, fiberauth.RequireScopes(v, rt.Scopes...))
		}
		chain = append(chain, func(c *fiber.Ctx) error {
			// The principal lives in c.Locals: use it before returning.
			p, _ := fiberauth.Principal(c)
			return writeFiber(c, rt.Serve(p, c.Params(ParamID)))
		})
		// Add, not Get: Get would also answer HEAD, which Gin and Echo do not.
		app.Add(rt.Method, rt.Path, chain...)
	}
	return app
}

func writeFiber(c *fiber.Ctx, r Reply) error {
	for k, v := range r.Header {
		c.Set(k, v[0])
	}
	return c.Status(r.Status).Send(r.Body)
}

// fiberServer adapts *fiber.App to Server.
type fiberServer struct{ app *fiber.App }

func (s fiberServer) Serve(ln net.Listener) error { return s.app.Listener(ln) }

func (s fiberServer) Shutdown(ctx context.Context) error { return s.app.ShutdownWithContext(ctx) }
