package core

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// metadataPath is the well-known path of RFC 9728 §3.
const metadataPath = "/.well-known/oauth-protected-resource"

// metadataMaxAge is how long clients and caches may keep the document.
const metadataMaxAge = "3600"

// ResourceMetadata holds the optional members of the Protected Resource
// Metadata document (RFC 9728 §2) that WithResource publishes. Every field
// may be left zero.
type ResourceMetadata struct {
	// Name is resource_name, a name for people.
	Name string
	// Documentation is resource_documentation, the URL of a page for
	// developers.
	Documentation string
	// Scopes is scopes_supported. Default: the scopes the Verifier's
	// requirements name (RequireScopes, RequireAnyScope), sorted, as the
	// routes' guards are built.
	Scopes []string
}

// WithResource gives the API's resource identifier (RFC 9728 §1.2, RFC
// 8707 §2): an absolute https URL, or http on a loopback host, without
// query or fragment, such as "https://api.example.com" or
// "https://example.com/notes". Then:
//
//   - it is a permitted audience (tokens issued for this resource, RFC 8707);
//   - the Verifier publishes the Protected Resource Metadata document
//     (RFC 9728), which each adapter mounts in one line at
//     ResourceMetadataPath: the resource, the issuer as authorization
//     server, the scopes, the bearer methods, the DPoP settings and meta's
//     fields;
//   - every challenge carries resource_metadata="<the document's URL>"
//     (RFC 9728 §5.1), so that a client (an MCP client, for one) finds the
//     authorization server and scopes from a 401 alone.
//
// Default: none. New refuses an identifier that is not such a URL.
func WithResource(identifier string, meta ResourceMetadata) Option {
	return func(c *config) {
		docURL, err := metadataURL(identifier, c.insecureHTTP)
		if err != nil {
			c.fail("jwksauth: WithResource: %v", err)
			return
		}
		if meta.Documentation != "" {
			if u, err := url.Parse(meta.Documentation); err != nil || !u.IsAbs() {
				c.fail("jwksauth: WithResource: resource documentation %q is not an absolute URL", meta.Documentation)
			}
		}
		for _, s := range meta.Scopes {
			if !validValue(s, false) {
				c.fail("jwksauth: WithResource: scope %q is not a valid scope", s)
			}
		}
		c.resource, c.resourceMeta, c.metadataURL = identifier, meta, docURL
		c.resourceMeta.Scopes = slices.Clone(meta.Scopes)
		c.audiences = append(c.audiences, identifier)
	}
}

// metadataURL checks a resource identifier and returns the URL of its
// metadata document: the well-known path inserted between the authority
// and the path (RFC 9728 §3.1).
func metadataURL(id string, insecure bool) (string, error) {
	u, err := url.Parse(id)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "":
		return "", errNotAbsolute
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.ContainsAny(id, "?#"):
		return "", errQueryFragment
	case u.User != nil:
		return "", errUserinfo
	case !headerSafe(id):
		return "", errNotAbsolute
	}
	if err := checkURL(id, insecure); err != nil {
		return "", err
	}
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	if u.EscapedPath() != "/" && strings.HasSuffix(u.EscapedPath(), "/") {
		path += "/"
	}
	return u.Scheme + "://" + u.Host + metadataPath + path, nil
}

var (
	errNotAbsolute   = errorString("the resource identifier must be an absolute URL of printable ASCII")
	errQueryFragment = errorString("the resource identifier must not have a query or fragment (RFC 9728 §1.2)")
	errUserinfo      = errorString("the resource identifier must not have userinfo")
)

type errorString string

func (e errorString) Error() string { return string(e) }

// metadata is a Verifier's Protected Resource Metadata document, rebuilt
// whenever a requirement names a scope not seen before.
type metadata struct {
	mu     sync.Mutex
	scopes []string // collected from requirements, sorted
	doc    []byte   // the current document; nil until first asked for
}

// noteScopes adds the scopes of a requirement to scopes_supported.
func (v *Verifier) noteScopes(scopes []string) {
	if v.cfg.resource == "" || v.cfg.resourceMeta.Scopes != nil {
		return
	}
	m := &v.meta
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range scopes {
		if i, found := slices.BinarySearch(m.scopes, s); !found {
			m.scopes = slices.Insert(m.scopes, i, s)
			m.doc = nil
		}
	}
}

// document returns the metadata document's bytes: the same for the same
// configuration and requirements, whatever the order they were built in.
func (v *Verifier) document() []byte {
	m := &v.meta
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.doc != nil {
		return m.doc
	}
	cfg := v.cfg
	scopes := cfg.resourceMeta.Scopes
	if scopes == nil {
		scopes = m.scopes
	}
	methods := []string{"header"}
	if cfg.queryParam != "" {
		methods = append(methods, "query")
	}
	doc := struct {
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
		Scopes               []string `json:"scopes_supported,omitempty"`
		BearerMethods        []string `json:"bearer_methods_supported"`
		Name                 string   `json:"resource_name,omitempty"`
		Documentation        string   `json:"resource_documentation,omitempty"`
		DPoPAlgs             []string `json:"dpop_signing_alg_values_supported"`
		DPoPRequired         bool     `json:"dpop_bound_access_tokens_required"`
	}{
		Resource:             cfg.resource,
		AuthorizationServers: v.Issuers(),
		Scopes:               scopes,
		BearerMethods:        methods,
		Name:                 cfg.resourceMeta.Name,
		Documentation:        cfg.resourceMeta.Documentation,
		DPoPAlgs:             v.dpop.Algorithms(),
		DPoPRequired:         cfg.dpopRequired,
	}
	b, err := json.Marshal(doc)
	if err != nil { // strings and bools only: cannot fail
		return []byte("{}")
	}
	m.doc = b
	return b
}

// ResourceMetadataPath returns the path at which to serve the Protected
// Resource Metadata document, "/.well-known/oauth-protected-resource"
// followed by the resource identifier's path (RFC 9728 §3.1). Without
// WithResource it is the well-known path alone, where
// ServeResourceMetadata answers 404. The adapters' metadata handlers
// mount it.
func (v *Verifier) ResourceMetadataPath() string {
	if v == nil || v.cfg.metadataURL == "" {
		return metadataPath
	}
	u, _ := url.Parse(v.cfg.metadataURL)
	return u.EscapedPath()
}

// ResourceMetadataURL returns the absolute URL of the metadata document,
// as every challenge names it, or "" when WithResource was not given.
func (v *Verifier) ResourceMetadataURL() string {
	if v == nil {
		return ""
	}
	return v.cfg.metadataURL
}

// ServeResourceMetadata answers a request for the metadata document with
// the given method, for adapters to write out: 200 with the JSON document
// for GET, the same headers without a body for HEAD, and 405 with Allow for
// any other method. The document is public and the same for every caller:
// it may be cached (Cache-Control: public, max-age=3600) and read from any
// origin (Access-Control-Allow-Origin: *), as browser-based clients such as
// the MCP Inspector read it. Without WithResource the answer is 404.
func (v *Verifier) ServeResourceMetadata(method string) (status int, header http.Header, body []byte) {
	header = http.Header{}
	if v == nil || v.cfg.resource == "" {
		header.Set("Content-Type", "application/json")
		header.Set("Cache-Control", "no-store")
		return http.StatusNotFound, header, []byte(`{"error":"not_found","error_description":"no resource metadata is configured"}`)
	}
	switch method {
	case http.MethodGet, http.MethodHead:
		doc := v.document()
		header.Set("Content-Type", "application/json")
		header.Set("Cache-Control", "public, max-age="+metadataMaxAge)
		header.Set("Access-Control-Allow-Origin", "*")
		if method == http.MethodHead {
			return http.StatusOK, header, nil
		}
		return http.StatusOK, header, doc
	default:
		header.Set("Allow", "GET, HEAD")
		header.Set("Content-Type", "application/json")
		header.Set("Cache-Control", "no-store")
		return http.StatusMethodNotAllowed, header, []byte(`{"error":"method_not_allowed","error_description":"use GET or HEAD"}`)
	}
}
