package core_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest/conformance"
)

// netHTTPApp mounts the conformance routes on plain net/http, the reference
// the framework adapters are held to.
func netHTTPApp(c *conformance.Suite) http.Handler {
	respond := func(w http.ResponseWriter, r *http.Request, p *core.Principal) {
		fromCtx, _ := core.PrincipalFromContext(r.Context())
		status, body := conformance.Respond(p, fromCtx)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}
	guard := func(v *core.Verifier, req *core.Requirement, optional bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			var (
				p   *core.Principal
				err error
			)
			switch {
			case req != nil:
				p, err = v.Authorize(r.Context(), core.FromHTTP(r), nil, req)
			case optional:
				p, err = v.AuthenticateOptional(r.Context(), core.FromHTTP(r))
			default:
				p, err = v.Authenticate(r.Context(), core.FromHTTP(r))
			}
			if err != nil {
				core.AsError(err).WriteHTTP(w)
				return
			}
			if p != nil {
				r = r.WithContext(core.WithPrincipal(r.Context(), p))
			}
			for k, vs := range v.ResponseHeader(r.Context(), p) {
				w.Header()[k] = vs
			}
			respond(w, r, p)
		}
	}
	v := c.Verifier
	mux := http.NewServeMux()
	mux.Handle(conformance.RouteProtected, guard(v, nil, false))
	mux.Handle(conformance.RouteOptional, guard(v, nil, true))
	mux.Handle(conformance.RouteRead, guard(v, v.RequireScopes(conformance.ScopeRead), false))
	mux.Handle(conformance.RouteAll, guard(v, v.RequireScopes(conformance.ScopeRead, conformance.ScopeCreate), false))
	mux.Handle(conformance.RouteAny, guard(v, v.RequireAnyScope(conformance.ScopeRead, conformance.ScopeUpdate), false))
	mux.Handle(conformance.RouteRole, guard(v, v.RequireRoles(conformance.RoleAdmin), false))
	mux.Handle(conformance.RouteGuardOnly, guard(v, v.RequireScopes(conformance.ScopeRead), false))
	mux.Handle(conformance.RouteSources, guard(c.Sources, nil, false))
	mux.Handle(conformance.RouteOutage, guard(c.Outage, nil, false))
	for _, rt := range c.Routes {
		mux.Handle(rt.Path, guard(rt.Verifier, rt.Requirement, false))
	}
	mux.HandleFunc(c.Resource.ResourceMetadataPath(), func(w http.ResponseWriter, r *http.Request) {
		status, h, body := c.Resource.ServeResourceMetadata(r.Method)
		for k, vs := range h {
			w.Header()[k] = vs
		}
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})
	return mux
}

func TestConformanceNetHTTP(t *testing.T) {
	c := conformance.New(t)
	app := netHTTPApp(c)
	c.Run(t, func(r *http.Request) (*http.Response, error) {
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, r)
		return rec.Result(), nil
	})
}
