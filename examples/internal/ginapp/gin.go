// Package ginapp serves the example notes API (package app) with Gin: its
// routes, pages and error answers, and nothing of the other frameworks, so
// that each example binary links only its own framework.
package ginapp

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/examples/internal/app"
	"github.com/jwksauth/jwksauth/ginauth"
)

// Framework serves the notes API with Gin.
var Framework = app.Framework{Name: "gin", Server: func(s app.Service) app.Server { return app.NewHTTPServer(NewGin(s)) }}

// NewGin returns s on Gin: the notes API guarded by s.Verifier, and s's
// pages. It puts Gin in release mode (no debug output), a process-wide
// setting.
func NewGin(s app.Service) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	// app.Route exactly as Echo and Fiber do: on the escaped path, without
	// redirects, answering 405 to a known path with another method.
	r.RedirectTrailingSlash, r.RedirectFixedPath = false, false
	r.UseEscapedPath, r.UnescapePathValues = true, false
	r.HandleMethodNotAllowed = true
	r.NoRoute(func(c *gin.Context) { writeGin(c, app.NotFound()) })
	r.NoMethod(func(c *gin.Context) { writeGin(c, app.MethodNotAllowed()) })

	for _, pg := range s.Pages() {
		r.GET(pg.Path, gin.WrapH(pg.Handler))
	}
	v := s.Verifier
	if s.ResourceMetadata() {
		ginauth.MountResourceMetadata(r, v)
	}
	for _, rt := range app.Routes {
		onError := ginauth.WithErrorHandler(func(c *gin.Context, err *core.Error) {
			s.Refused(rt, err)
			ginauth.WriteError(c, err)
		})
		chain := app.Guards(v, rt,
			func() gin.HandlerFunc { return ginauth.Middleware(v, onError) },
			func(r *core.Requirement) gin.HandlerFunc { return ginauth.Require(v, r, onError) })
		chain = append(chain, func(c *gin.Context) {
			p, _ := ginauth.Principal(c)
			writeGin(c, s.Serve(rt, p, c.Param(app.ParamID)))
		})
		r.Handle(rt.Method, rt.Path, chain...)
	}
	return r
}

func writeGin(c *gin.Context, r app.Reply) {
	for k, v := range r.Header {
		c.Header(k, v[0])
	}
	c.Data(r.Status, r.Header.Get("Content-Type"), r.Body)
}
