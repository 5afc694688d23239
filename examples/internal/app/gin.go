package app

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/ginauth"
)

// Gin serves the notes API with Gin.
var Gin = Framework{Name: "gin", Server: func(v *core.Verifier) Server { return newHTTPServer(NewGin(v)) }}

// NewGin returns the notes API on Gin, guarded by v. It puts Gin in release
// mode (no debug output), a process-wide setting.
func NewGin(v *core.Verifier) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	// Route exactly as Echo and Fiber do: on the escaped path, without
	// redirects, answering 405 to a known path with another method.
	r.RedirectTrailingSlash, r.RedirectFixedPath = false, false
	r.UseEscapedPath, r.UnescapePathValues = true, false
	r.HandleMethodNotAllowed = true
	r.NoRoute(func(c *gin.Context) { writeGin(c, NotFound()) })
	r.NoMethod(func(c *gin.Context) { writeGin(c, MethodNotAllowed()) })

	auth := ginauth.Middleware(v)
	for _, rt := range Routes {
		var chain []gin.HandlerFunc
		if !rt.Public {
			chain = append(chain, auth)
		}
		if len(rt.Scopes) > 0 {
			chain = append(chain, ginauth.RequireScopes(v, rt.Scopes...))
		}
		chain = append(chain, func(c *gin.Context) {
			p, _ := ginauth.Principal(c)
			writeGin(c, rt.Serve(p, c.Param(ParamID)))
		})
		r.Handle(rt.Method, rt.Path, chain...)
	}
	return r
}

func writeGin(c *gin.Context, r Reply) {
	for k, v := range r.Header {
		c.Header(k, v[0])
	}
	c.Data(r.Status, r.Header.Get("Content-Type"), r.Body)
}
