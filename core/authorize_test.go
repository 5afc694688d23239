package core_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
)

// TestAuthorizeRefusalHasNoPrincipal: Authorize and a guard's Step answer
// with the principal or the error, never both, as Step documents; a 403
// leaves nothing a careless caller could act on.
func TestAuthorizeRefusalHasNoPrincipal(t *testing.T) {
	iss := authtest.MustIssuer(t)
	v := newVerifier(t, iss, core.WithAudiences(authtest.DefaultAudience))
	ctx := context.Background()
	r := &http.Request{Header: http.Header{"Authorization": {"Bearer " + iss.MustMint(t, authtest.Claims{"scope": "a"})}}}
	stored, err := v.Authenticate(ctx, core.FromHTTP(r))
	if err != nil {
		t.Fatal(err)
	}
	need := v.RequireScopes("b")
	for name, call := range map[string]func() (*core.Principal, error){
		"Authorize":        func() (*core.Principal, error) { return v.Authorize(ctx, core.FromHTTP(r), nil, need) },
		"Guard":            func() (*core.Principal, error) { return v.Guard(need)(ctx, core.FromHTTP(r), nil) },
		"Authorize stored": func() (*core.Principal, error) { return v.Authorize(ctx, core.FromHTTP(r), stored, need) },
		"Guard stored":     func() (*core.Principal, error) { return v.Guard(need)(ctx, core.FromHTTP(r), stored) },
	} {
		t.Run(name, func(t *testing.T) {
			p, err := call()
			if !errors.Is(err, core.ErrInsufficientScope) || core.AsError(err).Status != http.StatusForbidden {
				t.Fatalf("err = %v, want a 403 insufficient_scope", err)
			}
			if p != nil {
				t.Fatalf("a refused request returned the principal %q beside its error", p.Subject)
			}
		})
	}
}
