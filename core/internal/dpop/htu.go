package dpop

import (
	"strconv"
	"strings"
)

// The htu comparison (RFC 9449 §4.3 step 9): both the claim and the
// request's URI are brought to one normal form by syntax-based and
// scheme-based normalisation (RFC 3986 §6.2.2, §6.2.3), then compared
// exactly. Query and fragment are dropped first. The normal form:
//
//   - scheme and host in lower case; only http and https;
//   - no userinfo; the port dropped when it is the scheme's default or
//     empty, leading zeros dropped otherwise;
//   - an empty path becomes "/";
//   - percent-encodings of unreserved characters decoded, the rest with
//     upper-case hex digits; any other character that cannot appear in a
//     path percent-encoded;
//   - dot segments removed (RFC 3986 §5.2.4). Empty segments ("//") stay.

// normalizeURI returns the normal form of an absolute http or https URI.
func normalizeURI(s string) (string, bool) {
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return "", false
	}
	authority, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		authority, path = rest[:i], rest[i:]
	}
	origin, ok := normalizeOrigin(scheme, authority)
	if !ok {
		return "", false
	}
	return origin + normalizePath(path), true
}

// normalizeOrigin returns "scheme://host[:port]" in normal form.
func normalizeOrigin(scheme, authority string) (string, bool) {
	scheme = strings.ToLower(scheme)
	var defaultPort int
	switch scheme {
	case "http":
		defaultPort = 80
	case "https":
		defaultPort = 443
	default:
		return "", false
	}
	host, port, ok := splitAuthority(authority)
	if !ok {
		return "", false
	}
	host = strings.ToLower(host)
	if port == "" {
		return scheme + "://" + host, true
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return "", false
	}
	if int(n) == defaultPort {
		return scheme + "://" + host, true
	}
	return scheme + "://" + host + ":" + strconv.Itoa(int(n)), true
}

// splitAuthority splits host and port (empty when absent or empty). A
// host is an IP literal in brackets or a registered name of unreserved
// and sub-delimiter characters; userinfo and percent-encoded hosts are
// refused.
func splitAuthority(a string) (host, port string, ok bool) {
	if strings.HasPrefix(a, "[") {
		end := strings.IndexByte(a, ']')
		if end < 0 || !allBytes(a[1:end], isIPLiteralByte) || end == 1 {
			return "", "", false
		}
		host, a = a[:end+1], a[end+1:]
		if a != "" && a[0] != ':' {
			return "", "", false
		}
		port = strings.TrimPrefix(a, ":")
	} else {
		host = a
		if i := strings.LastIndexByte(a, ':'); i >= 0 {
			host, port = a[:i], a[i+1:]
		}
		if host == "" || !allBytes(host, isRegNameByte) {
			return "", "", false
		}
	}
	if !allBytes(port, isDigit) {
		return "", "", false
	}
	return host, port, true
}

// normalizePath normalises an absolute path (or "").
func normalizePath(p string) string {
	if p == "" {
		return "/"
	}
	if !allBytes(p, isPlainPathByte) {
		p = normalizePercent(p)
	}
	if strings.Contains(p, ".") {
		p = removeDotSegments(p)
	}
	return p
}

// normalizePercent decodes percent-encoded unreserved characters, writes
// the other encodings with upper-case hex, and encodes bytes that may not
// appear in a path (a "%" not followed by two hex digits included).
func normalizePercent(p string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(p) + 8)
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '%' && i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]) {
			v := unhex(p[i+1])<<4 | unhex(p[i+2])
			i += 2
			if isUnreserved(v) {
				b.WriteByte(v)
				continue
			}
			c = v
		} else if isPlainPathByte(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// removeDotSegments applies RFC 3986 §5.2.4 to an absolute path.
func removeDotSegments(p string) string {
	segs := strings.Split(p[1:], "/")
	out := make([]string, 0, len(segs))
	for i, s := range segs {
		last := i == len(segs)-1
		switch s {
		case ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, s)
			continue
		}
		if last {
			out = append(out, "") // "/a/b/.." is "/a/"
		}
	}
	return "/" + strings.Join(out, "/")
}

func allBytes(s string, f func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !f(s[i]) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool { return isDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F') }

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	default:
		return c - 'a' + 10
	}
}

func isAlpha(c byte) bool { return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }

// isUnreserved: ALPHA / DIGIT / "-" / "." / "_" / "~" (RFC 3986 §2.3).
func isUnreserved(c byte) bool {
	return isAlpha(c) || isDigit(c) || c == '-' || c == '.' || c == '_' || c == '~'
}

// isSubDelim: "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" / "=".
func isSubDelim(c byte) bool { return strings.IndexByte("!$&'()*+,;=", c) >= 0 }

func isRegNameByte(c byte) bool { return isUnreserved(c) || isSubDelim(c) }

func isIPLiteralByte(c byte) bool { return isHex(c) || c == ':' || c == '.' }

// isPlainPathByte: a path byte that needs no normalisation (pchar and "/",
// RFC 3986 §3.3, percent-encodings excepted).
func isPlainPathByte(c byte) bool { return isRegNameByte(c) || c == ':' || c == '@' || c == '/' }
