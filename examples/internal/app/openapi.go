package app

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/jwksauth/jwksauth/core"
)

// OAuthFlow is the OAuth2 authorization-code flow with PKCE that the
// interactive docs offer behind Swagger UI's Authorize button.
type OAuthFlow struct {
	// AuthorizationURL is the provider's authorization endpoint.
	AuthorizationURL string
	// TokenURL is the provider's token endpoint. Swagger UI calls it from
	// the browser, so the provider must allow the docs' origin (CORS).
	TokenURL string
	// ClientID is the public client Swagger UI logs in as. Empty: Swagger
	// UI asks for it in the Authorize dialog.
	ClientID string
}

// Security scheme names of /openapi.json: SchemeOAuth2 when an OAuthFlow is
// known, else SchemeBearer (paste a token by hand).
const (
	SchemeOAuth2 = "oauth2"
	SchemeBearer = "bearer"
)

// OpenAPIVersion is the OpenAPI version of /openapi.json. 3.1 lets the
// bearer scheme's requirements list the scopes too.
const OpenAPIVersion = "3.1.0"

// openAPIDoc is the top of the document; a struct keeps its members in the
// usual order.
type openAPIDoc struct {
	OpenAPI    string         `json:"openapi"`
	Info       map[string]any `json:"info"`
	Tags       []any          `json:"tags"`
	Paths      map[string]any `json:"paths"`
	Components map[string]any `json:"components"`
}

// openAPI renders the OpenAPI document of Routes: one operation per route,
// whose security requirement lists exactly the route's scopes (none on
// public routes), with the 400/401/403/503 answers core gives. flow nil
// documents a plain bearer scheme instead of the OAuth2 flow. The result
// depends only on its arguments, so every framework serves the same bytes.
func openAPI(flow *OAuthFlow, realm string) ([]byte, error) {
	scheme := SchemeBearer
	if flow != nil {
		scheme = SchemeOAuth2
	}
	paths := map[string]any{}
	for _, rt := range Routes {
		if rt.doc.id == "" || rt.doc.result == "" {
			return nil, fmt.Errorf("openapi: route %s %s is not documented", rt.Method, rt.Path)
		}
		p := openAPIPath(rt.Path)
		item, _ := paths[p].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[p] = item
		}
		if strings.Contains(rt.Path, ":"+ParamID) {
			item["parameters"] = []any{map[string]any{
				"name": ParamID, "in": "path", "required": true,
				"description": "The note id: 1 to 64 characters of A-Z a-z 0-9 _ -",
				"schema":      map[string]any{"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
				"example":     "42",
			}}
		}
		item[strings.ToLower(rt.Method)] = operation(rt, scheme)
	}
	doc := openAPIDoc{
		OpenAPI: OpenAPIVersion,
		Info: map[string]any{
			"title":   "Notes API (jwksauth example)",
			"version": "1.0.0",
			"description": "The example notes API, served the same way by Gin, Echo and Fiber with jwksauth.\n\n" +
				"Click **Authorize**, log in (OAuth2 authorization code with PKCE) and pick the scopes, " +
				"then **Try it out** on each route: a missing token answers 401, a missing scope 403.",
		},
		Tags: []any{
			map[string]any{"name": "notes", "description": "Each route needs its own example:note:* scope"},
			map[string]any{"name": "token", "description": "What the API sees of your token: any valid token"},
			map[string]any{"name": "health", "description": "Open routes"},
		},
		Paths:      paths,
		Components: components(flow, scheme, realm),
	}
	return json.MarshalIndent(doc, "", "  ")
}

// openAPIPath turns the routers' ":name" segments into OpenAPI's "{name}".
func openAPIPath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") {
			segs[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(segs, "/")
}

func operation(rt Route, scheme string) map[string]any {
	ok := map[string]any{
		"description": "OK",
		"content":     jsonContent("#/components/schemas/" + rt.doc.result),
	}
	op := map[string]any{
		"operationId": rt.doc.id,
		"tags":        []string{rt.doc.tag},
		"summary":     rt.doc.summary,
		"responses":   map[string]any{"200": ok},
	}
	description := rt.doc.description
	if rt.Public {
		op["security"] = []any{} // explicitly none
	} else {
		scopes := append([]string{}, rt.Scopes...) // [] rather than null
		op["security"] = []any{map[string][]string{scheme: scopes}}
		responses := op["responses"].(map[string]any)
		responses["400"] = ref("BadRequest")
		responses["401"] = ref("Unauthorized")
		responses["503"] = ref("Unavailable")
		if len(scopes) > 0 {
			responses["403"] = ref("Forbidden")
			description = strings.TrimSpace("Requires the scope `" + strings.Join(scopes, "` and `") + "`. " + description)
		}
	}
	if strings.Contains(rt.Path, ":"+ParamID) {
		op["responses"].(map[string]any)["404"] = ref("NoSuchNote")
	}
	if description != "" {
		op["description"] = description
	}
	return op
}

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/responses/" + name} }

func jsonContent(schemaRef string) map[string]any {
	return map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": schemaRef}}}
}

func errorResponse(description string, example core.Error, headers ...string) map[string]any {
	r := map[string]any{
		"description": description,
		"content": map[string]any{"application/json": map[string]any{
			"schema":  map[string]any{"$ref": "#/components/schemas/Error"},
			"example": json.RawMessage(example.Body()),
		}},
	}
	if len(headers) > 0 {
		h := map[string]any{}
		for _, name := range headers {
			h[name] = map[string]any{"$ref": "#/components/headers/" + name}
		}
		r["headers"] = h
	}
	return r
}

// securitySchemes is the OAuth2 authorization-code scheme when flow is
// known, else a bearer scheme to paste a token into.
func securitySchemes(flow *OAuthFlow, scheme string) map[string]any {
	schemes := map[string]any{}
	if flow != nil {
		scopes := map[string]string{}
		for _, s := range noteScopes {
			scopes[s.name] = s.description
		}
		schemes[scheme] = map[string]any{
			"type": "oauth2",
			"description": "OAuth2 authorization code with PKCE (S256). The API verifies the access token's " +
				"signature against the issuer's JWKS, its issuer, audience and expiry, then each route's scope.",
			"flows": map[string]any{"authorizationCode": map[string]any{
				"authorizationUrl": flow.AuthorizationURL,
				"tokenUrl":         flow.TokenURL,
				"scopes":           scopes,
			}},
		}
	} else {
		schemes[scheme] = map[string]any{
			"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
			"description": "Paste an access token of the configured issuer. (No OAuth2 authorization and token " +
				"URLs are known: set AUTHORIZATION_URL and TOKEN_URL, or an ISSUER whose discovery document lists them.)",
		}
	}
	return schemes
}

func components(flow *OAuthFlow, scheme, realm string) map[string]any {
	schemes := securitySchemes(flow, scheme)
	str := map[string]any{"type": "string"}
	challenge := func(code, extra string) string {
		s := `Bearer realm="` + realm + `"`
		if code != "" {
			s += `, error="` + code + `"` + extra
		}
		return s
	}
	return map[string]any{
		"securitySchemes": schemes,
		"schemas": map[string]any{
			"Error": map[string]any{
				"type": "object", "required": []string{"error", "error_description"},
				"properties": map[string]any{
					"error":             map[string]any{"type": "string", "examples": []string{"invalid_token", "insufficient_scope"}},
					"error_description": map[string]any{"type": "string", "description": "A fixed sentence; never echoes the request"},
				},
			},
			"Health": map[string]any{"type": "object", "required": []string{"status"},
				"properties": map[string]any{"status": map[string]any{"const": "ok"}}},
			"Claims": map[string]any{"type": "object", "description": "The token's claims, exactly as signed"},
			"Scopes": map[string]any{"type": "array", "items": str, "examples": []any{[]string{ScopeRead}}},
			"NoteResult": map[string]any{"type": "object", "required": []string{"success", "details"},
				"properties": map[string]any{"success": map[string]any{"type": "boolean"}, "details": str}},
		},
		"headers": map[string]any{
			"WWW-Authenticate": map[string]any{
				"description": "The RFC 6750 challenge: error and, on 403, the required scopes. While DPoP is " +
					"accepted, a 401 carries a second field, the RFC 9449 DPoP challenge with its algs (under " +
					"DPOP=required the DPoP one alone), and a 403 the challenge of the scheme the token came with",
				"schema":  str,
				"example": challenge("insufficient_scope", `, scope="`+ScopeCreate+`"`),
			},
			"Retry-After": map[string]any{"description": "Seconds to wait before trying again", "schema": map[string]any{"type": "integer"}},
		},
		"responses": map[string]any{
			"BadRequest": errorResponse("The Authorization header is malformed, or the request carries more than one "+
				"credential (error=invalid_request)", core.Error{Code: "invalid_request", Description: "the bearer credential is malformed"},
				"WWW-Authenticate"),
			"Unauthorized": errorResponse("No token (a bare challenge: "+challenge("", "")+"), or a token that is expired, "+
				"badly signed, or for another issuer or audience (error=invalid_token)",
				core.Error{Code: "invalid_token", Description: "the access token has expired"}, "WWW-Authenticate"),
			"Forbidden": errorResponse("The token is valid but lacks a scope the route requires (error=insufficient_scope, "+
				"with the required scopes in the challenge's scope parameter)",
				core.Error{Code: "insufficient_scope", Description: "the access token lacks a required scope"}, "WWW-Authenticate"),
			"Unavailable": errorResponse("The issuer's signing keys cannot be fetched and the token's key is not cached: "+
				"an outage, not a bad token", core.Error{Code: "temporarily_unavailable", Description: "the signing keys cannot be fetched right now"},
				"Retry-After"),
			"NoSuchNote": errorResponse("The id is not 1 to 64 characters of A-Z a-z 0-9 _ -",
				core.Error{Code: "not_found", Description: "no such note"}),
		},
	}
}

// openAPIHandler serves the document as it is.
func openAPIHandler(doc []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(doc)
	})
}
