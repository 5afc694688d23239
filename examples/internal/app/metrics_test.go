package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
	"github.com/jwksauth/jwksauth/examples/internal/app"
	"github.com/jwksauth/jwksauth/examples/internal/echoapp"
	"github.com/jwksauth/jwksauth/examples/internal/ginapp"
)

// scrape reads base/metrics in the Prometheus text format.
func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	a := call(t, "GET", base+app.MetricsPath)
	if a.status != 200 || !strings.HasPrefix(a.contentType, "text/plain") {
		t.Fatalf("GET /metrics: %d %q", a.status, a.contentType)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(a.body)))
	if err != nil {
		t.Fatalf("GET /metrics: %v\n%s", err, a.body)
	}
	return fams
}

// sample returns the value of the sample of family name whose labels
// include want, and whether there is one.
func sample(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

// total sums every sample of a counter family.
func total(fams map[string]*dto.MetricFamily, name string) float64 {
	var sum float64
	if f := fams[name]; f != nil {
		for _, m := range f.GetMetric() {
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

func req(method, route, outcome, reason, code string) map[string]string {
	return map[string]string{"method": method, "route": route, "outcome": outcome, "reason": reason, "code": code}
}

// TestMetricsCount sends each framework a 200, a 401 and a 403 (and a few
// more) and reads /metrics: each answer is counted once, under its route,
// outcome, reason and status; verifications, cache hits, JWKS refreshes
// (start-up and unknown kid) and unknown kids are counted from core's hooks.
func TestMetricsCount(t *testing.T) {
	for _, fw := range frameworks {
		t.Run(fw.Name, func(t *testing.T) {
			iss := authtest.MustIssuer(t)
			m := app.NewMetrics()
			v := newVerifier(t, iss, core.WithHooks(m.Hooks()))
			base := serve(t, fw, app.Service{Verifier: v, Metrics: m})

			read := iss.MustMint(t, authtest.Claims{"scope": app.ScopeRead})
			expired := iss.MustMint(t, authtest.Claims{"scope": app.ScopeRead, "exp": time.Now().Add(-time.Hour).Unix()})
			sends := []struct {
				method, path, token string
				status              int
			}{
				{"GET", "/notes", read, 200},
				{"GET", "/notes", read, 200}, // from the token cache
				{"GET", "/notes", "", 401},
				{"POST", "/notes", read, 403},
				{"GET", "/notes", expired, 401},
				{"PUT", "/notes/a%2Fb", iss.MustMint(t, authtest.Claims{"scope": app.ScopeUpdate}), 404},
				{"GET", "/healthz", "", 200}, // public: not an auth decision
				{"GET", "/nope", read, 404},  // no route: not counted
			}
			for _, s := range sends {
				var auth []string
				if s.token != "" {
					auth = []string{"Bearer " + s.token}
				}
				if a := call(t, s.method, base+s.path, auth...); a.status != s.status {
					t.Fatalf("%s %s: %d, want %d (%s)", s.method, s.path, a.status, s.status, a.body)
				}
			}
			// A token signed by a new key: its unknown kid refreshes the JWKS.
			if _, err := iss.Rotate("ES256"); err != nil {
				t.Fatal(err)
			}
			if a := call(t, "GET", base+"/my-scopes", "Bearer "+iss.MustMint(t, authtest.Claims{"scope": app.ScopeRead})); a.status != 200 {
				t.Fatalf("token of the new key: %d %s", a.status, a.body)
			}

			fams := scrape(t, base)
			want := []struct {
				name   string
				labels map[string]string
				value  float64
			}{
				{"jwksauth_requests_total", req("GET", "/notes", "allowed", "ok", "200"), 2},
				{"jwksauth_requests_total", req("GET", "/notes", "refused", "no_credentials", "401"), 1},
				{"jwksauth_requests_total", req("POST", "/notes", "refused", "insufficient_scope", "403"), 1},
				{"jwksauth_requests_total", req("GET", "/notes", "refused", "expired", "401"), 1},
				{"jwksauth_requests_total", req("PUT", "/notes/:id", "allowed", "ok", "404"), 1},
				{"jwksauth_requests_total", req("GET", "/my-scopes", "allowed", "ok", "200"), 1},
				// GET twice and POST with read, PUT, and the new key's token
				{"jwksauth_token_verifications_total", map[string]string{"result": "valid", "reason": "ok"}, 5},
				{"jwksauth_token_verifications_total", map[string]string{"result": "invalid", "reason": "no_credentials"}, 1},
				{"jwksauth_token_verifications_total", map[string]string{"result": "invalid", "reason": "expired"}, 1},
				{"jwksauth_token_cache_hits_total", nil, 2}, // the second GET and the POST
				{"jwksauth_jwks_refreshes_total", map[string]string{"trigger": "scheduled", "result": "success"}, 1},
				{"jwksauth_jwks_refreshes_total", map[string]string{"trigger": "unknown_kid", "result": "success"}, 1},
				{"jwksauth_jwks_refresh_duration_seconds", nil, 2},
				{"jwksauth_unknown_kid_total", nil, 1},
				{"jwksauth_unknown_kid_cooldown_total", nil, 0},
				{"jwksauth_jwks_keys", nil, 2},
			}
			for _, w := range want {
				got, ok := sample(fams, w.name, w.labels)
				if !ok || got != w.value {
					t.Errorf("%s%v = %v (present %v), want %v", w.name, w.labels, got, ok, w.value)
				}
			}
			if got := total(fams, "jwksauth_requests_total"); got != 7 {
				t.Errorf("jwksauth_requests_total sums to %v, want 7 (healthz and unknown paths are not counted)", got)
			}
			if last, _ := sample(fams, "jwksauth_jwks_last_success_timestamp_seconds", nil); time.Since(time.Unix(int64(last), 0)) > time.Minute {
				t.Errorf("last successful refresh at %v", time.Unix(int64(last), 0))
			}
			if _, ok := fams["go_goroutines"]; !ok {
				t.Error("no Go runtime metrics")
			}
		})
	}
}

// TestMetricsRefreshFailures: failed JWKS fetches and unusable keys are
// counted too.
func TestMetricsRefreshFailures(t *testing.T) {
	iss := authtest.MustIssuer(t)
	iss.SetFault(authtest.Fault500)
	m := app.NewMetrics()
	cfg, err := app.LoadConfig(env(map[string]string{app.EnvIssuer: iss.URL}))
	if err != nil {
		t.Fatal(err)
	}
	v, err := core.New(context.Background(), append(cfg.Options(), core.WithHooks(m.Hooks()))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close() })
	base := serve(t, ginapp.Framework, app.Service{Verifier: v, Metrics: m})

	failures := func() float64 {
		n, _ := sample(scrape(t, base), "jwksauth_jwks_refreshes_total", map[string]string{"result": "failure"})
		return n
	}
	deadline := time.Now().Add(5 * time.Second)
	for failures() < 1 {
		if time.Now().After(deadline) {
			t.Fatal("no failed refresh counted within 5s of a JWKS answering 500")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The provider recovers, with a key this library must skip.
	iss.SetExtraJWKs(json.RawMessage(`{"kty":"oct","kid":"secret-kid","k":"c2VjcmV0"}`))
	iss.SetFault(authtest.FaultNone)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := v.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	for {
		fams := scrape(t, base)
		ok, _ := sample(fams, "jwksauth_jwks_refreshes_total", map[string]string{"result": "success"})
		skipped, _ := sample(fams, "jwksauth_jwks_keys_skipped_total", nil)
		if ok >= 1 && skipped >= 1 {
			if body := call(t, "GET", base+app.MetricsPath).body; strings.Contains(string(body), "secret-kid") {
				t.Error("a kid shows in the metrics")
			}
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("after recovery: %v successful refreshes, %v skipped keys", ok, skipped)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestMetricsLabelsBounded sends hostile requests (unknown kids, odd
// paths, junk headers) and checks that every label value of the request
// and verification counters comes from a fixed set.
func TestMetricsLabelsBounded(t *testing.T) {
	iss := authtest.MustIssuer(t)
	m := app.NewMetrics()
	v := newVerifier(t, iss, core.WithHooks(m.Hooks()))
	base := serve(t, echoapp.Framework, app.Service{Verifier: v, Metrics: m})
	stranger, err := authtest.NewKey("RS256")
	if err != nil {
		t.Fatal(err)
	}
	for i, auth := range []string{
		"Bearer " + iss.MustMint(t, authtest.Claims{"scope": "x"}, authtest.SignedBy(stranger), authtest.Header("kid", "attacker-kid-1")),
		"Bearer not.a.token",
		"Bearer a b",
		"Basic Zm9vOmJhcg==",
		"Bearer " + iss.MustMint(t, authtest.Claims{"aud": "attacker-aud"}),
	} {
		for _, path := range []string{"/notes", "/notes/x" + fmt.Sprint(i), "/attacker-path", "/my-token"} {
			call(t, "DELETE", base+path, auth)
			call(t, "GET", base+path, auth)
		}
	}
	routes := map[string]bool{}
	methods := map[string]bool{}
	for _, rt := range app.Routes {
		routes[rt.Path], methods[rt.Method] = true, true
	}
	reasons := map[string]bool{"ok": true, "other": true, "unguarded": true}
	for _, err := range sentinels {
		reasons[core.Reason(err.err)] = true
	}
	allowed := map[string]func(string) bool{
		"route":   func(s string) bool { return routes[s] },
		"method":  func(s string) bool { return methods[s] },
		"reason":  func(s string) bool { return reasons[s] },
		"outcome": func(s string) bool { return s == app.OutcomeAllowed || s == app.OutcomeRefused },
		"result":  func(s string) bool { return s == "valid" || s == "invalid" },
		"code":    func(s string) bool { return len(s) == 3 && s >= "200" && s <= "599" },
	}
	fams := scrape(t, base)
	n := 0
	for _, name := range []string{"jwksauth_requests_total", "jwksauth_token_verifications_total"} {
		for _, s := range fams[name].GetMetric() {
			n++
			for _, l := range s.GetLabel() {
				if ok := allowed[l.GetName()]; ok == nil || !ok(l.GetValue()) {
					t.Errorf("%s has label %s=%q, outside its fixed set", name, l.GetName(), l.GetValue())
				}
			}
		}
	}
	if n < 4 {
		t.Errorf("only %d samples: the hostile requests were not counted", n)
	}
	if body := call(t, "GET", base+app.MetricsPath).body; strings.Contains(string(body), "attacker") {
		t.Errorf("request input shows in the metrics:\n%s", body)
	}
}

// sentinels are core's sentinel errors and the reason label of each.
var sentinels = []struct {
	err   error
	label string
}{
	{core.ErrNoCredentials, "no_credentials"},
	{core.ErrInvalidRequest, "invalid_request"},
	{core.ErrMultipleCredentials, "multiple_credentials"},
	{core.ErrTokenTooLarge, "too_large"},
	{core.ErrTokenMalformed, "malformed"},
	{core.ErrUnsupportedHeader, "unsupported_header"},
	{core.ErrAlgorithmNotAllowed, "algorithm"},
	{core.ErrUnknownKey, "unknown_key"},
	{core.ErrKeyMismatch, "key_mismatch"},
	{core.ErrSignatureInvalid, "signature"},
	{core.ErrDuplicateClaim, "duplicate_claim"},
	{core.ErrClaimType, "claim_type"},
	{core.ErrMissingClaim, "missing_claim"},
	{core.ErrTokenExpired, "expired"},
	{core.ErrTokenNotYetValid, "not_yet_valid"},
	{core.ErrIssuedInFuture, "issued_in_future"},
	{core.ErrIssuerInvalid, "issuer"},
	{core.ErrAudienceInvalid, "audience"},
	{core.ErrClientInvalid, "client"},
	{core.ErrTokenType, "token_type"},
	{core.ErrInsufficientScope, "insufficient_scope"},
	{core.ErrKeysUnavailable, "keys_unavailable"},
	{core.ErrMisconfigured, "misconfigured"},
}

func TestReason(t *testing.T) {
	iss := authtest.MustIssuer(t)
	v := newVerifier(t, iss)
	verify := func(tok string) error {
		_, err := v.Verify(context.Background(), tok)
		return err
	}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "expired token", err: verify(iss.MustMint(t, authtest.Claims{"exp": time.Now().Add(-time.Hour).Unix()})), want: "expired"},
		{name: "foreign audience", err: verify(iss.MustMint(t, authtest.Claims{"aud": "other"})), want: "audience"},
		{name: "not a JWT", err: verify("a.b"), want: "malformed"},
		{name: "wrapped sentinel", err: fmt.Errorf("context: %w", core.ErrSignatureInvalid), want: "signature"},
		// AsError makes an unexpected error a malformed-token refusal; the
		// sentinel its cause wraps does not name it.
		{name: "own sentinel before the cause's", err: core.AsError(fmt.Errorf("x: %w", core.ErrNoCredentials)), want: "malformed"},
		{name: "not a core error", err: errors.New("boom"), want: "other"},
		{name: "nil", err: nil, want: "other"},
	}
	for _, s := range sentinels {
		tests = append(tests, struct {
			name string
			err  error
			want string
		}{name: "sentinel " + s.label, err: s.err, want: s.label})
	}
	seen := map[string]bool{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := core.Reason(tc.err); got != tc.want {
				t.Errorf("Reason(%v) = %q, want %q", tc.err, got, tc.want)
			}
		})
		if strings.HasPrefix(tc.name, "sentinel ") {
			if seen[tc.want] {
				t.Errorf("two sentinels share the label %q", tc.want)
			}
			seen[tc.want] = true
		}
	}
}
