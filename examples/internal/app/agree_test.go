package app_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
	"github.com/jwksauth/jwksauth/examples/internal/app"
)

const (
	noToken   = `{"error":"unauthorized","error_description":"a bearer token is required"}`
	malformed = `{"error":"invalid_request","error_description":"the bearer credential is malformed"}`
	twoCreds  = `{"error":"invalid_request","error_description":"only one bearer credential may be sent"}`
	noScope   = `{"error":"insufficient_scope","error_description":"the access token lacks a required scope"}`
	noRoute   = `{"error":"not_found","error_description":"no such route"}`
	noNote    = `{"error":"not_found","error_description":"no such note"}`
	noMethod  = `{"error":"method_not_allowed","error_description":"the route does not take this method"}`
)

// bare is the challenge pair of a 401 without an error code: Bearer, then
// DPoP with its algorithms, since DPoP is accepted by default (RFC 9449 §7.1).
var bare = authtest.Challenges("")

// invalidRequest is the 400 answer to a malformed credential.
func invalidRequest(desc string) []string {
	return authtest.Challenges(`, error="invalid_request", error_description="` + desc + `"`)
}

func invalidToken(desc string) ([]string, string) {
	return authtest.Challenges(`, error="invalid_token", error_description="` + desc + `"`),
		`{"error":"invalid_token","error_description":"` + desc + `"}`
}

// insufficient is the one challenge of a 403: that of the scheme the token
// came under (Bearer here).
func insufficient(scope string) []string {
	return []string{`Bearer realm="api", error="insufficient_scope", scope="` + scope + `"`}
}

func success(details string) string { return `{"success":true,"details":"` + details + `"}` }

// agreeCase is one request and its exact answer, sent to every framework.
type agreeCase struct {
	name       string
	method     string
	path       string
	auth       []string // Authorization fields
	status     int
	challenges []string // every WWW-Authenticate field, in order; nil means absent
	body       string   // a JSON value
	allow      string   // the Allow field of a 405; "" means absent
}

// TestFrameworksAgree starts the three apps on loopback against one issuer
// and sends each request to all of them: each must give the expected
// answer, and all three the same status, WWW-Authenticate (byte for byte),
// Content-Type, Cache-Control and JSON value.
func TestFrameworksAgree(t *testing.T) {
	iss := authtest.MustIssuer(t)
	v := newVerifier(t, iss)
	bases := make([]string, len(frameworks))
	for i, fw := range frameworks {
		bases[i] = serve(t, fw, app.Service{Verifier: v})
	}

	mint := func(scope string, extra authtest.Claims) string {
		c := authtest.Claims{"scope": scope}
		if scope == "" {
			c["scope"] = authtest.Omit
		}
		for k, v := range extra {
			c[k] = v
		}
		return iss.MustMint(t, c)
	}
	bearer := func(tok string) []string { return []string{"Bearer " + tok} }
	var (
		none       = mint("", nil)
		read       = mint(app.ScopeRead, nil)
		create     = mint(app.ScopeCreate, nil)
		readCreate = mint(app.ScopeRead+" "+app.ScopeCreate, nil)
		update     = mint(app.ScopeUpdate, nil)
		del        = mint(app.ScopeDelete, nil)
		all        = mint(strings.Join([]string{app.ScopeRead, app.ScopeCreate, app.ScopeUpdate, app.ScopeDelete}, " "), nil)
		custom     = mint(app.ScopeRead, authtest.Claims{"tenant": "acme", "groups": []string{"a", "b"}, "n": 1.5})
		scp        = mint("", authtest.Claims{"scp": []string{app.ScopeUpdate, app.ScopeRead}})
		expired    = mint(app.ScopeRead, authtest.Claims{"exp": time.Now().Add(-time.Hour).Unix()})
		wrongAud   = mint(app.ScopeRead, authtest.Claims{"aud": "other"})
		// A valid token of about 15 KiB: under core's 16 KiB cap, above
		// Fiber's default 4 KiB read buffer.
		big = mint(app.ScopeRead, authtest.Claims{"pad": strings.Repeat("x", 11<<10)})
	)
	other, err := authtest.NewKey("RS256")
	if err != nil {
		t.Fatal(err)
	}
	forged := iss.MustMint(t, authtest.Claims{"scope": app.ScopeRead}, authtest.SignedBy(other), authtest.Header("kid", iss.SigningKey().ID))
	if len(big) < 14<<10 || len(big) > core.DefaultMaxTokenSize {
		t.Fatalf("big token is %d bytes", len(big))
	}
	expCh, expBody := invalidToken("the access token has expired")
	audCh, audBody := invalidToken("the access token audience is not accepted")
	sigCh, sigBody := invalidToken("the access token signature is invalid")
	hugeCh, hugeBody := invalidToken("the access token is too large")

	cases := []agreeCase{
		// open
		{name: "healthz", method: "GET", path: "/healthz", status: 200, body: `{"status":"ok"}`},
		{name: "healthz ignores a bad header", method: "GET", path: "/healthz", auth: []string{"Bearer"}, status: 200, body: `{"status":"ok"}`},
		// credential reading (RFC 6750 §2)
		{name: "no token", method: "GET", path: "/my-token", status: 401, challenges: bare, body: noToken},
		{name: "basic scheme", method: "GET", path: "/my-token", auth: []string{"Basic dXNlcjpwYXNz"}, status: 401, challenges: bare, body: noToken},
		{name: "bearer without token", method: "GET", path: "/my-token", auth: []string{"Bearer"}, status: 400,
			challenges: invalidRequest("the bearer credential is malformed"), body: malformed},
		{name: "token with inner space", method: "GET", path: "/notes", auth: []string{"Bearer abc def"}, status: 400,
			challenges: invalidRequest("the bearer credential is malformed"), body: malformed},
		{name: "two authorization headers", method: "GET", path: "/my-scopes", auth: []string{"Bearer " + read, "Bearer " + read}, status: 400,
			challenges: invalidRequest("only one bearer credential may be sent"), body: twoCreds},
		{name: "lower-case scheme", method: "GET", path: "/notes", auth: []string{"bearer " + read}, status: 200, body: success("listed the notes")},
		// token validation (RFC 9068 §4, RFC 6750 §3.1)
		{name: "expired token", method: "GET", path: "/notes", auth: bearer(expired), status: 401, challenges: expCh, body: expBody},
		{name: "wrong audience", method: "GET", path: "/my-token", auth: bearer(wrongAud), status: 401, challenges: audCh, body: audBody},
		{name: "forged signature", method: "DELETE", path: "/notes/42", auth: bearer(forged), status: 401, challenges: sigCh, body: sigBody},
		{name: "token over the size cap", method: "GET", path: "/my-scopes", auth: bearer(strings.Repeat("a", core.DefaultMaxTokenSize+1)), status: 401, challenges: hugeCh, body: hugeBody},
		{name: "15 KiB token", method: "GET", path: "/notes", auth: bearer(big), status: 200, body: success("listed the notes")},
		// what handlers get
		{name: "my-token echoes the claims", method: "GET", path: "/my-token", auth: bearer(custom), status: 200, body: payload(t, custom)},
		{name: "my-token without scopes", method: "GET", path: "/my-token", auth: bearer(none), status: 200, body: payload(t, none)},
		{name: "my-scopes", method: "GET", path: "/my-scopes", auth: bearer(readCreate), status: 200, body: `["example:note:read","example:note:create"]`},
		{name: "my-scopes from scp", method: "GET", path: "/my-scopes", auth: bearer(scp), status: 200, body: `["example:note:update","example:note:read"]`},
		{name: "my-scopes empty", method: "GET", path: "/my-scopes", auth: bearer(none), status: 200, body: `[]`},
		// scopes (RFC 6750 §3.1)
		{name: "list with read", method: "GET", path: "/notes", auth: bearer(read), status: 200, body: success("listed the notes")},
		{name: "list without read", method: "GET", path: "/notes", auth: bearer(create), status: 403, challenges: insufficient(app.ScopeRead), body: noScope},
		{name: "list without scopes", method: "GET", path: "/notes", auth: bearer(none), status: 403, challenges: insufficient(app.ScopeRead), body: noScope},
		{name: "list without token", method: "GET", path: "/notes", status: 401, challenges: bare, body: noToken},
		{name: "create with create", method: "POST", path: "/notes", auth: bearer(create), status: 200, body: success("created a note")},
		{name: "create with read", method: "POST", path: "/notes", auth: bearer(read), status: 403, challenges: insufficient(app.ScopeCreate), body: noScope},
		{name: "create with all", method: "POST", path: "/notes", auth: bearer(all), status: 200, body: success("created a note")},
		{name: "update with update", method: "PUT", path: "/notes/42", auth: bearer(update), status: 200, body: success("updated note 42")},
		{name: "update with read and create", method: "PUT", path: "/notes/42", auth: bearer(readCreate), status: 403, challenges: insufficient(app.ScopeUpdate), body: noScope},
		{name: "update without token", method: "PUT", path: "/notes/42", status: 401, challenges: bare, body: noToken},
		{name: "delete with delete", method: "DELETE", path: "/notes/note_7-b", auth: bearer(del), status: 200, body: success("deleted note note_7-b")},
		{name: "delete with update", method: "DELETE", path: "/notes/42", auth: bearer(update), status: 403, challenges: insufficient(app.ScopeDelete), body: noScope},
		// routing: the frameworks' differences are configured away
		{name: "unknown path", method: "GET", path: "/nope", status: 404, body: noRoute},
		{name: "unknown path with token", method: "GET", path: "/nope", auth: bearer(all), status: 404, body: noRoute},
		{name: "trailing slash", method: "GET", path: "/notes/", auth: bearer(all), status: 404, body: noRoute},
		{name: "other case", method: "GET", path: "/NOTES", auth: bearer(all), status: 404, body: noRoute},
		{name: "wrong method", method: "PATCH", path: "/notes", auth: bearer(all), status: 405, body: noMethod, allow: "GET, POST"},
		{name: "wrong method on an open route", method: "POST", path: "/healthz", status: 405, body: noMethod, allow: "GET"},
		{name: "wrong method on a note", method: "GET", path: "/notes/42", auth: bearer(all), status: 405, body: noMethod, allow: "PUT, DELETE"},
		// Echo would answer OPTIONS itself (204); the apps answer it as any
		// method no route takes.
		{name: "OPTIONS", method: "OPTIONS", path: "/notes", status: 405, body: noMethod, allow: "GET, POST"},
		{name: "OPTIONS on a note", method: "OPTIONS", path: "/notes/42", status: 405, body: noMethod, allow: "PUT, DELETE"},
		{name: "HEAD is not GET", method: "HEAD", path: "/healthz", status: 405, allow: "GET"},
		{name: "encoded slash in id", method: "PUT", path: "/notes/a%2Fb", auth: bearer(all), status: 404, body: noNote},
		{name: "encoded letter in id", method: "PUT", path: "/notes/%41", auth: bearer(all), status: 404, body: noNote},
		{name: "encoded id without token", method: "PUT", path: "/notes/%41", status: 401, challenges: bare, body: noToken},
		{name: "id too long", method: "DELETE", path: "/notes/" + strings.Repeat("9", 65), auth: bearer(all), status: 404, body: noNote},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			answers := make([]answer, len(frameworks))
			for i, fw := range frameworks {
				a := call(t, tc.method, bases[i]+tc.path, tc.auth...)
				answers[i] = a
				if a.status != tc.status {
					t.Errorf("%s: status = %d, want %d (body %s)", fw.Name, a.status, tc.status, a.body)
				}
				if a.allow != tc.allow {
					t.Errorf("%s: Allow = %q, want %q", fw.Name, a.allow, tc.allow)
				}
				if !slices.Equal(a.challenges, tc.challenges) {
					t.Errorf("%s: WWW-Authenticate = %q, want %q", fw.Name, a.challenges, tc.challenges)
				}
				if tc.method != http.MethodHead && !authtest.JSONEqual(a.body, []byte(tc.body)) {
					t.Errorf("%s: body = %s, want %s", fw.Name, a.body, tc.body)
				}
				if tc.method != http.MethodHead && (a.contentType != "application/json" || a.cacheControl != "no-store") {
					t.Errorf("%s: Content-Type %q, Cache-Control %q; want application/json, no-store", fw.Name, a.contentType, a.cacheControl)
				}
			}
			first := answers[0]
			for i, a := range answers[1:] {
				if a.status != first.status || !slices.Equal(a.challenges, first.challenges) || a.contentType != first.contentType ||
					a.cacheControl != first.cacheControl || !authtest.JSONEqual(a.body, first.body) {
					t.Errorf("%s and %s disagree:\n%+v\n%+v", frameworks[0].Name, frameworks[i+1].Name, first, a)
				}
			}
		})
	}
}
