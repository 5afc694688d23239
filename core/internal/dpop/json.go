package dpop

import (
	"errors"

	"github.com/jwksauth/jwksauth/core/internal/strictjson"
)

// maxMembers bounds the members of a proof's header, claims or jwk: a
// proof needs about a dozen, and the cap bounds the reader's work on a
// proof made of nothing but short members.
const maxMembers = 256

// object is one JSON object read strictly (see package strictjson): no
// member name twice, valid UTF-8, values kept as raw JSON text. Nested
// values are validated but read only when asked for (the jwk, with
// parseObject again). A proof must not be able to say two things at once.
type object []strictjson.Member

func parseObject(data []byte) (object, error) {
	ms, err := strictjson.ParseObjectMax(string(data), make([]strictjson.Member, 0, 8), maxMembers)
	switch {
	case errors.Is(err, strictjson.ErrDuplicate):
		return nil, ErrDuplicateMember
	case err != nil:
		return nil, ErrMalformed
	}
	return object(ms), nil
}

// raw returns member name's raw JSON text, and whether it is present.
func (o object) raw(name string) (string, bool) { return strictjson.Lookup(o, name) }

// str reads member name as a JSON string. present is false when the member
// is absent; ok is false when it is present but not a string (null included).
func (o object) str(name string) (s string, present, ok bool) {
	raw, present := o.raw(name)
	if !present {
		return "", false, true
	}
	s, ok = strictjson.String(raw)
	return s, true, ok
}

// num reads member name as a finite JSON number.
func (o object) num(name string) (f float64, present, ok bool) {
	raw, present := o.raw(name)
	if !present {
		return 0, false, true
	}
	f, ok = strictjson.Number(raw)
	return f, true, ok
}
