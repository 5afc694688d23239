package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"

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
		r.GET(Path, ginCheck(h.check, func(c *gin.Context, p *core.Principal) {
			c.Set(ginauth.PrincipalKey, p)
			c.Request = c.Request.WithContext(core.WithPrincipal(c.Request.Context(), p))
		}), ok)
	case "jwksauth", "jwksauth-nocache", "jwksauth-3issuers", "jwksauth-dpop", "jwksauth-dpop-nocache":
		v, err := jwksauthVerifier(ctx, f, row)
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
		r.GET(Path, ginCheck(g.verify, func(c *gin.Context, claims *scopeClaims) { c.Set("claims", claims) }), ok)
	default:
		return nil, fmt.Errorf("bench: no Gin row %q", row)
	}
	return r, nil
}

// ginCheck is the Gin middleware of the hand-rolled rows: check answers
// the Authorization header, a refusal is answered with its status, and
// keep stores what check returned before the handler runs.
func ginCheck[T any](check func(authorization string) (T, error), keep func(*gin.Context, T)) gin.HandlerFunc {
	return func(c *gin.Context) {
		v, err := check(c.GetHeader("Authorization"))
		if err != nil {
			c.AbortWithStatus(status(err))
			return
		}
		keep(c, v)
		c.Next()
	}
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
