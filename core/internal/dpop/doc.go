// Package dpop checks DPoP proofs (RFC 9449): the signed JWT a client sends
// in the DPoP request header to show that it holds the private key an access
// token is bound to.
//
// A Checker is built once from a Config and shared. For each request that
// carries a DPoP-bound token, the caller verifies the token first, then
// passes the single DPoP header value, the request's method and target, the
// access token and the token's cnf.jkt to Check:
//
//	res, err := checker.Check(ctx, proof, dpop.Request{
//		Method: r.Method, Scheme: "https", Host: r.Host, Path: r.URL.EscapedPath(),
//		AccessToken: token, TokenThumbprint: jkt,
//	}, time.Now())
//
// Check applies every check of RFC 9449 §4.3, and no claim of the proof is
// read before its signature has verified:
//
//  1. the proof is at most Config.MaxProofSize bytes (nothing is decoded before);
//  2. it is a compact JWS: three strict base64url segments, a JSON header
//     and a JSON object of claims, no member name repeated;
//  3. the header typ is dpop+jwt (a media type: compared case-insensitively,
//     application/dpop+jwt too, RFC 7515 §4.1.9), and it has no crit;
//  4. alg is on the asymmetric allow-list (none and HS* never are);
//  5. the header jwk is a public RSA, EC or OKP key holding no private
//     member (RFC 9449 §4.3 step 7: read here, as a key must be read before
//     it can verify anything), RSA of 2048 to 4096 bits, EC on P-256, P-384
//     or P-521 and on its curve, Ed25519 canonical and not of small order;
//     alg fits the key's type and curve, and the key's own alg if it states one;
//  6. the signature verifies with that key;
//  7. jti, htm, htu and iat are present with the right types;
//  8. htm equals the request method, exactly;
//  9. htu equals the request URI without query and fragment, both compared
//     after RFC 3986 §6.2.2 and §6.2.3 normalisation; the scheme and host
//     come from Config.PublicURL when it is set;
//  10. when server nonces are on (RFC 9449 §9), nonce is a current one;
//  11. iat is at most Config.MaxAge in the past and Config.Leeway in the future;
//  12. with an access token, ath is base64url(SHA-256(token)) and the key's
//     RFC 7638 thumbprint equals the token's cnf.jkt;
//  13. jti was not seen before within the window (RFC 9449 §11.1), recorded
//     last so that no proof failing an earlier check takes a place in the
//     replay store.
//
// Counting the DPoP header fields (exactly one, RFC 9449 §4.3 step 1) is the
// caller's part.
//
// Errors: every refused proof matches ErrInvalidProof and exactly one more
// specific sentinel (errors.Is). Two are apart: a missing or stale nonce
// is a *NonceError matching ErrUseNonce, which carries the fresh nonce to send
// in the DPoP-Nonce response header (RFC 9449 §8, error use_dpop_nonce); and a
// proof whose key is not the token's is ErrKeyBinding, which is the
// token's fault (invalid_token). A failing replay store or nonce source is
// ErrStoreUnavailable, wrapping the cause: an outage is not a bad proof, so
// the caller answers 503 and nothing fails open.
//
// The replay store and the nonce source are interfaces so that a fleet of
// replicas can share them (a network store such as Redis); MemoryStore and
// MemoryNonces serve one process.
package dpop
