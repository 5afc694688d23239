package conformance

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
)

// Adapter is the framework glue of a middleware adapter's tests, for the
// shared adapter suite (Adapter.Run). The suite holds the requests and the
// assertions; each func only mounts the routes it documents on a new
// application and returns how to send that application a request (for
// example by ServeHTTP into an httptest.ResponseRecorder). Handlers
// documented as "answering with Respond" pass the typed accessor's
// principal and core.PrincipalFromContext on the request's context to
// Respond and write its status and body.
type Adapter struct {
	// Skipper mounts "/public" and "/private", both behind the middleware
	// with a skipper that skips the route "/public" (matched by the
	// framework's route pattern), and "/public-guard" behind
	// Require(v, v.RequireScopes(ScopeRead)) with a skipper that always
	// skips. Every route then answers with Respond.
	Skipper func(v *core.Verifier) Do

	// ErrorHandler mounts three routes whose last handler calls next:
	// "/mw" behind the middleware with a custom error handler, "/guard"
	// behind Require(v, v.RequireScopes(ScopeCreate)) with the same
	// handler, and "/default" behind the middleware with
	// WithErrorHandler(nil). The custom handler calls record with the
	// error, then answers http.StatusTeapot with a JSON body.
	ErrorHandler func(v *core.Verifier, record func(*core.Error), next func()) Do

	// LaxErrorHandler mounts three routes behind the middleware whose last
	// handler calls next: "/silent", with an error handler that writes
	// nothing (and returns nil, where the framework's handlers return an
	// error); "/returns", with an error handler that writes nothing and
	// returns the *core.Error it was given; and "/wraps", with one that
	// returns it wrapped by fmt.Errorf("…: %w", err). A framework whose
	// error handlers return nothing (Gin) mounts the silent handler on all
	// three. Every time the adapter must answer with core's error, exactly.
	LaxErrorHandler func(v *core.Verifier, next func()) Do

	// Guards mounts, each route answering with Respond: "/both", the
	// middleware then RequireScopes(v, ScopeRead); "/two-guards",
	// RequireScopes(v, ScopeRead) then RequireAnyScope(v, ScopeRead);
	// "/alone", RequireScopes(v, ScopeRead); "/optional-guard", the
	// middleware with Optional() then RequireScopes(v, ScopeRead).
	Guards func(v *core.Verifier) Do

	// Storage mounts "/" behind the middleware. Its handler calls seen
	// with the context application code would be given (the request's
	// context, or Fiber's UserContext), the value read directly from the
	// framework's storage under the adapter's PrincipalKey (asserted to
	// *core.Principal) and what the typed accessor returned.
	Storage func(v *core.Verifier, seen func(ctx context.Context, stored, accessor *core.Principal)) Do

	// Absent calls the typed accessor on a framework context that holds
	// value under PrincipalKey (nothing when value is nil) and returns
	// what it returned. It may fail t if the framework cannot run.
	Absent func(t *testing.T, value any) (*core.Principal, bool)
}

// Run runs the shared adapter checks as subtests of t: Skipper,
// ErrorHandler, LaxErrorHandler, GuardReusesPrincipal, PrincipalStorage and
// PrincipalAbsent. A nil func of a fails its subtest: every adapter must
// provide all of them.
func (a Adapter) Run(t *testing.T) {
	t.Helper()
	t.Run("Skipper", func(t *testing.T) { need(t, a.Skipper != nil); a.skipper(t) })
	t.Run("ErrorHandler", func(t *testing.T) { need(t, a.ErrorHandler != nil); a.errorHandler(t) })
	t.Run("LaxErrorHandler", func(t *testing.T) { need(t, a.LaxErrorHandler != nil); a.laxErrorHandler(t) })
	t.Run("GuardReusesPrincipal", func(t *testing.T) { need(t, a.Guards != nil); a.guards(t) })
	t.Run("PrincipalStorage", func(t *testing.T) { need(t, a.Storage != nil); a.storage(t) })
	t.Run("PrincipalAbsent", func(t *testing.T) { need(t, a.Absent != nil); a.absent(t) })
}

func need(t *testing.T, ok bool) {
	t.Helper()
	if !ok {
		t.Fatal("conformance: the Adapter func of this check is nil")
	}
}

// Fixture is an issuer and a verifier for it (audience DefaultAudience)
// that counts its verifications.
type Fixture struct {
	Issuer   *authtest.Issuer
	Verifier *core.Verifier
	verifies atomic.Int64
}

// NewFixture starts the issuer and builds the verifier, waiting for its
// keys. Both are closed when the test ends.
func NewFixture(t testing.TB) *Fixture {
	t.Helper()
	f := &Fixture{Issuer: authtest.MustIssuer(t)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := core.New(context.Background(),
		core.WithIssuer(f.Issuer.URL),
		core.WithAudiences(authtest.DefaultAudience),
		core.WithHooks(core.Hooks{OnVerify: func(core.VerifyInfo) { f.verifies.Add(1) }}),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close() })
	if err := v.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	f.Verifier = v
	return f
}

// Verifies returns how many verifications the verifier ran since the
// fixture was made or ResetVerifies was called.
func (f *Fixture) Verifies() int64 { return f.verifies.Load() }

// ResetVerifies sets the count of verifications back to zero.
func (f *Fixture) ResetVerifies() { f.verifies.Store(0) }

// Answer is the part of a response the adapter checks look at.
type Answer struct {
	Code int
	Body string
}

// Get sends a GET for path through do, with "Authorization: Bearer token"
// unless token is "", and returns the answer. It fails t if do fails.
func Get(t testing.TB, do Do, path, token string) Answer {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, path, nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return Answer{resp.StatusCode, string(b)}
}

func (a Adapter) skipper(t *testing.T) {
	f := NewFixture(t)
	do := a.Skipper(f.Verifier)
	for _, tc := range []struct {
		name, path string
		want       int
		verifies   int64
	}{
		{"skipped middleware", "/public", http.StatusOK, 0},
		{"not skipped", "/private", http.StatusUnauthorized, 1},
		{"skipped guard", "/public-guard", http.StatusOK, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.ResetVerifies()
			rec := Get(t, do, tc.path, "")
			if rec.Code != tc.want {
				t.Errorf("status = %d, want %d (body %s)", rec.Code, tc.want, rec.Body)
			}
			if n := f.Verifies(); n != tc.verifies {
				t.Errorf("verifier called %d times, want %d", n, tc.verifies)
			}
		})
	}
}

func (a Adapter) errorHandler(t *testing.T) {
	f := NewFixture(t)
	var got *core.Error
	reached := false
	do := a.ErrorHandler(f.Verifier, func(err *core.Error) { got = err }, func() { reached = true })
	read := f.Issuer.MustMint(t, authtest.Claims{"scope": ScopeRead})
	forged, err := authtest.NewKey("RS256")
	if err != nil {
		t.Fatal(err)
	}
	bad := f.Issuer.MustMint(t, nil, authtest.SignedBy(forged), authtest.Header("kid", f.Issuer.SigningKey().ID))
	for _, tc := range []struct {
		name, path, token string
		status            int
		kind              error // nil: the handler must not be called
	}{
		{"no credential", "/mw", "", http.StatusTeapot, core.ErrNoCredentials},
		{"bad signature", "/mw", bad, http.StatusTeapot, core.ErrSignatureInvalid},
		{"missing scope", "/guard", read, http.StatusTeapot, core.ErrInsufficientScope},
		{"nil handler keeps the default", "/default", "", http.StatusUnauthorized, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, reached = nil, false
			rec := Get(t, do, tc.path, tc.token)
			if rec.Code != tc.status {
				t.Errorf("status = %d, want %d", rec.Code, tc.status)
			}
			if reached {
				t.Error("the next handler ran after a refusal")
			}
			if tc.kind == nil {
				if got != nil {
					t.Errorf("custom handler called with %v", got)
				}
				return
			}
			if !errors.Is(got, tc.kind) {
				t.Errorf("handler got %v, want %v", got, tc.kind)
			}
		})
	}
}

// laxErrorHandler checks that a custom error handler cannot turn a refusal
// into an empty 200, nor into the framework's own 500 by handing core's
// error back: the answer is core's, byte for byte.
func (a Adapter) laxErrorHandler(t *testing.T) {
	f := NewFixture(t)
	reached := false
	do := a.LaxErrorHandler(f.Verifier, func() { reached = true })
	want := Want{Status: http.StatusUnauthorized, Challenges: bare, Body: noCredBody}
	for _, path := range []string{"/silent", "/returns", "/wraps"} {
		t.Run(path, func(t *testing.T) {
			reached = false
			CheckCase(t, Case{Name: path, Path: path, Want: want}, do)
			if reached {
				t.Error("the next handler ran after a refusal")
			}
		})
	}
}

func (a Adapter) guards(t *testing.T) {
	f := NewFixture(t)
	do := a.Guards(f.Verifier)
	read := f.Issuer.MustMint(t, authtest.Claims{"scope": ScopeRead})
	for _, tc := range []struct {
		name, path, token string
		status            int
		verifies          int64
	}{
		{"middleware then guard", "/both", read, http.StatusOK, 1},
		{"guard then guard", "/two-guards", read, http.StatusOK, 1},
		{"guard alone", "/alone", read, http.StatusOK, 1},
		// A guard cannot be given Optional (it is not a GuardOption); with
		// no credential it refuses, alone or behind an Optional middleware,
		// which looked for the credential once before it.
		{"guard alone without a credential", "/alone", "", http.StatusUnauthorized, 1},
		{"guard behind an optional middleware", "/optional-guard", "", http.StatusUnauthorized, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.ResetVerifies()
			rec := Get(t, do, tc.path, tc.token)
			if rec.Code != tc.status {
				t.Errorf("status = %d, want %d (body %s)", rec.Code, tc.status, rec.Body)
			}
			if n := f.Verifies(); n != tc.verifies {
				t.Errorf("verifier called %d times, want %d", n, tc.verifies)
			}
		})
	}
}

// subjectOf stands for application code below the handler: it sees only a context.Context.
func subjectOf(ctx context.Context) string {
	if p, ok := core.PrincipalFromContext(ctx); ok {
		return p.Subject
	}
	return ""
}

func (a Adapter) storage(t *testing.T) {
	f := NewFixture(t)
	var stored, accessor *core.Principal
	var fromCtx string
	do := a.Storage(f.Verifier, func(ctx context.Context, s, acc *core.Principal) {
		stored, accessor, fromCtx = s, acc, subjectOf(ctx)
	})
	rec := Get(t, do, "/", f.Issuer.MustMint(t, authtest.Claims{"sub": "alice"}))
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, body %s", rec.Code, rec.Body)
	}
	if stored == nil || stored != accessor {
		t.Errorf("stored under PrincipalKey = %v, Principal = %v: want the same principal", stored, accessor)
	}
	if accessor == nil || accessor.Subject != "alice" || fromCtx != "alice" {
		t.Errorf("subject: accessor %v, context %q, want alice", accessor, fromCtx)
	}
}

func (a Adapter) absent(t *testing.T) {
	for _, tc := range []struct {
		name  string
		value any // stored under PrincipalKey; nil stores nothing
	}{
		{"nothing stored", nil},
		{"another type under the key", "alice"},
		{"typed nil", (*core.Principal)(nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if p, ok := a.Absent(t, tc.value); ok || p != nil {
				t.Errorf("Principal = %v, %v; want nil, false", p, ok)
			}
		})
	}
}
