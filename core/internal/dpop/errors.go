package dpop

import "errors"

// ErrInvalidProof is matched by every error of a refused proof except
// ErrUseNonce and ErrKeyBinding: the caller answers invalid_dpop_proof
// (RFC 9449 §7.1).
var ErrInvalidProof = errors.New("invalid dpop proof")

// proofError is a refusal that is also ErrInvalidProof. The sentinels are
// pointers, compared by identity; returning one allocates nothing.
type proofError struct{ msg string }

func (e *proofError) Error() string { return e.msg }

// Is reports whether target is ErrInvalidProof.
func (e *proofError) Is(target error) bool { return target == ErrInvalidProof }

func proofErr(msg string) error { return &proofError{msg: msg} }

// Refusals of a proof. Each also matches ErrInvalidProof.
var (
	// ErrProofTooLarge: the proof exceeds Config.MaxProofSize; it was not decoded.
	ErrProofTooLarge = proofErr("dpop proof exceeds the size cap")
	// ErrMalformed: not three strict base64url segments holding a JSON
	// header object, a JSON claims object and a signature.
	ErrMalformed = proofErr("malformed dpop proof")
	// ErrDuplicateMember: a member name occurs twice in the header, the
	// claims or the jwk.
	ErrDuplicateMember = proofErr("dpop proof repeats a member name")
	// ErrUnsupportedHeader: the header has a crit parameter (RFC 7515 §4.1.11).
	ErrUnsupportedHeader = proofErr("dpop proof header has crit")
	// ErrType: the header typ is missing or not dpop+jwt.
	ErrType = proofErr("dpop proof typ is not dpop+jwt")
	// ErrAlgorithm: alg is missing or not on the allow-list.
	ErrAlgorithm = proofErr("dpop proof alg not allowed")
	// ErrKeyMissing: the header has no jwk object.
	ErrKeyMissing = proofErr("dpop proof has no jwk")
	// ErrPrivateKey: the jwk holds private or secret key material (d, p,
	// q, dp, dq, qi, oth or k).
	ErrPrivateKey = proofErr("dpop proof jwk holds private key material")
	// ErrKeyInvalid: the jwk is not a usable public key: an unsupported kty
	// or curve (oct is never one), a missing or malformed member, a point off
	// its curve, an RSA key over 4096 bits, or a use other than sig.
	ErrKeyInvalid = proofErr("dpop proof jwk is not a usable public key")
	// ErrWeakKey: an RSA key under 2048 bits or an RSA exponent that is even
	// or below 3, or an Ed25519 key of small order.
	ErrWeakKey = proofErr("dpop proof jwk is a weak key")
	// ErrKeyAlgMismatch: alg does not fit the jwk's type and curve, or the
	// jwk states another alg.
	ErrKeyAlgMismatch = proofErr("dpop proof alg does not fit its jwk")
	// ErrSignature: the signature does not verify with the jwk.
	ErrSignature = proofErr("dpop proof signature invalid")
	// ErrClaimMissing: jti, htm, htu or iat is absent, or ath when an access
	// token is presented.
	ErrClaimMissing = proofErr("dpop proof lacks a required claim")
	// ErrClaimInvalid: a claim has the wrong JSON type or form (jti empty or
	// over MaxJTILength bytes, htu not an absolute http or https URI).
	ErrClaimInvalid = proofErr("dpop proof claim has the wrong type or form")
	// ErrMethod: htm is not the request method.
	ErrMethod = proofErr("dpop proof htm does not match the request method")
	// ErrURI: htu is not the request URI.
	ErrURI = proofErr("dpop proof htu does not match the request uri")
	// ErrTooOld: iat is more than Config.MaxAge in the past.
	ErrTooOld = proofErr("dpop proof iat too old")
	// ErrFuture: iat is more than Config.Leeway in the future.
	ErrFuture = proofErr("dpop proof iat in the future")
	// ErrAccessTokenHash: ath is not base64url(SHA-256(access token)).
	ErrAccessTokenHash = proofErr("dpop proof ath does not match the access token")
	// ErrReplay: the proof's jti was already used with the same key within
	// the acceptance window.
	ErrReplay = proofErr("dpop proof replayed")
)

// ErrUseNonce is matched by a *NonceError: server nonces are on and the
// proof has no nonce or one that is not current (RFC 9449 §9). The caller
// answers use_dpop_nonce with the error's Nonce in a DPoP-Nonce header.
var ErrUseNonce = errors.New("dpop proof nonce missing or not current")

// NonceError is the use_dpop_nonce refusal; Nonce is a fresh server nonce.
type NonceError struct {
	Nonce string
}

// Error returns ErrUseNonce's message; the nonce is not part of it.
func (e *NonceError) Error() string { return ErrUseNonce.Error() }

// Is reports whether target is ErrUseNonce.
func (e *NonceError) Is(target error) bool { return target == ErrUseNonce }

// ErrKeyBinding: the proof is valid but its key is not the one the access
// token is bound to (cnf.jkt, RFC 9449 §6.1). The token, not the proof, is
// at fault: the caller answers invalid_token.
var ErrKeyBinding = errors.New("dpop proof key is not the access token's key")

// ErrStoreUnavailable wraps every error of the replay store or the nonce
// source. An outage is not a bad proof: the caller answers 503 with
// Retry-After, and the proof is not accepted.
var ErrStoreUnavailable = errors.New("dpop proof store unavailable")

// ErrStoreFull is returned by MemoryStore when it holds as many live jtis as
// its bounds allow. Check wraps it in ErrStoreUnavailable.
var ErrStoreFull = errors.New("dpop replay store full")
