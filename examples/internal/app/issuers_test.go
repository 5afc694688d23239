package app_test

import (
	"context"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jwksauth/jwksauth/core/authtest"
	"github.com/jwksauth/jwksauth/examples/internal/app"
	"github.com/jwksauth/jwksauth/examples/internal/apptest"
	"github.com/jwksauth/jwksauth/examples/internal/ginapp"
)

// TestIssuersConfig reads ISSUER as a comma-separated list: each entry is
// checked as a single ISSUER is, an entry listed twice is refused, and
// JWKS_URL cannot go with more than one issuer.
func TestIssuersConfig(t *testing.T) {
	const a, b, c = "https://a.example.com/realms/notes", "https://b.example.com", "http://127.0.0.1:9000"
	many := func(issuers ...string) app.Config {
		return app.Config{Addr: app.DefaultAddr, Issuer: issuers[0], Issuers: issuers, Audiences: []string{app.DefaultAudience}}
	}
	tests := []loadConfigCase{
		{name: "two issuers", env: map[string]string{"ISSUER": a + "," + b}, want: many(a, b)},
		{name: "three, spaces and empty items", env: map[string]string{"ISSUER": " " + a + " , ," + b + "\t, " + c + " ,"}, want: many(a, b, c)},
		{name: "in the order given", env: map[string]string{"ISSUER": b + "," + a}, want: many(b, a)},
		{name: "a trailing slash is another issuer", env: map[string]string{"ISSUER": a + "," + a + "/"}, want: many(a, a+"/")},
		{name: "one issuer and a trailing comma", env: map[string]string{"ISSUER": a + ","},
			want: app.Config{Addr: app.DefaultAddr, Issuer: a, Audiences: []string{app.DefaultAudience}}},
		{name: "JWKS_URL with one issuer and a trailing comma", env: map[string]string{"ISSUER": a + ", ", "JWKS_URL": a + "/certs"},
			want: app.Config{Addr: app.DefaultAddr, Issuer: a, JWKSURL: a + "/certs", Audiences: []string{app.DefaultAudience}}},
		{name: "each issuer gets the audiences and client ids", env: map[string]string{
			"ISSUER": a + "," + b, "PERMITTED_JWT_AUDIENCES": "api", "PERMITTED_CLIENT_IDS": "web,cli", "DPOP": "required",
		}, want: app.Config{Addr: app.DefaultAddr, Issuer: a, Issuers: []string{a, b}, Audiences: []string{"api"},
			ClientIDs: []string{"web", "cli"}, DPoPRequired: true}},
		{name: "listed twice", env: map[string]string{"ISSUER": a + "," + b + "," + a}, wantVar: "ISSUER"},
		{name: "listed twice once trimmed", env: map[string]string{"ISSUER": a + ", " + a}, wantVar: "ISSUER"},
		{name: "no issuer in the list", env: map[string]string{"ISSUER": " , ,"}, wantVar: "ISSUER"},
		{name: "second not a URL", env: map[string]string{"ISSUER": a + ",b.example.com"}, wantVar: "ISSUER"},
		{name: "second over plain http", env: map[string]string{"ISSUER": a + ",http://b.example.com"}, wantVar: "ISSUER"},
		{name: "second with a query", env: map[string]string{"ISSUER": a + "," + b + "/?tenant=1"}, wantVar: "ISSUER"},
		{name: "first with a fragment", env: map[string]string{"ISSUER": a + "#x," + b}, wantVar: "ISSUER"},
		{name: "JWKS_URL with two issuers", env: map[string]string{"ISSUER": a + "," + b, "JWKS_URL": a + "/certs"}, wantVar: "JWKS_URL"},
		{name: "a bad ADDR is found first", env: map[string]string{"ADDR": "localhost", "ISSUER": a + "," + a}, wantVar: "ADDR"},
	}
	runLoadConfig(t, tests)
}

// TestManyIssuersApps runs each app through Command, as the mains do, with
// ISSUER listing two in-process issuers that publish a key under the same
// kid: tokens of either pass their audience, client id and scope checks; a
// third issuer's token is 401, and so is a token claiming the second issuer
// but signed with the first one's key. The three apps answer alike.
func TestManyIssuersApps(t *testing.T) {
	one, two, other := authtest.MustIssuer(t), authtest.MustIssuer(t), authtest.MustIssuer(t)
	k, err := authtest.NewKey("RS256")
	if err != nil {
		t.Fatal(err)
	}
	k.ID = one.SigningKey().ID
	two.AddKey(k, true)

	const clientID = "notes-cli"
	mint := func(i *authtest.Issuer, extra authtest.Claims) string {
		c := authtest.Claims{"scope": app.ScopeRead, "client_id": clientID}
		for name, v := range extra {
			c[name] = v
		}
		return i.MustMint(t, c)
	}
	issuerRefused, issuerBody := invalidToken("the access token issuer is not accepted")
	signature, signatureBody := invalidToken("the access token signature is invalid")
	audience, audienceBody := invalidToken("the access token audience is not accepted")
	client, clientBody := invalidToken("the access token client is not accepted")
	cases := []struct {
		name       string
		token      string
		status     int
		challenges []string
		body       string
	}{
		{"first issuer's token", mint(one, nil), http.StatusOK, nil, success("listed the notes")},
		{"second issuer's token", mint(two, nil), http.StatusOK, nil, success("listed the notes")},
		{"second issuer's token without the scope", mint(two, authtest.Claims{"scope": authtest.Omit}),
			http.StatusForbidden, insufficient(app.ScopeRead), noScope},
		{"an issuer not listed", mint(other, nil), http.StatusUnauthorized, issuerRefused, issuerBody},
		{"an issuer not listed, claiming a listed one's iss prefix", mint(other, authtest.Claims{"iss": one.URL + "/x"}),
			http.StatusUnauthorized, issuerRefused, issuerBody},
		{"claims the second, signed by the first's key of the same kid", mint(one, authtest.Claims{"iss": two.URL}),
			http.StatusUnauthorized, signature, signatureBody},
		{"second issuer's token for another audience", mint(two, authtest.Claims{"aud": "other"}),
			http.StatusUnauthorized, audience, audienceBody},
		{"second issuer's token of another client", mint(two, authtest.Claims{"client_id": "intruder"}),
			http.StatusUnauthorized, client, clientBody},
	}

	answers := make([][]answer, len(cases))
	for _, fw := range frameworks {
		t.Run(fw.Name, func(t *testing.T) {
			base, _, stderr := runApp(t, fw, map[string]string{
				"ISSUER": " " + one.URL + " , " + two.URL + " ", "PERMITTED_CLIENT_IDS": clientID,
			})
			names := "issuer=" + one.URL + "," + two.URL
			apptest.WaitFor(t, stderr, 5*time.Second, func(s string) (bool, bool) {
				return true, strings.Contains(s, `msg="signing keys loaded" app=`+fw.Name+" "+names)
			})
			for _, line := range []string{`msg="notes API listening"`, `msg="interactive docs: the Authorize login is the first issuer's" app=` + fw.Name + " issuer=" + one.URL} {
				if !strings.Contains(stderr.String(), line) {
					t.Errorf("no log line with %s:\n%s", line, stderr.String())
				}
			}
			if !strings.Contains(stderr.String(), names) {
				t.Errorf("the log does not name both issuers (%s):\n%s", names, stderr.String())
			}
			for i, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					got := call(t, http.MethodGet, base+"/notes", "Bearer "+tc.token)
					answers[i] = append(answers[i], got)
					if got.status != tc.status || !slices.Equal(got.challenges, tc.challenges) || !authtest.JSONEqual(got.body, []byte(tc.body)) {
						t.Errorf("got %d %q %s\nwant %d %q %s", got.status, got.challenges, got.body, tc.status, tc.challenges, tc.body)
					}
				})
			}
		})
	}
	for i, tc := range cases {
		for j := 1; j < len(answers[i]); j++ {
			if a, b := answers[i][0], answers[i][j]; !reflect.DeepEqual(a, b) {
				t.Errorf("%s: %s answered %+v, %s answered %+v", tc.name, frameworks[0].Name, a, frameworks[j].Name, b)
			}
		}
	}
}

// TestManyIssuersRefusedAtStart: a bad list stops Command before it
// listens, with the config exit code and one line naming the variable.
func TestManyIssuersRefusedAtStart(t *testing.T) {
	iss := authtest.MustIssuer(t)
	tests := []struct {
		name, issuer, jwks, want string
	}{
		{"listed twice", iss.URL + "," + iss.URL, "", "gin: ISSUER: "},
		{"JWKS_URL with two issuers", iss.URL + ",https://b.example.com", iss.JWKSURL(), "gin: JWKS_URL: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr apptest.Buffer
			getenv := env(map[string]string{"ADDR": "127.0.0.1:0", "ISSUER": tc.issuer, "JWKS_URL": tc.jwks})
			// Were the list accepted, the app would serve until ctx ends.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if c := app.Command(ctx, ginapp.Framework, getenv, &stdout, &stderr); c != app.ExitConfig {
				t.Errorf("exit code %d, want %d", c, app.ExitConfig)
			}
			if out := stderr.String(); !strings.HasPrefix(out, tc.want) || strings.Count(out, "\n") != 1 {
				t.Errorf("stderr %q, want one line starting %q", out, tc.want)
			}
		})
	}
}

// TestManyIssuersDPoPRequired: DPOP=required holds for every issuer of the
// list, the second as much as the first.
func TestManyIssuersDPoPRequired(t *testing.T) {
	one, two := authtest.MustIssuer(t), authtest.MustIssuer(t)
	base, _, _ := runApp(t, ginapp.Framework, map[string]string{"ISSUER": one.URL + "," + two.URL, "DPOP": app.DPoPRequired})
	want := []string{`DPoP realm="api", ` + authtest.DPoPAlgs + `, error="invalid_token", error_description="a DPoP-bound access token is required"`}
	for _, iss := range []*authtest.Issuer{one, two} {
		got := call(t, http.MethodGet, base+"/notes", "Bearer "+iss.MustMint(t, authtest.Claims{"scope": app.ScopeRead}))
		if got.status != http.StatusUnauthorized || !slices.Equal(got.challenges, want) {
			t.Errorf("%s: bearer token under DPOP=required: %d %q, want 401 %q", iss.URL, got.status, got.challenges, want)
		}
	}
}
