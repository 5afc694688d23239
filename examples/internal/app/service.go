package app

import (
	"net/http"

	"github.com/jwksauth/jwksauth/core"
)

// Service is what an example app serves: the notes API of Routes, guarded
// by Verifier, and beside it the pages of Docs and Metrics. Every framework
// mounts a Service the same way (Routes, then Pages), so the three answer
// alike and serve the same bytes.
type Service struct {
	// Verifier guards the protected routes. A nil Verifier refuses them
	// (500, core.ErrMisconfigured): it fails closed.
	Verifier *core.Verifier
	// Docs are served at / and /openapi.json. Nil: no docs pages.
	Docs *Docs
	// Metrics count the auth answers and are served at /metrics. Nil:
	// nothing is counted and there is no /metrics.
	Metrics *Metrics
}

// Page is a GET route answered by a net/http handler (the docs and the
// metrics), which each framework mounts through its adaptor. Pages need no
// token: they hold nothing secret.
type Page struct {
	// Path is the exact path, without parameters or wildcards.
	Path string
	// Handler answers it.
	Handler http.Handler
}

// Pages returns the pages of s, in a fixed order.
func (s Service) Pages() []Page {
	var pages []Page
	if s.Docs != nil {
		pages = append(pages, s.Docs.pages()...)
	}
	if s.Metrics != nil {
		pages = append(pages, Page{MetricsPath, s.Metrics.Handler()})
	}
	return pages
}

// Serve answers rt for the principal its guards stored (see Route.Serve)
// and counts the answer of a protected route.
func (s Service) Serve(rt Route, p *core.Principal, id string) Reply {
	r := rt.Serve(p, id)
	switch {
	case rt.Public:
	case p == nil: // the guard did not run, and Serve refused: a wiring mistake
		s.Metrics.count(rt, OutcomeRefused, reasonUnguarded, r.Status)
	default:
		s.Metrics.count(rt, OutcomeAllowed, ReasonOK, r.Status)
	}
	return r
}

// Refused counts a refusal of rt by its middleware or guard; the
// frameworks' error handlers call it before writing core's answer.
func (s Service) Refused(rt Route, err *core.Error) {
	if err != nil {
		s.Metrics.count(rt, OutcomeRefused, err.Reason(), err.Status)
	}
}
