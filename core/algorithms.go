package core

import (
	"github.com/golang-jwt/jwt/v5"
	"github.com/jwksauth/jwksauth/core/internal/jwks"
)

type method struct {
	m    jwt.SigningMethod
	kind jwks.Kind
}

// signingMethods are the only algorithms a verifier can ever accept: the
// asymmetric ones. HS* and none are absent on purpose (RFC 8725 §3.1, §3.2).
// Each needs the kind of key jwks.Algorithms names for it.
var signingMethods = map[string]method{
	"RS256": {jwt.SigningMethodRS256, jwks.KindRSA},
	"RS384": {jwt.SigningMethodRS384, jwks.KindRSA},
	"RS512": {jwt.SigningMethodRS512, jwks.KindRSA},
	"PS256": {jwt.SigningMethodPS256, jwks.KindRSA},
	"PS384": {jwt.SigningMethodPS384, jwks.KindRSA},
	"PS512": {jwt.SigningMethodPS512, jwks.KindRSA},
	"ES256": {jwt.SigningMethodES256, jwks.KindP256},
	"ES384": {jwt.SigningMethodES384, jwks.KindP384},
	"ES512": {jwt.SigningMethodES512, jwks.KindP521},
	"EdDSA": {jwt.SigningMethodEdDSA, jwks.KindEd25519},
}
