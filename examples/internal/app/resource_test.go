package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jwksauth/jwksauth/core/authtest"
	"github.com/jwksauth/jwksauth/examples/internal/app"
	"github.com/jwksauth/jwksauth/examples/internal/apptest"
	"github.com/jwksauth/jwksauth/examples/internal/ginapp"
)

// metadataWellKnown is the well-known path of RFC 9728 §3.
const metadataWellKnown = "/.well-known/oauth-protected-resource"

// withMetadata returns challenges with resource_metadata="docURL" after
// each realm, as a Verifier with a resource identifier sends them (RFC 9728
// §5.1).
func withMetadata(docURL string, challenges []string) []string {
	out := make([]string, len(challenges))
	for i, c := range challenges {
		out[i] = strings.Replace(c, `realm="api"`, `realm="api", resource_metadata="`+docURL+`"`, 1)
	}
	return out
}

// resourceDoc is the Protected Resource Metadata document (RFC 9728 §2).
type resourceDoc struct {
	Resource             string   `json:"resource"`
	AuthorizationServers []string `json:"authorization_servers"`
	Scopes               []string `json:"scopes_supported"`
	BearerMethods        []string `json:"bearer_methods_supported"`
	Name                 string   `json:"resource_name"`
	DPoPRequired         bool     `json:"dpop_bound_access_tokens_required"`
}

var noteScopesSorted = []string{app.ScopeCreate, app.ScopeDelete, app.ScopeRead, app.ScopeUpdate}

func TestLoadConfigResourceURL(t *testing.T) {
	const iss = "https://issuer.example.com"
	tests := []struct {
		name, value string
		wantErr     bool
	}{
		{name: "unset", value: ""},
		{name: "https origin", value: "https://notes.example.com"},
		{name: "https with a path", value: "https://example.com/notes"},
		{name: "loopback http", value: "http://127.0.0.1:8080"},
		{name: "localhost http", value: "http://localhost:8080/api"},
		{name: "IPv6 loopback http", value: "http://[::1]:8080"},
		{name: "plain http elsewhere", value: "http://notes.example.com", wantErr: true},
		{name: "relative", value: "/notes", wantErr: true},
		{name: "a URN", value: "urn:jwksauth:notes", wantErr: true},
		{name: "not http", value: "ftp://notes.example.com", wantErr: true},
		{name: "fragment", value: "https://notes.example.com/#api", wantErr: true},
		{name: "empty fragment", value: "https://notes.example.com/#", wantErr: true},
		{name: "query", value: "https://notes.example.com/?v=1", wantErr: true},
		{name: "userinfo", value: "https://me@notes.example.com", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, envs := range []map[string]string{
				{app.EnvResourceURL: tt.value},                     // development mode
				{app.EnvResourceURL: tt.value, app.EnvIssuer: iss}, // a provider
			} {
				c, err := app.LoadConfig(env(envs))
				if tt.wantErr {
					var ce *app.ConfigError
					if !errors.As(err, &ce) || ce.Var != app.EnvResourceURL || !strings.HasPrefix(err.Error(), "RESOURCE_URL: ") {
						t.Errorf("err = %v, want a ConfigError naming RESOURCE_URL", err)
					}
					continue
				}
				if err != nil || c.ResourceURL != tt.value {
					t.Errorf("ResourceURL = %q, err %v; want %q", c.ResourceURL, err, tt.value)
				}
			}
		})
	}
	t.Run("trimmed", func(t *testing.T) {
		c, err := app.LoadConfig(env(map[string]string{app.EnvResourceURL: " https://notes.example.com "}))
		if err != nil || c.ResourceURL != "https://notes.example.com" {
			t.Errorf("ResourceURL = %q, err %v", c.ResourceURL, err)
		}
	})
	t.Run("exit code", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		code := app.Command(context.Background(), ginapp.Framework, env(map[string]string{app.EnvResourceURL: "http://notes.example.com"}), &stdout, &stderr)
		if code != app.ExitConfig || !strings.HasPrefix(stderr.String(), "gin: RESOURCE_URL: ") {
			t.Errorf("exit %d, stderr %q; want %d and a RESOURCE_URL line", code, stderr.String(), app.ExitConfig)
		}
	})
}

// TestResourceMetadataDevelopment runs each app in development mode
// without RESOURCE_URL: the resource is the app's own URL, the document is
// served at the well-known path and printed, and every challenge names it.
func TestResourceMetadataDevelopment(t *testing.T) {
	printed := regexp.MustCompile(`(?m)^Protected Resource Metadata \(RFC 9728\): curl (http://\S+)$`)
	for _, fw := range frameworks {
		t.Run(fw.Name, func(t *testing.T) {
			var stdout, stderr apptest.Buffer
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			code := make(chan int, 1)
			go func() {
				code <- app.Command(ctx, fw, env(map[string]string{app.EnvAddr: "127.0.0.1:0"}), &stdout, &stderr)
			}()
			docURL := apptest.WaitFor(t, &stdout, 10*time.Second, func(s string) (string, bool) {
				m := printed.FindStringSubmatch(s)
				if m == nil {
					return "", false
				}
				return m[1], true
			})
			base := strings.TrimSuffix(docURL, metadataWellKnown)
			if base == docURL || !strings.HasPrefix(base, "http://127.0.0.1:") {
				t.Fatalf("printed document URL %q is not the app's URL followed by %s", docURL, metadataWellKnown)
			}

			a := call(t, "GET", base+"/notes")
			if want := withMetadata(docURL, authtest.Challenges("")); a.status != 401 || !slices.Equal(a.challenges, want) {
				t.Errorf("GET /notes without a token: %d %q, want 401 %q", a.status, a.challenges, want)
			}
			doc := call(t, "GET", docURL)
			var d resourceDoc
			if doc.status != 200 || doc.contentType != "application/json" || json.Unmarshal(doc.body, &d) != nil {
				t.Fatalf("GET %s: %d %s %s", docURL, doc.status, doc.contentType, doc.body)
			}
			tok := exportLine.FindStringSubmatch(stdout.String())
			var claims struct{ Iss string }
			if tok == nil || json.Unmarshal([]byte(payload(t, tok[2])), &claims) != nil {
				t.Fatalf("no printed token:\n%s", stdout.String())
			}
			if d.Resource != base || !slices.Equal(d.AuthorizationServers, []string{claims.Iss}) ||
				!slices.Equal(d.Scopes, noteScopesSorted) || d.Name != app.ResourceName {
				t.Errorf("document %s: want resource %s, authorization_servers [%s], the four note scopes, resource_name %q",
					doc.body, base, claims.Iss, app.ResourceName)
			}
			cancel()
			exited(t, code, &stderr)
		})
	}
}

// TestResourceMetadata runs each app against an issuer with RESOURCE_URL
// (a resource with a path), and without it: with it, the three apps serve
// the same document at the path-suffixed well-known URL, for GET and HEAD
// only, every challenge names it, and a token issued for the resource
// passes while one for another resource does not; without it there is no
// document and no resource_metadata.
func TestResourceMetadata(t *testing.T) {
	const resource = "https://notes.example.com/api"
	const docURL = "https://notes.example.com" + metadataWellKnown + "/api"
	iss := authtest.MustIssuer(t)
	var docs [][]byte
	for _, fw := range frameworks {
		t.Run(fw.Name, func(t *testing.T) {
			base := startApp(t, fw, map[string]string{app.EnvIssuer: iss.URL, app.EnvResourceURL: resource})

			get := call(t, "GET", base+metadataWellKnown+"/api")
			var d resourceDoc
			if get.status != 200 || get.contentType != "application/json" || get.cacheControl != "public, max-age=3600" ||
				json.Unmarshal(get.body, &d) != nil {
				t.Fatalf("GET the document: %d %s %q %s", get.status, get.contentType, get.cacheControl, get.body)
			}
			if d.Resource != resource || !slices.Equal(d.AuthorizationServers, []string{iss.URL}) ||
				!slices.Equal(d.Scopes, noteScopesSorted) || !slices.Equal(d.BearerMethods, []string{"header"}) ||
				d.Name != app.ResourceName || d.DPoPRequired {
				t.Errorf("document %s", get.body)
			}
			docs = append(docs, get.body)
			if head := call(t, "HEAD", base+metadataWellKnown+"/api"); head.status != 200 || len(head.body) != 0 {
				t.Errorf("HEAD the document: %d %q", head.status, head.body)
			}
			if post := call(t, "POST", base+metadataWellKnown+"/api"); post.status != 405 || post.allow != "GET, HEAD" {
				t.Errorf("POST the document: %d Allow %q", post.status, post.allow)
			}
			if root := call(t, "GET", base+metadataWellKnown); root.status != 404 {
				t.Errorf("GET the path-less well-known URL: %d %s, want 404", root.status, root.body)
			}

			if a := call(t, "GET", base+"/notes"); a.status != 401 || !slices.Equal(a.challenges, withMetadata(docURL, authtest.Challenges(""))) {
				t.Errorf("no token: %d %q", a.status, a.challenges)
			}
			read := iss.MustMint(t, authtest.Claims{"aud": resource, "scope": app.ScopeRead})
			if a := call(t, "GET", base+"/notes", "Bearer "+read); a.status != 200 {
				t.Errorf("a token for the resource: %d %s", a.status, a.body)
			}
			if a := call(t, "POST", base+"/notes", "Bearer "+read); a.status != 403 ||
				!slices.Equal(a.challenges, withMetadata(docURL, insufficient(app.ScopeCreate))) {
				t.Errorf("a token without create: %d %q", a.status, a.challenges)
			}
			other := iss.MustMint(t, authtest.Claims{"aud": "https://notes.example.com/other", "scope": app.ScopeRead})
			want := withMetadata(docURL, authtest.Challenges(`, error="invalid_token", error_description="the access token audience is not accepted"`))
			if a := call(t, "GET", base+"/notes", "Bearer "+other); a.status != 401 || !slices.Equal(a.challenges, want) {
				t.Errorf("a token for another resource: %d %q, want 401 %q", a.status, a.challenges, want)
			}
			// PERMITTED_JWT_AUDIENCES (default "account") still applies.
			if a := call(t, "GET", base+"/notes", "Bearer "+iss.MustMint(t, authtest.Claims{"scope": app.ScopeRead})); a.status != 200 {
				t.Errorf("a token for the permitted audience: %d %s", a.status, a.body)
			}
		})
	}
	t.Run("frameworks serve the same bytes", func(t *testing.T) {
		if len(docs) != len(frameworks) {
			t.Skip("a framework failed above")
		}
		for i := 1; i < len(docs); i++ {
			if !bytes.Equal(docs[0], docs[i]) {
				t.Errorf("%s served %s, %s served %s", frameworks[0].Name, docs[0], frameworks[i].Name, docs[i])
			}
		}
	})

	for _, fw := range frameworks {
		t.Run(fw.Name+" without RESOURCE_URL", func(t *testing.T) {
			base := startApp(t, fw, map[string]string{app.EnvIssuer: iss.URL})
			if a := call(t, "GET", base+metadataWellKnown); a.status != 404 {
				t.Errorf("GET the well-known path: %d %s, want 404", a.status, a.body)
			}
			if a := call(t, "GET", base+"/notes"); a.status != 401 || !slices.Equal(a.challenges, authtest.Challenges("")) {
				t.Errorf("no token: %d %q, want the challenges without resource_metadata", a.status, a.challenges)
			}
		})
	}
}

// startApp runs fw through Command with extra (ADDR is 127.0.0.1:0) until
// the test ends, and returns its URL once it has loaded the issuer's keys.
func startApp(t *testing.T, fw app.Framework, extra map[string]string) string {
	t.Helper()
	base, _, stderr := runApp(t, fw, extra)
	apptest.WaitFor(t, stderr, 5*time.Second, func(s string) (bool, bool) {
		return true, strings.Contains(s, `msg="signing keys loaded"`)
	})
	return base
}
