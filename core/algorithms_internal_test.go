package core

import (
	"testing"

	"github.com/jwksauth/jwksauth/core/internal/jwks"
)

// The algorithms a Verifier accepts and those the JWKS reader binds keys to
// are one list: an alg in one and not the other, or of another kind of key,
// would accept a token with a key the reader never meant for it.
func TestSigningMethodsMatchTheJWKSAlgorithms(t *testing.T) {
	if len(signingMethods) != len(jwks.Algorithms) {
		t.Fatalf("%d signing methods, %d JWKS algorithms", len(signingMethods), len(jwks.Algorithms))
	}
	for alg, m := range signingMethods {
		t.Run(alg, func(t *testing.T) {
			kind, ok := jwks.Algorithms[alg]
			if !ok || kind != m.kind || m.m.Alg() != alg {
				t.Fatalf("JWKS kind %v (listed %v), method kind %v, method alg %s", kind, ok, m.kind, m.m.Alg())
			}
		})
	}
}
