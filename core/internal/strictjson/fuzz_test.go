package strictjson_test

// FuzzParseObject holds the reader to encoding/json. Without -fuzz it runs
// its seed corpus as an ordinary test; `make fuzz` runs it briefly.

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/jwksauth/jwksauth/core/internal/strictjson"
)

// FuzzParseObject compares the strict JSON reader with encoding/json:
// whatever it accepts is valid JSON (json.Valid), an object with the same
// member names in the same order and none twice, and its typed readers
// agree with encoding/json; and it refuses a valid object only for a
// duplicate name, invalid UTF-8 or nesting deeper than its limit.
func FuzzParseObject(f *testing.F) {
	for _, s := range []string{
		`{}`, ` { } `, `{"a":1}`, `{"a":1,"a":2}`, `{"a":1,"\u0061":2}`, `{"a":"\ud800","\ufffd":1}`,
		`{"exp":1e400}`, `{"exp":-0.5e-3,"n":null,"t":true,"f":false}`, `{"a":[1,[2,{"b":[]}]]}`,
		`{"a":"\u00e9\n\t\/\\\""}`, `{"a":01}`, `{"a":1,}`, `{"a" 1}`, `[]`, `"a"`, `{"a":1}{}`, `{"a":1} x`,
		"{\"a\":\"\xff\"}", "\ufeff{}", `{"a":"` + "\x01" + `"}`, `{"aud":["x","y"],"scope":"a b"}`,
		`{"a":` + strings.Repeat("[", 31) + strings.Repeat("]", 31) + `}`,
		`{"a":` + strings.Repeat("[", 32) + strings.Repeat("]", 32) + `}`,
		`{"a":1.}`, `{"a":-}`, `{"a":.5}`, `{"a":+1}`, `{"a":1e}`, `{"a":tru}`, `{"a":"\u12"}`, `{"a":"\x"}`,
		"{" + params(40)[1:] + "}", "{" + params(40)[1:] + `,"p\u0033\u0039":1}`, "{" + params(20)[1:] + `,"p\u0031":1}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := strictjson.ParseObject(s, nil)
		obj, dup, oerr := topLevel([]byte(s))
		if err != nil {
			if oerr == nil && !dup && utf8.ValidString(s) && nesting([]byte(s)) <= strictjson.MaxDepth {
				t.Fatalf("refused a valid object %q: %v", s, err)
			}
			return
		}
		if !json.Valid([]byte(s)) || oerr != nil {
			t.Fatalf("accepted %q, which encoding/json refuses (%v)", s, oerr)
		}
		if dup {
			t.Fatalf("accepted duplicate names in %q", s)
		}
		if !utf8.ValidString(s) {
			t.Fatalf("accepted invalid UTF-8 %q", s)
		}
		if len(ms) != len(obj) {
			t.Fatalf("%d members, encoding/json finds %d", len(ms), len(obj))
		}
		for _, m := range ms {
			raw, ok := obj[m.Key]
			if !ok || !bytes.Equal(raw, []byte(m.Val)) {
				t.Fatalf("member %q = %q, encoding/json has %q", m.Key, m.Val, raw)
			}
			compareTyped(t, m.Val)
		}
	})
}

// compareTyped checks the typed readers against encoding/json on one raw value.
func compareTyped(t *testing.T, raw string) {
	t.Helper()
	var want string
	wantOK := raw[0] == '"' && json.Unmarshal([]byte(raw), &want) == nil
	got, ok := strictjson.String(raw)
	if ok != wantOK || got != want {
		t.Fatalf("String(%q) = %q, %v; encoding/json %q, %v", raw, got, ok, want, wantOK)
	}
	var wantN float64
	wantNOK := (raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9')) && json.Unmarshal([]byte(raw), &wantN) == nil
	gotN, nok := strictjson.Number(raw)
	if nok != wantNOK || (nok && gotN != wantN) {
		t.Fatalf("Number(%q) = %v, %v; encoding/json %v, %v", raw, gotN, nok, wantN, wantNOK)
	}
	var arr []any
	wantSOK := wantOK
	var wantS []string
	if wantOK {
		wantS = []string{want}
	} else if raw[0] == '[' && json.Unmarshal([]byte(raw), &arr) == nil {
		wantSOK = true
		for _, x := range arr {
			s, isStr := x.(string)
			if !isStr {
				wantSOK, wantS = false, nil
				break
			}
			wantS = append(wantS, s)
		}
	}
	gotS, sok := strictjson.Strings(raw, nil)
	if sok != wantSOK || (sok && !slices.Equal(gotS, wantS)) {
		t.Fatalf("Strings(%q) = %q, %v; encoding/json %q, %v", raw, gotS, sok, wantS, wantSOK)
	}
}

// topLevel decodes one JSON object with encoding/json, keeping each
// member's raw value, and reports whether a name occurs twice.
func topLevel(b []byte) (map[string]json.RawMessage, bool, error) {
	if !json.Valid(b) {
		return nil, false, errors.New("invalid JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return nil, false, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, false, errors.New("not an object")
	}
	out := map[string]json.RawMessage{}
	dup := false
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, false, err
		}
		k := kt.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, false, err
		}
		if _, seen := out[k]; seen {
			dup = true
		}
		out[k] = raw
	}
	if _, err := dec.Token(); err != nil {
		return nil, false, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false, errors.New("trailing data")
	}
	return out, dup, nil
}

// nesting returns the deepest nesting of arrays and objects in JSON text.
func nesting(b []byte) int {
	depth, deepest, inStr := 0, 0, false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// params is n header parameters p0 … p<n-1>, each after a comma.
func params(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(`,"p` + strconv.Itoa(i) + `":0`)
	}
	return b.String()
}
