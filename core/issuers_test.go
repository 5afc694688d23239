package core_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
)

func bearerReq(tok string) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}

// TestIssuersFixedSet: each issuer with its own rules; a token of an issuer
// not listed is refused and fetches nothing.
func TestIssuersFixedSet(t *testing.T) {
	users, machines := authtest.MustIssuer(t), authtest.MustIssuer(t)
	v := readyVerifier(t, core.WithIssuers(
		core.Issuer{URL: users.URL, Options: []core.Option{core.WithAudiences("users-api"), core.WithScopeClaims("scope")}},
		core.Issuer{URL: machines.URL, Options: []core.Option{core.WithAudiences("machines-api"), core.WithScopeClaims("permissions")}},
	))
	ctx := context.Background()
	u, err := v.Verify(ctx, users.MustMint(t, authtest.Claims{"aud": "users-api", "scope": "a"}))
	if err != nil || u.Issuer != users.URL || !slices.Equal(u.Scopes, []string{"a"}) {
		t.Fatalf("user token: %v, %v", u, err)
	}
	m, err := v.Verify(ctx, machines.MustMint(t, authtest.Claims{"aud": "machines-api", "permissions": []string{"b"}}))
	if err != nil || m.Issuer != machines.URL || !slices.Equal(m.Scopes, []string{"b"}) {
		t.Fatalf("machine token: %v, %v", m, err)
	}
	// Each issuer's audience rule is its own.
	if _, err := v.Verify(ctx, users.MustMint(t, authtest.Claims{"aud": "machines-api"})); !errors.Is(err, core.ErrAudienceInvalid) {
		t.Fatalf("user token for the machines' audience: %v", err)
	}
	// Requirements built on the many-issuer Verifier serve principals of
	// every issuer, through one guard.
	need := v.RequireScopes("b")
	if _, err := v.Authorize(ctx, core.FromHTTP(bearerReq(machines.MustMint(t, authtest.Claims{"aud": "machines-api", "permissions": "b"}))), nil, need); err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	if _, err := v.Authorize(ctx, core.FromHTTP(bearerReq(users.MustMint(t, authtest.Claims{"aud": "users-api", "scope": "a"}))), u, need); !errors.Is(err, core.ErrInsufficientScope) {
		t.Fatalf("Authorize without the scope: %v", err)
	}
	// 10,000 distinct unknown issuers: refused, no fetch anywhere.
	other := authtest.MustIssuer(t)
	ed := edKey(t)
	hits := users.JWKSHits() + users.DiscoveryHits() + machines.JWKSHits() + machines.DiscoveryHits() + other.JWKSHits() + other.DiscoveryHits()
	for i := range 10_000 {
		tok := other.MustMint(t, authtest.Claims{"iss": fmt.Sprintf("https://evil.example/%d", i), "aud": "users-api"}, authtest.SignedBy(ed))
		if _, err := v.Verify(ctx, tok); !errors.Is(err, core.ErrIssuerInvalid) {
			t.Fatalf("unknown issuer: %v", err)
		}
		if i == 0 {
			if _, err := v.Verify(ctx, other.MustMint(t, authtest.Claims{"aud": "users-api"})); !errors.Is(err, core.ErrIssuerInvalid) {
				t.Fatalf("real issuer, not listed: %v", err)
			}
		}
	}
	if got := users.JWKSHits() + users.DiscoveryHits() + machines.JWKSHits() + machines.DiscoveryHits() + other.JWKSHits() + other.DiscoveryHits(); got != hits {
		t.Fatalf("%d fetches for unknown issuers", got-hits)
	}
	if got := v.Issuers(); !slices.Equal(got, []string{users.URL, machines.URL}) {
		t.Fatalf("Issuers = %v", got)
	}
}

// edKey is a fast signing key, for floods of forged tokens.
func edKey(t *testing.T) *authtest.Key {
	t.Helper()
	k, err := authtest.NewKey("EdDSA")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestIssuersNoCrossKeys: both issuers publish a key under the same kid; a
// token claiming issuer B signed with A's key is refused, from the cache
// too.
func TestIssuersNoCrossKeys(t *testing.T) {
	a, b := authtest.MustIssuer(t), authtest.MustIssuer(t)
	shared, err := authtest.NewKey("RS256")
	if err != nil {
		t.Fatal(err)
	}
	bKey, err := authtest.NewKey("RS256")
	if err != nil {
		t.Fatal(err)
	}
	bKey.ID = shared.ID
	a.AddKey(shared, true)
	b.AddKey(bKey, true)
	v := readyVerifier(t, core.WithAudiences(authtest.DefaultAudience), core.WithIssuers(core.Issuer{URL: a.URL}, core.Issuer{URL: b.URL}))
	ctx := context.Background()
	genuine := a.MustMint(t, nil)
	if _, err := v.Verify(ctx, genuine); err != nil {
		t.Fatalf("genuine token of A: %v", err)
	}
	forged := a.MustMint(t, authtest.Claims{"iss": b.URL}) // A's key, kid shared, claiming B
	for range 2 {
		if _, err := v.Verify(ctx, forged); !errors.Is(err, core.ErrSignatureInvalid) {
			t.Fatalf("token claiming B signed by A's key: %v", err)
		}
	}
	if _, err := v.Verify(ctx, b.MustMint(t, nil)); err != nil {
		t.Fatalf("genuine token of B: %v", err)
	}
}

// TestIssuersOutageIsolated: one issuer's JWKS outage answers 503 for its
// new tokens only.
func TestIssuersOutageIsolated(t *testing.T) {
	a, b := authtest.MustIssuer(t), authtest.MustIssuer(t)
	v := readyVerifier(t, core.WithAudiences(authtest.DefaultAudience), core.WithIssuers(core.Issuer{URL: a.URL}, core.Issuer{URL: b.URL}),
		core.WithUnknownKIDCooldown(time.Second))
	ctx := context.Background()
	a.SetFault(authtest.FaultDown)
	if _, err := a.Rotate("ES256"); err != nil { // a token of a key the verifier must fetch
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, a.MustMint(t, nil)); !errors.Is(err, core.ErrKeysUnavailable) {
		t.Fatalf("issuer A down: %v, want ErrKeysUnavailable", err)
	}
	if _, err := v.Verify(ctx, b.MustMint(t, nil)); err != nil {
		t.Fatalf("issuer B during A's outage: %v", err)
	}
	a.SetFault(authtest.FaultNone)
	time.Sleep(1100 * time.Millisecond) // the unknown-kid cooldown
	if _, err := v.Verify(ctx, a.MustMint(t, nil)); err != nil {
		t.Fatalf("issuer A back, its rotated key fetched: %v", err)
	}
}

// TestIssuerResolver: accepted issuers are built on first use, once, even
// under concurrency; refused ones are remembered; a flood of invented
// issuers costs a bounded number of calls; the table is bounded.
func TestIssuerResolver(t *testing.T) {
	t1, t2 := authtest.MustIssuer(t), authtest.MustIssuer(t)
	var calls atomic.Int64
	resolve := func(_ context.Context, iss string) ([]core.Option, bool, error) {
		calls.Add(1)
		if iss == t1.URL || iss == t2.URL {
			return []core.Option{core.WithAudiences(authtest.DefaultAudience)}, true, nil
		}
		return nil, false, nil
	}
	v := readyVerifier(t, core.WithIssuerResolver(resolve), core.WithIssuerTable(1, time.Hour))
	ctx := context.Background()
	tok1 := t1.MustMint(t, nil)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := v.Verify(ctx, tok1); err != nil {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	if failed.Load() != 0 || calls.Load() != 1 {
		t.Fatalf("50 concurrent first tokens: %d failed, %d resolver calls, want 0 and 1", failed.Load(), calls.Load())
	}
	// The table holds one issuer: t2 drops t1, whose cached token is then
	// not served from the cache but resolved again.
	if _, err := v.Verify(ctx, t2.MustMint(t, nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, tok1); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 3 {
		t.Fatalf("%d resolver calls, want 3 (t1, t2, t1 again)", calls.Load())
	}
	// A refused issuer is remembered while in the table.
	refused := t1.MustMint(t, authtest.Claims{"iss": "https://not-a-customer.example"})
	before := calls.Load()
	for range 3 {
		if _, err := v.Verify(ctx, refused); !errors.Is(err, core.ErrIssuerInvalid) {
			t.Fatalf("refused issuer: %v", err)
		}
	}
	if calls.Load() != before+1 {
		t.Fatalf("%d calls for one refused issuer, want 1", calls.Load()-before)
	}
	// 10,000 invented issuers: at most the burst, and what the rate adds.
	start, began, ed := calls.Load(), time.Now(), edKey(t)
	for i := range 10_000 {
		tok := t1.MustMint(t, authtest.Claims{"iss": fmt.Sprintf("https://tenant-%d.example", i)}, authtest.SignedBy(ed))
		if _, err := v.Verify(ctx, tok); !errors.Is(err, core.ErrIssuerInvalid) {
			t.Fatalf("invented issuer: %v", err)
		}
	}
	allowed := int64(100 + 10*time.Since(began).Seconds() + 10)
	if n := calls.Load() - start; n > allowed {
		t.Fatalf("%d resolver calls for 10,000 invented issuers, want at most %d", n, allowed)
	}
}

// TestIssuerResolverFailures: a failing resolver is a 503, and its answer
// is not remembered; options naming another issuer refuse it.
func TestIssuerResolverFailures(t *testing.T) {
	iss := authtest.MustIssuer(t)
	var fail atomic.Bool
	fail.Store(true)
	v := readyVerifier(t, core.WithIssuerResolver(func(_ context.Context, name string) ([]core.Option, bool, error) {
		if fail.Load() {
			return nil, false, errors.New("tenant database down")
		}
		return []core.Option{core.WithAudiences(authtest.DefaultAudience)}, name == iss.URL, nil
	}))
	ctx := context.Background()
	tok := iss.MustMint(t, nil)
	_, err := v.Verify(ctx, tok)
	wantErr(t, err, core.ErrKeysUnavailable, http.StatusServiceUnavailable)
	fail.Store(false)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("after the resolver recovered: %v", err)
	}
	other := authtest.MustIssuer(t)
	w := readyVerifier(t, core.WithIssuerResolver(func(context.Context, string) ([]core.Option, bool, error) {
		return []core.Option{core.WithIssuer(other.URL), core.WithAudiences(authtest.DefaultAudience)}, true, nil
	}))
	if _, err := w.Verify(ctx, tok); !errors.Is(err, core.ErrIssuerInvalid) {
		t.Fatalf("resolver options naming another issuer: %v", err)
	}
}

// TestIssuersKeyfuncAndMetadata: Keyfunc and the resource metadata serve
// every issuer.
func TestIssuersKeyfuncAndMetadata(t *testing.T) {
	a, b := authtest.MustIssuer(t), authtest.MustIssuer(t)
	v := readyVerifier(t, core.WithIssuers(core.Issuer{URL: a.URL}, core.Issuer{URL: b.URL}),
		core.WithResource("https://api.example.com", core.ResourceMetadata{}))
	kf := v.Keyfunc(context.Background())
	for _, iss := range []*authtest.Issuer{a, b} {
		if _, err := jwt.Parse(iss.MustMint(t, authtest.Claims{"aud": "https://api.example.com"}), kf); err != nil {
			t.Fatalf("Keyfunc, issuer %s: %v", iss.URL, err)
		}
	}
	_, _, doc := v.ServeResourceMetadata("GET")
	if want := `"authorization_servers":["` + a.URL + `","` + b.URL + `"]`; !strings.Contains(string(doc), want) {
		t.Fatalf("document %s lacks %s", doc, want)
	}
}

// TestIssuersOptions: New refuses what cannot route.
func TestIssuersOptions(t *testing.T) {
	a := authtest.MustIssuer(t)
	for _, tt := range []struct {
		name string
		opts []core.Option
	}{
		{"WithIssuer beside WithIssuers", []core.Option{core.WithIssuer(a.URL), core.WithIssuers(core.Issuer{URL: a.URL, Options: []core.Option{core.WithAudiences("x")}})}},
		{"an issuer twice", []core.Option{core.WithAudiences("x"), core.WithIssuers(core.Issuer{URL: a.URL}, core.Issuer{URL: a.URL})}},
		{"an issuer without audience", []core.Option{core.WithIssuers(core.Issuer{URL: a.URL})}},
		{"an empty table", []core.Option{core.WithIssuerResolver(core.EntraMultiTenant(nil)), core.WithIssuerTable(-1, time.Hour)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if v, err := core.New(context.Background(), tt.opts...); err == nil {
				v.Close()
				t.Fatal("New accepted it")
			}
		})
	}
}

// TestEntraMultiTenant: the resolver accepts the v2.0 issuer of an allowed
// tenant only, and never builds anything for another.
func TestEntraMultiTenant(t *testing.T) {
	const tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	r := core.EntraMultiTenant([]string{tenant}, "api://notes")
	for _, tt := range []struct {
		iss  string
		want bool
	}{
		{"https://login.microsoftonline.com/" + tenant + "/v2.0", true},
		{"https://login.microsoftonline.com/" + "00000000-0000-0000-0000-000000000000" + "/v2.0", false},
		{"https://login.microsoftonline.com/" + tenant + "/v2.0/", false},
		{"https://login.microsoftonline.com/common/v2.0", false},
		{"https://sts.windows.net/" + tenant + "/", false},
		{"https://login.microsoftonline.com.evil.example/" + tenant + "/v2.0", false},
	} {
		opts, ok, err := r(context.Background(), tt.iss)
		if err != nil || ok != tt.want || (len(opts) > 0) != tt.want {
			t.Fatalf("%s: %v, %v, %v; want %v", tt.iss, opts, ok, err, tt.want)
		}
	}
}
