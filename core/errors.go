package core

import (
	"errors"
	"net/http"
	"strconv"
)

// Sentinel errors. Every failure returned by a Verifier is an *Error whose
// Unwrap chain contains exactly one of these, so callers classify failures
// with errors.Is and never by message text. The messages are for logs; the
// text sent to clients is the fixed Error.Description.
var (
	// ErrNoCredentials: the request carries no bearer credential at all.
	ErrNoCredentials = errors.New("no bearer credential in the request")
	// ErrInvalidRequest: the Authorization header (or another enabled source)
	// is not a well-formed bearer credential.
	ErrInvalidRequest = errors.New("malformed bearer credential")
	// ErrMultipleCredentials: more than one credential, or more than one
	// method, in one request (RFC 6750 §2).
	ErrMultipleCredentials = errors.New("more than one bearer credential in the request")
	// ErrTokenTooLarge: the token exceeds the configured size cap; it was not decoded.
	ErrTokenTooLarge = errors.New("token exceeds the size cap")
	// ErrTokenMalformed: the token is not three strict base64url segments
	// holding a JSON header and a JSON object of claims.
	ErrTokenMalformed = errors.New("malformed token")
	// ErrUnsupportedHeader: the header asks for something the verifier will
	// not do (a crit extension).
	ErrUnsupportedHeader = errors.New("unsupported token header")
	// ErrAlgorithmNotAllowed: the header's alg is not on the allow-list.
	ErrAlgorithmNotAllowed = errors.New("signing algorithm not allowed")
	// ErrUnknownKey: no key of the issuer's JWKS has the token's kid.
	ErrUnknownKey = errors.New("unknown signing key")
	// ErrKeyMismatch: the token's alg does not fit the key's type, curve or stated alg.
	ErrKeyMismatch = errors.New("signing algorithm does not match the key")
	// ErrSignatureInvalid: the signature does not verify.
	ErrSignatureInvalid = errors.New("invalid token signature")
	// ErrDuplicateClaim: a claim (or header parameter) name occurs twice.
	ErrDuplicateClaim = errors.New("duplicate claim name")
	// ErrClaimType: a registered claim has the wrong JSON type.
	ErrClaimType = errors.New("claim has the wrong type")
	// ErrMissingClaim: a required claim (exp, or one named by
	// WithRequiredClaims or a provider preset) is absent.
	ErrMissingClaim = errors.New("required claim missing")
	// ErrTokenExpired: now is at or after exp plus leeway.
	ErrTokenExpired = errors.New("token expired")
	// ErrTokenNotYetValid: now is before nbf minus leeway.
	ErrTokenNotYetValid = errors.New("token not valid yet")
	// ErrIssuedInFuture: iat is more than the leeway in the future.
	ErrIssuedInFuture = errors.New("token issued in the future")
	// ErrIssuerInvalid: iss is not the configured issuer.
	ErrIssuerInvalid = errors.New("issuer not accepted")
	// ErrAudienceInvalid: aud holds no permitted audience, or is absent
	// without a passing client-id check.
	ErrAudienceInvalid = errors.New("audience not accepted")
	// ErrClientInvalid: the token's client id is not permitted.
	ErrClientInvalid = errors.New("client not accepted")
	// ErrTokenType: the token is marked as something other than an access
	// token (Cognito token_use, header typ, Keycloak typ).
	ErrTokenType = errors.New("not an access token")
	// ErrInsufficientScope: the token lacks a scope or role the route requires.
	ErrInsufficientScope = errors.New("insufficient scope")
	// ErrKeysUnavailable: the issuer's keys cannot be fetched and the token's
	// key is not cached. Answered with 503 and Retry-After: an outage is not a bad token.
	ErrKeysUnavailable = errors.New("signing keys unavailable")
	// ErrDPoPRequired: DPoP is required (WithDPoPRequired) and the request
	// carries a bearer credential. The challenge offers DPoP only.
	ErrDPoPRequired = errors.New("a DPoP-bound token is required")
	// ErrBoundTokenAsBearer: a token bound to a DPoP key (cnf.jkt) came as a
	// bearer credential, without its proof (RFC 9449 §7.2 forbids the
	// downgrade), or was given to Verify, which has no request to check a
	// proof against.
	ErrBoundTokenAsBearer = errors.New("a DPoP-bound token sent as a bearer token")
	// ErrTokenNotBound: the DPoP scheme came with a token that is not bound
	// to a DPoP key (no cnf.jkt).
	ErrTokenNotBound = errors.New("the DPoP scheme with a token not bound to a DPoP key")
	// ErrDPoPKeyMismatch: the proof is valid, but its key's RFC 7638
	// thumbprint is not the token's cnf.jkt.
	ErrDPoPKeyMismatch = errors.New("the DPoP proof key is not the key the token is bound to")
	// ErrCertificateMismatch: a certificate-bound token (cnf x5t#S256,
	// RFC 8705 §3) came without a client certificate, or with another one.
	ErrCertificateMismatch = errors.New("the client certificate is not the one the token is bound to")
	// ErrUnsupportedBinding: the token's cnf names no confirmation method
	// core can check (only jkt and x5t#S256 are), so it cannot be accepted.
	ErrUnsupportedBinding = errors.New("unsupported token confirmation method")
	// ErrInvalidDPoPProof: the DPoP scheme came without exactly one DPoP
	// header, or with a proof that fails a check of RFC 9449 §4.3. The
	// error also matches the ErrDPoP… sentinel of the check that failed.
	ErrInvalidDPoPProof = errors.New("invalid DPoP proof")
	// ErrUseDPoPNonce: server nonces are on (WithDPoPNonces) and the proof
	// has none, or one that is not current (RFC 9449 §9). The answer
	// carries a fresh nonce (Error.DPoPNonce, the DPoP-Nonce header).
	ErrUseDPoPNonce = errors.New("the DPoP proof needs a current server nonce")
	// ErrProofStoreUnavailable: the DPoP replay store or nonce source
	// failed. Answered with 503 and Retry-After: an outage is not a bad
	// proof, and the proof is not accepted.
	ErrProofStoreUnavailable = errors.New("DPoP proof store unavailable")
	// ErrMisconfigured: a nil Verifier, or a Requirement not built by a
	// Verifier (nil, or a zero Requirement{}), was used. The request is
	// refused with 500: the server, not the client, is at fault.
	ErrMisconfigured = errors.New("jwksauth is misconfigured (a nil Verifier, or a Requirement not built by one)")
)

// Error is the single error model of jwksauth. It knows its HTTP status,
// its RFC 6750 error code, a fixed description safe to send to clients, the
// exact WWW-Authenticate challenge and the JSON body. Adapters write it out;
// they never decide it.
type Error struct {
	// Status is the HTTP status: 400, 401, 403, 503, or 500 for a nil
	// Verifier or Requirement (ErrMisconfigured).
	Status int
	// Code is the RFC 6750 error code ("invalid_request", "invalid_token",
	// "insufficient_scope"), "temporarily_unavailable" for 503, or ""
	// when the request carried no credential (RFC 6750 §3.1).
	Code string
	// Description is a fixed sentence; it never contains user input or key material.
	Description string
	// Scope lists the required scopes of an insufficient_scope error, space-separated.
	Scope string
	// RetryAfter is the number of seconds a client should wait (503 only).
	RetryAfter int
	// DPoPNonce is the fresh server nonce of a use_dpop_nonce error, sent
	// in the DPoP-Nonce header (RFC 9449 §9); "" otherwise.
	DPoPNonce string

	ch      *challenger // renders the challenges; nil for none
	schemes scheme      // the schemes challenged
	kind    error       // one of the sentinels
	cause   error       // the precise cause, for logs; may be nil
}

// Error returns the sentinel's message, followed by the cause when there is one.
func (e *Error) Error() string {
	if e.cause != nil {
		return e.kind.Error() + ": " + e.cause.Error()
	}
	return e.kind.Error()
}

// Unwrap returns the sentinel and, when present, the underlying cause.
func (e *Error) Unwrap() []error {
	if e.cause != nil {
		return []error{e.kind, e.cause}
	}
	return []error{e.kind}
}

// Challenges returns the WWW-Authenticate challenges, one per header
// field, in order: none for a 5xx; while DPoP is accepted beside bearer
// tokens, a 400 or 401 has two, Bearer then DPoP (see docs/errors.md).
// The slice is a copy.
func (e *Error) Challenges() []string {
	if e.ch == nil {
		return nil
	}
	return e.ch.challenges(e)
}

// Body returns the JSON body: {"error":"…","error_description":"…"}.
// A request without credentials gets "error":"unauthorized", since RFC 6750
// gives it no error code.
func (e *Error) Body() []byte {
	code := e.Code
	if code == "" {
		code = "unauthorized"
	}
	// Codes and descriptions are fixed ASCII without quotes or backslashes,
	// so no escaping is needed.
	return []byte(`{"error":"` + code + `","error_description":"` + e.Description + `"}`)
}

// Header returns the response headers of this error: WWW-Authenticate,
// one field per challenge (absent on 5xx), Retry-After (503 only),
// DPoP-Nonce (use_dpop_nonce only), Content-Type and Cache-Control. The
// map is freshly allocated; write every value of a key, not just the first.
func (e *Error) Header() http.Header {
	h := make(http.Header, 5)
	if c := e.Challenges(); len(c) > 0 {
		h["Www-Authenticate"] = c
	}
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	if e.DPoPNonce != "" {
		h.Set("DPoP-Nonce", e.DPoPNonce)
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	return h
}

// WriteHTTP writes the whole answer (headers, status, body) to w.
func (e *Error) WriteHTTP(w http.ResponseWriter) {
	dst := w.Header()
	for k, v := range e.Header() {
		dst[k] = v
	}
	w.WriteHeader(e.Status)
	_, _ = w.Write(e.Body())
}

// AsError returns err as an *Error. An error that is not one (which a
// Verifier never returns) becomes a 401 invalid_token wrapping it, so an
// unexpected failure still refuses the request.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if err == nil {
		return nil
	}
	return newError(defaultRealm, ErrTokenMalformed, err)
}

type errorClass struct {
	kind   error
	status int
	code   string
	desc   string
	reason string // short label for metrics and logs; see Error.Reason
}

// classTable lists every sentinel in a fixed order, so that Reason is deterministic.
var classTable = []errorClass{
	{ErrNoCredentials, http.StatusUnauthorized, "", "a bearer token is required", "no_credentials"},
	{ErrInvalidRequest, http.StatusBadRequest, "invalid_request", "the bearer credential is malformed", "invalid_request"},
	{ErrMultipleCredentials, http.StatusBadRequest, "invalid_request", "only one bearer credential may be sent", "multiple_credentials"},
	{ErrTokenTooLarge, http.StatusUnauthorized, "invalid_token", "the access token is too large", "too_large"},
	{ErrTokenMalformed, http.StatusUnauthorized, "invalid_token", "the access token is malformed", "malformed"},
	{ErrUnsupportedHeader, http.StatusUnauthorized, "invalid_token", "the access token header is not supported", "unsupported_header"},
	{ErrAlgorithmNotAllowed, http.StatusUnauthorized, "invalid_token", "the signing algorithm is not accepted", "algorithm"},
	{ErrUnknownKey, http.StatusUnauthorized, "invalid_token", "the signing key is not known", "unknown_key"},
	{ErrKeyMismatch, http.StatusUnauthorized, "invalid_token", "the signing algorithm does not match the key", "key_mismatch"},
	{ErrSignatureInvalid, http.StatusUnauthorized, "invalid_token", "the access token signature is invalid", "signature"},
	{ErrDuplicateClaim, http.StatusUnauthorized, "invalid_token", "the access token is malformed", "duplicate_claim"},
	{ErrClaimType, http.StatusUnauthorized, "invalid_token", "the access token is malformed", "claim_type"},
	{ErrMissingClaim, http.StatusUnauthorized, "invalid_token", "the access token lacks a required claim", "missing_claim"},
	{ErrTokenExpired, http.StatusUnauthorized, "invalid_token", "the access token has expired", "expired"},
	{ErrTokenNotYetValid, http.StatusUnauthorized, "invalid_token", "the access token is not valid yet", "not_yet_valid"},
	{ErrIssuedInFuture, http.StatusUnauthorized, "invalid_token", "the access token was issued in the future", "issued_in_future"},
	{ErrIssuerInvalid, http.StatusUnauthorized, "invalid_token", "the access token issuer is not accepted", "issuer"},
	{ErrAudienceInvalid, http.StatusUnauthorized, "invalid_token", "the access token audience is not accepted", "audience"},
	{ErrClientInvalid, http.StatusUnauthorized, "invalid_token", "the access token client is not accepted", "client"},
	{ErrTokenType, http.StatusUnauthorized, "invalid_token", "the token is not an access token", "token_type"},
	{ErrInsufficientScope, http.StatusForbidden, "insufficient_scope", "the access token lacks a required scope", "insufficient_scope"},
	{ErrKeysUnavailable, http.StatusServiceUnavailable, "temporarily_unavailable", "the signing keys cannot be fetched right now", "keys_unavailable"},
	{ErrDPoPRequired, http.StatusUnauthorized, "invalid_token", "a DPoP-bound access token is required", "dpop_required"},
	{ErrBoundTokenAsBearer, http.StatusUnauthorized, "invalid_token", "the access token is bound to a DPoP key", "bound_as_bearer"},
	{ErrTokenNotBound, http.StatusUnauthorized, "invalid_token", "the access token is not bound to a DPoP key", "not_bound"},
	{ErrDPoPKeyMismatch, http.StatusUnauthorized, "invalid_token", "the DPoP proof key does not match the access token", "dpop_key_mismatch"},
	{ErrCertificateMismatch, http.StatusUnauthorized, "invalid_token", "the access token is bound to another client certificate", "certificate_mismatch"},
	{ErrUnsupportedBinding, http.StatusUnauthorized, "invalid_token", "the access token confirmation method is not supported", "unsupported_binding"},
	{ErrInvalidDPoPProof, http.StatusUnauthorized, "invalid_dpop_proof", "the DPoP proof is invalid", "invalid_dpop_proof"},
	{ErrUseDPoPNonce, http.StatusUnauthorized, "use_dpop_nonce", "the DPoP proof needs a current server nonce", "use_dpop_nonce"},
	{ErrProofStoreUnavailable, http.StatusServiceUnavailable, "temporarily_unavailable", "the DPoP proof cannot be checked right now", "proof_store_unavailable"},
	{ErrMisconfigured, http.StatusInternalServerError, "server_error", "the server cannot check credentials", "misconfigured"},
}

var classes = func() map[error]errorClass {
	m := make(map[error]errorClass, len(classTable))
	for _, c := range classTable {
		m[c.kind] = c
	}
	return m
}()

// Reason returns a short, fixed label for the failure, for metrics and
// logs: the name of its sentinel ("expired", "signature", "audience",
// "insufficient_scope", "keys_unavailable", "invalid_dpop_proof", …), or
// "other" for a nil *Error. It is the error's own sentinel, never one its
// cause may wrap. The set of labels is small and fixed, so it is safe as a
// metric label; no token or request input is in it.
func (e *Error) Reason() string {
	if e == nil {
		return "other"
	}
	if c, ok := classes[e.kind]; ok {
		return c.reason
	}
	return "other"
}

// Reason is Error.Reason for any error: an *Error in err's chain is
// labelled by its own sentinel; another error by the first of core's
// sentinels it wraps; anything else, and nil, "other".
func Reason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason()
	}
	for _, c := range classTable {
		if errors.Is(err, c.kind) {
			return c.reason
		}
	}
	return "other"
}

// newError builds the *Error for a sentinel, with the challenges of a
// Verifier that accepts bearer tokens only. realm is quoted into them.
func newError(realm string, kind, cause error) *Error {
	ch := challenger{realm: realm, bearer: true}
	return ch.fail(kind, cause)
}

// build returns the *Error for a sentinel, without challenges.
func build(kind, cause error) *Error {
	c, ok := classes[kind]
	if !ok { // a programming error inside core; refuse rather than panic
		kind, c = ErrTokenMalformed, classes[ErrTokenMalformed]
	}
	return &Error{Status: c.status, Code: c.code, Description: c.desc, kind: kind, cause: cause}
}

func unavailableError(cause error, retryAfter int) *Error {
	e := build(ErrKeysUnavailable, cause)
	e.RetryAfter = max(retryAfter, 1)
	return e
}
