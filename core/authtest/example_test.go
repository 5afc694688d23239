package authtest_test

// The code of docs/testing.md: testing your own handlers with authtest.
// core's doc check (core/doccheck_test.go) fails when a marked snippet of
// the docs is no longer made of lines of this file.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
)

// Mint signs whatever claims and header parameters a test needs.
func ExampleIssuer_Mint() {
	iss, err := authtest.NewIssuer() // an OpenID provider on 127.0.0.1, with one RS256 key
	if err != nil {
		fmt.Println(err)
		return
	}
	defer iss.Close()
	ctx := context.Background()
	v, err := core.New(ctx, core.WithIssuer(iss.URL), core.WithAudiences(authtest.DefaultAudience))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer v.Close()
	if err := v.Ready(ctx); err != nil { // wait for the first key set
		fmt.Println(err)
		return
	}

	// Defaults: iss, sub "user-123", aud "account", iat, exp in one hour, jti.
	reader, _ := iss.Mint(authtest.Claims{"scope": "note:read", "tenant": "acme"})
	p, err := v.Verify(ctx, reader)
	fmt.Println(p.Subject, p.Scopes, err)

	// Override or remove (authtest.Omit) any claim or header parameter.
	expired, _ := iss.Mint(authtest.Claims{"exp": time.Now().Add(-time.Hour).Unix()})
	_, err = v.Verify(ctx, expired)
	fmt.Println(errors.Is(err, core.ErrTokenExpired))

	noAudience, _ := iss.Mint(authtest.Claims{"aud": authtest.Omit})
	_, err = v.Verify(ctx, noAudience)
	fmt.Println(errors.Is(err, core.ErrAudienceInvalid))

	hmac, _ := iss.Mint(nil, authtest.Header("alg", "HS256"))
	_, err = v.Verify(ctx, hmac)
	fmt.Println(errors.Is(err, core.ErrAlgorithmNotAllowed))
	// Output:
	// user-123 [note:read] <nil>
	// true
	// true
	// true
}

// newNotesHandler is the application under test: a plain net/http handler
// guarded by core. The adapters' docs_example_test.go files do the same
// with Gin, Echo and Fiber.
func newNotesHandler(v *core.Verifier) http.Handler {
	canRead := v.RequireScopes("note:read")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := v.Authorize(r.Context(), core.FromHTTP(r), nil, canRead)
		if err != nil {
			core.AsError(err).WriteHTTP(w)
			return
		}
		fmt.Fprintf(w, "notes of %s", p.Subject)
	})
}

// newTestVerifier builds the verifier your application would build, for a
// test issuer, and waits for its keys.
func newTestVerifier(t *testing.T, iss *authtest.Issuer, opts ...core.Option) *core.Verifier {
	t.Helper()
	opts = append([]core.Option{core.WithIssuer(iss.URL), core.WithAudiences(authtest.DefaultAudience)}, opts...)
	v, err := core.New(t.Context(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := v.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestNotesHandler(t *testing.T) {
	iss := authtest.MustIssuer(t) // closed when the test ends
	h := newNotesHandler(newTestVerifier(t, iss))

	tests := []struct {
		name      string
		token     string
		status    int
		challenge string
	}{
		{"no token", "", 401, `Bearer realm="api"`},
		{"reader", iss.MustMint(t, authtest.Claims{"scope": "note:read"}), 200, ""},
		{"other scope", iss.MustMint(t, authtest.Claims{"scope": "note:create"}), 403,
			`Bearer realm="api", error="insufficient_scope", scope="note:read"`},
		{"expired", iss.MustMint(t, authtest.Claims{"scope": "note:read", "exp": time.Now().Add(-time.Hour).Unix()}), 401,
			`Bearer realm="api", error="invalid_token", error_description="the access token has expired"`},
		{"other audience", iss.MustMint(t, authtest.Claims{"scope": "note:read", "aud": "billing"}), 401,
			`Bearer realm="api", error="invalid_token", error_description="the access token audience is not accepted"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/notes", nil)
			if tc.token != "" {
				r.Header.Set("Authorization", "Bearer "+tc.token)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.status {
				t.Errorf("status = %d, want %d", w.Code, tc.status)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tc.challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tc.challenge)
			}
		})
	}
}

// A token signed by a key the verifier has not seen makes it refresh the
// JWKS, at most once per unknown-kid cooldown; a retired key stops
// verifying at the next refresh.
func TestKeyRotation(t *testing.T) {
	iss := authtest.MustIssuer(t)
	clk := &clock{now: time.Now()}
	v := newTestVerifier(t, iss, core.WithClock(clk.Now))
	first := iss.MustMint(t, nil)

	if _, err := iss.Rotate("RS256"); err != nil { // publish a new key and sign with it
		t.Fatal(err)
	}
	second := iss.MustMint(t, nil)
	if _, err := v.Verify(t.Context(), second); err != nil {
		t.Fatalf("token of the new key: %v", err)
	}
	if _, err := v.Verify(t.Context(), first); err != nil {
		t.Fatalf("token of the old key, still published: %v", err)
	}

	// The provider retires the first key and rotates again. The verifier
	// sees both changes at its next refresh: here, the third key's first
	// token once the cooldown is over.
	iss.Retire(iss.Keys()[0].ID)
	if _, err := iss.Rotate("EdDSA"); err != nil {
		t.Fatal(err)
	}
	third := iss.MustMint(t, nil)
	clk.Add(core.DefaultCooldown)
	if _, err := v.Verify(t.Context(), third); err != nil {
		t.Fatalf("token of the third key: %v", err)
	}
	if _, err := v.Verify(t.Context(), first); !errors.Is(err, core.ErrUnknownKey) {
		t.Fatalf("token of the retired key: %v, want ErrUnknownKey", err)
	}
	if _, err := v.Verify(t.Context(), second); err != nil {
		t.Fatalf("token of the second key: %v", err)
	}
}

// clock is a test clock that only moves when told to.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// When the JWKS endpoint fails, tokens of cached keys keep working, and a
// token whose key is not cached answers 503 with Retry-After: an outage is
// not a bad token.
func TestJWKSOutage(t *testing.T) {
	iss := authtest.MustIssuer(t)
	clk := &clock{now: time.Now()}
	v := newTestVerifier(t, iss, core.WithClock(clk.Now))
	h := newNotesHandler(v)
	get := func(token string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/notes", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	cached := iss.MustMint(t, authtest.Claims{"scope": "note:read"})

	iss.SetFault(authtest.FaultDown) // the connection is closed without an answer
	if w := get(cached); w.Code != 200 {
		t.Fatalf("cached key during the outage: %d %s", w.Code, w.Body)
	}

	if _, err := iss.Rotate("RS256"); err != nil {
		t.Fatal(err)
	}
	rotated := iss.MustMint(t, authtest.Claims{"scope": "note:read"})
	w := get(rotated)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("WWW-Authenticate") != "" {
		t.Fatalf("new key during the outage: %d, WWW-Authenticate %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}
	if n, err := strconv.Atoi(w.Header().Get("Retry-After")); err != nil || n <= 0 {
		t.Fatalf("Retry-After = %q", w.Header().Get("Retry-After"))
	}
	if _, err := v.Verify(t.Context(), rotated); !errors.Is(err, core.ErrKeysUnavailable) {
		t.Fatalf("Verify = %v, want ErrKeysUnavailable", err)
	}

	iss.SetFault(authtest.FaultNone)
	clk.Add(core.DefaultCooldown) // the unknown-kid cooldown is over: the next request refreshes
	if w := get(rotated); w.Code != 200 {
		t.Fatalf("new key after the outage: %d %s", w.Code, w.Body)
	}
}

// Testing your own DPoP-protected handler: mint a token bound to a client
// key, then make a new proof for each request.
func ExampleProof() {
	iss, _ := authtest.NewIssuer()
	defer iss.Close()
	ctx := context.Background()
	v, _ := core.New(ctx, core.WithIssuer(iss.URL), core.WithAudiences(authtest.DefaultAudience))
	defer v.Close()
	_ = v.Ready(ctx)

	key, _ := authtest.NewKey("EdDSA")
	token, _ := iss.Mint(authtest.Claims{"scope": "notes:write"}, authtest.BoundTo(key))
	for _, htm := range []string{"POST", "GET"} { // the second proof names the wrong method
		proof, _ := authtest.Proof(key, htm, "http://example.com/notes", token)
		r := httptest.NewRequest("POST", "http://example.com/notes", nil)
		r.Header.Set("Authorization", "DPoP "+token)
		r.Header.Set("DPoP", proof)
		_, err := v.Authenticate(ctx, core.FromHTTP(r))
		fmt.Println(htm, err == nil, errors.Is(err, core.ErrDPoPProofMethod))
	}
	// Output:
	// POST true false
	// GET false true
}
