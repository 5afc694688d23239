package e2e_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestManyIssuersEndToEnd runs two oidc-provider instances, each an issuer
// with keys of its own, and every example app with ISSUER listing both:
// each provider's tokens pass (200 with the read scope, 403 without, their
// own iss in /my-token), a third provider's tokens are 401 invalid_token,
// and a first provider's token rewritten to claim the second is refused,
// whether it keeps its kid or takes one of the second's. The three
// frameworks answer alike.
func TestManyIssuersEndToEnd(t *testing.T) {
	start := time.Now()
	p1, p2, outsider := startProvider(t), startProvider(t), startProvider(t)
	t.Logf("three oidc-provider instances ready in %v", time.Since(start).Round(time.Millisecond))
	kids1, kids2 := providerKids(t, p1), providerKids(t, p2)
	for _, k := range kids1 {
		if slices.Contains(kids2, k) {
			t.Fatalf("both providers publish kid %q: they must have keys of their own", k)
		}
	}

	apps := make([]*runningApp, len(frameworks))
	for i, fw := range frameworks {
		apps[i] = startApp(t, fw, p1.url+", "+p2.url)
	}

	type issuerCase struct {
		name, path, token string
		check             func(*testing.T, answer)
	}
	var cases []issuerCase
	for _, c := range clients {
		for _, p := range []struct {
			name string
			p    *provider
		}{{"provider 1", p1}, {"provider 2", p2}} {
			cases = append(cases,
				issuerCase{p.name + " " + c.alg + " read", "/notes", p.p.token(t, c.id, scopeRead, ""), wantNote()},
				issuerCase{p.name + " " + c.alg + " no scope", "/notes", p.p.token(t, c.id, "", ""), wantScope(scopeRead)},
				issuerCase{p.name + " " + c.alg + " claims", "/my-token", p.p.token(t, c.id, "", ""), wantClaims(p.p.url, c.id)},
			)
		}
		read1 := p1.token(t, c.id, scopeRead, "")
		cases = append(cases,
			issuerCase{"provider not listed " + c.alg, "/notes", outsider.token(t, c.id, scopeRead, ""), wantInvalid("issuer")},
			issuerCase{"provider 1's token claiming provider 2, its kid kept " + c.alg, "/notes",
				reissue(t, read1, p2.url, ""), wantInvalid("signing key")},
			issuerCase{"provider 1's token claiming provider 2, with provider 2's kid " + c.alg, "/notes",
				reissue(t, read1, p2.url, sameKind(t, headerKID(t, read1), kids2)), wantInvalid("signature")},
		)
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := make([]answer, len(apps))
			for i, a := range apps {
				got[i] = call(t, http.MethodGet, a.url+tc.path, tc.token)
				t.Run(a.name, func(t *testing.T) { tc.check(t, got[i]) })
			}
			for i := 1; i < len(got); i++ {
				if !got[0].same(got[i]) {
					t.Errorf("%s answered %s, %s answered %s", apps[0].name, got[0], apps[i].name, got[i])
				}
			}
		})
	}
	t.Logf("many issuers end to end in %v", time.Since(start).Round(time.Millisecond))
}

// providerKids returns the kids the provider signs with now.
func providerKids(t *testing.T, p *provider) []string {
	t.Helper()
	resp, err := httpClient.Get(p.url + "/__kids")
	if err != nil {
		t.Fatalf("kids: %v", err)
	}
	defer resp.Body.Close()
	var out struct{ Kids []string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || len(out.Kids) == 0 {
		t.Fatalf("kids: %d %v %v", resp.StatusCode, out.Kids, err)
	}
	return out.Kids
}

// sameKind returns the kid among kids of the same key type as kid (the
// provider names them rsa-…, ec-…, ed25519-…).
func sameKind(t *testing.T, kid string, kids []string) string {
	t.Helper()
	kind, _, _ := strings.Cut(kid, "-")
	for _, k := range kids {
		if strings.HasPrefix(k, kind+"-") {
			return k
		}
	}
	t.Fatalf("no %s key among %v", kind, kids)
	return ""
}

// reissue rewrites a token's iss to iss, and its header's kid to kid
// unless kid is "", keeping the original signature: what a forger who
// holds a token of one issuer can send in the name of another.
func reissue(t *testing.T, token, iss, kid string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	edit := func(i int, name, value string) {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		m[name] = value
		if raw, err = json.Marshal(m); err != nil {
			t.Fatal(err)
		}
		parts[i] = base64.RawURLEncoding.EncodeToString(raw)
	}
	if kid != "" {
		edit(0, "kid", kid)
	}
	edit(1, "iss", iss)
	return strings.Join(parts, ".")
}
