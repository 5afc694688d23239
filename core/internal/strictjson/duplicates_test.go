package strictjson_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jwksauth/jwksauth/core/internal/strictjson"
)

// escapeName spells every byte of an ASCII name as a \u escape.
func escapeName(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		fmt.Fprintf(&b, `\u%04x`, name[i])
	}
	return b.String()
}

// object is an object of n members named n0 … n<n-1>, each name spelled
// by spell, then the extra members.
func object(n int, spell func(string) string, extra ...string) string {
	ms := make([]string, 0, n+len(extra))
	for i := range n {
		ms = append(ms, `"`+spell(fmt.Sprintf("n%d", i))+`":`+fmt.Sprint(i))
	}
	return "{" + strings.Join(append(ms, extra...), ",") + "}"
}

// TestParseObjectDuplicateNames covers the strict reader's duplicate check
// at every object size its set of names handles differently (names compared
// one by one, the table on the stack, tables allocated and doubled), with
// names escaped and not, against encoding/json's reading of the same text.
func TestParseObjectDuplicateNames(t *testing.T) {
	plain := func(s string) string { return s }
	tests := []struct {
		name string
		obj  string
		want error // nil: accepted, with every member in order
	}{
		{"2 distinct", object(2, plain), nil},
		{"2, the second repeats the first", object(1, plain, `"n0":1`), strictjson.ErrDuplicate},
		{"16 distinct, escaped", object(16, escapeName), nil},
		{"16, then the first again, escaped", object(16, escapeName, `"n0":1`), strictjson.ErrDuplicate},
		{"17, then the 17th again", object(17, plain, `"\u006e16":1`), strictjson.ErrDuplicate},
		{"32 distinct (the stack table, full)", object(32, plain), nil},
		{"32, then the 5th again", object(32, plain, `"n4":1`), strictjson.ErrDuplicate},
		{"33 distinct (the first allocated table)", object(33, escapeName), nil},
		{"64, then the 33rd again, escaped", object(64, escapeName, `"n32":1`), strictjson.ErrDuplicate},
		{"1000 distinct", object(1000, plain), nil},
		{"1000, then the last again, escaped", object(1000, plain, `"`+escapeName("n999")+`":1`), strictjson.ErrDuplicate},
		{"1000 and names that differ from them only by case", object(1000, plain, `"N0":0`, `"\u004e999":0`), nil},
		{"1000 and names that extend them", object(1000, plain, `"n0 ":0`, `"n9990":0`, `"\u006e9\u0039\u0039\u0000":0`), nil},
		{"a surrogate pair and the rune it decodes to", object(20, plain, `"\ud83d\ude00":0`, `"😀":1`), strictjson.ErrDuplicate},
		{"a lone surrogate and U+FFFD", object(20, plain, `"\ud800":0`, `"\ufffd":1`), strictjson.ErrDuplicate},
		{"two lone surrogates and U+FFFD twice", object(20, plain, `"\ud800\ud800":0`, `"��":1`), strictjson.ErrDuplicate},
		{"escapes of each kind and their text", object(20, plain, `"\"\\\/\b\f\n\r\t":0`, "\"\\\"\\\\/\\u0008\\u000c\\u000a\\u000d\\u0009\":1"), strictjson.ErrDuplicate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := strictjson.ParseObject(tt.obj, nil)
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("ParseObject = %v, want %v", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseObject = %v, want accepted", err)
			}
			var want map[string]json.RawMessage
			if err := json.Unmarshal([]byte(tt.obj), &want); err != nil {
				t.Fatal(err)
			}
			if len(ms) != len(want) {
				t.Fatalf("%d members, encoding/json finds %d distinct", len(ms), len(want))
			}
			for _, m := range ms {
				if string(want[m.Key]) != m.Val {
					t.Fatalf("member %q = %q, encoding/json has %q", m.Key, m.Val, want[m.Key])
				}
			}
		})
	}
}
