package bench

import (
	"context"
	"fmt"
	"net/http"

	"github.com/golang-jwt/jwt/v5"
	echojwt "github.com/labstack/echo-jwt/v4"
	"github.com/labstack/echo/v4"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/echoauth"
)

// EchoRows are the rows of BenchmarkEcho, in order.
var EchoRows = []string{"bare", HitFloor, "jwksauth", "jwksauth-nocache", "jwksauth-3issuers", "jwksauth-dpop", "jwksauth-dpop-nocache", "echo-jwt"}

// NewEcho returns an Echo server serving GET Path for the row: the same
// handler behind each row's verification and scope check. Verifiers and
// key refreshers stop when ctx ends.
func NewEcho(ctx context.Context, f *Fixture, row string) (http.Handler, error) {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	ok := func(c echo.Context) error { return c.String(http.StatusOK, "ok") }
	switch row {
	case "bare":
		e.GET(Path, ok)
	case HitFloor:
		h, err := newHitFloor(ctx, f)
		if err != nil {
			return nil, err
		}
		e.GET(Path, ok, func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				req := c.Request()
				p, err := h.check(req.Header.Get("Authorization"))
				if err != nil {
					return echo.NewHTTPError(status(err))
				}
				c.Set(echoauth.PrincipalKey, p)
				c.SetRequest(req.WithContext(core.WithPrincipal(req.Context(), p)))
				return next(c)
			}
		})
	case "jwksauth", "jwksauth-nocache", "jwksauth-3issuers", "jwksauth-dpop", "jwksauth-dpop-nocache":
		v, err := jwksauthVerifier(ctx, f, row)
		if err != nil {
			return nil, err
		}
		e.GET(Path, ok, echoauth.RequireScopes(v, RequiredScope))
	case "echo-jwt":
		mws, err := newEchoJWT(ctx, f)
		if err != nil {
			return nil, err
		}
		e.GET(Path, ok, mws...)
	default:
		return nil, fmt.Errorf("bench: no Echo row %q", row)
	}
	return e, nil
}

// newEchoJWT is the row "echo-jwt": echo-jwt v4 over keyfunc, and a scope
// check after it. echo-jwt's default parser applies no issuer, audience or
// required-exp check: its ParseTokenFunc hook takes a parser that does.
func newEchoJWT(ctx context.Context, f *Fixture) ([]echo.MiddlewareFunc, error) {
	g, err := newGolangJWT(ctx, f)
	if err != nil {
		return nil, err
	}
	mw, err := echojwt.Config{
		KeyFunc: g.keys.Keyfunc,
		ParseTokenFunc: func(_ echo.Context, auth string) (any, error) {
			return g.parser.ParseWithClaims(auth, &scopeClaims{}, g.keys.Keyfunc)
		},
	}.ToMiddleware()
	if err != nil {
		return nil, err
	}
	scope := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			tok, ok := c.Get("user").(*jwt.Token)
			if !ok {
				return echo.ErrUnauthorized
			}
			if claims, ok := tok.Claims.(*scopeClaims); !ok || !hasScope(claims.Scope) {
				return echo.NewHTTPError(http.StatusForbidden)
			}
			return next(c)
		}
	}
	return []echo.MiddlewareFunc{mw, scope}, nil
}
