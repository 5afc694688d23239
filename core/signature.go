package core

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"

	"github.com/golang-jwt/jwt/v5"
)

// checkSignature verifies sig over signed with key. RS256, RS384 and RS512
// go to crypto/rsa directly, with the digest on the stack: golang-jwt's
// Verify copies the signing input and allocates a hasher on every call. The
// other algorithms go through golang-jwt. The checks are the same: an RSA
// key of the right type, PKCS #1 v1.5 with the method's hash.
func checkSignature(m jwt.SigningMethod, signed string, sig []byte, key any) error {
	rm, ok := m.(*jwt.SigningMethodRSA)
	if !ok {
		return m.Verify(signed, sig, key)
	}
	pub, ok := key.(*rsa.PublicKey)
	if !ok {
		return jwt.ErrInvalidKeyType
	}
	switch rm.Hash {
	case crypto.SHA256:
		d := sha256.Sum256(stringBytes(signed))
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], sig)
	case crypto.SHA384:
		d := sha512.Sum384(stringBytes(signed))
		return rsa.VerifyPKCS1v15(pub, crypto.SHA384, d[:], sig)
	case crypto.SHA512:
		d := sha512.Sum512(stringBytes(signed))
		return rsa.VerifyPKCS1v15(pub, crypto.SHA512, d[:], sig)
	}
	return m.Verify(signed, sig, key)
}
