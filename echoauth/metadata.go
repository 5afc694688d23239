package echoauth

import (
	"github.com/labstack/echo/v4"

	"github.com/jwksauth/jwksauth/core"
)

// ResourceMetadata is the handler of v's Protected Resource Metadata
// document (RFC 9728; see core.WithResource): 200 with the JSON document
// for GET and HEAD, 405 with Allow for any other method, as
// core.Verifier.ServeResourceMetadata decides.
func ResourceMetadata(v *core.Verifier) echo.HandlerFunc {
	return func(c echo.Context) error {
		status, header, body := v.ServeResourceMetadata(c.Request().Method)
		for k, vs := range header {
			c.Response().Header()[k] = vs
		}
		c.Response().WriteHeader(status)
		_, err := c.Response().Write(body)
		return err
	}
}

// Router is what MountResourceMetadata mounts on: an *echo.Echo or an
// *echo.Group.
type Router interface {
	Any(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) []*echo.Route
}

// MountResourceMetadata mounts ResourceMetadata(v) on r for every method,
// at v.ResourceMetadataPath(): "/.well-known/oauth-protected-resource"
// followed by the resource's path. Mount it on the Echo instance, outside
// any authentication: the document is public.
func MountResourceMetadata(r Router, v *core.Verifier) {
	r.Any(v.ResourceMetadataPath(), ResourceMetadata(v))
}
