package ginauth

import (
	"github.com/gin-gonic/gin"

	"github.com/jwksauth/jwksauth/core"
)

// ResourceMetadata is the handler of v's Protected Resource Metadata
// document (RFC 9728; see core.WithResource): 200 with the JSON document
// for GET and HEAD, 405 with Allow for any other method, as
// core.Verifier.ServeResourceMetadata decides.
func ResourceMetadata(v *core.Verifier) gin.HandlerFunc {
	return func(c *gin.Context) {
		status, header, body := v.ServeResourceMetadata(c.Request.Method)
		for k, vs := range header {
			c.Writer.Header()[k] = vs
		}
		c.Status(status)
		_, _ = c.Writer.Write(body)
	}
}

// MountResourceMetadata mounts ResourceMetadata(v) on r for every method,
// at v.ResourceMetadataPath(): "/.well-known/oauth-protected-resource"
// followed by the resource's path. Mount it on the engine (or a group at
// "/"), outside any authentication: the document is public.
func MountResourceMetadata(r gin.IRoutes, v *core.Verifier) {
	r.Any(v.ResourceMetadataPath(), ResourceMetadata(v))
}
