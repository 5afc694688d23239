package bench_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/jwksauth/jwksauth/examples/bench"
)

// serve answers one request with token, the way the benchmark drives the row.
type serve func(token string) int

func httpServe(h http.Handler) serve {
	return func(token string) int {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, newRequest(token))
		return w.Code
	}
}

// TestRowsRefuseWhatTheyMust holds every benchmark row to the same work:
// the good token is served, and every token of Fixture.Refused (a forged
// or tampered signature, expired, no exp, another issuer or audience, a
// missing scope, alg none, HS256 keyed with the public key) is refused,
// before and after the good one was seen (so that a cache cannot mask a
// refusal). The bare rows, which verify nothing, must serve them all: the
// refusals come from the middleware under test.
func TestRowsRefuseWhatTheyMust(t *testing.T) {
	f := benchFixture(t)
	type framework struct {
		name  string
		rows  []string
		build func(ctx context.Context, row string) (serve, error)
	}
	httpRows := func(build func(context.Context, *bench.Fixture, string) (http.Handler, error)) func(context.Context, string) (serve, error) {
		return func(ctx context.Context, row string) (serve, error) {
			h, err := build(ctx, f, row)
			if err != nil {
				return nil, err
			}
			return httpServe(h), nil
		}
	}
	for _, fw := range []framework{
		{"Gin", bench.GinRows, httpRows(bench.NewGin)},
		{"Echo", bench.EchoRows, httpRows(bench.NewEcho)},
		{"Fiber", bench.FiberRows, func(ctx context.Context, row string) (serve, error) {
			app, err := bench.NewFiber(ctx, f, row)
			if err != nil {
				return nil, err
			}
			h := app.Handler()
			return func(token string) int {
				rc := newRequestCtx(token)
				next(rc)
				h(rc)
				return fiberStatus(rc)
			}, nil
		}},
	} {
		for _, row := range fw.rows {
			t.Run(fw.name+"/"+row, func(t *testing.T) {
				do, err := fw.build(t.Context(), row)
				if err != nil {
					t.Fatal(err)
				}
				refusals := func(when string) {
					t.Helper()
					for name, tok := range f.Refused {
						got := do(tok)
						switch {
						case row == "bare" && got != http.StatusOK:
							t.Errorf("%s, %s: status %d; the bare row must serve every request", when, name, got)
						case row != "bare" && got < 400:
							t.Errorf("%s, %s: status %d, want a refusal", when, name, got)
						case slices.Contains(jwksauthRows, row) && got != wantStatus(name):
							t.Errorf("%s, %s: status %d, want %d", when, name, got, wantStatus(name))
						}
					}
				}
				refusals("before the good token")
				for range 2 {
					if got := do(f.Token); got != http.StatusOK {
						t.Fatalf("good token: status %d, want 200", got)
					}
				}
				refusals("after the good token")
			})
		}
	}
}

var jwksauthRows = []string{"jwksauth", "jwksauth-nocache"}

// wantStatus is jwksauth's answer to each refused token (docs/errors.md).
func wantStatus(refusal string) int {
	if refusal == bench.MissingScope {
		return http.StatusForbidden
	}
	return http.StatusUnauthorized
}
