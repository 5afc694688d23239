package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/swaggest/swgui"
	"github.com/swaggest/swgui/v5emb"
)

// SwaggerUIVersion is the version of the Swagger UI assets embedded in the
// apps: those of github.com/swaggest/swgui v1.8.7 (package v5emb), pinned in
// examples/go.mod. (swgui v1.8.5 embeds Swagger UI 5.29.1 without its
// oauth2-redirect.js, which breaks the Authorize flow.)
const SwaggerUIVersion = "5.32.4"

// Paths of the docs pages.
const (
	DocsPath    = "/"
	OpenAPIPath = "/openapi.json"
)

// swaggerUIAssets are the files the Swagger UI page loads, all served from
// the embedded package: the page's stylesheet, scripts and icons, and the
// OAuth2 redirect page Swagger UI sends the login back to (by default
// /oauth2-redirect.html next to the page).
var swaggerUIAssets = []string{
	"/swagger-ui.css",
	"/swagger-ui-bundle.js",
	"/swagger-ui-standalone-preset.js",
	"/favicon-32x32.png",
	"/favicon-16x16.png",
	"/oauth2-redirect.html",
	"/oauth2-redirect.js",
}

// Docs is an app's interactive API documentation: the OpenAPI document of
// Routes at /openapi.json, and Swagger UI at / (from embedded assets, no
// CDN), pre-configured for the OAuth2 authorization-code flow with PKCE.
type Docs struct {
	flow    *OAuthFlow
	openAPI []byte
	ui      http.Handler
}

// NewDocs builds the docs. flow nil serves them without the Authorize
// login: /openapi.json then documents a bearer scheme to paste a token
// into. realm is the verifier's (see core.WithRealm), shown in the
// documented challenges.
func NewDocs(flow *OAuthFlow, realm string) (*Docs, error) {
	if flow != nil {
		f := *flow
		flow = &f
		if flow.AuthorizationURL == "" || flow.TokenURL == "" {
			return nil, errors.New("docs: an OAuth2 flow needs both an authorization and a token URL")
		}
	}
	doc, err := openAPI(flow, realm)
	if err != nil {
		return nil, err
	}
	ui, err := swaggerUI(flow)
	if err != nil {
		return nil, err
	}
	return &Docs{flow: flow, openAPI: doc, ui: ui}, nil
}

// Flow returns a copy of the OAuth2 flow the docs offer, or nil.
func (d *Docs) Flow() *OAuthFlow {
	if d == nil || d.flow == nil {
		return nil
	}
	f := *d.flow
	return &f
}

// OpenAPI returns a copy of the OpenAPI document, as /openapi.json serves it.
func (d *Docs) OpenAPI() []byte { return append([]byte(nil), d.openAPI...) }

func (d *Docs) pages() []Page {
	pages := []Page{{DocsPath, d.ui}, {OpenAPIPath, openAPIHandler(d.openAPI)}}
	for _, a := range swaggerUIAssets {
		pages = append(pages, Page{a, d.ui})
	}
	return pages
}

// swaggerUI returns swgui's handler for the page at / and its assets.
// Swagger UI's initOAuth is a method, not a setting: it is called from
// onComplete, once the document is loaded and before the Authorize dialog
// can open. swgui's request proxy stays off (it would fetch any URL for
// anyone).
func swaggerUI(flow *OAuthFlow) (h http.Handler, err error) {
	onComplete := "function () {}"
	if flow != nil {
		client, err := jsString(flow.ClientID)
		if err != nil {
			return nil, err
		}
		onComplete = "function () { window.ui.initOAuth({clientId: " + client +
			", usePkceWithAuthorizationCodeGrant: true, scopeSeparator: \" \"}); }"
	}
	cfg := swgui.Config{
		Title:       "Notes API",
		SwaggerJSON: OpenAPIPath,
		BasePath:    DocsPath,
		Proxy:       false,
		SettingsUI:  map[string]string{"onComplete": onComplete},
	}
	// swgui panics on a template it cannot parse; the settings are ours and
	// escaped, but a library must not take the process down.
	defer func() {
		if r := recover(); r != nil {
			h, err = nil, fmt.Errorf("docs: Swagger UI page: %v", r)
		}
	}()
	return v5emb.NewHandlerWithConfig(cfg), nil
}

// jsString renders s as a JavaScript string literal that is safe inside an
// HTML <script> (json.Marshal escapes <, > and &) and inside swgui's page
// template, which the settings become part of (braces are escaped, so no
// "{{" can start a template action).
func jsString(s string) (string, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	return strings.NewReplacer("{", `\u007b`, "}", `\u007d`).Replace(string(b)), nil
}
