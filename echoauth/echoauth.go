package echoauth

import (
	"errors"

	"github.com/labstack/echo/v4"

	"github.com/jwksauth/jwksauth/core"
)

// PrincipalKey is the echo.Context key (c.Get) under which Middleware and
// the guards store the verified *core.Principal. Prefer Principal, or
// core.PrincipalFromContext on c.Request().Context(), to reading it directly.
const PrincipalKey = "jwksauth.principal"

// Option configures Middleware. Every option but Optional is also a
// GuardOption.
type Option interface {
	apply(*config)
}

// GuardOption configures Middleware and Require: WithErrorHandler and
// WithSkipper. Optional, which only Middleware honours, is not one, so a
// guard cannot be given it.
type GuardOption interface {
	Option
	guard()
}

// option is an Option for Middleware only.
type option func(*config)

func (o option) apply(cfg *config) { o(cfg) }

// guardOption is an Option for Middleware and the guards.
type guardOption func(*config)

func (o guardOption) apply(cfg *config) { o(cfg) }
func (guardOption) guard()              {}

type config struct {
	onError  func(echo.Context, *core.Error) error
	skip     func(echo.Context) bool
	optional bool
}

func newConfig[O Option](opts []O) *config {
	cfg := &config{onError: WriteError}
	for _, o := range opts {
		if Option(o) != nil {
			o.apply(cfg)
		}
	}
	return cfg
}

// WithErrorHandler replaces the answer to a refused request: h receives
// core's *core.Error (status, WWW-Authenticate challenge, JSON body) and
// should write the response. No later handler runs; a returned *core.Error
// is written rather than passed to Echo's HTTPErrorHandler; a handler that
// writes nothing still gets core's answer: see docs/errors.md, "Custom
// error handlers".
//
// Default: WriteError (core's status, headers and body). A nil h keeps the
// default. Security: keep the status and the challenge, which RFC 6750
// clients rely on, and log the error's cause (err.Error()) rather than
// sending it.
func WithErrorHandler(h func(c echo.Context, err *core.Error) error) GuardOption {
	return guardOption(func(cfg *config) {
		if h != nil {
			cfg.onError = h
		}
	})
}

// WithSkipper lets requests for which s returns true pass without any
// authentication or authorization: no principal is stored for them.
//
// Default: none, every request is checked. Security: a skipped request is
// unauthenticated; make s match exactly the public requests (for example by
// c.Path(), the route pattern, not a prefix of the raw URL).
func WithSkipper(s func(c echo.Context) bool) GuardOption {
	return guardOption(func(cfg *config) { cfg.skip = s })
}

// Optional makes Middleware accept requests that carry no credential at
// all: they continue anonymously, without a principal. A credential that is
// present but malformed or invalid is still refused (core.AuthenticateOptional).
//
// Default: off, a credential is required. Optional is not a GuardOption:
// the guards (RequireScopes, RequireAnyScope, Require) cannot be given it,
// and always need a verified principal, behind an Optional Middleware too.
func Optional() Option {
	return option(func(cfg *config) { cfg.optional = true })
}

// WriteError is the default error handler: it writes err's status, its
// headers (core's Header(): WWW-Authenticate, Retry-After, Content-Type,
// Cache-Control) and its JSON Body(). It returns nil, so Echo's
// HTTPErrorHandler does not render the refusal a second time.
func WriteError(c echo.Context, err *core.Error) error {
	err.WriteHTTP(c.Response())
	return nil
}

// Middleware authenticates every request with v: it reads the one bearer
// credential, verifies it and stores the principal (see Principal), or
// answers with core's error without calling the next handler.
func Middleware(v *core.Verifier, opts ...Option) echo.MiddlewareFunc {
	cfg := newConfig(opts)
	step := v.Authenticator()
	if cfg.optional {
		step = v.OptionalAuthenticator()
	}
	return handle(cfg, v, step)
}

// RequireScopes is a route guard that requires every one of scopes
// (all-of). After Middleware it reuses the stored principal; alone it
// authenticates the request itself. A missing scope answers 403
// insufficient_scope naming the required scopes.
func RequireScopes(v *core.Verifier, scopes ...string) echo.MiddlewareFunc {
	return Require(v, v.RequireScopes(scopes...))
}

// RequireAnyScope is a route guard that requires at least one of scopes
// (any-of); otherwise as RequireScopes.
func RequireAnyScope(v *core.Verifier, scopes ...string) echo.MiddlewareFunc {
	return Require(v, v.RequireAnyScope(scopes...))
}

// Require is a route guard for any requirement built by v (scopes or
// roles, all-of or any-of). It reuses the principal stored by an earlier
// Middleware or guard, or authenticates the request itself, then checks r;
// it stores the principal as Middleware does.
func Require(v *core.Verifier, r *core.Requirement, opts ...GuardOption) echo.MiddlewareFunc {
	return handle(newConfig(opts), v, v.Guard(r))
}

// Principal returns the principal stored by Middleware or a guard, or nil
// and false when the request was not authenticated (or was anonymous on an
// Optional route).
func Principal(c echo.Context) (*core.Principal, bool) {
	p, ok := c.Get(PrincipalKey).(*core.Principal)
	return p, ok && p != nil
}

// handle is the one echo middleware behind Middleware and the guards:
// skip, ask core, then store the principal and add core's response
// headers, or write core's error.
func handle(cfg *config, v *core.Verifier, auth core.Step) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if cfg.skip != nil && cfg.skip(c) {
				return next(c)
			}
			stored, _ := Principal(c)
			req := c.Request()
			p, err := auth(req.Context(), core.FromHTTP(req), stored)
			if err != nil {
				return refuse(cfg, c, core.AsError(err))
			}
			if p != nil && p != stored {
				c.Set(PrincipalKey, p)
				c.SetRequest(req.WithContext(core.WithPrincipal(req.Context(), p)))
			}
			for k, vs := range v.ResponseHeader(req.Context(), p) {
				c.Response().Header()[k] = vs
			}
			return next(c)
		}
	}
}

// refuse answers a refused request with the error handler, failing closed
// when the handler answered nothing or handed core's error back.
func refuse(cfg *config, c echo.Context, e *core.Error) error {
	herr := cfg.onError(c, e)
	// Core's error, or a plain wrap of it (fmt.Errorf("…: %w", err)), is
	// answered here: Echo's error handler would make it a 500. An
	// *echo.HTTPError, even one carrying core's error as its internal
	// error (SetInternal), is the application's own answer and goes to
	// its HTTPErrorHandler.
	var ce *core.Error
	var he *echo.HTTPError
	switch {
	case herr != nil && !errors.As(herr, &he) && errors.As(herr, &ce) && ce != nil:
		if c.Response().Committed {
			return nil
		}
		return WriteError(c, ce)
	case herr == nil && !c.Response().Committed:
		return WriteError(c, e)
	}
	return herr
}
