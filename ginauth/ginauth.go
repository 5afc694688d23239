package ginauth

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jwksauth/jwksauth/core"
)

// PrincipalKey is the gin.Context key under which Middleware and the guards
// store the verified *core.Principal. Prefer Principal, or
// core.PrincipalFromContext on c.Request.Context(), to reading it directly.
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
	onError  func(*gin.Context, *core.Error)
	skip     func(*gin.Context) bool
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
// should write the response. The chain is aborted first, and a handler that
// writes nothing still gets core's answer: see docs/errors.md, "Custom
// error handlers".
//
// Default: WriteError (core's status, headers and body). A nil h keeps the
// default. Security: keep the status and the challenge, which RFC 6750
// clients rely on, and log the error's cause (err.Error()) rather than
// sending it.
func WithErrorHandler(h func(c *gin.Context, err *core.Error)) GuardOption {
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
// c.FullPath(), not a path prefix of user input).
func WithSkipper(s func(c *gin.Context) bool) GuardOption {
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
// Cache-Control) and its JSON Body().
func WriteError(c *gin.Context, err *core.Error) { err.WriteHTTP(c.Writer) }

// Middleware authenticates every request with v: it reads the one bearer
// credential, verifies it and stores the principal (see Principal), or
// answers with core's error and aborts the chain.
func Middleware(v *core.Verifier, opts ...Option) gin.HandlerFunc {
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
func RequireScopes(v *core.Verifier, scopes ...string) gin.HandlerFunc {
	return Require(v, v.RequireScopes(scopes...))
}

// RequireAnyScope is a route guard that requires at least one of scopes
// (any-of); otherwise as RequireScopes.
func RequireAnyScope(v *core.Verifier, scopes ...string) gin.HandlerFunc {
	return Require(v, v.RequireAnyScope(scopes...))
}

// Require is a route guard for any requirement built by v (scopes or
// roles, all-of or any-of). It reuses the principal stored by an earlier
// Middleware or guard, or authenticates the request itself, then checks r;
// it stores the principal as Middleware does.
func Require(v *core.Verifier, r *core.Requirement, opts ...GuardOption) gin.HandlerFunc {
	return handle(newConfig(opts), v, v.Guard(r))
}

// Principal returns the principal stored by Middleware or a guard, or nil
// and false when the request was not authenticated (or was anonymous on an
// Optional route).
func Principal(c *gin.Context) (*core.Principal, bool) {
	v, _ := c.Get(PrincipalKey)
	p, ok := v.(*core.Principal)
	return p, ok && p != nil
}

// handle is the one gin handler behind Middleware and the guards: skip,
// ask core, then store the principal and add core's response headers, or
// write core's error.
func handle(cfg *config, v *core.Verifier, auth core.Step) gin.HandlerFunc {
	return func(c *gin.Context) {
		if cfg.skip != nil && cfg.skip(c) {
			c.Next()
			return
		}
		stored, _ := Principal(c)
		p, err := auth(c.Request.Context(), core.FromHTTP(c.Request), stored)
		if err != nil {
			c.Abort()
			e := core.AsError(err)
			recorded := len(c.Errors)
			cfg.onError(c, e)
			if !c.Writer.Written() && c.Writer.Status() == http.StatusOK {
				failClosed(c, e, len(c.Errors) > recorded)
			}
			return
		}
		if p != nil && p != stored {
			c.Set(PrincipalKey, p)
			c.Request = c.Request.WithContext(core.WithPrincipal(c.Request.Context(), p))
		}
		for k, vs := range v.ResponseHeader(c.Request.Context(), p) {
			c.Writer.Header()[k] = vs
		}
		c.Next()
	}
}

// failClosed answers a refusal the error handler left unanswered. If the
// handler recorded nothing, it writes core's whole answer. A handler that
// only recorded the error (c.Error(err), for a middleware further out that
// renders c.Errors after c.Next) gets core's status and headers, not yet
// sent, but for Content-Type: the outer middleware writes the one body, in
// its own format, and if none does, Gin sends the status and the
// challenge with an empty body, never an empty 200.
func failClosed(c *gin.Context, e *core.Error, recorded bool) {
	if !recorded {
		WriteError(c, e)
		return
	}
	h := c.Writer.Header()
	for k, vs := range e.Header() {
		if k == "Content-Type" {
			continue // the renderer's format, not core's
		}
		h.Del(k)
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	c.Status(e.Status)
}
