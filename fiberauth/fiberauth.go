package fiberauth

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"github.com/jwksauth/jwksauth/core"
)

// PrincipalKey is the c.Locals key under which Middleware and the guards
// store the verified *core.Principal. Prefer Principal, or
// core.PrincipalFromContext on c.UserContext(), to reading it directly.
// Locals vanish when the handler returns (fasthttp reuses the context):
// keep the *core.Principal, which is immutable, never the *fiber.Ctx.
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
	onError  func(*fiber.Ctx, *core.Error) error
	skip     func(*fiber.Ctx) bool
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
// should write the response. A returned *core.Error is written rather than
// passed to fiber.Config.ErrorHandler; a handler that writes nothing still
// gets core's answer: see docs/errors.md, "Custom error handlers". h must
// not call c.Next(): Fiber cannot stop it, and the route would then run
// for a refused request.
//
// Default: WriteError (core's status, headers and body). A nil h keeps the
// default. Security: keep the status and the challenge, which RFC 6750
// clients rely on, and log the error's cause (err.Error()) rather than
// sending it.
func WithErrorHandler(h func(c *fiber.Ctx, err *core.Error) error) GuardOption {
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
// unauthenticated; make s match exactly the public requests (for example
// c.Path() == "/healthz", not a prefix of the raw URL). Under app.Use,
// c.Route().Path is the Use prefix for every request, not the route, so do
// not match on it there.
func WithSkipper(s func(c *fiber.Ctx) bool) GuardOption {
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
// Cache-Control) and its JSON Body(). It returns nil unless the response
// cannot be written, so the app's ErrorHandler does not render the refusal
// a second time.
func WriteError(c *fiber.Ctx, err *core.Error) error {
	h := &c.Response().Header
	for k, vs := range err.Header() {
		h.Del(k)
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	return c.Status(err.Status).Send(err.Body())
}

// Middleware authenticates every request with v: it reads the one bearer
// credential, verifies it and stores the principal (see Principal), or
// answers with core's error without calling the next handler.
func Middleware(v *core.Verifier, opts ...Option) fiber.Handler {
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
func RequireScopes(v *core.Verifier, scopes ...string) fiber.Handler {
	return Require(v, v.RequireScopes(scopes...))
}

// RequireAnyScope is a route guard that requires at least one of scopes
// (any-of); otherwise as RequireScopes.
func RequireAnyScope(v *core.Verifier, scopes ...string) fiber.Handler {
	return Require(v, v.RequireAnyScope(scopes...))
}

// Require is a route guard for any requirement built by v (scopes or
// roles, all-of or any-of). It reuses the principal stored by an earlier
// Middleware or guard, or authenticates the request itself, then checks r;
// it stores the principal as Middleware does.
func Require(v *core.Verifier, r *core.Requirement, opts ...GuardOption) fiber.Handler {
	return handle(newConfig(opts), v, v.Guard(r))
}

// Principal returns the principal stored by Middleware or a guard, or nil
// and false when the request was not authenticated (or was anonymous on an
// Optional route).
func Principal(c *fiber.Ctx) (*core.Principal, bool) {
	p, ok := c.Locals(PrincipalKey).(*core.Principal)
	return p, ok && p != nil
}

// handle is the one fiber handler behind Middleware and the guards: skip,
// ask core, then store the principal and add core's response headers, or
// write core's error.
func handle(cfg *config, v *core.Verifier, auth core.Step) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if cfg.skip != nil && cfg.skip(c) {
			return c.Next()
		}
		stored, _ := Principal(c)
		p, err := auth(c.UserContext(), credentials{c}, stored)
		if err != nil {
			return refuse(cfg, c, core.AsError(err))
		}
		if p != nil && p != stored {
			c.Locals(PrincipalKey, p)
			c.SetUserContext(core.WithPrincipal(c.UserContext(), p))
		}
		for k, vs := range v.ResponseHeader(c.UserContext(), p) {
			for _, val := range vs {
				c.Response().Header.Add(k, val)
			}
		}
		return c.Next()
	}
}

// refuse answers a refused request with the error handler, failing closed
// when the handler answered nothing or handed core's error back.
func refuse(cfg *config, c *fiber.Ctx, e *core.Error) error {
	herr := cfg.onError(c, e)
	// Core's error, or a plain wrap of it (fmt.Errorf("…: %w", err)), is
	// answered here: Fiber's default error handler would answer 500 with
	// the error's text, internals included. A *fiber.Error is the
	// application's own answer and goes to fiber.Config.ErrorHandler.
	var ce *core.Error
	var fe *fiber.Error
	switch {
	case herr != nil && !errors.As(herr, &fe) && errors.As(herr, &ce) && ce != nil:
		return WriteError(c, ce)
	case herr == nil && unanswered(c):
		return WriteError(c, e)
	}
	return herr
}

// unanswered reports a response nobody set: fasthttp's default status 200
// and no body.
func unanswered(c *fiber.Ctx) bool {
	r := c.Response()
	return r.StatusCode() == fiber.StatusOK && len(r.Body()) == 0
}

// credentials are the credential sources of a fasthttp request, as core
// reads them. Only the values core asks for are read out of fasthttp's
// buffers, which are reused after the request.
type credentials struct{ c *fiber.Ctx }

// Header matches the field name case-insensitively (RFC 9110 §5.1), also
// when fiber.Config.DisableHeaderNormalizing keeps names as sent (the
// header's PeekAll would then miss a field sent in another case), and
// returns every field of the name, in order. The values are views of
// fasthttp's header buffer, not copies, as Fiber's own c.Get returns them:
// core.Credentials guarantees that core keeps none of them past the call,
// so the hot path copies no token.
func (r credentials) Header(name string) []string {
	var out []string
	r.c.Request().Header.VisitAll(func(k, v []byte) {
		if strings.EqualFold(utils.UnsafeString(k), name) {
			// RFC 9110 §5.5: spaces and tabs around a field value are not
			// part of it. fasthttp trims the spaces only; net/http, under
			// Gin and Echo, trims both.
			out = append(out, strings.Trim(utils.UnsafeString(v), " \t"))
		}
	})
	return out
}

// RawQuery is what follows the first "?" of the request target as sent, a
// view of fasthttp's buffer. It is read from the request line rather than
// from the parsed URI, which ends the query at a "#" where net/http (under
// Gin and Echo) keeps it: core then parses the same bytes on every
// framework.
func (r credentials) RawQuery() string {
	uri := utils.UnsafeString(r.c.Request().Header.RequestURI())
	if i := strings.IndexByte(uri, '?'); i >= 0 {
		return uri[i+1:]
	}
	return ""
}

// Method is the request method, a view of fasthttp's buffer.
func (r credentials) Method() string { return utils.UnsafeString(r.c.Request().Header.Method()) }

// URL takes the scheme from the connection (https when it is TLS, as
// net/http decides, not from X-Forwarded-Proto), the host as fasthttp
// reads it (from an absolute-form request target, else the Host header, as
// net/http does), and the request target as sent: views of fasthttp's
// buffers.
func (r credentials) URL() (scheme, host, target string) {
	scheme = "http"
	if r.c.Context().IsTLS() {
		scheme = "https"
	}
	host = utils.UnsafeString(r.c.Request().Host())
	return scheme, host, utils.UnsafeString(r.c.Request().Header.RequestURI())
}

// PeerCertificate is the first certificate of the TLS connection's chain.
func (r credentials) PeerCertificate() []byte {
	st := r.c.Context().TLSConnectionState()
	if st == nil || len(st.PeerCertificates) == 0 {
		return nil
	}
	return st.PeerCertificates[0].Raw
}

// Cookie returns the value of every cookie named name, copied out of
// fasthttp's buffers. fasthttp splits cookies as core.FromHTTP does, with
// one difference left: net/http first trims tabs around the whole Cookie
// field, fasthttp does not, so a cookie token written with a tab before
// the first name or after the last value is read under Gin and Echo and
// not under Fiber. Browsers never send one.
func (r credentials) Cookie(name string) []string {
	var out []string
	r.c.Request().Header.VisitAllCookie(func(k, v []byte) {
		if string(k) == name {
			out = append(out, string(v))
		}
	})
	return out
}
