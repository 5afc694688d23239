package core

import (
	"net/http"
	"strings"
)

// Credentials is how core reads the credential sources of one request.
// Adapters implement it over their framework's request; FromHTTP implements
// it over *http.Request. Core decides which sources to read: the query and
// cookie are only asked for when enabled by WithQueryToken or WithCookieToken.
//
// Core reads the strings returned only while the Authenticate (or
// Authorize, AuthenticateOptional) call that asked for them runs, and keeps
// none of them: the Principal and errors it returns share no memory with
// them, and the token cache keeps a hash. An adapter may therefore return
// views of request buffers its framework reuses after the request.
type Credentials interface {
	// Authorization returns every Authorization header field value, in order.
	Authorization() []string
	// Query returns every value of the named URL query parameter.
	Query(name string) []string
	// Cookie returns the value of every cookie with the given name, in the
	// order sent. A browser sends several when cookies of one name were set
	// for different paths or domains (a sibling subdomain can plant one), so
	// core refuses a request with more than one, as it refuses two
	// Authorization fields.
	Cookie(name string) []string
}

// FromHTTP returns the Credentials of a net/http request.
func FromHTTP(r *http.Request) Credentials { return httpCredentials{r} }

type httpCredentials struct{ r *http.Request }

func (h httpCredentials) Authorization() []string { return h.r.Header["Authorization"] }

func (h httpCredentials) Query(name string) []string {
	if h.r.URL == nil || h.r.URL.RawQuery == "" {
		return nil
	}
	return h.r.URL.Query()[name]
}

// Cookie reads the Cookie fields itself rather than through
// Request.CookiesNamed, which drops values with characters a cookie may not
// hold: a second cookie of the name counts whatever its value. It splits
// them as fasthttp (under Fiber) does — pairs at ";", the name before the
// first "=", spaces (not tabs) trimmed around name and value, one pair of
// double quotes taken off the value — so that the three frameworks see the
// same cookies and refuse the same requests.
func (h httpCredentials) Cookie(name string) []string {
	var out []string
	for _, line := range h.r.Header["Cookie"] {
		for part := range strings.SplitSeq(line, ";") {
			k, v, ok := strings.Cut(part, "=")
			if !ok || strings.Trim(k, " ") != name {
				continue
			}
			v = strings.Trim(v, " ")
			if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			out = append(out, v)
		}
	}
	return out
}

// extract returns the one bearer token of a request (contract §1), size
// capped. The b64token syntax of the Authorization header's token is left
// to verifyToken (checked is false), which skips it for a token the cache
// already verified; it is checked here only when another source also holds
// a credential, so that a malformed header is reported first, as always.
func (v *Verifier) extract(c Credentials) (token string, checked bool, err error) {
	found := 0
	auth := c.Authorization()
	if len(auth) > 1 {
		return "", false, v.fail(ErrMultipleCredentials, nil)
	}
	if len(auth) == 1 {
		t, ok, err := v.parseAuthorization(auth[0])
		if err != nil {
			return "", false, err
		}
		if ok {
			token, found = t, 1
		}
	}
	// another reports a second credential, after the syntax of the first.
	another := func() error {
		if !checked && found > 0 && !isB64Token(token) {
			return v.fail(ErrInvalidRequest, nil)
		}
		return v.fail(ErrMultipleCredentials, nil)
	}
	if v.cfg.queryParam != "" {
		q := c.Query(v.cfg.queryParam)
		if len(q) > 0 {
			if len(q) > 1 || found > 0 {
				return "", false, another()
			}
			if err := v.checkToken(q[0]); err != nil {
				return "", false, err
			}
			token, found, checked = q[0], 1, true
		}
	}
	if v.cfg.cookieName != "" {
		ck := c.Cookie(v.cfg.cookieName)
		if len(ck) > 1 {
			// Two cookies of one name: which one the client meant cannot
			// be told, and one may have been planted (cookie tossing).
			if found > 0 {
				return "", false, another()
			}
			return "", false, v.fail(ErrMultipleCredentials, nil)
		}
		if len(ck) == 1 && ck[0] != "" { // an empty cookie counts as none
			if found > 0 {
				return "", false, another()
			}
			if err := v.checkToken(ck[0]); err != nil {
				return "", false, err
			}
			token, found, checked = ck[0], 1, true
		}
	}
	if found == 0 {
		return "", false, v.fail(ErrNoCredentials, nil)
	}
	return token, checked, nil
}

// parseAuthorization reads one Authorization value. ok is false for another
// scheme (treated as no bearer credential). The token is size capped; its
// b64token syntax is the caller's to check.
func (v *Verifier) parseAuthorization(h string) (token string, ok bool, err error) {
	const scheme = "bearer"
	if len(h) < len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return "", false, nil
	}
	rest := h[len(scheme):]
	if rest == "" {
		return "", false, v.fail(ErrInvalidRequest, nil) // "Bearer" alone
	}
	if rest[0] != ' ' {
		if isTokenChar(rest[0]) {
			return "", false, nil // another scheme, such as "BearerX"
		}
		return "", false, v.fail(ErrInvalidRequest, nil) // tab or other separator
	}
	rest = strings.TrimLeft(rest, " ")
	if rest == "" {
		return "", false, v.fail(ErrInvalidRequest, nil)
	}
	if len(rest) > v.cfg.maxTokenSize {
		return "", false, v.fail(ErrTokenTooLarge, nil)
	}
	return rest, true, nil
}

// checkToken applies the size cap first, then the b64token syntax of RFC 6750 §2.1.
func (v *Verifier) checkToken(t string) error {
	if len(t) > v.cfg.maxTokenSize {
		return v.fail(ErrTokenTooLarge, nil)
	}
	if t == "" || !isB64Token(t) {
		return v.fail(ErrInvalidRequest, nil)
	}
	return nil
}

// isB64Token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	i := 0
	for i < len(s) && b64tokenChar[s[i]] {
		i++
	}
	if i == 0 {
		return false
	}
	for i < len(s) && s[i] == '=' {
		i++
	}
	return i == len(s)
}

var b64tokenChar = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "-._~+/" {
		t[c] = true
	}
	return t
}()

// isTokenChar reports whether b is an RFC 9110 tchar (part of a scheme name).
// The b64token set holds every tchar of its own but adds '/', which is not
// one: "Bearer/x" is the Bearer scheme with a bad separator, not another scheme.
func isTokenChar(b byte) bool {
	return (b64tokenChar[b] && b != '/') || strings.IndexByte("!#$%&'*^`|", b) >= 0
}
