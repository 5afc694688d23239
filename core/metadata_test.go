package core_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
)

// TestResourceMetadataLocation: the document's URL inserts the well-known
// path between the authority and the resource's path (RFC 9728 §3.1), and
// New refuses identifiers RFC 9728 §1.2 does not allow.
func TestResourceMetadataLocation(t *testing.T) {
	iss := authtest.MustIssuer(t)
	tests := []struct {
		id, want string // want "" means refused
	}{
		{"https://api.example.com", "https://api.example.com/.well-known/oauth-protected-resource"},
		{"https://api.example.com/", "https://api.example.com/.well-known/oauth-protected-resource"},
		{"https://api.example.com/notes", "https://api.example.com/.well-known/oauth-protected-resource/notes"},
		{"https://api.example.com/v1/notes/", "https://api.example.com/.well-known/oauth-protected-resource/v1/notes/"},
		{"https://api.example.com:8443/a%20b", "https://api.example.com:8443/.well-known/oauth-protected-resource/a%20b"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080/.well-known/oauth-protected-resource"},
		{"http://localhost/mcp", "http://localhost/.well-known/oauth-protected-resource/mcp"},
		{"http://api.example.com", ""},
		{"ftp://api.example.com", ""},
		{"https://api.example.com/?x=1", ""},
		{"https://api.example.com/?", ""},
		{"https://api.example.com/#top", ""},
		{"https://user@api.example.com/", ""},
		{"/notes", ""},
		{"", ""},
		{`https://api.example.com/"x"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			v, err := core.New(context.Background(), core.WithIssuer(iss.URL), core.WithResource(tt.id, core.ResourceMetadata{}))
			if tt.want == "" {
				if err == nil {
					v.Close()
					t.Fatalf("New accepted %q", tt.id)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			if got := v.ResourceMetadataURL(); got != tt.want {
				t.Fatalf("URL = %q, want %q", got, tt.want)
			}
			if got := v.ResourceMetadataPath(); !strings.HasSuffix(tt.want, got) || !strings.HasPrefix(got, "/.well-known/") {
				t.Fatalf("path = %q", got)
			}
		})
	}
}

// TestResourceMetadataDocument: the members follow the configuration; the
// collected scopes do not depend on the order the routes were built in;
// the resource is an audience, and needs no WithAudiences.
func TestResourceMetadataDocument(t *testing.T) {
	iss := authtest.MustIssuer(t)
	const id = "https://api.example.com"
	doc := func(v *core.Verifier) map[string]any {
		status, h, body := v.ServeResourceMetadata(http.MethodGet)
		if status != 200 || h.Get("Content-Type") != "application/json" {
			t.Fatalf("status %d, headers %v", status, h)
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	a := newVerifier(t, iss, core.WithResource(id, core.ResourceMetadata{}))
	b := newVerifier(t, iss, core.WithResource(id, core.ResourceMetadata{}))
	a.RequireScopes("b", "a")
	a.RequireRoles("admin")
	b.RequireAnyScope("a")
	b.RequireScopes("b")
	_, _, da := a.ServeResourceMetadata("GET")
	_, _, db := b.ServeResourceMetadata("GET")
	if string(da) != string(db) {
		t.Fatalf("documents differ:\n%s\n%s", da, db)
	}
	if got := doc(a)["scopes_supported"]; !slices.Equal(toStrings(got), []string{"a", "b"}) {
		t.Fatalf("scopes_supported = %v", got)
	}
	a.RequireScopes("c") // a route built after the first answer still counts
	if got := doc(a)["scopes_supported"]; !slices.Equal(toStrings(got), []string{"a", "b", "c"}) {
		t.Fatalf("scopes_supported = %v", got)
	}
	c := newVerifier(t, iss, core.WithResource(id, core.ResourceMetadata{Scopes: []string{"x"}, Name: "N", Documentation: "https://docs.example.com"}),
		core.WithQueryToken(), core.WithDPoPRequired(), core.WithDPoPAlgorithms("ES256"))
	c.RequireScopes("y")
	m := doc(c)
	for k, want := range map[string]any{"resource": id, "resource_name": "N", "resource_documentation": "https://docs.example.com", "dpop_bound_access_tokens_required": true} {
		if m[k] != want {
			t.Fatalf("%s = %v, want %v", k, m[k], want)
		}
	}
	for k, want := range map[string][]string{"scopes_supported": {"x"}, "bearer_methods_supported": {"header", "query"}, "dpop_signing_alg_values_supported": {"ES256"}, "authorization_servers": {iss.URL}} {
		if got := toStrings(m[k]); !slices.Equal(got, want) {
			t.Fatalf("%s = %v, want %v", k, got, want)
		}
	}
	// The resource is a permitted audience: a token for it passes.
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+iss.MustMint(t, authtest.Claims{"aud": id}))
	if _, err := a.Authenticate(context.Background(), core.FromHTTP(r)); err != nil {
		t.Fatalf("token for the resource: %v", err)
	}
	plain := newVerifier(t, iss, core.WithAudiences("x"))
	if status, _, _ := plain.ServeResourceMetadata("GET"); status != 404 || plain.ResourceMetadataURL() != "" || plain.ResourceMetadataPath() != "/.well-known/oauth-protected-resource" {
		t.Fatalf("without WithResource: %d", status)
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}
