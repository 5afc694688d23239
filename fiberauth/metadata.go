package fiberauth

import (
	"github.com/gofiber/fiber/v2"

	"github.com/jwksauth/jwksauth/core"
)

// ResourceMetadata is the handler of v's Protected Resource Metadata
// document (RFC 9728; see core.WithResource): 200 with the JSON document
// for GET and HEAD, 405 with Allow for any other method, as
// core.Verifier.ServeResourceMetadata decides.
func ResourceMetadata(v *core.Verifier) fiber.Handler {
	return func(c *fiber.Ctx) error {
		status, header, body := v.ServeResourceMetadata(c.Method())
		for k, vs := range header {
			for _, val := range vs {
				c.Response().Header.Add(k, val)
			}
		}
		return c.Status(status).Send(body)
	}
}

// MountResourceMetadata mounts ResourceMetadata(v) on r for every method,
// at v.ResourceMetadataPath(): "/.well-known/oauth-protected-resource"
// followed by the resource's path. Mount it on the app, outside any
// authentication: the document is public.
func MountResourceMetadata(r fiber.Router, v *core.Verifier) {
	r.All(v.ResourceMetadataPath(), ResourceMetadata(v))
}
