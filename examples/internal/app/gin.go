package app

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/ginauth"
)

// Gin serves the notes API with Gin.
var Gin = Framework{Name: "gin", Server: func(s Service) Server { return newHTTPServer(NewGin(s)) }}

// NewGin returns s on Gin: the notes API guarded by s.Verifier, and s's
// pages. It puts Gin in release mode (no debug output), a process-wide
// setting.
func NewGin(s Service) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	// Route exactly as Echo and Fiber do: on the escaped path, without
	// redirects, answering 405 to a known path with another method.
	r.RedirectTrailingSlash, r.RedirectFixedPath = false, false
	r.UseEscapedPath, r.UnescapePathValues = true, false
	r.HandleMethodNotAllowed = true
	r.NoRoute(func(c *gin.Context) { writeGin(c, NotFound()) })
	r.NoMethod(func(c *gin.Context) { writeGin(c, MethodNotAllowed()) })

	for _, pg := range s.Pages() {
		r.GET(pg.Path, gin.WrapH(pg.Handler))
	}
	v := s.Verifier
	if s.resourceMetadata() {
		ginauth.MountResourceMetadata(r, v)
	}
	for _, rt := range Routes {
		onError := ginauth.WithErrorHandler(func(c *gin.Context, err *core.Error) {
			s.refused(rt, err)
			ginauth.WriteError(c, err)
		})
		var chain []gin.HandlerFunc
		if !rt.Public {
			chain = append(chain, ginauth.Middleware(v, onError))
		}
		if len(rt.Scopes) > 0 {
			chain = append(chain, ginauth.Require(v, v.RequireScopes(rt.Scopes...), onError))
		}
		chain = append(chain, func(c *gin.Context) {
			p, _ := ginauth.Principal(c)
			writeGin(c, s.serve(rt, p, c.Param(ParamID)))
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
