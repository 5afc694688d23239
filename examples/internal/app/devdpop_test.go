package app_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jwksauth/jwksauth/core/authtest"
	"github.com/jwksauth/jwksauth/examples/internal/app"
	"github.com/jwksauth/jwksauth/examples/internal/apptest"
	"github.com/jwksauth/jwksauth/examples/internal/ginapp"
)

// devDPoPLine is the printed line naming the DPoP token endpoint and the API.
var devDPoPLine = regexp.MustCompile(`(?m)^  to (http://\S+), then call (http://\S+)/notes with`)

func dpopCall(t *testing.T, method, u, scheme, token, proof string) answer {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", scheme+" "+token)
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	return answer{status: resp.StatusCode, challenges: resp.Header.Values("WWW-Authenticate"), body: body.Bytes()}
}

// devDPoPToken asks the development issuer's DPoP endpoint for a token
// bound to k.
func devDPoPToken(t *testing.T, endpoint string, k *authtest.Key, scope string) string {
	t.Helper()
	resp, err := client.PostForm(endpoint, url.Values{"dpop_jkt": {k.Thumbprint()}, "scope": {scope}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil || resp.StatusCode != 200 || tr.TokenType != "DPoP" {
		t.Fatalf("DPoP token endpoint: %d %+v %v", resp.StatusCode, tr, err)
	}
	return tr.AccessToken
}

// TestDevelopmentModeDPoP runs each app in development mode, DPoP allowed
// and required, and follows the DPoP instructions it prints, as a client
// with its own key would: the token is bound to that key, a fresh proof
// gets 200, the same proof again 401 invalid_dpop_proof, a missing scope
// 403 with the DPoP challenge, and the token sent as Bearer 401; with
// DPOP=required a printed bearer token gets 401 with the DPoP challenge only.
func TestDevelopmentModeDPoP(t *testing.T) {
	key, err := authtest.NewKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{app.DPoPAllowed, app.DPoPRequired} {
		for _, fw := range frameworks {
			t.Run(mode+"/"+fw.Name, func(t *testing.T) {
				var stdout, stderr apptest.Buffer
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				code := make(chan int, 1)
				go func() {
					code <- app.Command(ctx, fw, env(map[string]string{"ADDR": "127.0.0.1:0", "DPOP": mode}), &stdout, &stderr)
				}()
				m := apptest.WaitFor(t, &stdout, 10*time.Second, func(s string) ([]string, bool) {
					m := devDPoPLine.FindStringSubmatch(s)
					return m, m != nil
				})
				endpoint, notes := m[1], m[2]+"/notes"
				// The development resource is the app's own URL (RFC 9728 §5.1).
				docURL := m[2] + "/.well-known/oauth-protected-resource"
				tok := devDPoPToken(t, endpoint, key, app.ScopeRead)
				var claims struct {
					Scope string            `json:"scope"`
					Cnf   map[string]string `json:"cnf"`
				}
				if err := json.Unmarshal([]byte(payload(t, tok)), &claims); err != nil {
					t.Fatal(err)
				}
				if claims.Cnf["jkt"] != key.Thumbprint() || claims.Scope != app.ScopeRead {
					t.Errorf("token scope %q cnf %v; want %s, jkt %s", claims.Scope, claims.Cnf, app.ScopeRead, key.Thumbprint())
				}
				dpopOnly := func(ch []string) []string {
					if mode == app.DPoPRequired {
						return ch[1:]
					}
					return ch
				}

				proof := authtest.MustProof(t, key, "GET", notes, tok)
				if a := dpopCall(t, "GET", notes, "DPoP", tok, proof); a.status != 200 {
					t.Fatalf("fresh proof: %d %s", a.status, a.body)
				}
				replay := dpopCall(t, "GET", notes, "DPoP", tok, proof)
				want := authtest.Challenges(`, error="invalid_dpop_proof", error_description="the DPoP proof is invalid"`)
				want[0] = `Bearer realm="api"` // the Bearer challenge names no DPoP error code
				if want = withMetadata(docURL, dpopOnly(want)); replay.status != 401 || !slices.Equal(replay.challenges, want) {
					t.Errorf("replayed proof: %d %q, want 401 %q", replay.status, replay.challenges, want)
				}
				create := dpopCall(t, "POST", notes, "DPoP", tok, authtest.MustProof(t, key, "POST", notes, tok))
				want = withMetadata(docURL, []string{`DPoP realm="api", ` + authtest.DPoPAlgs + `, error="insufficient_scope", scope="` + app.ScopeCreate + `"`})
				if create.status != 403 || !slices.Equal(create.challenges, want) {
					t.Errorf("POST without create: %d %q, want 403 %q", create.status, create.challenges, want)
				}
				asBearer := dpopCall(t, "GET", notes, "Bearer", tok, "")
				if asBearer.status != 401 || len(asBearer.challenges) == 0 ||
					!strings.Contains(asBearer.challenges[len(asBearer.challenges)-1], `error="invalid_token"`) {
					t.Errorf("bound token as Bearer: %d %q, want 401 invalid_token", asBearer.status, asBearer.challenges)
				}
				if mode == app.DPoPRequired {
					bearer := exportLine.FindStringSubmatch(stdout.String())
					if bearer == nil {
						t.Fatalf("no printed bearer token:\n%s", stdout.String())
					}
					// Every printed curl line gets the status it promises
					// under DPOP=required too.
					tokens := map[string]string{}
					for _, m := range exportLine.FindAllStringSubmatch(stdout.String(), -1) {
						tokens[m[1]] = m[2]
					}
					lines := curlLine.FindAllStringSubmatch(stdout.String(), -1)
					if len(lines) == 0 {
						t.Fatalf("no printed curl line:\n%s", stdout.String())
					}
					for _, m := range lines {
						method, status := cmp.Or(m[1], "GET"), m[4]
						var auth []string
						if m[3] != "" {
							auth = []string{"Bearer " + tokens[m[3]]}
						}
						if a := call(t, method, m[2], auth...); strconv.Itoa(a.status) != status {
							t.Errorf("printed %s %s with $%s: status %d, printed %s", method, m[2], m[3], a.status, status)
						}
					}
					a := dpopCall(t, "GET", notes, "Bearer", bearer[2], "")
					want := withMetadata(docURL, []string{`DPoP realm="api", ` + authtest.DPoPAlgs + `, error="invalid_token", error_description="a DPoP-bound access token is required"`})
					if a.status != 401 || !slices.Equal(a.challenges, want) {
						t.Errorf("bearer token under DPOP=required: %d %q, want 401 %q", a.status, a.challenges, want)
					}
				}
				cancel()
				exited(t, code, &stderr)
			})
		}
	}
}

// TestDevDPoPTokenEndpoint: the development issuer's DPoP endpoint binds
// to a well-formed thumbprint only and offers the note scopes only.
func TestDevDPoPTokenEndpoint(t *testing.T) {
	var stdout, stderr apptest.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	code := make(chan int, 1)
	go func() {
		code <- app.Command(ctx, ginapp.Framework, env(map[string]string{"ADDR": "127.0.0.1:0"}), &stdout, &stderr)
	}()
	endpoint := apptest.WaitFor(t, &stdout, 10*time.Second, func(s string) (string, bool) {
		m := devDPoPLine.FindStringSubmatch(s)
		if m == nil {
			return "", false
		}
		return m[1], true
	})
	good := strings.Repeat("A", 43)
	tests := []struct {
		name   string
		form   url.Values
		status int
		error  string
	}{
		{"thumbprint and scope", url.Values{"dpop_jkt": {good}, "scope": {app.ScopeRead + " " + app.ScopeDelete}}, 200, ""},
		{"no scope", url.Values{"dpop_jkt": {good}}, 200, ""},
		{"no thumbprint", url.Values{"scope": {app.ScopeRead}}, 400, "invalid_request"},
		{"short thumbprint", url.Values{"dpop_jkt": {good[:42]}}, 400, "invalid_request"},
		{"padded thumbprint", url.Values{"dpop_jkt": {good[:42] + "="}}, 400, "invalid_request"},
		{"thumbprint with a newline", url.Values{"dpop_jkt": {good + "\n"}}, 400, "invalid_request"},
		{"thumbprint not canonical", url.Values{"dpop_jkt": {good[:42] + "B"}}, 400, "invalid_request"}, // no SHA-256 encodes to it
		{"unknown scope", url.Values{"dpop_jkt": {good}, "scope": {"openid"}}, 400, "invalid_scope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := client.PostForm(endpoint, tc.form)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				Error       string `json:"error"`
				AccessToken string `json:"access_token"`
				TokenType   string `json:"token_type"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status || body.Error != tc.error {
				t.Fatalf("%d %+v, want %d %q", resp.StatusCode, body, tc.status, tc.error)
			}
			if tc.status == 200 {
				var c struct {
					Cnf map[string]string `json:"cnf"`
				}
				if err := json.Unmarshal([]byte(payload(t, body.AccessToken)), &c); err != nil || c.Cnf["jkt"] != good || body.TokenType != "DPoP" {
					t.Errorf("token %s (type %s): want cnf.jkt %s, type DPoP", payload(t, body.AccessToken), body.TokenType, good)
				}
			}
		})
	}
	cancel()
	exited(t, code, &stderr)
}
