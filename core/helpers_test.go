package core_test

import (
	"encoding/base64"
	"encoding/hex"
	"testing"
)

// Helpers the external tests of several files share.

// b64 is the base64url encoding of JWS segments (RFC 7515 §2): no padding.
var b64 = base64.RawURLEncoding

// decodeHex decodes hex-encoded test data, failing tb if it is not.
func decodeHex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
