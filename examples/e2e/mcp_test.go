package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jwksauth/jwksauth/core/authtest"
	"github.com/jwksauth/jwksauth/examples/internal/app"
	"github.com/jwksauth/jwksauth/examples/internal/ginapp"
)

// metadataPath is the well-known path of the Protected Resource Metadata
// document (RFC 9728 §3) for a resource without a path.
const metadataPath = "/.well-known/oauth-protected-resource"

// discovered is what oidcprovider/mcpdiscover.mjs prints: what each client
// library found from a 401 of the API.
type discovered struct {
	MCP struct {
		ResourceMetadata     string   `json:"resource_metadata"`
		Resource             string   `json:"resource"`
		SelectedResource     string   `json:"selected_resource"`
		AuthorizationServers []string `json:"authorization_servers"`
		Scopes               []string `json:"scopes_supported"`
		Issuer               string   `json:"issuer"`
		TokenEndpoint        string   `json:"token_endpoint"`
	} `json:"mcp"`
	OAuth4WebAPI struct {
		Schemes              []string `json:"schemes"`
		ResourceMetadata     string   `json:"resource_metadata"`
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
		Scopes               []string `json:"scopes_supported"`
		Issuer               string   `json:"issuer"`
		TokenEndpoint        string   `json:"token_endpoint"`
		Token                struct {
			Scope      string `json:"scope"`
			CallStatus int    `json:"call_status"`
		} `json:"token"`
	} `json:"oauth4webapi"`
}

// TestMCPDiscovery runs each example app with RESOURCE_URL set to its own
// URL against oidc-provider, and lets two client libraries we did not
// write, the MCP TypeScript SDK and oauth4webapi, discover the
// authorization server from a 401 alone (RFC 9728), as an MCP client must.
// Then a token oidc-provider issued for that resource (RFC 8707) passes,
// and one issued for another resource does not. The three apps serve the
// same document but for the resource itself.
func TestMCPDiscovery(t *testing.T) {
	start := time.Now()
	p := startProvider(t)
	node := discoverer(t)
	routeScopes := []string{scopeCreate, scopeDelete, scopeRead, scopeUpdate} // sorted, as the document lists them

	var docs [][]byte
	for _, fw := range frameworks {
		t.Run(fw.Name, func(t *testing.T) {
			addr := freeAddr(t)
			resource := "http://" + addr
			a := startAppEnv(t, fw, p.url, addr, map[string]string{app.EnvResourceURL: resource})
			docURL := resource + metadataPath

			began := time.Now()
			d, stderr, err := discover(node, a.url+"/notes", "--client", "client-es256", "--secret", clientSecret, "--scope", scopeRead)
			if err != nil {
				t.Fatalf("mcpdiscover: %v\n%s", err, stderr)
			}
			t.Logf("%s: MCP SDK and oauth4webapi discovery, token and call in %v", fw.Name, time.Since(began).Round(time.Millisecond))
			m, o := d.MCP, d.OAuth4WebAPI
			for _, c := range []struct {
				lib, metadata, resource, issuer, token string
				servers, scopes                        []string
			}{
				{"MCP SDK", m.ResourceMetadata, m.Resource, m.Issuer, m.TokenEndpoint, m.AuthorizationServers, m.Scopes},
				{"oauth4webapi", o.ResourceMetadata, o.Resource, o.Issuer, o.TokenEndpoint, o.AuthorizationServers, o.Scopes},
			} {
				if c.metadata != docURL || c.resource != resource {
					t.Errorf("%s: resource_metadata %q, resource %q; want %q, %q", c.lib, c.metadata, c.resource, docURL, resource)
				}
				if !slices.Equal(c.servers, []string{p.url}) || c.issuer != p.url || c.token != p.url+"/token" {
					t.Errorf("%s: authorization servers %q, issuer %q, token endpoint %q; want oidc-provider's %s", c.lib, c.servers, c.issuer, c.token, p.url)
				}
				if !slices.Equal(c.scopes, routeScopes) {
					t.Errorf("%s: scopes_supported %q, want the routes' %q", c.lib, c.scopes, routeScopes)
				}
			}
			// The SDK's selectResourceURL accepted the document's resource for
			// the API's URL; as a URL it gains a trailing slash.
			if m.SelectedResource != resource+"/" {
				t.Errorf("MCP SDK selected resource %q, want %q", m.SelectedResource, resource+"/")
			}
			if !slices.Equal(o.Schemes, []string{"bearer", "dpop"}) {
				t.Errorf("oauth4webapi parsed the challenges %q, want bearer and dpop", o.Schemes)
			}
			// oauth4webapi got a token at the discovered endpoint for the
			// document's resource, and the app took it.
			if o.Token.CallStatus != http.StatusOK || o.Token.Scope != scopeRead {
				t.Errorf("oauth4webapi's token for the resource: scope %q, GET /notes %d; want %s, 200", o.Token.Scope, o.Token.CallStatus, scopeRead)
			}

			for _, c := range clients {
				if got := call(t, http.MethodGet, a.url+"/notes", p.token(t, c.id, scopeRead, resource)); got.status != http.StatusOK {
					t.Errorf("%s token for %s: %s", c.alg, resource, got)
				}
			}
			// Another API on this machine, and the same one spelled with a
			// trailing slash: aud must equal the resource exactly.
			for _, other := range []string{"http://127.0.0.1:1", resource + "/"} {
				got := call(t, http.MethodGet, a.url+"/notes", p.token(t, "client-es256", scopeRead, other))
				want := withMetadata(docURL, authtest.Challenges(`, error="invalid_token", error_description="the access token audience is not accepted"`))
				if got.status != http.StatusUnauthorized || !slices.Equal(got.challenges, want) {
					t.Errorf("token for %s: %s, want 401 %q", other, got, want)
				}
			}
			if got := call(t, http.MethodGet, a.url+"/notes", ""); !slices.Equal(got.challenges, withMetadata(docURL, authtest.Challenges(""))) {
				t.Errorf("no token: %s, want the challenges naming %s", got, docURL)
			}

			doc := fetch(t, docURL)
			// The frameworks must agree byte for byte but for the resource,
			// which is each app's own URL.
			docs = append(docs, bytes.ReplaceAll(doc, []byte(`"`+resource+`"`), []byte(`"RESOURCE"`)))
		})
	}
	t.Run("frameworks serve the same document", func(t *testing.T) {
		if len(docs) != len(frameworks) {
			t.Skip("a framework failed above")
		}
		for i := 1; i < len(docs); i++ {
			if !bytes.Equal(docs[0], docs[i]) {
				t.Errorf("%s served %s, %s served %s", frameworks[0].Name, docs[0], frameworks[i].Name, docs[i])
			}
		}
	})
	t.Run("without RESOURCE_URL", func(t *testing.T) {
		a := startApp(t, ginapp.Framework, p.url)
		_, stderr, err := discover(node, a.url+"/notes")
		if err == nil || !strings.Contains(stderr, "names no resource_metadata") {
			t.Errorf("mcpdiscover against an app without a resource: err %v, stderr %s; want a failure for the missing resource_metadata", err, stderr)
		}
	})
	t.Logf("MCP discovery end to end in %v", time.Since(start).Round(time.Millisecond))
}

// discoverer returns node's path, or skips as startProvider does when the
// client libraries are not installed.
func discoverer(t *testing.T) string {
	t.Helper()
	return nodeWith(t, "@modelcontextprotocol/sdk", "oauth4webapi")
}

// discover runs mcpdiscover.mjs against url and decodes what it prints.
func discover(node, url string, args ...string) (discovered, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{"mcpdiscover.mjs", url}, args...)...)
	cmd.Dir = providerDir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	var d discovered
	if err := cmd.Run(); err != nil {
		return d, stderr.String(), err
	}
	if err := json.Unmarshal(stdout.Bytes(), &d); err != nil {
		return d, stderr.String(), err
	}
	return d, stderr.String(), nil
}

// fetch GETs url and returns the body of its 200 application/json answer.
func fetch(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := httpClient.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET %s: %d %s %s %v", url, resp.StatusCode, resp.Header.Get("Content-Type"), body, err)
	}
	return body
}

// withMetadata returns challenges with resource_metadata="docURL" after
// each realm, as an API with a resource identifier sends them (RFC 9728 §5.1).
func withMetadata(docURL string, challenges []string) []string {
	out := make([]string, len(challenges))
	for i, c := range challenges {
		out[i] = strings.Replace(c, `realm="api"`, `realm="api", resource_metadata="`+docURL+`"`, 1)
	}
	return out
}
