package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/ginauth"
)

// GinRows are the rows of BenchmarkGin, in order.
var GinRows = []string{"bare", HitFloor, "jwksauth", "jwksauth-nocache", "jwksauth-3issuers", "jwksauth-dpop", "jwksauth-dpop-nocache", "auth0", "golang-jwt"}

// NewGin returns a Gin engine serving GET Path for the row: the same
// handler behind each row's verification and scope check. Verifiers and
// key refreshers stop when ctx ends.
func NewGin(ctx context.Context, f *Fixture, row string) (http.Handler, error) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	ok := func(c *gin.Context) { c.String(http.StatusOK, "ok") }
	switch row {
	case "bare":
		r.GET(Path, ok)
	case HitFloor:
		h, err := newHitFloor(ctx, f)
		if err != nil {
			return nil, err
		}
		r.GET(Path, func(c *gin.Context) {
			p, err := h.check(c.GetHeader("Authorization"))
			if err != nil {
				c.AbortWithStatus(status(err))
				return
			}
			c.Set(ginauth.PrincipalKey, p)
			c.Request = c.Request.WithContext(core.WithPrincipal(c.Request.Context(), p))
			c.Next()
		}, ok)
	case "jwksauth", "jwksauth-nocache", "jwksauth-dpop", "jwksauth-dpop-nocache":
		v, err := newVerifier(ctx, f, !strings.HasSuffix(row, "-nocache"))
		if err != nil {
			return nil, err
		}
		r.GET(Path, ginauth.RequireScopes(v, RequiredScope), ok)
	case "jwksauth-3issuers":
		v, err := newMultiVerifier(ctx, f)
		if err != nil {
			return nil, err
		}
		r.GET(Path, ginauth.RequireScopes(v, RequiredScope), ok)
	case "auth0":
		mw, err := newAuth0(f)
		if err != nil {
			return nil, err
		}
		r.GET(Path, auth0Gin(mw.CheckJWT), ok)
	case "golang-jwt":
		g, err := newGolangJWT(ctx, f)
		if err != nil {
			return nil, err
		}
		r.GET(Path, func(c *gin.Context) {
			claims, err := g.verify(c.GetHeader("Authorization"))
			if err != nil {
				c.AbortWithStatus(status(err))
				return
			}
			c.Set("claims", claims)
			c.Next()
		}, ok)
	default:
		return nil, fmt.Errorf("bench: no Gin row %q", row)
	}
	return r, nil
}

// auth0Gin mounts auth0's net/http middleware in Gin the way its Gin
// example does, then checks the scope.
func auth0Gin(check func(http.Handler) http.Handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		passed := false
		check(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			passed = true
			c.Request = r
		})).ServeHTTP(c.Writer, c.Request)
		if !passed {
			c.Abort() // auth0's error handler has answered
			return
		}
		if err := auth0Scope(c.Request.Context()); err != nil {
			c.AbortWithStatus(http.StatusForbidden)
			return
		}
		c.Next()
	}
}

// status is the answer of the hand-rolled rows to a refusal.
func status(err error) int {
	if errors.Is(err, errScope) {
		return http.StatusForbidden
	}
	return http.StatusUnauthorized
}
