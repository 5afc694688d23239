package authtest

import (
	"bytes"
	"encoding/json"
)

// DPoPAlgs is the algs parameter of the DPoP challenge of a Verifier
// with the default DPoP algorithms.
const DPoPAlgs = `algs="RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA"`

// Challenges returns the WWW-Authenticate fields a Verifier with the
// default realm and DPoP settings (DPoP allowed beside bearer tokens) sends
// with a 400 or 401 whose error parameters are params (such as
// `, error="invalid_token", error_description="…"`; "" for none): a Bearer
// challenge, then a DPoP one.
func Challenges(params string) []string {
	return []string{`Bearer realm="api"` + params, `DPoP realm="api", ` + DPoPAlgs + params}
}

// JSONEqual reports whether a and b hold the same JSON value.
func JSONEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}
