package app

import (
	"encoding/json"
	"net/http"

	"github.com/jwksauth/jwksauth/core"
)

// The note scopes of the example API.
const (
	ScopeRead   = "example:note:read"
	ScopeCreate = "example:note:create"
	ScopeUpdate = "example:note:update"
	ScopeDelete = "example:note:delete"
)

// ParamID is the name of the path parameter of /notes/:id.
const ParamID = "id"

// Route is one route of the notes API. Every framework mounts the same
// table (Routes); only the way it mounts it differs.
type Route struct {
	// Method is the HTTP method.
	Method string
	// Path uses the :name syntax that Gin, Echo and Fiber share.
	Path string
	// Public routes need no token. The zero value is a protected route:
	// forgetting the field fails closed.
	Public bool
	// Scopes must all be present in the token (none: any valid token).
	Scopes []string

	reply func(p *core.Principal, id string) Reply
	doc   routeDoc // its operation in /openapi.json
}

// routeDoc describes a route's operation in the OpenAPI document.
type routeDoc struct {
	id, tag, summary, description string
	result                        string // the schema of the 200 answer, in components
}

// Routes is the notes API: the seed's routes, plus the two it lists scopes for.
var Routes = []Route{
	{Method: http.MethodGet, Path: "/healthz", Public: true, reply: health,
		doc: routeDoc{"health", "health", "Liveness check", "Open to everyone: no token needed.", "Health"}},
	{Method: http.MethodGet, Path: "/my-token", reply: myToken,
		doc: routeDoc{"myToken", "token", "The verified claims of your token", "Any valid token, whatever its scopes.", "Claims"}},
	{Method: http.MethodGet, Path: "/my-scopes", reply: myScopes,
		doc: routeDoc{"myScopes", "token", "The scopes of your token", "Any valid token; [] when it carries no scope.", "Scopes"}},
	{Method: http.MethodGet, Path: "/notes", Scopes: []string{ScopeRead}, reply: note("listed the notes"),
		doc: routeDoc{"listNotes", "notes", "List the notes", "", "NoteResult"}},
	{Method: http.MethodPost, Path: "/notes", Scopes: []string{ScopeCreate}, reply: note("created a note"),
		doc: routeDoc{"createNote", "notes", "Create a note", "", "NoteResult"}},
	{Method: http.MethodPut, Path: "/notes/:" + ParamID, Scopes: []string{ScopeUpdate}, reply: noteByID("updated"),
		doc: routeDoc{"updateNote", "notes", "Update a note", "", "NoteResult"}},
	{Method: http.MethodDelete, Path: "/notes/:" + ParamID, Scopes: []string{ScopeDelete}, reply: noteByID("deleted"),
		doc: routeDoc{"deleteNote", "notes", "Delete a note", "", "NoteResult"}},
}

// noteScopes are the four note scopes with what they allow, for the OAuth2
// security scheme of /openapi.json and the development login.
var noteScopes = []struct{ name, description string }{
	{ScopeRead, "List the notes (GET /notes)"},
	{ScopeCreate, "Create a note (POST /notes)"},
	{ScopeUpdate, "Update a note (PUT /notes/{id})"},
	{ScopeDelete, "Delete a note (DELETE /notes/{id})"},
}

// Reply is a complete answer: status, headers and JSON body. The
// frameworks write it as it is, so their bodies agree byte for byte.
type Reply struct {
	// Status is the HTTP status.
	Status int
	// Header holds single-valued fields: Content-Type and Cache-Control.
	Header http.Header
	// Body is the JSON body.
	Body []byte
}

// Serve answers the route for the verified principal p (nil on a public
// route) and the :id segment as the framework gives it ("" on routes
// without one). Frameworks differ in whether they percent-decode it; the
// id rule (see noteByID) makes every framework agree anyway.
func (r Route) Serve(p *core.Principal, id string) Reply {
	if !r.Public && p == nil {
		// The guard did not run: a wiring mistake. Refuse rather than serve.
		return errorReply(http.StatusInternalServerError, "server_error", "the route is not guarded")
	}
	return r.reply(p, id)
}

// Guards returns what route rt puts before its handler, in the order they
// run, made with the framework's adapter: authenticate (its Middleware)
// unless the route is public, then require (its Require) of the route's
// scopes if it names any. H is the framework's handler type.
func Guards[H any](v *core.Verifier, rt Route, authenticate func() H, require func(*core.Requirement) H) []H {
	var guards []H
	if !rt.Public {
		guards = append(guards, authenticate())
	}
	if len(rt.Scopes) > 0 {
		guards = append(guards, require(v.RequireScopes(rt.Scopes...)))
	}
	return guards
}

// NotFound is the answer to a path no route serves.
func NotFound() Reply { return errorReply(http.StatusNotFound, "not_found", "no such route") }

// MethodNotAllowed is the answer to a known path with a method no route serves.
func MethodNotAllowed() Reply {
	return errorReply(http.StatusMethodNotAllowed, "method_not_allowed", "the route does not take this method")
}

// jsonReply answers 200 with v as JSON.
func jsonReply(v any) Reply {
	body, err := json.Marshal(v)
	if err != nil {
		return errorReply(http.StatusInternalServerError, "server_error", "the answer cannot be encoded")
	}
	return newReply(http.StatusOK, body)
}

func newReply(status int, body []byte) Reply {
	return Reply{
		Status: status,
		// Answers carry claims: keep them out of shared caches.
		Header: http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}},
		Body:   body,
	}
}

// errorReply has the shape of core's error bodies. code and desc are fixed
// ASCII without quotes or backslashes.
func errorReply(status int, code, desc string) Reply {
	return newReply(status, []byte(`{"error":"`+code+`","error_description":"`+desc+`"}`))
}

func health(*core.Principal, string) Reply { return jsonReply(map[string]string{"status": "ok"}) }

func myToken(p *core.Principal, _ string) Reply { return jsonReply(p.Claims()) }

func myScopes(p *core.Principal, _ string) Reply {
	return jsonReply(append([]string{}, p.Scopes...)) // [] rather than null
}

type noteResult struct {
	Success bool   `json:"success"`
	Details string `json:"details"`
}

func note(details string) func(*core.Principal, string) Reply {
	return func(*core.Principal, string) Reply { return jsonReply(noteResult{true, details}) }
}

// noteByID answers a /notes/:id route. The id must be 1 to 64 characters of
// A-Z a-z 0-9 _ -, checked on the raw segment: such characters never need
// percent-encoding, so every framework sees the same id whatever it decodes.
func noteByID(verb string) func(*core.Principal, string) Reply {
	return func(_ *core.Principal, id string) Reply {
		if !validID(id) {
			return errorReply(http.StatusNotFound, "not_found", "no such note")
		}
		return jsonReply(noteResult{true, verb + " note " + id})
	}
}

func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
