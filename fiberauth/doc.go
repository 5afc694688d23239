// Package fiberauth is the Fiber (v2) adapter of jwksauth: middleware that
// verifies OAuth2 JWT bearer tokens against an OpenID provider's JWKS, and
// per-route scope guards.
//
// The adapter only translates: it reads the request's credential sources
// from fasthttp for core and either stores the verified principal or writes
// the *core.Error that core returned, whose status, WWW-Authenticate
// challenge and JSON body are the same in every framework. Every rule
// (RFC 6750 credential parsing, token verification, scope matching) lives
// in core.
//
//	app := fiber.New(fiber.Config{ReadBufferSize: 32 << 10})
//	v, err := core.New(ctx, core.WithIssuer("https://issuer.example/"), core.WithAudiences("https://api.example"))
//	app.Use(fiberauth.Middleware(v))
//	app.Get("/notes", fiberauth.RequireScopes(v, "note:read"), listNotes)
//
// # Read buffer size
//
// fasthttp reads request headers into a buffer of fiber.Config.ReadBufferSize
// bytes (4 KiB by default) and answers 431 to anything larger, while core
// accepts tokens up to 16 KiB (core.WithMaxTokenSize). Set ReadBufferSize to
// 32 << 10 or more, as above, or large tokens never reach the middleware.
//
// # Principal
//
// A guard placed after Middleware reuses its principal; a guard alone
// authenticates the request itself. Handlers read the principal with
// Principal(c), or with core.PrincipalFromContext(c.UserContext()) in code
// that should not import fiber; it is stored in c.Locals under
// PrincipalKey. Locals and the user context vanish when the handler
// returns, because fasthttp reuses the context for the next request: keep
// the *core.Principal (immutable) if you must, never the *fiber.Ctx.
package fiberauth
