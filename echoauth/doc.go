// Package echoauth is the Echo (v4) adapter of jwksauth: middleware that
// verifies OAuth2 JWT bearer tokens against an OpenID provider's JWKS, and
// per-route scope guards.
//
// The adapter only translates: it hands the request to core
// (core.FromHTTP) and either stores the verified principal or writes the
// *core.Error that core returned, whose status, WWW-Authenticate challenge
// and JSON body are the same in every framework. Every rule (RFC 6750
// credential parsing, token verification, scope matching) lives in core.
//
//	v, err := core.New(ctx, core.WithIssuer("https://issuer.example/"), core.WithAudiences("https://api.example"))
//	e.Use(echoauth.Middleware(v))
//	e.GET("/notes", listNotes, echoauth.RequireScopes(v, "note:read"))
//
// A guard placed after Middleware reuses its principal; a guard alone
// authenticates the request itself. Handlers read the principal with
// Principal(c), or with core.PrincipalFromContext(c.Request().Context()) in
// code that should not import echo; it is stored with c.Set under
// PrincipalKey. The default error handler writes the answer itself and
// returns nil, so Echo's HTTPErrorHandler does not render it again.
package echoauth
