package core_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
)

// newVerifier builds a verifier against iss with the given extra options and
// waits for its keys.
func newVerifier(t testing.TB, iss *authtest.Issuer, opts ...core.Option) *core.Verifier {
	t.Helper()
	return readyVerifier(t, append([]core.Option{core.WithIssuer(iss.URL)}, opts...)...)
}

// readyVerifier is New(opts...) with its keys loaded (of every issuer, for
// a many-issuer Verifier); it closes when the test ends.
func readyVerifier(t testing.TB, opts ...core.Option) *core.Verifier {
	t.Helper()
	v, err := core.New(context.Background(), opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = v.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := v.Ready(ctx); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	return v
}

// wantErr checks that err is an *Error of the sentinel and the status, and
// that a 503 says when to retry; it returns the *Error.
func wantErr(t *testing.T, err, sentinel error, status int) *core.Error {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("err = %v, want %v", err, sentinel)
	}
	var e *core.Error
	if !errors.As(err, &e) {
		t.Fatalf("err %T is not a *core.Error", err)
	}
	if e.Status != status {
		t.Fatalf("status = %d, want %d", e.Status, status)
	}
	if status == http.StatusServiceUnavailable && e.RetryAfter <= 0 {
		t.Fatalf("503 with RetryAfter %d, want > 0", e.RetryAfter)
	}
	return e
}

func TestNewRejectsUnsafeConfiguration(t *testing.T) {
	tests := []struct {
		name string
		opts []core.Option
		want string
	}{
		{"no issuer", []core.Option{core.WithAudiences("a")}, "issuer is required"},
		{"no audience nor client", []core.Option{core.WithIssuer("https://id.example.com")}, "audiences or client ids"},
		{"http issuer off loopback", []core.Option{core.WithIssuer("http://id.example.com"), core.WithAudiences("a")}, "plain http"},
		{"http jwks off loopback", []core.Option{core.WithIssuer("https://id.example.com"), core.WithJWKSURL("http://keys.example.com/jwks"), core.WithAudiences("a")}, "plain http"},
		{"relative issuer", []core.Option{core.WithIssuer("/issuer"), core.WithAudiences("a")}, "absolute"},
		{"issuer with a query", []core.Option{core.WithIssuer("https://id.example.com/?tenant=1"), core.WithAudiences("a")}, "query or fragment"},
		{"issuer with a fragment", []core.Option{core.WithIssuer("https://id.example.com/#x"), core.WithAudiences("a")}, "query or fragment"},
		{"HS256 allowed", []core.Option{core.WithIssuer("https://id.example.com"), core.WithAudiences("a"), core.WithAlgorithms("RS256", "HS256")}, `"HS256"`},
		{"none allowed", []core.Option{core.WithIssuer("https://id.example.com"), core.WithAudiences("a"), core.WithAlgorithms("none")}, `"none"`},
		{"empty allow-list", []core.Option{core.WithIssuer("https://id.example.com"), core.WithAudiences("a"), core.WithAlgorithms()}, "allow-list is empty"},
		{"leeway too large", []core.Option{core.WithIssuer("https://id.example.com"), core.WithAudiences("a"), core.WithLeeway(time.Hour)}, "leeway"},
		{"negative leeway", []core.Option{core.WithIssuer("https://id.example.com"), core.WithAudiences("a"), core.WithLeeway(-time.Second)}, "leeway"},
		{"tiny size cap", []core.Option{core.WithIssuer("https://id.example.com"), core.WithAudiences("a"), core.WithMaxTokenSize(10)}, "size cap"},
		{"realm with quote", []core.Option{core.WithIssuer("https://id.example.com"), core.WithAudiences("a"), core.WithRealm(`a"b`)}, "realm"},
		{"empty audience", []core.Option{core.WithIssuer("https://id.example.com"), core.WithAudiences("")}, "empty audience"},
		// An empty environment variable split on commas gives [""]: that
		// must not make a token with "iss":"" acceptable.
		{"empty issuer alias", []core.Option{core.WithIssuer("https://id.example.com"), core.WithAudiences("a"), core.WithIssuerAliases("")}, "empty issuer alias"},
		{"empty cookie name", []core.Option{core.WithIssuer("https://id.example.com"), core.WithAudiences("a"), core.WithCookieToken("")}, "cookie name"},
		{"bad claim path", []core.Option{core.WithIssuer("https://id.example.com"), core.WithAudiences("a"), core.WithScopeClaims("a..b")}, "claim name"},
		{"refresh floor over the staleness bound", []core.Option{core.WithIssuer("https://id.example.com"), core.WithAudiences("a"), core.WithRefreshBounds(48*time.Hour, 48*time.Hour)}, "staleness bound"},
		{"cooldown too short", []core.Option{core.WithIssuer("https://id.example.com"), core.WithAudiences("a"), core.WithUnknownKIDCooldown(time.Millisecond)}, "cooldown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := core.New(context.Background(), tt.opts...)
			if err == nil {
				_ = v.Close()
				t.Fatal("New accepted the configuration")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func TestNewWithoutContextIsAnError(t *testing.T) {
	//lint:ignore SA1012 a nil context is the mistake under test
	v, err := core.New(nil, core.WithIssuer("https://id.example.com"), core.WithAudiences("a")) //nolint:staticcheck
	if err == nil {
		_ = v.Close()
		t.Fatal("New(nil, …) succeeded")
	}
	if !strings.Contains(err.Error(), "context") {
		t.Fatalf("error %q does not say what is missing", err)
	}
}

func TestNewAllowsInsecureSwitchesByName(t *testing.T) {
	v, err := core.New(context.Background(), core.WithIssuer("http://id.example.com"),
		core.WithInsecureHTTP(), core.WithInsecureSkipAudience(), core.WithFetchTimeout(10*time.Millisecond))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	_ = v.Close()
}

func TestPrincipalFields(t *testing.T) {
	iss := authtest.MustIssuer(t)
	v := newVerifier(t, iss, core.WithAudiences("api"), core.WithRoleClaims("realm_access.roles"))
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	tok := iss.MustMint(t, authtest.Claims{
		"aud": []string{"api", "other"}, "scope": "a b a", "scp": []string{"c", "b"}, "client_id": "cli", "azp": "ignored",
		"exp": exp.Unix(), "nbf": exp.Add(-2 * time.Hour).Unix(), "jti": "j1",
		"realm_access": map[string]any{"roles": []string{"admin"}}, "custom": map[string]any{"tenant": "t1"},
	})
	p, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"subject", p.Subject, authtest.DefaultSubject},
		{"issuer", p.Issuer, iss.URL},
		{"audience", fmt.Sprint(p.Audience), "[api other]"},
		{"scopes deduplicated in order", fmt.Sprint(p.Scopes), "[a b c]"},
		{"roles from nested claim", fmt.Sprint(p.Roles), "[admin]"},
		{"client_id before azp", p.ClientID, "cli"},
		{"jti", p.ID, "j1"},
		{"exp", p.ExpiresAt.Equal(exp), true},
		{"nbf", p.NotBefore.Equal(exp.Add(-2 * time.Hour)), true},
		{"kid", p.KeyID, iss.SigningKey().ID},
		{"alg", p.Algorithm, "RS256"},
		{"HasScope", p.HasScope("c") && !p.HasScope("C"), true},
		{"HasRole", p.HasRole("admin"), true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	type custom struct {
		Custom struct {
			Tenant string `json:"tenant"`
		} `json:"custom"`
	}
	cl, err := core.DecodeClaims[custom](p)
	if err != nil || cl.Custom.Tenant != "t1" {
		t.Fatalf("DecodeClaims = %+v, %v", cl, err)
	}
	raw := p.Claims()
	raw[0] = 'X' // a copy: the principal must not change
	if p.Claims()[0] != '{' {
		t.Fatal("Claims returned the principal's own bytes")
	}
}

func TestContextHelpers(t *testing.T) {
	if p, ok := core.PrincipalFromContext(context.Background()); ok || p != nil {
		t.Fatal("empty context yields a principal")
	}
	if _, ok := core.PrincipalFromContext(core.WithPrincipal(context.Background(), nil)); ok {
		t.Fatal("a nil principal is reported as present")
	}
	want := &core.Principal{Subject: "s"}
	got, ok := core.PrincipalFromContext(core.WithPrincipal(context.Background(), want))
	if !ok || got != want {
		t.Fatalf("got %v, %v", got, ok)
	}
}

func TestAudienceAndClientRules(t *testing.T) {
	iss := authtest.MustIssuer(t)
	type mode struct {
		name string
		opts []core.Option
	}
	audOnly := mode{"audience only", []core.Option{core.WithAudiences("api")}}
	clientOnly := mode{"client only", []core.Option{core.WithClientIDs("app1")}}
	both := mode{"audience and client", []core.Option{core.WithAudiences("api"), core.WithClientIDs("app1")}}
	insecure := mode{"insecure skip", []core.Option{core.WithInsecureSkipAudience()}}
	tests := []struct {
		mode   mode
		claims authtest.Claims
		want   error // nil: accepted
	}{
		{audOnly, authtest.Claims{"aud": "api"}, nil},
		{audOnly, authtest.Claims{"aud": []string{"x", "api"}}, nil},
		{audOnly, authtest.Claims{"aud": "API"}, core.ErrAudienceInvalid},
		{audOnly, authtest.Claims{"aud": []string{}}, core.ErrAudienceInvalid},
		{audOnly, authtest.Claims{"aud": authtest.Omit}, core.ErrAudienceInvalid},
		{audOnly, authtest.Claims{"aud": 5}, core.ErrClaimType},
		{clientOnly, authtest.Claims{"aud": authtest.Omit, "client_id": "app1"}, nil},
		{clientOnly, authtest.Claims{"aud": authtest.Omit, "azp": "app1"}, nil},
		{clientOnly, authtest.Claims{"aud": authtest.Omit, "client_id": "app2"}, core.ErrClientInvalid},
		{clientOnly, authtest.Claims{"aud": authtest.Omit}, core.ErrClientInvalid},
		{clientOnly, authtest.Claims{"aud": "app1", "client_id": "app1"}, core.ErrAudienceInvalid},
		{both, authtest.Claims{"aud": "api", "client_id": "app1"}, nil},
		{both, authtest.Claims{"aud": "api", "client_id": "app2"}, core.ErrClientInvalid},
		{both, authtest.Claims{"aud": "other", "client_id": "app1"}, core.ErrAudienceInvalid},
		{both, authtest.Claims{"aud": authtest.Omit, "client_id": "app1"}, nil},
		{both, authtest.Claims{"aud": "api", "client_id": 7}, core.ErrClaimType},
		{insecure, authtest.Claims{"aud": "anything"}, nil},
		{insecure, authtest.Claims{"aud": authtest.Omit}, nil},
	}
	verifiers := map[string]*core.Verifier{}
	for _, tt := range tests {
		name := fmt.Sprintf("%s/%v", tt.mode.name, tt.claims)
		t.Run(name, func(t *testing.T) {
			v, ok := verifiers[tt.mode.name]
			if !ok {
				v = newVerifier(t, iss, tt.mode.opts...)
				verifiers[tt.mode.name] = v
			}
			_, err := v.Verify(context.Background(), iss.MustMint(t, tt.claims))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			wantErr(t, err, tt.want, http.StatusUnauthorized)
		})
	}
}

func TestTimeClaimsAndLeeway(t *testing.T) {
	iss := authtest.MustIssuer(t)
	now := time.Now()
	v := newVerifier(t, iss, core.WithAudiences(authtest.DefaultAudience), core.WithLeeway(5*time.Second),
		core.WithoutTokenCache())
	tests := []struct {
		name   string
		claims authtest.Claims
		want   error
	}{
		{"exp in the future", authtest.Claims{"exp": now.Add(time.Minute).Unix()}, nil},
		{"exp within leeway", authtest.Claims{"exp": now.Add(-2 * time.Second).Unix()}, nil},
		{"exp beyond leeway", authtest.Claims{"exp": now.Add(-10 * time.Second).Unix()}, core.ErrTokenExpired},
		{"exp fractional", authtest.Claims{"exp": float64(now.Add(time.Minute).UnixMilli()) / 1000}, nil},
		{"exp missing", authtest.Claims{"exp": authtest.Omit}, core.ErrMissingClaim},
		{"exp null", authtest.Claims{"exp": nil}, core.ErrClaimType},
		{"exp string", authtest.Claims{"exp": "9999999999"}, core.ErrClaimType},
		{"nbf within leeway", authtest.Claims{"nbf": now.Add(2 * time.Second).Unix()}, nil},
		{"nbf beyond leeway", authtest.Claims{"nbf": now.Add(time.Minute).Unix()}, core.ErrTokenNotYetValid},
		{"iat within leeway", authtest.Claims{"iat": now.Add(2 * time.Second).Unix()}, nil},
		{"iat beyond leeway", authtest.Claims{"iat": now.Add(time.Minute).Unix()}, core.ErrIssuedInFuture},
		{"iat as string", authtest.Claims{"iat": "now"}, core.ErrClaimType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), iss.MustMint(t, tt.claims))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			wantErr(t, err, tt.want, http.StatusUnauthorized)
		})
	}
}

// An unknown kid makes Verify wait for a JWKS fetch. The claims must be
// checked against the clock after that wait: a token that expired while
// the provider was slow is refused, as it will be on the next request.
func TestTimeClaimsUseTheClockAfterAKeyFetch(t *testing.T) {
	iss := authtest.MustIssuer(t)
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	v := newVerifier(t, iss, core.WithAudiences(authtest.DefaultAudience), core.WithClock(clock), core.WithLeeway(0))
	if _, err := iss.Rotate("RS256"); err != nil {
		t.Fatal(err)
	}
	tok := iss.MustMint(t, authtest.Claims{"exp": clock().Add(2 * time.Second).Unix(), "iat": clock().Unix() - 1})
	// The provider takes 5 s to answer (within the 10 s fetch timeout).
	iss.SetJWKSHook(func(*http.Request) { mu.Lock(); now = now.Add(5 * time.Second); mu.Unlock() })
	_, err := v.Verify(context.Background(), tok)
	wantErr(t, err, core.ErrTokenExpired, http.StatusUnauthorized)
}

func TestIssuerMatchesExactly(t *testing.T) {
	iss := authtest.MustIssuer(t)
	v := newVerifier(t, iss, core.WithAudiences(authtest.DefaultAudience), core.WithIssuerAliases("127.0.0.1-alias"))
	for _, tt := range []struct {
		iss  any
		want error
	}{
		{iss.URL, nil},
		{"127.0.0.1-alias", nil},
		{iss.URL + "/", core.ErrIssuerInvalid},
		{strings.ToUpper(iss.URL), core.ErrIssuerInvalid},
		{authtest.Omit, core.ErrIssuerInvalid},
		{42, core.ErrClaimType},
	} {
		t.Run(fmt.Sprint(tt.iss), func(t *testing.T) {
			_, err := v.Verify(context.Background(), iss.MustMint(t, authtest.Claims{"iss": tt.iss}))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			wantErr(t, err, tt.want, http.StatusUnauthorized)
		})
	}
}

func TestTokenTypeChecks(t *testing.T) {
	iss := authtest.MustIssuer(t)
	plain := newVerifier(t, iss, core.WithAudiences(authtest.DefaultAudience))
	typed := newVerifier(t, iss, core.WithAudiences(authtest.DefaultAudience), core.WithRequireATJWT())
	tests := []struct {
		name   string
		v      *core.Verifier
		claims authtest.Claims
		typ    any
		want   error
	}{
		{"token_use access", plain, authtest.Claims{"token_use": "access"}, "JWT", nil},
		{"token_use id", plain, authtest.Claims{"token_use": "id"}, "JWT", core.ErrTokenType},
		{"token_use not a string", plain, authtest.Claims{"token_use": 1}, "JWT", core.ErrClaimType},
		{"at+jwt required and sent", typed, nil, "at+jwt", nil},
		{"at+jwt any case", typed, nil, "AT+JWT", nil},
		{"application/at+jwt", typed, nil, "application/at+jwt", nil},
		{"plain JWT refused", typed, nil, "JWT", core.ErrTokenType},
		{"typ absent refused", typed, nil, authtest.Omit, core.ErrTokenType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.v.Verify(context.Background(), iss.MustMint(t, tt.claims, authtest.Header("typ", tt.typ)))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			wantErr(t, err, tt.want, http.StatusUnauthorized)
		})
	}
}

func TestAlgorithmAllowListAndKeyBinding(t *testing.T) {
	for _, alg := range authtest.Algorithms {
		t.Run(alg, func(t *testing.T) {
			iss := authtest.MustIssuer(t, authtest.WithAlgorithm(alg))
			v := newVerifier(t, iss, core.WithAudiences(authtest.DefaultAudience))
			p, err := v.Verify(context.Background(), iss.MustMint(t, nil))
			if err != nil || p.Algorithm != alg {
				t.Fatalf("Verify = %v, %v", p, err)
			}
			only := newVerifier(t, iss, core.WithAudiences(authtest.DefaultAudience), core.WithAlgorithms(otherAlg(alg)))
			_, err = only.Verify(context.Background(), iss.MustMint(t, nil))
			wantErr(t, err, core.ErrAlgorithmNotAllowed, http.StatusUnauthorized)
		})
	}
}

func otherAlg(alg string) string {
	if alg == "ES256" {
		return "ES384"
	}
	return "ES256"
}

func TestRequirements(t *testing.T) {
	iss := authtest.MustIssuer(t)
	v := newVerifier(t, iss, core.WithAudiences(authtest.DefaultAudience), core.WithRoleClaims("roles"))
	p, err := v.Verify(context.Background(), iss.MustMint(t, authtest.Claims{"scope": "a b", "roles": []string{"r1", "team lead", "Geschäftsführung"}}))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		r    *core.Requirement
		ok   bool
		ch   string
	}{
		{"all met", v.RequireScopes("a", "b"), true, ""},
		{"all half met", v.RequireScopes("a", "c"), false, `Bearer realm="api", error="insufficient_scope", scope="a c"`},
		{"any met", v.RequireAnyScope("c", "b"), true, ""},
		{"any not met", v.RequireAnyScope("c", "d"), false, `Bearer realm="api", error="insufficient_scope", scope="c d"`},
		{"role met", v.RequireRoles("r1"), true, ""},
		{"role not met", v.RequireAnyRole("r2"), false, `Bearer realm="api", error="insufficient_scope"`},
		{"empty requirement refuses", v.RequireScopes(), false, `Bearer realm="api", error="insufficient_scope"`},
		{"invalid scope refuses", v.RequireScopes(`a"b`), false, `Bearer realm="api", error="insufficient_scope"`},
		{"scope with space refuses", v.RequireScopes("a b"), false, `Bearer realm="api", error="insufficient_scope"`},
		// Roles never reach the challenge, so any name a provider allows
		// can be required.
		{"role with space met", v.RequireRoles("team lead"), true, ""},
		{"non-ASCII role met", v.RequireAnyRole("x", "Geschäftsführung"), true, ""},
		{"empty role refuses", v.RequireRoles(""), false, `Bearer realm="api", error="insufficient_scope"`},
		{"invalid UTF-8 role refuses", v.RequireRoles("\xff"), false, `Bearer realm="api", error="insufficient_scope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.r.Check(p)
			if tt.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			wantErr(t, err, core.ErrInsufficientScope, http.StatusForbidden)
			if got := strings.Join(core.AsError(err).Challenges(), ", "); got != tt.ch {
				t.Fatalf("challenge = %q, want %q", got, tt.ch)
			}
		})
	}
	if v.RequireScopes().Err() == nil || v.RequireScopes("x").Err() != nil {
		t.Fatal("Requirement.Err does not report a bad requirement")
	}
	wantErr(t, v.RequireScopes("a").Check(nil), core.ErrNoCredentials, http.StatusUnauthorized)
}

// A scope or role claim name is matched whole first: namespaced names
// hold dots (Auth0 requires URLs for custom claims), and must neither be
// missed nor be read from a nested path that happens to spell them.
func TestClaimNamesMatchWholeBeforePaths(t *testing.T) {
	iss := authtest.MustIssuer(t)
	const claim = "https://notes.example.com/roles"
	v := newVerifier(t, iss, core.WithAudiences(authtest.DefaultAudience),
		core.WithRoleClaims("realm_access.roles", claim, "resource_access.urn:notes:api.roles"))
	nested := map[string]any{"example": map[string]any{"com/roles": []string{"spelled"}}}
	tests := []struct {
		name   string
		claims authtest.Claims
		want   []string
	}{
		{"namespaced claim read whole", authtest.Claims{claim: []string{"admin"}}, []string{"admin"}},
		{"whole name wins over a path", authtest.Claims{claim: []string{"admin"}, "https://notes": nested}, []string{"admin"}},
		{"dotted path still reaches nested claims", authtest.Claims{"realm_access": map[string]any{"roles": []string{"editor"}}}, []string{"editor"}},
		{"a URI name is never a path", authtest.Claims{"https://notes": nested}, nil},
		{"a path may hold ':' after its first dot", authtest.Claims{"resource_access": map[string]any{"urn:notes:api": map[string]any{"roles": []string{"client-role"}}}}, []string{"client-role"}},
		// In the token, claim comes first (names are sorted); configured, second.
		{"claims read in configured order", authtest.Claims{"realm_access": map[string]any{"roles": []string{"editor"}}, claim: "admin"}, []string{"editor", "admin"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := v.Verify(context.Background(), iss.MustMint(t, tt.claims))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(p.Roles, tt.want) && (len(p.Roles) > 0 || len(tt.want) > 0) {
				t.Fatalf("roles = %q, want %q", p.Roles, tt.want)
			}
		})
	}
}

func TestAuthenticateOptional(t *testing.T) {
	iss := authtest.MustIssuer(t)
	v := newVerifier(t, iss, core.WithAudiences(authtest.DefaultAudience))
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	p, err := v.AuthenticateOptional(context.Background(), core.FromHTTP(r))
	if p != nil || err != nil {
		t.Fatalf("anonymous = %v, %v", p, err)
	}
	r.Header.Set("Authorization", "Bearer not-a-jwt")
	_, err = v.AuthenticateOptional(context.Background(), core.FromHTTP(r))
	wantErr(t, err, core.ErrTokenMalformed, http.StatusUnauthorized)
}

func TestErrorModel(t *testing.T) {
	iss := authtest.MustIssuer(t)
	v := newVerifier(t, iss, core.WithAudiences(authtest.DefaultAudience), core.WithRealm("notes"))
	_, err := v.Verify(context.Background(), iss.MustMint(t, authtest.Claims{"exp": time.Now().Add(-time.Hour).Unix()}))
	e := core.AsError(err)
	params := `realm="notes", error="invalid_token", error_description="the access token has expired"`
	want := []string{`Bearer ` + params, `DPoP realm="notes", ` + authtest.DPoPAlgs + params[len(`realm="notes"`):]}
	if got := e.Challenges(); !slices.Equal(got, want) {
		t.Fatalf("challenges = %q, want %q", got, want)
	}
	if got := e.Header().Values("WWW-Authenticate"); !slices.Equal(got, want) {
		t.Fatalf("WWW-Authenticate fields = %q, want %q", got, want)
	}
	if string(e.Body()) != `{"error":"invalid_token","error_description":"the access token has expired"}` {
		t.Fatalf("body = %s", e.Body())
	}
	h := e.Header()
	if h.Get("Content-Type") != "application/json" || h.Get("Cache-Control") != "no-store" || h.Get("Retry-After") != "" {
		t.Fatalf("headers = %v", h)
	}
	if !errors.Is(err, core.ErrTokenExpired) || strings.Contains(e.Description, iss.URL) {
		t.Fatalf("classification or leak: %v", err)
	}
	if got := core.AsError(errors.New("boom")); got.Status != http.StatusUnauthorized {
		t.Fatalf("foreign error mapped to %d", got.Status)
	}
	if core.AsError(nil) != nil {
		t.Fatal("AsError(nil) != nil")
	}
}

func TestTokenCache(t *testing.T) {
	iss := authtest.MustIssuer(t)
	var hits, misses atomic.Int64
	clock := struct {
		sync.Mutex
		t time.Time
	}{t: time.Now()}
	now := func() time.Time { clock.Lock(); defer clock.Unlock(); return clock.t }
	advance := func(d time.Duration) { clock.Lock(); clock.t = clock.t.Add(d); clock.Unlock() }
	hooks := core.Hooks{OnVerify: func(i core.VerifyInfo) {
		if i.Err == nil && i.CacheHit {
			hits.Add(1)
		} else if i.Err == nil {
			misses.Add(1)
		}
	}}
	v := newVerifier(t, iss, core.WithAudiences(authtest.DefaultAudience), core.WithHooks(hooks), core.WithClock(now),
		core.WithLeeway(0))
	tok := iss.MustMint(t, authtest.Claims{"exp": now().Add(time.Minute).Unix()})
	for range 3 {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	if hits.Load() != 2 || misses.Load() != 1 {
		t.Fatalf("hits %d misses %d, want 2 and 1", hits.Load(), misses.Load())
	}
	t.Run("expiry while cached", func(t *testing.T) {
		advance(2 * time.Minute)
		_, err := v.Verify(context.Background(), tok)
		wantErr(t, err, core.ErrTokenExpired, http.StatusUnauthorized)
	})
	t.Run("failures are not cached", func(t *testing.T) {
		bad := tok[:len(tok)-4] + "AAAA"
		for range 2 {
			_, err := v.Verify(context.Background(), bad)
			if !errors.Is(err, core.ErrSignatureInvalid) && !errors.Is(err, core.ErrTokenMalformed) {
				t.Fatalf("err = %v", err)
			}
		}
	})
}

func TestTokenCacheDropsRemovedKeys(t *testing.T) {
	iss := authtest.MustIssuer(t)
	iss.SetCacheControl("max-age=0")
	v := newVerifier(t, iss, core.WithAudiences(authtest.DefaultAudience), core.WithRefreshBounds(20*time.Millisecond, time.Second))
	old := iss.SigningKey()
	tok := iss.MustMint(t, nil)
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	if _, err := iss.Rotate("RS256"); err != nil {
		t.Fatal(err)
	}
	iss.Retire(old.ID)
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := v.Verify(context.Background(), tok)
		if errors.Is(err, core.ErrUnknownKey) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("token of a removed key still accepted after refreshes: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := v.Verify(context.Background(), iss.MustMint(t, nil)); err != nil {
		t.Fatalf("new key refused: %v", err)
	}
}

func TestNilVerifierAndRequirementFailClosed(t *testing.T) {
	var v *core.Verifier
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	_, err := v.Authenticate(context.Background(), core.FromHTTP(r))
	wantErr(t, err, core.ErrMisconfigured, http.StatusInternalServerError)
	_, err = v.Verify(context.Background(), "a.b.c")
	wantErr(t, err, core.ErrMisconfigured, http.StatusInternalServerError)
	_, err = v.Authorize(context.Background(), core.FromHTTP(r), nil, nil)
	wantErr(t, err, core.ErrMisconfigured, http.StatusInternalServerError)
	var req *core.Requirement
	wantErr(t, req.Check(&core.Principal{}), core.ErrMisconfigured, http.StatusInternalServerError)
	// A Requirement written by hand names nothing: it must refuse, not
	// let every token through.
	for _, zero := range []*core.Requirement{{}, new(core.Requirement)} {
		wantErr(t, zero.Check(&core.Principal{Scopes: []string{"s"}}), core.ErrMisconfigured, http.StatusInternalServerError)
		if zero.Err() == nil {
			t.Fatal("Err does not report a zero Requirement")
		}
	}
	if req.Err() == nil {
		t.Fatal("Err does not report a nil Requirement")
	}
	// A guard with such a requirement answers 500 to every request, with a
	// token or without: the mistake shows on the first request.
	iss := authtest.MustIssuer(t)
	good := newVerifier(t, iss, core.WithAudiences(authtest.DefaultAudience))
	for _, zero := range []*core.Requirement{nil, {}} {
		_, err = good.Authorize(context.Background(), core.FromHTTP(r), nil, zero)
		wantErr(t, err, core.ErrMisconfigured, http.StatusInternalServerError)
	}
	if ch := core.AsError(err).Challenges(); len(ch) != 0 {
		t.Fatal("a server fault carries a bearer challenge")
	}
}

func TestAuthorizeReusesOnlyItsOwnPrincipals(t *testing.T) {
	issA, issB := authtest.MustIssuer(t), authtest.MustIssuer(t)
	var calls atomic.Int64
	count := core.WithHooks(core.Hooks{OnVerify: func(core.VerifyInfo) { calls.Add(1) }})
	vA := newVerifier(t, issA, core.WithAudiences(authtest.DefaultAudience), count)
	vB := newVerifier(t, issB, core.WithAudiences(authtest.DefaultAudience), count)
	tokA := issA.MustMint(t, authtest.Claims{"scope": "s"})
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+tokA)
	pA, err := vA.Authenticate(context.Background(), core.FromHTTP(r))
	if err != nil {
		t.Fatal(err)
	}
	calls.Store(0)
	if _, err := vA.Authorize(context.Background(), core.FromHTTP(r), pA, vA.RequireScopes("s")); err != nil || calls.Load() != 0 {
		t.Fatalf("own principal: err %v, %d verifications, want reuse", err, calls.Load())
	}
	// vB must not accept vA's principal: it verifies the request itself, and issuer A's key is not in B's JWKS.
	_, err = vB.Authorize(context.Background(), core.FromHTTP(r), pA, vB.RequireScopes("s"))
	wantErr(t, err, core.ErrUnknownKey, http.StatusUnauthorized)
	forged := &core.Principal{Subject: "x", Scopes: []string{"s"}}
	_, err = vA.Authorize(context.Background(), core.FromHTTP(&http.Request{Header: http.Header{}}), forged, vA.RequireScopes("s"))
	wantErr(t, err, core.ErrNoCredentials, http.StatusUnauthorized)
}

func TestNilVerifierRequirementRefuses(t *testing.T) {
	var v *core.Verifier
	wantErr(t, v.RequireScopes("a").Check(&core.Principal{}), core.ErrMisconfigured, http.StatusInternalServerError)
}

func TestSteps(t *testing.T) {
	iss := authtest.MustIssuer(t)
	var calls atomic.Int64
	v := newVerifier(t, iss, core.WithAudiences(authtest.DefaultAudience),
		core.WithHooks(core.Hooks{OnVerify: func(core.VerifyInfo) { calls.Add(1) }}))
	anon, _ := http.NewRequest(http.MethodGet, "/", nil)
	if p, err := v.OptionalAuthenticator()(context.Background(), core.FromHTTP(anon), nil); p != nil || err != nil {
		t.Fatalf("optional step on an anonymous request = %v, %v", p, err)
	}
	_, err := v.Authenticator()(context.Background(), core.FromHTTP(anon), nil)
	wantErr(t, err, core.ErrNoCredentials, http.StatusUnauthorized)

	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+iss.MustMint(t, authtest.Claims{"scope": "a"}))
	p, err := v.Authenticator()(context.Background(), core.FromHTTP(r), nil)
	if err != nil {
		t.Fatal(err)
	}
	calls.Store(0)
	if again, err := v.Authenticator()(context.Background(), core.FromHTTP(r), p); again != p || err != nil || calls.Load() != 0 {
		t.Fatalf("a second middleware re-verified: %v, %v, %d calls", again, err, calls.Load())
	}
	if _, err := v.Guard(v.RequireScopes("a"))(context.Background(), core.FromHTTP(r), p); err != nil || calls.Load() != 0 {
		t.Fatalf("guard after middleware: %v, %d calls", err, calls.Load())
	}
	_, err = v.Guard(v.RequireScopes("b"))(context.Background(), core.FromHTTP(r), p)
	wantErr(t, err, core.ErrInsufficientScope, http.StatusForbidden)
}
