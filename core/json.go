package core

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"unicode/utf8"
)

// A small strict JSON reader for token headers and claims.
//
// encoding/json matches field names case-insensitively and keeps the last of
// duplicated names; for a verifier that means an attacker-chosen "EXP" or a
// second "aud" could decide what a claim is. This reader validates the whole
// text, refuses duplicate member names (compared after unescaping, exactly),
// refuses invalid UTF-8, and hands back each member's raw value for typed
// reading. It allocates only when a name or string contains escapes.

var (
	errJSONSyntax = errors.New("invalid JSON")
	errJSONDepth  = errors.New("JSON nested too deeply")
)

const maxJSONDepth = 32

type member struct {
	key string // unescaped name
	val string // raw JSON text of the value
}

// parseObject reads s, which must be exactly one JSON object, into dst.
func parseObject(s string, dst []member) ([]member, error) {
	i := skipWS(s, 0)
	if i >= len(s) || s[i] != '{' {
		return dst, errJSONSyntax
	}
	start := len(dst)
	i = skipWS(s, i+1)
	if i < len(s) && s[i] == '}' {
		if skipWS(s, i+1) != len(s) {
			return dst, errJSONSyntax
		}
		return dst, nil
	}
	for {
		if i >= len(s) || s[i] != '"' {
			return dst, errJSONSyntax
		}
		end, escaped, err := scanString(s, i)
		if err != nil {
			return dst, err
		}
		key := s[i+1 : end-1]
		if escaped {
			if key, err = unescape(s[i:end]); err != nil {
				return dst, err
			}
		}
		i = skipWS(s, end)
		if i >= len(s) || s[i] != ':' {
			return dst, errJSONSyntax
		}
		i = skipWS(s, i+1)
		vs := i
		if i, err = skipValue(s, i, 1); err != nil {
			return dst, err
		}
		dst = append(dst, member{key: key, val: s[vs:i]})
		i = skipWS(s, i)
		if i >= len(s) {
			return dst, errJSONSyntax
		}
		if s[i] == '}' {
			break
		}
		if s[i] != ',' {
			return dst, errJSONSyntax
		}
		i = skipWS(s, i+1)
	}
	if skipWS(s, i+1) != len(s) {
		return dst, errJSONSyntax
	}
	if hasDuplicate(dst[start:]) {
		return dst, ErrDuplicateClaim
	}
	return dst, nil
}

func hasDuplicate(m []member) bool {
	if len(m) <= 16 {
		for i := 1; i < len(m); i++ {
			for j := 0; j < i; j++ {
				if m[i].key == m[j].key {
					return true
				}
			}
		}
		return false
	}
	seen := make(map[string]struct{}, len(m))
	for _, x := range m {
		if _, ok := seen[x.key]; ok {
			return true
		}
		seen[x.key] = struct{}{}
	}
	return false
}

func skipWS(s string, i int) int {
	for i < len(s) {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanString validates the string starting at s[i] == '"' and returns the
// index after its closing quote and whether it holds escapes.
func scanString(s string, i int) (end int, escaped bool, err error) {
	i++
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			return i + 1, escaped, nil
		case c == '\\':
			escaped = true
			if i+1 >= len(s) {
				return 0, false, errJSONSyntax
			}
			switch s[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(s) {
					return 0, false, errJSONSyntax
				}
				for _, h := range []byte(s[i+2 : i+6]) {
					if !isHex(h) {
						return 0, false, errJSONSyntax
					}
				}
				i += 6
			default:
				return 0, false, errJSONSyntax
			}
		case c < 0x20:
			return 0, false, errJSONSyntax
		case c < utf8.RuneSelf:
			i++
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n <= 1 {
				return 0, false, errJSONSyntax
			}
			i += n
		}
	}
	return 0, false, errJSONSyntax
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

func unescape(quoted string) (string, error) {
	var out string
	if err := json.Unmarshal([]byte(quoted), &out); err != nil {
		return "", errJSONSyntax
	}
	return out, nil
}

// skipValue validates one JSON value starting at s[i] and returns the index after it.
func skipValue(s string, i, depth int) (int, error) {
	if i >= len(s) {
		return 0, errJSONSyntax
	}
	switch c := s[i]; {
	case c == '"':
		end, _, err := scanString(s, i)
		return end, err
	case c == '{' || c == '[':
		if depth >= maxJSONDepth {
			return 0, errJSONDepth
		}
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		i = skipWS(s, i+1)
		if i < len(s) && s[i] == closer {
			return i + 1, nil
		}
		for {
			var err error
			if c == '{' {
				if i >= len(s) || s[i] != '"' {
					return 0, errJSONSyntax
				}
				if i, _, err = scanString(s, i); err != nil {
					return 0, err
				}
				i = skipWS(s, i)
				if i >= len(s) || s[i] != ':' {
					return 0, errJSONSyntax
				}
				i = skipWS(s, i+1)
			}
			if i, err = skipValue(s, i, depth+1); err != nil {
				return 0, err
			}
			i = skipWS(s, i)
			if i >= len(s) {
				return 0, errJSONSyntax
			}
			if s[i] == closer {
				return i + 1, nil
			}
			if s[i] != ',' {
				return 0, errJSONSyntax
			}
			i = skipWS(s, i+1)
		}
	case c == 't':
		return literal(s, i, "true")
	case c == 'f':
		return literal(s, i, "false")
	case c == 'n':
		return literal(s, i, "null")
	default:
		return scanNumber(s, i)
	}
}

func literal(s string, i int, lit string) (int, error) {
	if len(s)-i >= len(lit) && s[i:i+len(lit)] == lit {
		return i + len(lit), nil
	}
	return 0, errJSONSyntax
}

// scanNumber validates the RFC 8259 number grammar.
func scanNumber(s string, i int) (int, error) {
	start := i
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	default:
		return 0, errJSONSyntax
	}
	if i < len(s) && s[i] == '.' {
		i++
		d := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == d {
			return 0, errJSONSyntax
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		d := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == d {
			return 0, errJSONSyntax
		}
	}
	if i == start {
		return 0, errJSONSyntax
	}
	return i, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// jsonString reads a raw value that must be a JSON string.
func jsonString(raw string) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	for i := 0; i < len(inner); i++ {
		if inner[i] == '\\' {
			s, err := unescape(raw)
			return s, err == nil
		}
	}
	return inner, true
}

// jsonNumber reads a raw value that must be a finite JSON number.
func jsonNumber(raw string) (float64, bool) {
	if raw == "" || (raw[0] != '-' && !isDigit(raw[0])) {
		return 0, false
	}
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// jsonStrings reads a raw value that is a string or an array of strings.
// A string is returned as one element (callers split scope strings).
func jsonStrings(raw string, dst []string) ([]string, bool) {
	if s, ok := jsonString(raw); ok {
		return append(dst, s), true
	}
	if raw == "" || raw[0] != '[' {
		return dst, false
	}
	i := skipWS(raw, 1)
	if i < len(raw) && raw[i] == ']' {
		return dst, true
	}
	for i < len(raw) {
		if raw[i] != '"' {
			return dst, false
		}
		end, _, err := scanString(raw, i)
		if err != nil {
			return dst, false
		}
		s, ok := jsonString(raw[i:end])
		if !ok {
			return dst, false
		}
		dst = append(dst, s)
		i = skipWS(raw, end)
		if i < len(raw) && raw[i] == ']' {
			return dst, true
		}
		if i >= len(raw) || raw[i] != ',' {
			return dst, false
		}
		i = skipWS(raw, i+1)
	}
	return dst, false
}
