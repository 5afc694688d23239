package bench

import (
	"context"
	"fmt"

	jwtware "github.com/gofiber/contrib/jwt"
	"github.com/gofiber/fiber/v2"
	"github.com/golang-jwt/jwt/v5"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/fiberauth"
)

// FiberRows are the rows of BenchmarkFiber, in order.
var FiberRows = []string{"bare", HitFloor, "jwksauth", "jwksauth-nocache", "jwksauth-3issuers", "jwksauth-dpop", "jwksauth-dpop-nocache", "jwtware"}

// NewFiber returns a Fiber app serving GET Path for the row: the same
// handler behind each row's verification and scope check. Drive it
// through app.Handler(). Verifiers stop when ctx ends; jwtware's key
// refresher (keyfunc v2) cannot be stopped from outside.
func NewFiber(ctx context.Context, f *Fixture, row string) (*fiber.App, error) {
	// core's 16 KiB token cap needs a read buffer above fasthttp's 4 KiB
	// default (see fiberauth's documentation); every row gets the same.
	app := fiber.New(fiber.Config{DisableStartupMessage: true, ReadBufferSize: 32 << 10})
	ok := func(c *fiber.Ctx) error { return c.SendString("ok") }
	switch row {
	case "bare":
		app.Get(Path, ok)
	case HitFloor:
		h, err := newHitFloor(ctx, f)
		if err != nil {
			return nil, err
		}
		app.Get(Path, func(c *fiber.Ctx) error {
			p, err := h.check(c.Get(fiber.HeaderAuthorization))
			if err != nil {
				return fiber.NewError(status(err))
			}
			c.Locals(fiberauth.PrincipalKey, p)
			c.SetUserContext(core.WithPrincipal(c.UserContext(), p))
			return c.Next()
		}, ok)
	case "jwksauth", "jwksauth-nocache", "jwksauth-3issuers", "jwksauth-dpop", "jwksauth-dpop-nocache":
		v, err := jwksauthVerifier(ctx, f, row)
		if err != nil {
			return nil, err
		}
		app.Get(Path, fiberauth.RequireScopes(v, RequiredScope), ok)
	case "jwtware":
		issuer := f.Issuer.URL
		app.Get(Path, jwtware.New(jwtware.Config{
			JWKSetURLs: []string{f.Issuer.JWKSURL()},
			Claims:     &scopeClaims{},
			SuccessHandler: func(c *fiber.Ctx) error {
				tok, ok := c.Locals("user").(*jwt.Token)
				if !ok {
					return fiber.ErrUnauthorized
				}
				claims, ok := tok.Claims.(*scopeClaims)
				if !ok {
					return fiber.ErrUnauthorized
				}
				if err := checkClaims(claims, issuer); err != nil {
					return fiber.NewError(status(err))
				}
				return c.Next()
			},
		}), ok)
	default:
		return nil, fmt.Errorf("bench: no Fiber row %q", row)
	}
	return app, nil
}
