// Package core verifies OAuth2 bearer tokens (JWT access tokens) against an
// OpenID provider's JWKS, and makes the whole HTTP decision for a request:
// which credential it carries (RFC 6750 §2), whether the token is valid
// (RFC 8725, RFC 9068), whether it has the scopes a route requires, and —
// when it fails — the exact status, WWW-Authenticate challenge and JSON body.
//
// The framework adapters (ginauth, echoauth, fiberauth) only translate a
// framework's request into Credentials and an *Error into a response; every
// rule lives here, so all frameworks answer alike.
//
// A Verifier is built once per issuer with New and shared:
//
//	v, err := core.New(ctx,
//		core.WithIssuer("https://example.eu.auth0.com/"),
//		core.WithAudiences("https://notes.example.com"),
//	)
//
// Defaults are the safe ones: exp required, 30 s leeway, asymmetric
// algorithms only, the audience (or client id) always checked, tokens capped
// at 16 KiB, query and cookie tokens off, keys refreshed in the background
// with a 30 s cooldown for unknown kids, stale keys served for 24 h during
// an outage, and verified tokens cached by their SHA-256.
package core
