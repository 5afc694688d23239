package app_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jwksauth/jwksauth/core/authtest"
	"github.com/jwksauth/jwksauth/examples/internal/app"
	"github.com/jwksauth/jwksauth/examples/internal/apptest"
	"github.com/jwksauth/jwksauth/examples/internal/echoapp"
	"github.com/jwksauth/jwksauth/examples/internal/fiberapp"
	"github.com/jwksauth/jwksauth/examples/internal/ginapp"
)

// openAPIDoc is what the tests read of /openapi.json.
type openAPIDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		SecuritySchemes map[string]struct {
			Type   string `json:"type"`
			Scheme string `json:"scheme"`
			Flows  struct {
				AuthorizationCode *struct {
					AuthorizationURL string            `json:"authorizationUrl"`
					TokenURL         string            `json:"tokenUrl"`
					Scopes           map[string]string `json:"scopes"`
				} `json:"authorizationCode"`
			} `json:"flows"`
		} `json:"securitySchemes"`
	} `json:"components"`
}

type operation struct {
	OperationID string                     `json:"operationId"`
	Security    []map[string][]string      `json:"security"`
	Responses   map[string]json.RawMessage `json:"responses"`
}

func parseOpenAPI(t *testing.T, body []byte) openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("/openapi.json: %v", err)
	}
	return doc
}

// openAPIPath is a route's path as OpenAPI writes it.
func openAPIPath(p string) string { return strings.ReplaceAll(p, ":"+app.ParamID, "{"+app.ParamID+"}") }

// checkOperations holds the document to the route table: one operation per
// route, nothing else, each with a security requirement of exactly the
// route's scopes under scheme (none on public routes), and the 401/403
// answers core gives.
func checkOperations(t *testing.T, doc openAPIDoc, scheme string) {
	t.Helper()
	n := 0
	for _, item := range doc.Paths {
		for k := range item {
			if k != "parameters" {
				n++
			}
		}
	}
	if n != len(app.Routes) {
		t.Errorf("the document has %d operations, the route table %d routes", n, len(app.Routes))
	}
	ids := map[string]bool{}
	for _, rt := range app.Routes {
		raw, ok := doc.Paths[openAPIPath(rt.Path)][strings.ToLower(rt.Method)]
		if !ok {
			t.Errorf("%s %s is not documented", rt.Method, rt.Path)
			continue
		}
		var op operation
		if err := json.Unmarshal(raw, &op); err != nil {
			t.Fatal(err)
		}
		if op.OperationID == "" || ids[op.OperationID] {
			t.Errorf("%s %s: operationId %q is empty or taken", rt.Method, rt.Path, op.OperationID)
		}
		ids[op.OperationID] = true
		var want []map[string][]string
		if !rt.Public {
			want = []map[string][]string{{scheme: append([]string{}, rt.Scopes...)}}
		}
		if op.Security == nil || len(op.Security) != len(want) ||
			(len(want) == 1 && (len(op.Security[0]) != 1 || !slices.Equal(op.Security[0][scheme], want[0][scheme]) || op.Security[0][scheme] == nil)) {
			t.Errorf("%s %s: security %v, want %v", rt.Method, rt.Path, op.Security, want)
		}
		wantCodes := []string{"200"}
		if !rt.Public {
			wantCodes = append(wantCodes, "400", "401", "503")
		}
		if len(rt.Scopes) > 0 {
			wantCodes = append(wantCodes, "403")
		}
		if strings.Contains(rt.Path, ":") {
			wantCodes = append(wantCodes, "404")
		}
		var codes []string
		for c := range op.Responses {
			codes = append(codes, c)
		}
		slices.Sort(codes)
		slices.Sort(wantCodes)
		if !slices.Equal(codes, wantCodes) {
			t.Errorf("%s %s: responses %v, want %v", rt.Method, rt.Path, codes, wantCodes)
		}
	}
}

// checkRefs resolves every $ref of the document.
func checkRefs(t *testing.T, body []byte) {
	t.Helper()
	var whole map[string]any
	if err := json.Unmarshal(body, &whole); err != nil {
		t.Fatal(err)
	}
	refs := regexp.MustCompile(`"\$ref":\s*"#/([^"]+)"`).FindAllSubmatch(body, -1)
	if len(refs) == 0 {
		t.Fatal("no $ref in the document")
	}
	for _, r := range refs {
		var node any = whole
		for _, seg := range strings.Split(string(r[1]), "/") {
			m, ok := node.(map[string]any)
			if !ok || m[seg] == nil {
				t.Errorf("$ref #/%s does not resolve", r[1])
				break
			}
			node = m[seg]
		}
	}
}

// TestOpenAPI serves the docs with an OAuth2 flow on every framework: the
// three serve the same bytes, and the document holds the flow's URLs, the
// four scopes and the route table's security.
func TestOpenAPI(t *testing.T) {
	iss := authtest.MustIssuer(t)
	v := newVerifier(t, iss)
	flow := &app.OAuthFlow{AuthorizationURL: "https://login.example.com/oauth2/authorize", TokenURL: "https://login.example.com/oauth2/token", ClientID: "docs"}
	docs, err := app.NewDocs(flow, v.Realm())
	if err != nil {
		t.Fatal(err)
	}
	var first []byte
	for _, fw := range frameworks {
		a := call(t, "GET", serve(t, fw, app.Service{Verifier: v, Docs: docs})+app.OpenAPIPath)
		if a.status != 200 || a.contentType != "application/json" {
			t.Fatalf("%s: GET /openapi.json: %d %q", fw.Name, a.status, a.contentType)
		}
		if first == nil {
			first = a.body
		} else if !bytes.Equal(a.body, first) {
			t.Errorf("%s serves other bytes than %s", fw.Name, frameworks[0].Name)
		}
	}
	if !bytes.Equal(first, docs.OpenAPI()) {
		t.Error("/openapi.json is not Docs.OpenAPI()")
	}

	doc := parseOpenAPI(t, first)
	if doc.OpenAPI != app.OpenAPIVersion || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	if len(doc.Components.SecuritySchemes) != 1 {
		t.Errorf("security schemes %v, want only %s", doc.Components.SecuritySchemes, app.SchemeOAuth2)
	}
	s := doc.Components.SecuritySchemes[app.SchemeOAuth2]
	code := s.Flows.AuthorizationCode
	if s.Type != "oauth2" || code == nil {
		t.Fatalf("scheme %s: %+v, want an oauth2 authorizationCode flow", app.SchemeOAuth2, s)
	}
	if code.AuthorizationURL != flow.AuthorizationURL || code.TokenURL != flow.TokenURL {
		t.Errorf("flow URLs %q %q, want %q %q", code.AuthorizationURL, code.TokenURL, flow.AuthorizationURL, flow.TokenURL)
	}
	var scopes []string
	for name, desc := range code.Scopes {
		scopes = append(scopes, name)
		if desc == "" {
			t.Errorf("scope %s has no description", name)
		}
	}
	slices.Sort(scopes)
	if want := []string{app.ScopeCreate, app.ScopeDelete, app.ScopeRead, app.ScopeUpdate}; !slices.Equal(scopes, want) {
		t.Errorf("scopes %v, want %v", scopes, want)
	}
	checkOperations(t, doc, app.SchemeOAuth2)
	checkRefs(t, first)
	// The documented challenges are the verifier's.
	if !bytes.Contains(first, []byte(`Bearer realm=\"`+v.Realm()+`\", error=\"insufficient_scope\", scope=\"`+app.ScopeCreate+`\"`)) {
		t.Error("the document does not show the verifier's 403 challenge")
	}
}

// TestOpenAPIWithoutFlow: without OAuth2 URLs the document offers a bearer
// scheme (paste a token), still with each route's scopes.
func TestOpenAPIWithoutFlow(t *testing.T) {
	docs, err := app.NewDocs(nil, "api")
	if err != nil {
		t.Fatal(err)
	}
	if docs.Flow() != nil {
		t.Errorf("Flow() = %+v, want nil", docs.Flow())
	}
	doc := parseOpenAPI(t, docs.OpenAPI())
	s, ok := doc.Components.SecuritySchemes[app.SchemeBearer]
	if !ok || s.Type != "http" || s.Scheme != "bearer" || len(doc.Components.SecuritySchemes) != 1 {
		t.Fatalf("security schemes %+v, want only an http bearer scheme", doc.Components.SecuritySchemes)
	}
	checkOperations(t, doc, app.SchemeBearer)
	checkRefs(t, docs.OpenAPI())

	if _, err := app.NewDocs(&app.OAuthFlow{AuthorizationURL: "https://login.example.com/authorize"}, "api"); err == nil {
		t.Error("NewDocs accepted a flow without a token URL")
	}
}

var assetRef = regexp.MustCompile(`(?:src|href)="([^"]+)"`)

// TestSwaggerUIPage: / is Swagger UI configured for PKCE with the client
// id, on every framework; everything it loads is served by the app from the
// pinned package (no CDN), the same bytes by all three, including the
// OAuth2 redirect page and its script; swgui's proxy stays off.
func TestSwaggerUIPage(t *testing.T) {
	iss := authtest.MustIssuer(t)
	v := newVerifier(t, iss)
	docs, err := app.NewDocs(&app.OAuthFlow{AuthorizationURL: iss.URL + "/authorize", TokenURL: iss.URL + "/token", ClientID: "notes-web"}, v.Realm())
	if err != nil {
		t.Fatal(err)
	}
	bodies := map[string][]byte{}
	for _, fw := range frameworks {
		t.Run(fw.Name, func(t *testing.T) {
			base := serve(t, fw, app.Service{Verifier: v, Docs: docs})
			page := call(t, "GET", base+"/")
			if page.status != 200 || !strings.HasPrefix(page.contentType, "text/html") {
				t.Fatalf("GET /: %d %q", page.status, page.contentType)
			}
			html := string(page.body)
			for _, want := range []string{
				`<div id="swagger-ui"></div>`,
				`"swaggerJsonUrl":"/openapi.json"`,
				`window.ui.initOAuth({clientId: "notes-web", usePkceWithAuthorizationCodeGrant: true`,
			} {
				if !strings.Contains(html, want) {
					t.Errorf("the page lacks %s", want)
				}
			}
			assets := []string{"/oauth2-redirect.html", "/oauth2-redirect.js"} // loaded by the login's redirect
			for _, m := range assetRef.FindAllStringSubmatch(html, -1) {
				if !strings.HasPrefix(m[1], "/") || strings.HasPrefix(m[1], "//") {
					t.Errorf("the page loads %s from elsewhere", m[1])
					continue
				}
				assets = append(assets, m[1])
			}
			if !slices.Contains(assets, "/swagger-ui-bundle.js") || !slices.Contains(assets, "/swagger-ui.css") {
				t.Errorf("the page loads %v, not Swagger UI's bundle and stylesheet", assets)
			}
			for _, p := range assets {
				a := call(t, "GET", base+p)
				if a.status != 200 || len(a.body) == 0 {
					t.Errorf("GET %s: %d, %d bytes", p, a.status, len(a.body))
				}
				if prev, ok := bodies[p]; ok && !bytes.Equal(prev, a.body) {
					t.Errorf("GET %s: other bytes than the first framework", p)
				}
				bodies[p] = a.body
			}
			if !bytes.Contains(bodies["/swagger-ui-bundle.js"], []byte(`"`+app.SwaggerUIVersion+`"`)) {
				t.Errorf("the bundle is not Swagger UI %s", app.SwaggerUIVersion)
			}
			if !bytes.Contains(bodies["/oauth2-redirect.html"], []byte(`oauth2-redirect.js`)) ||
				!bytes.Contains(bodies["/oauth2-redirect.js"], []byte(`swaggerUIRedirectOauth2`)) {
				t.Error("the OAuth2 redirect page or its script is not Swagger UI's")
			}

			// The proxy of swgui would fetch any URL for anyone: it is off.
			hit := make(chan struct{}, 1)
			target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hit <- struct{}{} }))
			defer target.Close()
			if a := call(t, "GET", base+"/?proxy="+url.QueryEscape(target.URL)); a.status != 200 || !bytes.Equal(a.body, page.body) {
				t.Errorf("GET /?proxy=…: %d, not the page", a.status)
			}
			select {
			case <-hit:
				t.Error("the app fetched the proxy URL")
			default:
			}
			// The pages route like the API: GET only, exact paths.
			for _, c := range []struct {
				method, path string
				status       int
			}{{"POST", "/", 405}, {"HEAD", "/openapi.json", 405}, {"GET", "/swagger-ui-es-bundle.js", 404}, {"GET", "/docs/", 404}} {
				if a := call(t, c.method, base+c.path); a.status != c.status {
					t.Errorf("%s %s: %d, want %d", c.method, c.path, a.status, c.status)
				}
			}
		})
	}
}

// TestSwaggerUIClientIDEscaped: CLIENT_ID may hold any visible ASCII; it
// reaches the page as a JavaScript string, never as markup or template.
func TestSwaggerUIClientIDEscaped(t *testing.T) {
	const hostile = `x"});alert(1);//{{.Title}}</script><script>`
	cfg, err := app.LoadConfig(env(map[string]string{app.EnvClientID: hostile}))
	if err != nil {
		t.Fatalf("LoadConfig refused a visible-ASCII client id: %v", err)
	}
	docs, err := app.NewDocs(&app.OAuthFlow{AuthorizationURL: "https://a.example.com/authorize", TokenURL: "https://a.example.com/token", ClientID: cfg.ClientID}, "api")
	if err != nil {
		t.Fatal(err)
	}
	plain, err := app.NewDocs(&app.OAuthFlow{AuthorizationURL: "https://a.example.com/authorize", TokenURL: "https://a.example.com/token", ClientID: "x"}, "api")
	if err != nil {
		t.Fatal(err)
	}
	get := func(d *app.Docs) string {
		return string(call(t, "GET", serve(t, ginapp.Framework, app.Service{Docs: d})+"/").body)
	}
	page, plainPage := get(docs), get(plain)
	for _, bad := range []string{hostile, `alert(1);//{{`, `"});alert`, "</script><script>"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page holds %q unescaped", bad)
		}
	}
	if !strings.Contains(page, `initOAuth({clientId: "x\"`) {
		t.Error("the client id is not a JavaScript string")
	}
	if strings.Count(page, "<script") != strings.Count(plainPage, "<script") || strings.Count(page, "</script>") != strings.Count(plainPage, "</script>") {
		t.Error("the client id changed the page's scripts")
	}
}

// runApp runs fw through Command with vars (and ADDR 127.0.0.1:0) until
// the test ends, and returns its URL, stdout and stderr once it listens.
func runApp(t *testing.T, fw app.Framework, vars map[string]string) (string, *apptest.Buffer, *apptest.Buffer) {
	t.Helper()
	var stdout, stderr apptest.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	code := make(chan int, 1)
	vars = maps.Clone(vars)
	if vars == nil {
		vars = map[string]string{}
	}
	vars[app.EnvAddr] = "127.0.0.1:0"
	go func() { code <- app.Command(ctx, fw, env(vars), &stdout, &stderr) }()
	t.Cleanup(func() {
		cancel()
		exited(t, code, &stderr)
	})
	return started(t, &stderr), &stdout, &stderr
}

// fakeProvider serves a discovery document (doc, or a status) at the
// well-known path, and a JWKS.
func fakeProvider(t *testing.T, status int, doc func(base string) map[string]any) string {
	t.Helper()
	keys := authtest.MustIssuer(t).JWKS()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			if status != 200 {
				w.WriteHeader(status)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(doc(srv.URL))
		case "/jwks":
			_, _ = w.Write(keys)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestDocsOAuthURLs runs the apps with each source of the docs' OAuth2
// URLs: the environment, the issuer's discovery document, or nothing usable
// (then the docs have no Authorize login, and the log says why).
func TestDocsOAuthURLs(t *testing.T) {
	iss := authtest.MustIssuer(t)
	const envAuth, envToken = "https://login.example.com/authorize", "https://login.example.com/token"
	meta := func(extra map[string]any) func(string) map[string]any {
		return func(base string) map[string]any {
			m := map[string]any{"issuer": base, "jwks_uri": base + "/jwks"}
			for k, v := range extra {
				m[k] = v
			}
			return m
		}
	}
	noEndpoints := fakeProvider(t, 200, meta(nil))
	foreign := fakeProvider(t, 200, meta(map[string]any{"issuer": "https://elsewhere.example.com",
		"authorization_endpoint": "https://elsewhere.example.com/a", "token_endpoint": "https://elsewhere.example.com/t"}))
	plainHTTP := fakeProvider(t, 200, meta(map[string]any{"authorization_endpoint": "http://login.example.com/a", "token_endpoint": "https://login.example.com/t"}))
	broken := fakeProvider(t, 500, nil)

	tests := []struct {
		name            string
		fw              app.Framework
		env             map[string]string
		auth, token     string // "" for no flow
		client, logHint string
	}{
		{name: "environment", fw: ginapp.Framework, env: map[string]string{"ISSUER": iss.URL, "AUTHORIZATION_URL": envAuth, "TOKEN_URL": envToken, "CLIENT_ID": "docs-client"},
			auth: envAuth, token: envToken, client: "docs-client"},
		{name: "discovery", fw: echoapp.Framework, env: map[string]string{"ISSUER": iss.URL, "CLIENT_ID": "docs-client"},
			auth: iss.URL + "/authorize", token: iss.URL + "/token", client: "docs-client"},
		{name: "environment completes discovery", fw: fiberapp.Framework, env: map[string]string{"ISSUER": iss.URL, "TOKEN_URL": envToken},
			auth: iss.URL + "/authorize", token: envToken, logHint: "CLIENT_ID is not set"},
		{name: "no endpoints discovered", fw: ginapp.Framework, env: map[string]string{"ISSUER": noEndpoints, "AUTHORIZATION_URL": envAuth},
			logHint: "lists no authorization_endpoint or token_endpoint"},
		{name: "discovery of another issuer", fw: echoapp.Framework, env: map[string]string{"ISSUER": foreign},
			logHint: "names issuer"},
		{name: "discovered endpoint over plain http", fw: fiberapp.Framework, env: map[string]string{"ISSUER": plainHTTP},
			logHint: "plain http on a non-loopback host"},
		{name: "discovery fails", fw: ginapp.Framework, env: map[string]string{"ISSUER": broken},
			logHint: "answered 500"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base, _, stderr := runApp(t, tc.fw, tc.env)
			doc := parseOpenAPI(t, call(t, "GET", base+app.OpenAPIPath).body)
			page := string(call(t, "GET", base+"/").body)
			if tc.auth == "" {
				if _, ok := doc.Components.SecuritySchemes[app.SchemeBearer]; !ok || len(doc.Components.SecuritySchemes) != 1 {
					t.Errorf("security schemes %+v, want only %s", doc.Components.SecuritySchemes, app.SchemeBearer)
				}
				if strings.Contains(page, "initOAuth") {
					t.Error("the page sets up a login it does not have")
				}
				log := stderr.String()
				if !strings.Contains(log, "interactive docs without the Authorize login") || !strings.Contains(log, tc.logHint) {
					t.Errorf("the log does not say why there is no login (%q):\n%s", tc.logHint, log)
				}
				return
			}
			code := doc.Components.SecuritySchemes[app.SchemeOAuth2].Flows.AuthorizationCode
			if code == nil || code.AuthorizationURL != tc.auth || code.TokenURL != tc.token {
				t.Fatalf("flow %+v, want %s %s", code, tc.auth, tc.token)
			}
			if want := `initOAuth({clientId: "` + tc.client + `", usePkceWithAuthorizationCodeGrant: true`; !strings.Contains(page, want) {
				t.Errorf("the page lacks %s", want)
			}
			if tc.logHint != "" && !strings.Contains(stderr.String(), tc.logHint) {
				t.Errorf("the log lacks %q:\n%s", tc.logHint, stderr.String())
			}
		})
	}
}

// TestDevLoginFlow runs each app in development mode and does what Swagger
// UI does, over plain HTTP: the flow's URLs are the development issuer's,
// its login (authorization code + PKCE) gives a token with the scopes
// picked, for the first permitted audience and the docs' client, and the
// app accepts it for those scopes only.
func TestDevLoginFlow(t *testing.T) {
	tests := []struct {
		fw     app.Framework
		env    map[string]string
		client string
	}{
		{ginapp.Framework, map[string]string{}, app.DefaultDevClientID},
		{echoapp.Framework, map[string]string{"PERMITTED_JWT_AUDIENCES": "notes-api,other", "CLIENT_ID": "my-docs"}, "my-docs"},
		{fiberapp.Framework, map[string]string{"PERMITTED_CLIENT_IDS": "spa,cli"}, "spa"},
	}
	noRedirect := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range tests {
		t.Run(tc.fw.Name, func(t *testing.T) {
			base, stdout, stderr := runApp(t, tc.fw, tc.env)
			issuer := regexp.MustCompile(`issuer=(http://\S+)`).FindStringSubmatch(stderr.String())
			if issuer == nil {
				t.Fatalf("no issuer logged:\n%s", stderr.String())
			}
			doc := parseOpenAPI(t, call(t, "GET", base+app.OpenAPIPath).body)
			code := doc.Components.SecuritySchemes[app.SchemeOAuth2].Flows.AuthorizationCode
			if code == nil || code.AuthorizationURL != issuer[1]+"/authorize" || code.TokenURL != issuer[1]+"/token" {
				t.Fatalf("flow %+v, want the development issuer %s", code, issuer[1])
			}
			if !strings.Contains(string(call(t, "GET", base+"/").body), `initOAuth({clientId: "`+tc.client+`"`) {
				t.Errorf("the page's client id is not %s", tc.client)
			}
			out := apptest.WaitFor(t, stdout, 10*time.Second, func(s string) (string, bool) { return s, strings.Contains(s, "Then try:") })
			if !strings.HasPrefix(out, "Interactive docs: "+base+"/\n") {
				t.Errorf("stdout does not start with the docs' URL:\n%s", out)
			}

			// Swagger UI's part: a PKCE pair, the login page, Approve.
			verifier := rand.Text() + rand.Text()
			sum := sha256.Sum256([]byte(verifier))
			redirect := base + "/oauth2-redirect.html"
			q := url.Values{"response_type": {"code"}, "client_id": {tc.client}, "redirect_uri": {redirect}, "state": {"st"},
				"scope": {app.ScopeRead + " " + app.ScopeCreate}, "code_challenge_method": {"S256"},
				"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}}
			if a := call(t, "GET", code.AuthorizationURL+"?"+q.Encode()); a.status != 200 || !bytes.Contains(a.body, []byte(`id="approve"`)) {
				t.Fatalf("login page: %d %s", a.status, a.body)
			}
			form := url.Values{"scope_pick": {app.ScopeRead}, "subject": {"alice"}}
			for k, v := range q {
				form[k] = v
			}
			resp, err := noRedirect.PostForm(code.AuthorizationURL, form)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			back, err := url.Parse(resp.Header.Get("Location"))
			if err != nil || resp.StatusCode != http.StatusFound || !strings.HasPrefix(back.String(), redirect+"?") || back.Query().Get("state") != "st" {
				t.Fatalf("Approve: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			resp, err = noRedirect.PostForm(code.TokenURL, url.Values{"grant_type": {"authorization_code"}, "code": {back.Query().Get("code")},
				"client_id": {tc.client}, "redirect_uri": {redirect}, "code_verifier": {verifier}})
			if err != nil {
				t.Fatal(err)
			}
			var tok struct {
				AccessToken string `json:"access_token"`
			}
			err = json.NewDecoder(resp.Body).Decode(&tok)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 || tok.AccessToken == "" {
				t.Fatalf("token: %d %v", resp.StatusCode, err)
			}

			var claims struct {
				Aud      any    `json:"aud"`
				ClientID string `json:"client_id"`
				Sub      string `json:"sub"`
			}
			if err := json.Unmarshal([]byte(payload(t, tok.AccessToken)), &claims); err != nil {
				t.Fatal(err)
			}
			wantAud := "account"
			if a := tc.env["PERMITTED_JWT_AUDIENCES"]; a != "" {
				wantAud = strings.Split(a, ",")[0]
			}
			if claims.Aud != wantAud || claims.ClientID != tc.client || claims.Sub != "alice" {
				t.Errorf("token claims %+v, want aud %s, client %s, sub alice", claims, wantAud, tc.client)
			}
			bearer := "Bearer " + tok.AccessToken
			if a := call(t, "GET", base+"/notes", bearer); a.status != 200 {
				t.Errorf("GET /notes with the login's token: %d %s", a.status, a.body)
			}
			if a := call(t, "POST", base+"/notes", bearer); a.status != 403 {
				t.Errorf("POST /notes with read only (create was offered, not picked): %d, want 403", a.status)
			}
		})
	}
}
