package app

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jwksauth/jwksauth/core/authtest"
)

// DevDPoPTokenPath is the development issuer's endpoint for DPoP-bound
// tokens (RFC 9449 §6): POST a form with dpop_jkt, the RFC 7638 SHA-256
// thumbprint of your DPoP public key (the parameter RFC 9449 §10 defines
// for authorization requests), and optionally scope. The token that comes
// back carries cnf.jkt, so the app accepts it only under the DPoP scheme
// with a proof signed by that key. Like the rest of the development issuer
// it authenticates nobody.
const DevDPoPTokenPath = "/dpop/token"

// DevDPoPTokenLifetime is how long DPoP-bound development tokens stay valid.
const DevDPoPTokenLifetime = time.Hour

// enableDevDPoP mounts DevDPoPTokenPath on the development issuer and
// returns its URL. Its tokens pass c's checks as the printed ones do.
func enableDevDPoP(iss *authtest.Issuer, c Config) string {
	base := authtest.Claims{"aud": authtest.Omit}
	if len(c.Audiences) > 0 {
		base["aud"] = c.Audiences[0]
	}
	if len(c.ClientIDs) > 0 {
		base["client_id"] = c.ClientIDs[0]
	}
	iss.Handle("POST "+DevDPoPTokenPath, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		fail := func(code, desc string) {
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
		}
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		if err := r.ParseForm(); err != nil {
			fail("invalid_request", "the body is not a form")
			return
		}
		jkt := r.PostForm.Get("dpop_jkt")
		if !isThumbprint(jkt) {
			fail("invalid_request", "dpop_jkt must be the base64url SHA-256 JWK thumbprint of your DPoP key (43 characters)")
			return
		}
		scopes := strings.Fields(r.PostForm.Get("scope"))
		for _, s := range scopes {
			if !slices.ContainsFunc(noteScopes, func(n struct{ name, description string }) bool { return n.name == s }) {
				fail("invalid_scope", "only the example:note:* scopes are offered")
				return
			}
		}
		claims := authtest.Claims{"exp": time.Now().Add(DevDPoPTokenLifetime).Unix(), "cnf": map[string]any{"jkt": jkt}}
		for k, v := range base {
			claims[k] = v
		}
		if len(scopes) > 0 {
			claims["scope"] = strings.Join(scopes, " ")
		}
		tok, err := iss.Mint(claims)
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"access_token": tok, "token_type": "DPoP", "expires_in": int(DevDPoPTokenLifetime.Seconds()),
			"scope": strings.Join(scopes, " "),
		})
	}))
	return iss.URL + DevDPoPTokenPath
}

// isThumbprint reports whether s is a SHA-256 digest in unpadded base64url,
// as an RFC 7638 thumbprint is: 43 characters that decode, canonically, to
// 32 bytes. It only spares the client a token that cannot work: core
// refuses a cnf.jkt of any other form when the token is used.
func isThumbprint(s string) bool {
	sum, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil && len(sum) == sha256.Size && len(s) == base64.RawURLEncoding.EncodedLen(sha256.Size)
}

// printDevDPoP tells how to get and use a DPoP-bound development token. A
// proof is single-use and names one request, so no ready-made curl line
// can be printed: the client makes a new proof for every request.
func printDevDPoP(w io.Writer, base, tokenURL string) {
	fmt.Fprintf(w, "DPoP-bound tokens (RFC 9449): POST dpop_jkt=<the RFC 7638 thumbprint of your DPoP public key>&scope=example:note:read\n")
	fmt.Fprintf(w, "  to %s, then call %s/notes with \"Authorization: DPoP <token>\"\n", tokenURL, base)
	fmt.Fprintf(w, "  and a new \"DPoP: <proof>\" header for every request (a DPoP client library such as oauth4webapi makes both).\n\n")
}
