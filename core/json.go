package core

import (
	"errors"

	"github.com/jwksauth/jwksauth/core/internal/strictjson"
)

// tokenJSONError is what a refusal of the strict JSON reader means for a
// token's header or claims: a duplicated name is ErrDuplicateClaim
// (RFC 7515 §4 and RFC 7519 §4 let a verifier refuse it, and core does),
// anything else is other (ErrTokenMalformed, or ErrClaimType for the value
// of a claim). It is the one place where the reader's errors become core's.
func tokenJSONError(err error, other error) error {
	if errors.Is(err, strictjson.ErrDuplicate) {
		return ErrDuplicateClaim
	}
	return other
}
