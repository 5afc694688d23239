package dpop

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"strconv"
	"unicode/utf8"
)

// object is one JSON object read strictly: member names unescaped, values
// as raw JSON text.
//
// encoding/json alone would keep the last of two members with the same name
// and replace invalid UTF-8 silently; a proof must not be able to say two
// things at once, so parseObject refuses both. Only the object's own names
// are checked: nested values are validated but read only when asked for (the
// jwk, with parseObject again).
type object map[string]json.RawMessage

func parseObject(data []byte) (object, error) {
	if !utf8.Valid(data) {
		return nil, ErrMalformed
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, ErrMalformed
	}
	obj := make(object, 8)
	for dec.More() {
		t, err := dec.Token()
		name, ok := t.(string)
		if err != nil || !ok {
			return nil, ErrMalformed
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, ErrMalformed
		}
		if _, dup := obj[name]; dup {
			return nil, ErrDuplicateMember
		}
		obj[name] = v
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, ErrMalformed
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, ErrMalformed // text after the object
	}
	return obj, nil
}

// str reads member name as a JSON string. present is false when the member
// is absent; ok is false when it is present but not a string (null included).
func (o object) str(name string) (s string, present, ok bool) {
	raw, present := o[name]
	if !present {
		return "", false, true
	}
	if len(raw) < 2 || raw[0] != '"' {
		return "", true, false
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), true, true
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", true, false
	}
	return s, true, true
}

// num reads member name as a finite JSON number.
func (o object) num(name string) (f float64, present, ok bool) {
	raw, present := o[name]
	if !present {
		return 0, false, true
	}
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return 0, true, false
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, true, false
	}
	return f, true, true
}
