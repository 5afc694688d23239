package core

import (
	"errors"
	"hash/maphash"
	"math"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// A small strict JSON reader for token headers and claims.
//
// encoding/json matches field names case-insensitively and keeps the last of
// duplicated names; for a verifier that means an attacker-chosen "EXP" or a
// second "aud" could decide what a claim is. This reader validates the whole
// text, refuses duplicate member names (compared after unescaping, exactly),
// refuses invalid UTF-8, and hands back each member's raw value for typed
// reading. Names are unescaped without encoding/json, and a duplicate is
// refused as soon as it is read. The reader allocates nothing for an object
// of up to 32 members without escapes (dst aside); otherwise a few buffers
// for all of an object's escaped names and for the hash set of a larger
// object's names (each twice the last), and one per escaped string value
// read through jsonString.

var (
	errJSONSyntax  = errors.New("invalid JSON")
	errJSONDepth   = errors.New("JSON nested too deeply")
	errJSONMembers = errors.New("JSON object has too many members")
)

const maxJSONDepth = 32

type member struct {
	key string // unescaped name
	val string // raw JSON text of the value
}

// parseObject reads s, which must be exactly one JSON object, into dst.
func parseObject(s string, dst []member) ([]member, error) {
	return readObject(s, dst, math.MaxInt, false)
}

// parseObjectMax is parseObject for an object of at most limit members:
// one more is errJSONMembers, found before it is read.
func parseObjectMax(s string, dst []member, limit int) ([]member, error) {
	return readObject(s, dst, limit, false)
}

// parseMembers reads every member of the object s, duplicates included,
// for labels in logs (the kid of a JWK that was skipped for one): it
// decides nothing.
func parseMembers(s string) ([]member, error) {
	return readObject(s, nil, math.MaxInt, true)
}

func readObject(s string, dst []member, limit int, dupsOK bool) ([]member, error) {
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
	var (
		arena []byte  // the unescaped names are views of it
		names []int32 // see seen
		small [64]int32
	)
	for {
		if i >= len(s) || s[i] != '"' {
			return dst, errJSONSyntax
		}
		if len(dst)-start == limit {
			return dst, errJSONMembers
		}
		end, escaped, err := scanString(s, i)
		if err != nil {
			return dst, err
		}
		key := s[i+1 : end-1]
		if escaped {
			// Unescaping never lengthens a name. A full arena is
			// replaced, never regrown, so earlier views stay valid.
			if cap(arena)-len(arena) < end-i {
				arena = make([]byte, 0, max(2*cap(arena), 256, end-i))
			}
			n := len(arena)
			arena = unescapeTo(arena, s[i:end])
			key = bytesString(arena[n:len(arena):len(arena)])
		}
		// A duplicate is refused as soon as it is read: an object of one
		// repeated name costs no more to refuse than its first two members.
		if !dupsOK {
			var dup bool
			if names, dup = seen(names, small[:], dst[start:], key, end, len(s)); dup {
				return dst, ErrDuplicateClaim
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
	return dst, nil
}

// smallObject is how many names an object may have for each new one to be
// compared with every earlier one. Past them, names go into a hash set.
// len(small) in readObject must be a power of two of at least
// 2*(smallObject+1).
const smallObject = 16

// seen reports whether key, the name of the member that follows ms, is the
// name of one of ms, and records it. The first smallObject names are
// compared one by one; from then on each name is looked up in, and added
// to, table: an open-addressing hash set of member indexes, at most half
// full, hashed with a seed chosen per process so that colliding names
// cannot be prepared ahead. The table of an object of up to 32 members
// (every token header) is small, the caller's array on its stack. A larger
// object's table is allocated, sized for as many members as the whole
// text would hold at the density of those read so far, but at most 32
// times the previous table (8 KiB the first time), and grown again when
// that proves short. done is how many of the object's total bytes have
// been read. seen returns the table to pass with the next name.
func seen(table, small []int32, ms []member, key string, done, total int) ([]int32, bool) {
	if len(ms) < smallObject {
		for _, m := range ms {
			if m.key == key {
				return table, true
			}
		}
		return table, false
	}
	if 2*(len(ms)+1) > len(table) {
		// Index every earlier member again (they are distinct), into
		// small the first time, then into a larger table.
		if table == nil {
			table = small
		} else {
			size, want := 2*len(table), 2*(len(ms)*total/done+1)
			for size < want && size < 32*len(table) {
				size <<= 1
			}
			table = make([]int32, size)
		}
		for i, m := range ms {
			insertName(table, ms, m.key, i)
		}
	}
	return table, insertName(table, ms, key, len(ms))
}

// insertName adds member i, named key, to table unless an earlier member
// of ms has that name, which it reports.
func insertName(table []int32, ms []member, key string, i int) bool {
	mask := uint64(len(table) - 1) // len(table) is a power of two
	for h := maphash.String(nameSeed, key) & mask; ; h = (h + 1) & mask {
		j := table[h]
		if j == 0 {
			table[h] = int32(i + 1) // index+1; 0 is empty
			return false
		}
		if ms[j-1].key == key {
			return true
		}
	}
}

var nameSeed = maphash.MakeSeed()

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

// unescapeTo appends the text of quoted, a JSON string that scanString
// accepted, with its escapes decoded as encoding/json decodes them: a
// surrogate pair becomes one rune, and a lone surrogate U+FFFD.
func unescapeTo(dst []byte, quoted string) []byte {
	s := quoted[1 : len(quoted)-1]
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			j := i + 1
			for j < len(s) && s[j] != '\\' {
				j++
			}
			dst = append(dst, s[i:j]...)
			i = j
			continue
		}
		switch s[i+1] {
		case 'u':
			r := hex4(s[i+2 : i+6])
			i += 6
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					r2 = hex4(s[i+2 : i+6])
				}
				if d := utf16.DecodeRune(r, r2); d != unicode.ReplacementChar {
					r, i = d, i+6
				} else {
					r = unicode.ReplacementChar
				}
			}
			dst = utf8.AppendRune(dst, r)
			continue
		case 'b':
			c = '\b'
		case 'f':
			c = '\f'
		case 'n':
			c = '\n'
		case 'r':
			c = '\r'
		case 't':
			c = '\t'
		default: // '"', '\\', '/'
			c = s[i+1]
		}
		dst = append(dst, c)
		i += 2
	}
	return dst
}

// hex4 reads four hex digits that scanString checked.
func hex4(h string) rune {
	var r rune
	for i := 0; i < 4; i++ {
		c := h[i]
		switch {
		case c <= '9':
			c -= '0'
		case c <= 'F':
			c -= 'A' - 10
		default:
			c -= 'a' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
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
			// raw was validated when its object was read.
			return bytesString(unescapeTo(make([]byte, 0, len(inner)), raw)), true
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
