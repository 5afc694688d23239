// Package strictjson is a small strict JSON reader, for token headers and
// claims, JWKS documents and DPoP proofs.
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
// read through String.
package strictjson

import (
	"errors"
	"hash/maphash"
	"math"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// The reader's errors. Callers map them to their own: core answers
// ErrDuplicate with its duplicate-claim sentinel and the rest as a
// malformed token.
var (
	ErrSyntax    = errors.New("invalid JSON")
	ErrDepth     = errors.New("JSON nested too deeply")
	ErrMembers   = errors.New("JSON object has too many members")
	ErrDuplicate = errors.New("duplicate member name")
)

// MaxDepth is how deeply arrays and objects may nest, the outer object
// counted.
const MaxDepth = 32

// Member is one member of an object.
type Member struct {
	Key string // the name, unescaped
	Val string // the raw JSON text of the value, to read with String, Number, Strings or ParseObject
}

// ParseObject reads s, which must be exactly one JSON object, into dst.
// A name that occurs twice (compared exactly, after unescaping) is
// ErrDuplicate, found as soon as it is read.
func ParseObject(s string, dst []Member) ([]Member, error) {
	return readObject(s, dst, math.MaxInt, false)
}

// ParseObjectMax is ParseObject for an object of at most limit members:
// one more is ErrMembers, found before it is read.
func ParseObjectMax(s string, dst []Member, limit int) ([]Member, error) {
	return readObject(s, dst, limit, false)
}

// ParseMembers reads every member of the object s, duplicates included,
// for labels in logs (the kid of a JWK that was skipped for one): it
// must decide nothing.
func ParseMembers(s string) ([]Member, error) {
	return readObject(s, nil, math.MaxInt, true)
}

// Lookup returns the value of the member named key, and whether there is
// one. In an object read by ParseObject there is at most one.
func Lookup(ms []Member, key string) (string, bool) {
	for _, m := range ms {
		if m.Key == key {
			return m.Val, true
		}
	}
	return "", false
}

func readObject(s string, dst []Member, limit int, dupsOK bool) ([]Member, error) {
	i, empty, err := openObject(s)
	if err != nil || empty {
		return dst, err
	}
	start := len(dst)
	var (
		arena []byte  // the unescaped names are views of it
		names []int32 // see seen
		small [64]int32
	)
	for more := true; more; {
		if i >= len(s) || s[i] != '"' {
			return dst, ErrSyntax
		}
		if len(dst)-start == limit {
			return dst, ErrMembers
		}
		key, end, err := readName(s, i, &arena)
		if err != nil {
			return dst, err
		}
		// A duplicate is refused as soon as it is read: an object of one
		// repeated name costs no more to refuse than its first two members.
		if !dupsOK {
			var dup bool
			if names, dup = seen(names, small[:], dst[start:], key, end, len(s)); dup {
				return dst, ErrDuplicate
			}
		}
		vs, err := colon(s, end)
		if err != nil {
			return dst, err
		}
		if i, err = skipValue(s, vs, 1); err != nil {
			return dst, err
		}
		dst = append(dst, Member{Key: key, Val: s[vs:i]})
		if i, more, err = afterElement(s, i, '}'); err != nil {
			return dst, err
		}
	}
	if skipWS(s, i) != len(s) {
		return dst, ErrSyntax
	}
	return dst, nil
}

// openObject reads the start of the object s up to its first member name:
// it returns that name's index, or empty when the object is {} and
// nothing follows it.
func openObject(s string) (i int, empty bool, err error) {
	i = skipWS(s, 0)
	if i >= len(s) || s[i] != '{' {
		return 0, false, ErrSyntax
	}
	i = skipWS(s, i+1)
	if i < len(s) && s[i] == '}' {
		if skipWS(s, i+1) != len(s) {
			return 0, false, ErrSyntax
		}
		return i, true, nil
	}
	return i, false, nil
}

// readName reads the member name that starts at s[i] == '"' and returns
// it unescaped, with the index after its closing quote. An escaped name is
// unescaped into *arena and is a view of it. Unescaping never lengthens a
// name. A full arena is replaced, never regrown, so earlier views stay
// valid.
func readName(s string, i int, arena *[]byte) (string, int, error) {
	end, escaped, err := scanString(s, i)
	if err != nil {
		return "", 0, err
	}
	if !escaped {
		return s[i+1 : end-1], end, nil
	}
	a := *arena
	if cap(a)-len(a) < end-i {
		a = make([]byte, 0, max(2*cap(a), 256, end-i))
	}
	n := len(a)
	a = unescapeTo(a, s[i:end])
	*arena = a
	return bytesString(a[n:len(a):len(a)]), end, nil
}

// colon reads the ':' after a member name that ends before s[i] and
// returns the index of the member's value.
func colon(s string, i int) (int, error) {
	i = skipWS(s, i)
	if i >= len(s) || s[i] != ':' {
		return 0, ErrSyntax
	}
	return skipWS(s, i+1), nil
}

// afterElement reads what follows an element of an array or object that
// closes with closer, the element ending before s[i]: after a comma it
// returns the index of the next element and more; after closer, the index
// after it.
func afterElement(s string, i int, closer byte) (next int, more bool, err error) {
	i = skipWS(s, i)
	switch {
	case i >= len(s):
		return 0, false, ErrSyntax
	case s[i] == closer:
		return i + 1, false, nil
	case s[i] == ',':
		return skipWS(s, i+1), true, nil
	}
	return 0, false, ErrSyntax
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
func seen(table, small []int32, ms []Member, key string, done, total int) ([]int32, bool) {
	if len(ms) < smallObject {
		for _, m := range ms {
			if m.Key == key {
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
			insertName(table, ms, m.Key, i)
		}
	}
	return table, insertName(table, ms, key, len(ms))
}

// insertName adds member i, named key, to table unless an earlier member
// of ms has that name, which it reports.
func insertName(table []int32, ms []Member, key string, i int) bool {
	mask := uint64(len(table) - 1) // len(table) is a power of two
	for h := maphash.String(nameSeed, key) & mask; ; h = (h + 1) & mask {
		j := table[h]
		if j == 0 {
			table[h] = int32(i + 1) // index+1; 0 is empty
			return false
		}
		if ms[j-1].Key == key {
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
				return 0, false, ErrSyntax
			}
			switch s[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(s) {
					return 0, false, ErrSyntax
				}
				for _, h := range []byte(s[i+2 : i+6]) {
					if !isHex(h) {
						return 0, false, ErrSyntax
					}
				}
				i += 6
			default:
				return 0, false, ErrSyntax
			}
		case c < 0x20:
			return 0, false, ErrSyntax
		case c < utf8.RuneSelf:
			i++
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n <= 1 {
				return 0, false, ErrSyntax
			}
			i += n
		}
	}
	return 0, false, ErrSyntax
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
		if s[i] != '\\' {
			j := i + 1
			for j < len(s) && s[j] != '\\' {
				j++
			}
			dst = append(dst, s[i:j]...)
			i = j
			continue
		}
		if s[i+1] == 'u' {
			dst, i = appendEscapedRune(dst, s, i)
			continue
		}
		dst = append(dst, unescapeByte(s[i+1]))
		i += 2
	}
	return dst
}

// unescapeByte is the byte that the escape \c stands for, c not 'u'.
func unescapeByte(c byte) byte {
	switch c {
	case 'b':
		return '\b'
	case 'f':
		return '\f'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	}
	return c // '"', '\\', '/'
}

// appendEscapedRune appends the rune of the \u escape at s[i] (with the
// low surrogate that follows a high one) and returns the index after it.
func appendEscapedRune(dst []byte, s string, i int) ([]byte, int) {
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
	return utf8.AppendRune(dst, r), i
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
		return 0, ErrSyntax
	}
	switch s[i] {
	case '"':
		end, _, err := scanString(s, i)
		return end, err
	case '{', '[':
		return skipContainer(s, i, depth)
	case 't':
		return literal(s, i, "true")
	case 'f':
		return literal(s, i, "false")
	case 'n':
		return literal(s, i, "null")
	}
	return scanNumber(s, i)
}

// skipContainer validates the array or object starting at s[i], at depth,
// and returns the index after it.
func skipContainer(s string, i, depth int) (int, error) {
	if depth >= MaxDepth {
		return 0, ErrDepth
	}
	object := s[i] == '{'
	closer := byte(']')
	if object {
		closer = '}'
	}
	i = skipWS(s, i+1)
	if i < len(s) && s[i] == closer {
		return i + 1, nil
	}
	for more := true; more; {
		var err error
		if object {
			if i >= len(s) || s[i] != '"' {
				return 0, ErrSyntax
			}
			if i, _, err = scanString(s, i); err != nil {
				return 0, err
			}
			if i, err = colon(s, i); err != nil {
				return 0, err
			}
		}
		if i, err = skipValue(s, i, depth+1); err != nil {
			return 0, err
		}
		if i, more, err = afterElement(s, i, closer); err != nil {
			return 0, err
		}
	}
	return i, nil
}

func literal(s string, i int, lit string) (int, error) {
	if len(s)-i >= len(lit) && s[i:i+len(lit)] == lit {
		return i + len(lit), nil
	}
	return 0, ErrSyntax
}

// scanNumber validates the RFC 8259 number grammar.
func scanNumber(s string, i int) (int, error) {
	if i < len(s) && s[i] == '-' {
		i++
	}
	i, ok := scanInt(s, i)
	if ok && i < len(s) && s[i] == '.' {
		i, ok = digits(s, i+1)
	}
	if ok && i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		i, ok = digits(s, i)
	}
	if !ok {
		return 0, ErrSyntax
	}
	return i, nil
}

// scanInt skips the integer part of a number: 0, or digits without a
// leading 0.
func scanInt(s string, i int) (int, bool) {
	switch {
	case i < len(s) && s[i] == '0':
		return i + 1, true
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		return digits(s, i)
	}
	return i, false
}

// digits skips one digit or more.
func digits(s string, i int) (int, bool) {
	d := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i, i > d
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// String reads a raw value that must be a JSON string. Without escapes
// the result is a view of raw.
func String(raw string) (string, bool) {
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

// Number reads a raw value that must be a finite JSON number.
func Number(raw string) (float64, bool) {
	if raw == "" || (raw[0] != '-' && !isDigit(raw[0])) {
		return 0, false
	}
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// Strings reads a raw value that is a string or an array of strings,
// appending them to dst. A string is returned as one element (callers
// split scope strings).
func Strings(raw string, dst []string) ([]string, bool) {
	if s, ok := String(raw); ok {
		return append(dst, s), true
	}
	if raw == "" || raw[0] != '[' {
		return dst, false
	}
	i := skipWS(raw, 1)
	if i < len(raw) && raw[i] == ']' {
		return dst, true
	}
	for more := true; more; {
		if i >= len(raw) || raw[i] != '"' {
			return dst, false
		}
		end, _, err := scanString(raw, i)
		if err != nil {
			return dst, false
		}
		s, _ := String(raw[i:end])
		dst = append(dst, s)
		if i, more, err = afterElement(raw, end, ']'); err != nil {
			return dst, false
		}
	}
	return dst, true
}

// Elements returns the raw elements of raw, a JSON array read as a member
// value (so already validated).
func Elements(raw string) ([]string, error) {
	if raw == "" || raw[0] != '[' {
		return nil, ErrSyntax
	}
	var out []string
	i := skipWS(raw, 1)
	if i < len(raw) && raw[i] == ']' {
		return out, nil
	}
	for more := true; more; {
		end, err := skipValue(raw, i, 1)
		if err != nil {
			return nil, err
		}
		out = append(out, raw[i:end])
		if i, more, err = afterElement(raw, end, ']'); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// bytesString is b as a string, without a copy: b must not be written
// afterwards (see docs/design.md).
func bytesString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
