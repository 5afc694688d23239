package app

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jwksauth/jwksauth/core/authtest"
)

// DevTokenLifetime is how long the printed development tokens stay valid.
const DevTokenLifetime = 12 * time.Hour

// DevToken is a development token printed at start-up.
type DevToken struct {
	// Var is the shell variable the token is exported as (TOKEN_READ…).
	Var string
	// Scopes are the scopes it carries.
	Scopes []string
	// Token is the signed JWT.
	Token string
}

// devTokenSets are the scope sets of the printed tokens.
var devTokenSets = []struct {
	name   string
	scopes []string
}{
	{"TOKEN_NONE", nil},
	{"TOKEN_READ", []string{ScopeRead}},
	{"TOKEN_READ_CREATE", []string{ScopeRead, ScopeCreate}},
	{"TOKEN_ALL", []string{ScopeRead, ScopeCreate, ScopeUpdate, ScopeDelete}},
}

// mintDevTokens mints one token per scope set, for the first permitted
// audience and client id of c, so that they pass its checks.
func mintDevTokens(iss *authtest.Issuer, c Config) ([]DevToken, error) {
	base := authtest.Claims{"exp": time.Now().Add(DevTokenLifetime).Unix(), "aud": authtest.Omit}
	if len(c.Audiences) > 0 {
		base["aud"] = c.Audiences[0]
	}
	if len(c.ClientIDs) > 0 {
		base["client_id"] = c.ClientIDs[0]
	}
	out := make([]DevToken, 0, len(devTokenSets))
	for _, s := range devTokenSets {
		claims := authtest.Claims{}
		for k, v := range base {
			claims[k] = v
		}
		if len(s.scopes) > 0 {
			claims["scope"] = strings.Join(s.scopes, " ")
		}
		tok, err := iss.Mint(claims)
		if err != nil {
			return nil, fmt.Errorf("development issuer: %w", err)
		}
		out = append(out, DevToken{Var: s.name, Scopes: s.scopes, Token: tok})
	}
	return out, nil
}

// printDevWarning says loudly, on stderr, that tokens are checked against a
// throw-away issuer.
func printDevWarning(w io.Writer, issuerURL string) {
	bar := strings.Repeat("!", 78)
	fmt.Fprintf(w, `%s
!!  DEVELOPMENT MODE: neither ISSUER nor JWKS_URL is set.
!!  Tokens are verified against an in-process DEVELOPMENT ISSUER at
!!  %s, whose keys live in memory and change at every start.
!!  NOT FOR PRODUCTION: anyone holding the tokens printed below gets in.
!!  Set ISSUER (and PERMITTED_JWT_AUDIENCES) to your provider's.
%s
`, bar, issuerURL, bar)
}

// printDevUsage prints the docs' URL first, then the tokens as shell
// exports and curl lines against base (the app's URL), each followed by
// the status it gets.
func printDevUsage(w io.Writer, base string, flow *OAuthFlow, toks []DevToken, dpopRequired bool) {
	fmt.Fprintf(w, "Interactive docs: %s%s\n", base, DocsPath)
	if flow != nil {
		fmt.Fprintf(w, "  Authorize logs in at the development issuer as client %s: pick the scopes, Approve, then Try it out.\n", flow.ClientID)
	}
	fmt.Fprintf(w, "Metrics: %s%s\n", base, MetricsPath)
	fmt.Fprintf(w, "\nDevelopment tokens, valid for %d hours. Paste these lines into a shell:\n\n", int(DevTokenLifetime.Hours()))
	for _, t := range toks {
		scopes := strings.Join(t.Scopes, " ")
		if scopes == "" {
			scopes = "no scope"
		}
		fmt.Fprintf(w, "export %s='%s'  # %s\n", t.Var, t.Token, scopes)
	}
	fmt.Fprintln(w, "\nThen try:")
	for _, c := range devCurls {
		line := "curl -i"
		if c.method != "GET" {
			line += " -X " + c.method
		}
		line += " " + base + c.path
		status, note := c.status, c.note
		if c.token != "" {
			line += ` -H "Authorization: Bearer $` + c.token + `"`
			if dpopRequired {
				// The same token, refused: DPOP=required takes no bearer token.
				status, note = 401, "DPOP=required refuses bearer tokens: see the DPoP lines below"
			}
		}
		fmt.Fprintf(w, "%s  # %d %s\n", line, status, note)
	}
	fmt.Fprintln(w)
}

// devCurls are the printed examples: at least a 200, a 401 and a 403.
var devCurls = []struct {
	method, path, token string
	status              int
	note                string
}{
	{"GET", "/notes", "TOKEN_READ", 200, "the token has example:note:read"},
	{"GET", "/notes", "", 401, "no token"},
	{"POST", "/notes", "TOKEN_READ", 403, "example:note:create is missing"},
	{"POST", "/notes", "TOKEN_READ_CREATE", 200, "created"},
	{"DELETE", "/notes/42", "TOKEN_ALL", 200, "all four note scopes"},
	{"GET", "/my-scopes", "TOKEN_NONE", 200, "a valid token without scopes: []"},
	{"GET", "/my-token", "TOKEN_READ", 200, "the verified claims"},
}
