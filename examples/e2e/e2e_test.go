package e2e_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
	"github.com/jwksauth/jwksauth/examples/internal/app"
	"github.com/jwksauth/jwksauth/examples/internal/apptest"
	"github.com/jwksauth/jwksauth/examples/internal/echoapp"
	"github.com/jwksauth/jwksauth/examples/internal/fiberapp"
	"github.com/jwksauth/jwksauth/examples/internal/ginapp"
)

// What the provider in oidcprovider/ is configured with (its README).
const (
	audience      = "urn:jwksauth:notes"
	otherAudience = "urn:jwksauth:other"
	clientSecret  = "secret"
	providerDir   = "oidcprovider"

	scopeRead   = "example:note:read"
	scopeCreate = "example:note:create"
	scopeUpdate = "example:note:update"
	scopeDelete = "example:note:delete"
)

// clients are the provider's client-credentials clients, one per algorithm.
var clients = []struct{ id, alg string }{
	{"client-rs256", "RS256"},
	{"client-ps256", "PS256"},
	{"client-es256", "ES256"},
	{"client-eddsa", "EdDSA"},
}

// frameworks are the example apps under test.
var frameworks = []app.Framework{ginapp.Framework, echoapp.Framework, fiberapp.Framework}

var httpClient = &http.Client{Timeout: 10 * time.Second}

// TestEndToEnd runs the example apps against oidc-provider: every
// algorithm's tokens through every route, a wrong audience, a tampered
// token, the three frameworks' agreement, and a key rotation. It also
// verifies the provider's tokens with core's RFC9068 preset directly.
func TestEndToEnd(t *testing.T) {
	start := time.Now()
	p := startProvider(t)
	t.Logf("oidc-provider ready at %s in %v", p.url, time.Since(start).Round(time.Millisecond))

	t.Run("core RFC9068 preset", func(t *testing.T) { testPreset(t, p) })

	apps := make([]*runningApp, len(frameworks))
	for i, fw := range frameworks {
		apps[i] = startApp(t, fw, p.url)
	}

	// answers[case][framework] for the agreement check.
	answers := map[string][]answer{}
	for _, c := range clients {
		toks := p.tokenSet(t, c.id)
		for _, a := range apps {
			t.Run(a.name+"/"+c.alg, func(t *testing.T) {
				for _, rc := range routeCases(p, c.id) {
					t.Run(rc.name, func(t *testing.T) {
						got := call(t, rc.method, a.url+rc.path, rc.token(toks))
						rc.check(t, got)
						key := c.alg + " " + rc.name
						answers[key] = append(answers[key], got)
					})
				}
			})
		}
	}

	t.Run("frameworks agree", func(t *testing.T) {
		if len(apps) < 2 {
			t.Skipf("only %d framework", len(apps))
		}
		for key, got := range answers {
			for i := 1; i < len(got); i++ {
				if !got[0].same(got[i]) {
					t.Errorf("%s: %s answered %s, %s answered %s", key, apps[0].name, got[0], apps[i].name, got[i])
				}
			}
		}
	})

	t.Run("key rotation", func(t *testing.T) { testRotation(t, p, apps) })
	t.Logf("end to end in %v", time.Since(start).Round(time.Millisecond))
}

// --- the provider -------------------------------------------------------

type provider struct {
	url    string
	stderr *apptest.Buffer
}

// unavailable skips the test when the provider cannot run here, but fails
// it under CI (JWKSAUTH_REQUIRE_E2E or CI set), where .ci/run and
// `make e2e-deps` must have installed it.
func unavailable(t *testing.T, why string) {
	t.Helper()
	apptest.Unavailable(t, "examples/e2e end-to-end tests", why)
}

// nodeWith returns node's path, or skips the test as unavailable when node
// or one of the npm packages pkgs is not installed in oidcprovider/.
func nodeWith(t *testing.T, pkgs ...string) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		unavailable(t, "node is not on PATH")
	}
	for _, pkg := range pkgs {
		if _, err := os.Stat(providerDir + "/node_modules/" + pkg + "/package.json"); err != nil {
			unavailable(t, "examples/e2e/oidcprovider/node_modules/"+pkg+" is missing: run `make e2e-deps` (npm ci)")
		}
	}
	return node
}

// awaitExit waits for a node process that was asked to stop (how: "on
// SIGTERM", "at the end of its input") to exit with status 0 within 5 s,
// else kills it; either failure fails t, and a failed t gets the process's
// stderr in its log. exited receives cmd.Wait's result.
func awaitExit(t *testing.T, name, how string, cmd *exec.Cmd, exited <-chan error, stderr *apptest.Buffer) {
	t.Helper()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("%s exited with %v %s", name, err, how)
		}
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		t.Errorf("%s did not exit %s within 5s", name, how)
	}
	if t.Failed() {
		t.Logf("%s stderr:\n%s", name, stderr.String())
	}
}

// startProvider starts `node server.mjs --port 0` and reads its READY line.
// It is stopped with SIGTERM when the test ends.
func startProvider(t *testing.T) *provider {
	t.Helper()
	node := nodeWith(t, "oidc-provider")
	var stdout apptest.Buffer
	p := &provider{stderr: &apptest.Buffer{}}
	cmd := exec.Command(node, "server.mjs", "--port", "0")
	cmd.Dir = providerDir
	cmd.Stdout, cmd.Stderr = &stdout, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start oidc-provider: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		awaitExit(t, "oidc-provider", "on SIGTERM", cmd, exited, p.stderr)
	})

	ready := regexp.MustCompile(`^READY (http://127\.0\.0\.1:[0-9]+)\n`)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if m := ready.FindStringSubmatch(stdout.String()); m != nil {
			p.url = m[1]
			return p
		}
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			t.Fatalf("oidc-provider exited before READY (%v); stdout %q, stderr:\n%s", err, stdout.String(), p.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no READY line from oidc-provider within 20s; stdout %q, stderr:\n%s", stdout.String(), p.stderr.String())
		}
	}
}

// token gets an access token by client credentials. scope "" asks for
// none; resource "" takes the default resource (the notes API).
func (p *provider) token(t *testing.T, client, scope, resource string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	if resource != "" {
		form.Set("resource", resource)
	}
	req, err := http.NewRequest(http.MethodPost, p.url+"/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(client, clientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("token request: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var tr struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &tr) != nil || tr.AccessToken == "" || tr.TokenType != "Bearer" {
		t.Fatalf("token request for %s (scope %q, resource %q): %d %s", client, scope, resource, resp.StatusCode, body)
	}
	return tr.AccessToken
}

// rotate makes the provider sign with new keys and publish only those.
func (p *provider) rotate(t *testing.T) []string {
	t.Helper()
	resp, err := httpClient.Post(p.url+"/__rotate", "application/json", nil)
	if err != nil {
		t.Fatalf("rotate: %v", err)
	}
	defer resp.Body.Close()
	var out struct{ Kids []string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || len(out.Kids) != 3 {
		t.Fatalf("rotate: %d %v %v", resp.StatusCode, out.Kids, err)
	}
	return out.Kids
}

// tokens are one client's tokens with different grants.
type tokens struct {
	none, read, readCreate, all, otherAudience, tampered string
}

func (p *provider) tokenSet(t *testing.T, client string) tokens {
	t.Helper()
	all := strings.Join([]string{scopeRead, scopeCreate, scopeUpdate, scopeDelete}, " ")
	toks := tokens{
		none:          p.token(t, client, "", ""),
		read:          p.token(t, client, scopeRead, ""),
		readCreate:    p.token(t, client, scopeRead+" "+scopeCreate, audience),
		all:           p.token(t, client, all, ""),
		otherAudience: p.token(t, client, all, otherAudience),
	}
	// The same header and claims under a changed signature: replace the
	// signature's first character.
	sig := []byte(toks.all)
	i := strings.LastIndexByte(toks.all, '.') + 1
	if sig[i] == 'A' {
		sig[i] = 'B'
	} else {
		sig[i] = 'A'
	}
	toks.tampered = string(sig)
	return toks
}

// --- the example apps ---------------------------------------------------

type runningApp struct {
	name, url string
}

// startApp runs fw's Run entry, configured from the environment as a user
// would, against the provider, and waits until it has loaded the keys.
func startApp(t *testing.T, fw app.Framework, issuer string) *runningApp {
	t.Helper()
	return startAppEnv(t, fw, issuer, freeAddr(t), nil)
}

// startAppEnv is startApp listening on addr, with the variables of extra
// set beside (or instead of) startApp's.
func startAppEnv(t *testing.T, fw app.Framework, issuer, addr string, extra map[string]string) *runningApp {
	t.Helper()
	env := map[string]string{
		app.EnvAddr:      addr,
		app.EnvIssuer:    issuer,
		app.EnvAudiences: audience,
	}
	maps.Copy(env, extra)
	var stdout, stderr apptest.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx, fw, func(k string) string { return env[k] }, &stdout, &stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s: Run: %v", fw.Name, err)
			}
		case <-time.After(app.ShutdownTimeout + 5*time.Second):
			t.Errorf("%s did not stop", fw.Name)
		}
		if t.Failed() {
			t.Logf("%s stderr:\n%s", fw.Name, stderr.String())
		}
	})

	// Wait for the key set before any token is sent: a token that arrives
	// first would spend the unknown-kid refresh that the rotation test
	// needs. The app logs when the keys are loaded.
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(stderr.String(), "signing keys loaded") {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("%s stopped at start: %v\nstderr:\n%s", fw.Name, err, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not load the provider's keys within 15s; stderr:\n%s", fw.Name, stderr.String())
		}
	}
	a := &runningApp{name: fw.Name, url: "http://" + addr}
	if got := call(t, http.MethodGet, a.url+"/healthz", ""); got.status != http.StatusOK {
		t.Fatalf("%s /healthz: %s", fw.Name, got)
	}
	return a
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// answer is what is compared of a response.
type answer struct {
	status     int
	challenge  string   // the WWW-Authenticate fields, joined by " | "
	challenges []string // every WWW-Authenticate field, in order
	body       []byte
}

func (a answer) String() string {
	return fmt.Sprintf("%d [WWW-Authenticate: %s] %s", a.status, a.challenge, a.body)
}

// same reports whether two answers are equal as the adapters must answer alike: status, challenge byte for byte,
// and the body as a JSON value.
func (a answer) same(b answer) bool {
	if a.status != b.status || a.challenge != b.challenge {
		return false
	}
	var x, y any
	if json.Unmarshal(a.body, &x) != nil || json.Unmarshal(b.body, &y) != nil {
		return bytes.Equal(a.body, b.body)
	}
	return reflect.DeepEqual(x, y)
}

func call(t *testing.T, method, url, token string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	ch := resp.Header.Values("WWW-Authenticate")
	return answer{status: resp.StatusCode, challenge: strings.Join(ch, " | "), challenges: ch, body: body}
}

// --- the routes -----------------------------------------------------------

type routeCase struct {
	name         string
	method, path string
	token        func(tokens) string
	check        func(t *testing.T, got answer)
}

func noToken(tokens) string { return "" }

// routeCases are the notes API's answers to one client's tokens.
func routeCases(p *provider, client string) []routeCase {
	note := wantNote()
	return []routeCase{
		{"healthz without token", http.MethodGet, "/healthz", noToken, wantJSON(`{"status":"ok"}`)},
		{"my-token without token", http.MethodGet, "/my-token", noToken, wantBareChallenge()},
		{"my-token", http.MethodGet, "/my-token", func(k tokens) string { return k.none }, wantClaims(p.url, client)},
		{"my-scopes without scopes", http.MethodGet, "/my-scopes", func(k tokens) string { return k.none }, wantJSON(`[]`)},
		{"my-scopes", http.MethodGet, "/my-scopes", func(k tokens) string { return k.readCreate },
			wantJSON(`["` + scopeRead + `","` + scopeCreate + `"]`)},
		{"GET notes with read", http.MethodGet, "/notes", func(k tokens) string { return k.read }, note},
		{"GET notes without scopes", http.MethodGet, "/notes", func(k tokens) string { return k.none }, wantScope(scopeRead)},
		{"POST notes with read", http.MethodPost, "/notes", func(k tokens) string { return k.read }, wantScope(scopeCreate)},
		{"POST notes with read and create", http.MethodPost, "/notes", func(k tokens) string { return k.readCreate }, note},
		{"PUT note with read and create", http.MethodPut, "/notes/n-1", func(k tokens) string { return k.readCreate }, wantScope(scopeUpdate)},
		{"PUT note with all", http.MethodPut, "/notes/n-1", func(k tokens) string { return k.all }, note},
		{"DELETE note with read", http.MethodDelete, "/notes/n-1", func(k tokens) string { return k.read }, wantScope(scopeDelete)},
		{"DELETE note with all", http.MethodDelete, "/notes/n-1", func(k tokens) string { return k.all }, note},
		{"token for another audience", http.MethodGet, "/notes", func(k tokens) string { return k.otherAudience }, wantInvalid("audience")},
		{"tampered signature", http.MethodGet, "/notes", func(k tokens) string { return k.tampered }, wantInvalid("signature")},
	}
}

func wantJSON(want string) func(*testing.T, answer) {
	return func(t *testing.T, got answer) {
		t.Helper()
		if got.status != http.StatusOK || !got.same(answer{status: http.StatusOK, body: []byte(want)}) {
			t.Errorf("got %s, want 200 %s", got, want)
		}
	}
}

func wantNote() func(*testing.T, answer) {
	return func(t *testing.T, got answer) {
		t.Helper()
		var b struct {
			Success bool   `json:"success"`
			Details string `json:"details"`
		}
		if got.status != http.StatusOK || json.Unmarshal(got.body, &b) != nil || !b.Success || b.Details == "" {
			t.Errorf("got %s, want 200 {\"success\":true,...}", got)
		}
	}
}

// wantClaims checks /my-token: the verified claims of the provider's token.
func wantClaims(issuer, client string) func(*testing.T, answer) {
	return func(t *testing.T, got answer) {
		t.Helper()
		var c map[string]any
		if got.status != http.StatusOK || json.Unmarshal(got.body, &c) != nil {
			t.Fatalf("got %s, want 200 with the claims", got)
		}
		if c["iss"] != issuer || c["aud"] != audience || c["client_id"] != client || c["sub"] != client {
			t.Errorf("claims %s: want iss %s, aud %s, client_id and sub %s", got.body, issuer, audience, client)
		}
		if _, ok := c["scope"]; ok {
			t.Errorf("claims %s: a token requested without scope has one", got.body)
		}
	}
}

func errorBody(t *testing.T, got answer) (code, desc string) {
	t.Helper()
	var b struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(got.body, &b); err != nil {
		t.Errorf("error body %q is not JSON: %v", got.body, err)
	}
	return b.Error, b.Description
}

// wantBareChallenge: 401 without an error code (RFC 6750 §3.1), with the
// Bearer challenge and then the DPoP one (RFC 9449 §7.1: DPoP is accepted
// by default).
func wantBareChallenge() func(*testing.T, answer) {
	return func(t *testing.T, got answer) {
		t.Helper()
		if want := authtest.Challenges(""); got.status != http.StatusUnauthorized || !slices.Equal(got.challenges, want) {
			t.Errorf("got %s, want 401 with the bare challenges %q", got, want)
		}
	}
}

// wantScope: 403 insufficient_scope naming the missing scope.
func wantScope(scope string) func(*testing.T, answer) {
	return func(t *testing.T, got answer) {
		t.Helper()
		want := regexp.MustCompile(`^Bearer realm="[^"]*", error="insufficient_scope", scope="` + regexp.QuoteMeta(scope) + `"$`)
		if got.status != http.StatusForbidden || len(got.challenges) != 1 || !want.MatchString(got.challenge) {
			t.Errorf("got %s, want 403 insufficient_scope scope=%q", got, scope)
		}
		if code, _ := errorBody(t, got); code != "insufficient_scope" {
			t.Errorf("body error %q, want insufficient_scope", code)
		}
	}
}

// wantInvalid: 401 invalid_token whose fixed description names about.
func wantInvalid(about string) func(*testing.T, answer) {
	return func(t *testing.T, got answer) {
		t.Helper()
		if got.status != http.StatusUnauthorized || !strings.Contains(got.challenge, `error="invalid_token"`) {
			t.Errorf("got %s, want 401 invalid_token", got)
		}
		code, desc := errorBody(t, got)
		if code != "invalid_token" || !strings.Contains(desc, about) {
			t.Errorf("body %s, want invalid_token about the %s", got.body, about)
		}
		// Both challenges, Bearer then DPoP, carry the same error.
		if want := authtest.Challenges(`, error="invalid_token", error_description="` + desc + `"`); !slices.Equal(got.challenges, want) {
			t.Errorf("challenges %q, want %q", got.challenges, want)
		}
	}
}

// --- core alone -----------------------------------------------------------

// testPreset verifies the provider's tokens with core.RFC9068, which
// discovers the keys and requires typ at+jwt, client_id, sub, iat and jti.
func testPreset(t *testing.T, p *provider) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := core.New(ctx, core.RFC9068(p.url, audience), core.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := v.Ready(ctx); err != nil {
		t.Fatalf("keys: %v", err)
	}
	for _, c := range clients {
		t.Run(c.alg, func(t *testing.T) {
			pr, err := v.Verify(ctx, p.token(t, c.id, scopeRead+" "+scopeDelete, ""))
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if pr.Algorithm != c.alg || pr.ClientID != c.id || pr.Subject != c.id || pr.Issuer != p.url ||
				!slices.Equal(pr.Scopes, []string{scopeRead, scopeDelete}) || !slices.Equal(pr.Audience, []string{audience}) {
				t.Errorf("principal %+v", pr)
			}
			_, err = v.Verify(ctx, p.token(t, c.id, scopeRead, otherAudience))
			if !errors.Is(err, core.ErrAudienceInvalid) {
				t.Errorf("other audience: err = %v, want %v", err, core.ErrAudienceInvalid)
			}
		})
	}
}

// --- rotation -------------------------------------------------------------

// testRotation rotates the provider's keys while the apps run. Tokens
// signed before keep verifying until a verifier refreshes its JWKS; the
// first new token's unknown kid makes each app refresh at once; from then
// on the old tokens are refused.
func testRotation(t *testing.T, p *provider, apps []*runningApp) {
	read := func(client string) string { return p.token(t, client, scopeRead, "") }
	old := make([]string, len(clients))
	for i, c := range clients {
		old[i] = read(c.id)
		for _, a := range apps {
			if got := call(t, http.MethodGet, a.url+"/notes", old[i]); got.status != http.StatusOK {
				t.Fatalf("%s %s before rotation: %s", a.name, c.alg, got)
			}
		}
	}

	kids := p.rotate(t)
	for i, c := range clients {
		for _, a := range apps {
			if got := call(t, http.MethodGet, a.url+"/notes", old[i]); got.status != http.StatusOK {
				t.Errorf("%s %s: an old token failed before any refresh: %s", a.name, c.alg, got)
			}
		}
	}

	for _, c := range clients {
		tok := read(c.id)
		if kid := headerKID(t, tok); !slices.Contains(kids, kid) {
			t.Fatalf("%s token after rotation has kid %q, not one of %v", c.alg, kid, kids)
		}
		for _, a := range apps {
			if got := call(t, http.MethodGet, a.url+"/notes", tok); got.status != http.StatusOK {
				t.Errorf("%s %s: a token of the new key: %s", a.name, c.alg, got)
			}
		}
	}

	for i, c := range clients {
		for _, a := range apps {
			got := call(t, http.MethodGet, a.url+"/notes", old[i])
			if got.status != http.StatusUnauthorized || !strings.Contains(got.challenge, `error="invalid_token"`) {
				t.Errorf("%s %s: a token of a retired key after the refresh: %s, want 401 invalid_token", a.name, c.alg, got)
			}
		}
	}
}

func headerKID(t *testing.T, token string) string {
	t.Helper()
	seg, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatalf("token header: %v", err)
	}
	var h struct {
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}
	if err := json.Unmarshal(raw, &h); err != nil || h.Typ != "at+jwt" {
		t.Fatalf("token header %s: %v", raw, err)
	}
	return h.Kid
}
