package core

import (
	"net/http"
	"strings"
)

// Credentials is how core reads the credential sources of one request.
// Adapters implement it over their framework's request; FromHTTP implements
// it over *http.Request. Core decides what to read and parses it itself
// (the Bearer scheme, the query, the cookie token), so that every framework
// refuses and accepts the same requests: an implementation hands over the
// request's bytes and interprets nothing.
//
// Core reads the strings returned only while the Authenticate (or
// Authorize, AuthenticateOptional) call that asked for them runs, and keeps
// none of them: the Principal and errors it returns share no memory with
// them, and the token cache keeps a hash. An adapter may therefore return
// views of request buffers its framework reuses after the request. Core
// does not modify the slices returned.
type Credentials interface {
	// Header returns every field value of the named request header, in the
	// order received, one element per field line (a comma-separated list
	// in one field stays one element). The name is matched
	// case-insensitively (RFC 9110 §5.1); spaces and tabs around a value
	// are not part of it (RFC 9110 §5.5) and are left out, as net/http
	// leaves them out.
	Header(name string) []string
	// RawQuery returns the query of the request target, without the "?",
	// exactly as received: not decoded, not split, nothing dropped ("" when
	// there is none). Core splits and decodes it itself; see docs/security.md.
	RawQuery() string
	// Cookie returns the value of every cookie with the given name, in the
	// order sent. A browser sends several when cookies of one name were set
	// for different paths or domains (a sibling subdomain can plant one), so
	// core refuses a request with more than one, as it refuses two
	// Authorization fields.
	Cookie(name string) []string
	// Method returns the request method, as received ("GET", "POST").
	// Core compares it with a DPoP proof's htm (RFC 9449 §4.3).
	Method() string
	// URL returns the request's own view of its target: scheme "https"
	// when the request arrived over TLS and "http" otherwise; the host
	// (with its port, if any) the request names, from an absolute-form
	// target or else the Host header (RFC 9112 §3.2); and the request
	// target exactly as received, not decoded (its path and query, or the
	// absolute form). Core compares it with a DPoP proof's htu, taking only
	// the path when WithPublicURL gives the scheme and host clients see.
	URL() (scheme, host, target string)
	// PeerCertificate returns the DER bytes of the client certificate the
	// TLS connection presented (the first of its chain), or nil when the
	// request did not arrive over TLS or presented none. Core hashes it to
	// check a certificate-bound token (RFC 8705 §3).
	PeerCertificate() []byte
}

// FromHTTP returns the Credentials of a net/http request.
func FromHTTP(r *http.Request) Credentials { return httpCredentials{r} }

type httpCredentials struct{ r *http.Request }

// Header returns the request's values as net/http parsed them: under the
// canonical form of name, already trimmed. The slice is the request's own.
func (h httpCredentials) Header(name string) []string { return h.r.Header.Values(name) }

// RawQuery is URL.RawQuery, which net/http fills with the bytes after the
// first "?" of the request target, a "#" and whatever follows it included.
// It is deliberately not URL.Query(), which drops every pair holding a ";"
// or a bad %-escape, where fasthttp (under Fiber) keeps them.
func (h httpCredentials) RawQuery() string {
	if h.r.URL == nil {
		return ""
	}
	return h.r.URL.RawQuery
}

// Method is Request.Method.
func (h httpCredentials) Method() string { return h.r.Method }

// URL gives RequestURI, the request target exactly as received, where
// net/http has it; a request built in a test has none, and the URL's
// RequestURI stands in.
func (h httpCredentials) URL() (scheme, host, target string) {
	scheme = "http"
	if h.r.TLS != nil {
		scheme = "https"
	}
	target = h.r.RequestURI
	if target == "" && h.r.URL != nil {
		target = h.r.URL.RequestURI()
	}
	return scheme, h.r.Host, target
}

// PeerCertificate is the first certificate of the TLS connection's chain.
func (h httpCredentials) PeerCertificate() []byte {
	if h.r.TLS == nil || len(h.r.TLS.PeerCertificates) == 0 {
		return nil
	}
	return h.r.TLS.PeerCertificates[0].Raw
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

// credential is the one credential of a request, as extract found it.
type credential struct {
	token   string
	checked bool // the b64token syntax was checked already
	dpop    bool // sent as "Authorization: DPoP" (RFC 9449 §7.1)
}

// extract returns the one credential of a request (RFC 6750 §2), size
// capped. The b64token syntax of the Authorization header's token is left
// to verifyToken (checked is false), which skips it for a token the cache
// already verified; it is checked here only when another source also holds
// a credential, so that a malformed header is reported first, as always.
func (v *Verifier) extract(c Credentials) (credential, error) {
	cred, found, err := v.fromAuthorization(c)
	if err != nil {
		return credential{}, err
	}
	// The query, then the cookie: n counts the credentials a source holds.
	for src := range 2 {
		var t string
		var n int
		if src == 0 {
			t, n, err = v.fromQuery(c, found)
		} else {
			t, n, err = v.fromCookie(c, found)
		}
		switch {
		case err != nil:
			return credential{}, err
		case n > 1 && !found:
			return credential{}, v.fail(ErrMultipleCredentials, nil)
		case n > 0 && found:
			return credential{}, v.another(cred)
		case n == 1:
			cred, found = credential{token: t, checked: true}, true
		}
	}
	if !found {
		return credential{}, v.fail(ErrNoCredentials, nil)
	}
	// RFC 6750 §2: one method per request. With the query source off an
	// access_token parameter is no credential core reads, but sent beside
	// one it is a second method all the same: that token has already
	// reached access logs and caches, and the client must hear that it
	// misbehaves rather than be served.
	if v.cfg.queryParam == "" {
		if _, n := queryPairs(c.RawQuery(), defaultQueryParameter); n > 0 {
			return credential{}, v.another(cred)
		}
	}
	return cred, nil
}

// another reports a second credential beside cred, after the syntax of
// cred's token: a malformed header is reported first, as always.
func (v *Verifier) another(cred credential) error {
	if !cred.checked && !isB64Token(cred.token) {
		return v.fail(ErrInvalidRequest, nil)
	}
	return v.fail(ErrMultipleCredentials, nil)
}

// fromAuthorization reads the Authorization header: found is false when
// there is none, or it holds a scheme core does not read.
func (v *Verifier) fromAuthorization(c Credentials) (cred credential, found bool, err error) {
	auth := c.Header("Authorization")
	if len(auth) > 1 {
		return cred, false, v.fail(ErrMultipleCredentials, nil)
	}
	if len(auth) == 0 {
		return cred, false, nil
	}
	cred.token, cred.dpop, found, err = v.parseAuthorization(auth[0])
	return cred, found, err
}

// fromQuery reads the query token, when that source is on: n counts the
// access_token pairs (stopping at 2), t is the decoded token of the only
// one, left undecoded when another source already holds a credential.
func (v *Verifier) fromQuery(c Credentials, found bool) (t string, n int, err error) {
	if v.cfg.queryParam == "" {
		return "", 0, nil
	}
	raw, n := queryPairs(c.RawQuery(), v.cfg.queryParam)
	if n != 1 || found {
		return "", n, nil
	}
	t, err = v.queryValue(raw)
	return t, 1, err
}

// fromCookie reads the cookie token, when that source is on. Two cookies
// of one name count as two credentials: which one the client meant cannot
// be told, and one may have been planted (cookie tossing). An empty cookie
// counts as none. Its syntax is checked only when it is the one credential.
func (v *Verifier) fromCookie(c Credentials, found bool) (t string, n int, err error) {
	if v.cfg.cookieName == "" {
		return "", 0, nil
	}
	ck := c.Cookie(v.cfg.cookieName)
	if len(ck) > 1 {
		return "", len(ck), nil
	}
	if len(ck) == 0 || ck[0] == "" {
		return "", 0, nil
	}
	if found {
		return "", 1, nil
	}
	if err := v.checkToken(ck[0]); err != nil {
		return "", 0, err
	}
	return ck[0], 1, nil
}

// queryPairs finds the pairs of a raw query whose name is name, as
// application/x-www-form-urlencoded reads them (RFC 6750 §2.3): pairs are
// split at "&" only (";" is part of a name or value, as the URL Standard
// has it), the name ends at the first "=", and "+" and %XX are decoded
// before names are compared. A name holding a bad %-escape is no name core
// reads, and never this one: no decoding that keeps its bytes turns it
// into a name without "%". n counts the matching pairs (stopping at 2) and
// raw is the first one's value, still encoded (empty for a pair without
// "="). Nothing is allocated.
func queryPairs(query, name string) (raw string, n int) {
	for query != "" {
		var pair string
		pair, query, _ = strings.Cut(query, "&")
		k, val, _ := strings.Cut(pair, "=")
		if !decodedEquals(k, name) {
			continue
		}
		if n == 0 {
			raw = val
		}
		if n++; n > 1 {
			break
		}
	}
	return raw, n
}

// decodedEquals reports whether the form-decoded s equals want, without
// decoding s into a new string. A bad escape makes it false.
func decodedEquals(s, want string) bool {
	j := 0
	for i := 0; i < len(s); j++ {
		b, w, ok := formByte(s, i)
		if !ok || j == len(want) || want[j] != b {
			return false
		}
		i += w
	}
	return j == len(want)
}

// formByte decodes the byte at s[i] of a form-encoded string: %XX, "+" for
// a space, or the byte itself. w is how many bytes of s it took; ok is
// false for a "%" not followed by two hex digits, which then counts as
// one byte.
func formByte(s string, i int) (b byte, w int, ok bool) {
	switch s[i] {
	case '+':
		return ' ', 1, true
	case '%':
		if i+2 < len(s) {
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if ok1 && ok2 {
				return hi<<4 | lo, 3, true
			}
		}
		return '%', 1, false
	}
	return s[i], 1, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// queryValue decodes the value of the query token. The size cap applies to
// the decoded length and comes first, before any byte is copied, as it
// does for the other sources; a bad %-escape is then invalid_request. The
// common token, which holds neither "%" nor "+", is returned as it is.
func (v *Verifier) queryValue(raw string) (string, error) {
	n, bad, plain := 0, false, true
	for i := 0; i < len(raw); n++ {
		_, w, ok := formByte(raw, i)
		bad = bad || !ok
		plain = plain && w == 1 && raw[i] != '+'
		i += w
	}
	if n > v.cfg.maxTokenSize {
		return "", v.fail(ErrTokenTooLarge, nil)
	}
	if bad {
		return "", v.fail(ErrInvalidRequest, nil)
	}
	t := raw
	if !plain {
		buf := make([]byte, 0, n)
		for i := 0; i < len(raw); {
			b, w, _ := formByte(raw, i)
			buf = append(buf, b)
			i += w
		}
		t = string(buf)
	}
	if err := v.checkToken(t); err != nil {
		return "", err
	}
	return t, nil
}

// parseAuthorization reads one Authorization value: the Bearer scheme
// (RFC 6750 §2.1), or the DPoP scheme (RFC 9449 §7.1) when DPoP is
// accepted, each matched case-insensitively. ok is false for another
// scheme (treated as no credential). The token is size capped; its
// b64token syntax is the caller's to check.
func (v *Verifier) parseAuthorization(h string) (token string, dpop, ok bool, err error) {
	rest, ok := cutScheme(h, "bearer")
	if !ok {
		rest, ok = cutScheme(h, "dpop")
		dpop = ok
	}
	if !ok {
		return "", false, false, nil
	}
	if rest == "" {
		return "", dpop, false, v.fail(ErrInvalidRequest, nil) // "Bearer" alone
	}
	if rest[0] != ' ' {
		if isTokenChar(rest[0]) {
			return "", false, false, nil // another scheme, such as "BearerX"
		}
		return "", dpop, false, v.fail(ErrInvalidRequest, nil) // tab or other separator
	}
	rest = strings.TrimLeft(rest, " ")
	if rest == "" {
		return "", dpop, false, v.fail(ErrInvalidRequest, nil)
	}
	if len(rest) > v.cfg.maxTokenSize {
		return "", dpop, false, v.fail(ErrTokenTooLarge, nil)
	}
	return rest, dpop, true, nil
}

// cutScheme returns what follows scheme (lower case) at the start of h,
// matched case-insensitively.
func cutScheme(h, scheme string) (rest string, ok bool) {
	if len(h) < len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return "", false
	}
	return h[len(scheme):], true
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
