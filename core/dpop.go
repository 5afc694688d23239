package core

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/jwksauth/jwksauth/core/internal/dpop"
)

// ReplayStore remembers the DPoP proofs already used, so that each is
// accepted once (RFC 9449 §11.1). The default keeps them in memory, bounded
// (200,000 proofs, 32 MiB) and refusing new proofs with a 503 rather than
// forgetting live ones when full; it serves one process. A fleet of replicas
// shares a network store (a Redis or Valkey store module implements it).
//
// FirstSeen records key for ttl, measured by the store's own clock, and
// reports whether it was not recorded already. It must be atomic: of any
// number of concurrent calls with one key, exactly one answers true. Keys
// are 43 bytes of base64url (a hash: never a client's raw jti); ttl is
// positive. An error refuses the request with 503 (ErrProofStoreUnavailable).
type ReplayStore = dpop.ReplayStore

// NonceSource issues and recognises DPoP server nonces (RFC 9449 §9), for
// WithDPoPNonces. Current reports whether a proof's nonce is one the server
// accepts now; Issue returns the nonce to send in a DPoP-Nonce header, at
// most 256 bytes of the characters RFC 9449 §8.1 allows (NQCHAR). Replicas
// behind one load balancer must share one, or a nonce issued by one is
// refused by the others. An error refuses the request with 503.
type NonceSource = dpop.NonceSource

// The proof checks of RFC 9449 §4.3. A refused proof's error matches
// ErrInvalidDPoPProof and exactly one of these (errors.Is).
var (
	// ErrDPoPProofCount: the DPoP scheme came without a DPoP header, or with more than one.
	ErrDPoPProofCount = errors.New("not exactly one DPoP header")
	// ErrDPoPProofTooLarge: the proof exceeds 8 KiB; it was not decoded.
	ErrDPoPProofTooLarge = dpop.ErrProofTooLarge
	// ErrDPoPProofMalformed: not a compact JWS of JSON objects.
	ErrDPoPProofMalformed = dpop.ErrMalformed
	// ErrDPoPProofDuplicate: a member name occurs twice in the header, the claims or the jwk.
	ErrDPoPProofDuplicate = dpop.ErrDuplicateMember
	// ErrDPoPProofCrit: the header has crit.
	ErrDPoPProofCrit = dpop.ErrUnsupportedHeader
	// ErrDPoPProofType: the header typ is not dpop+jwt.
	ErrDPoPProofType = dpop.ErrType
	// ErrDPoPProofAlgorithm: alg is not on the DPoP allow-list (never none or HS*).
	ErrDPoPProofAlgorithm = dpop.ErrAlgorithm
	// ErrDPoPProofNoKey: the header has no jwk.
	ErrDPoPProofNoKey = dpop.ErrKeyMissing
	// ErrDPoPProofPrivateKey: the jwk holds private or secret key material.
	ErrDPoPProofPrivateKey = dpop.ErrPrivateKey
	// ErrDPoPProofBadKey: the jwk is not a usable public key.
	ErrDPoPProofBadKey = dpop.ErrKeyInvalid
	// ErrDPoPProofWeakKey: an RSA key under 2048 bits, or an Ed25519 key of small order.
	ErrDPoPProofWeakKey = dpop.ErrWeakKey
	// ErrDPoPProofKeyMismatch: alg does not fit the jwk's type and curve, or its alg.
	ErrDPoPProofKeyMismatch = dpop.ErrKeyAlgMismatch
	// ErrDPoPProofSignature: the signature does not verify with the jwk.
	ErrDPoPProofSignature = dpop.ErrSignature
	// ErrDPoPProofClaimMissing: jti, htm, htu, iat or ath is absent.
	ErrDPoPProofClaimMissing = dpop.ErrClaimMissing
	// ErrDPoPProofClaimInvalid: a claim has the wrong type or form.
	ErrDPoPProofClaimInvalid = dpop.ErrClaimInvalid
	// ErrDPoPProofMethod: htm is not the request method.
	ErrDPoPProofMethod = dpop.ErrMethod
	// ErrDPoPProofURI: htu is not the request URI (see WithPublicURL).
	ErrDPoPProofURI = dpop.ErrURI
	// ErrDPoPProofTooOld: iat is older than the proof window (WithDPoPProofWindow).
	ErrDPoPProofTooOld = dpop.ErrTooOld
	// ErrDPoPProofFuture: iat is further in the future than the leeway.
	ErrDPoPProofFuture = dpop.ErrFuture
	// ErrDPoPProofTokenHash: ath is not base64url(SHA-256(access token)).
	ErrDPoPProofTokenHash = dpop.ErrAccessTokenHash
	// ErrDPoPProofReplayed: the proof's jti was used before within the window.
	ErrDPoPProofReplayed = dpop.ErrReplay
)

// Bounds of the DPoP options.
const (
	defaultDPoPWindow = dpop.DefaultMaxAge
	maxDPoPWindow     = dpop.MaxMaxAge
)

// WithDPoPRequired makes the Verifier accept DPoP-bound tokens only
// (RFC 9449): a bearer credential is refused with ErrDPoPRequired, and every
// challenge offers the DPoP scheme alone.
//
// Default: DPoP allowed. A token bound to a DPoP key (cnf.jkt) is accepted
// under the DPoP scheme with a valid proof, and never as a bearer token;
// tokens without cnf keep working as bearer tokens; challenges offer both
// schemes, Bearer first.
func WithDPoPRequired() Option {
	return func(c *config) { c.dpopRequired = true }
}

// WithDPoPAlgorithms sets the algorithms a DPoP proof may be signed with,
// named in the DPoP challenge's algs parameter. Default: RS256, RS384,
// RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA; none and HS* are
// refused by New.
func WithDPoPAlgorithms(algs ...string) Option {
	return func(c *config) { c.dpopAlgs = append([]string{}, algs...) }
}

// WithDPoPProofWindow sets how old a DPoP proof's iat may be: how long a
// proof is accepted, and how long the replay store keeps its jti. A proof
// may be dated up to the leeway (WithLeeway) in the future. Default 5
// minutes; from 1 second to 1 hour.
func WithDPoPProofWindow(d time.Duration) Option {
	return func(c *config) { c.dpopWindow, c.dpopWindowSet = d, true }
}

// WithDPoPReplayStore replaces the in-memory replay store (see
// ReplayStore), for a fleet of replicas. A nil s keeps the default.
func WithDPoPReplayStore(s ReplayStore) Option {
	return func(c *config) { c.replay = s }
}

// WithDPoPNonces turns DPoP server nonces on (RFC 9449 §9): a proof must
// carry a nonce src currently accepts, else the request is refused with
// use_dpop_nonce and a fresh nonce in the DPoP-Nonce header; successful
// DPoP requests get the current nonce too (see Verifier.ResponseHeader).
// A nil src is an in-memory source for one process: 128-bit random
// nonces, a new one each minute, the one before still accepted.
//
// Default: off. Nonces bound how far ahead a client could make proofs,
// at the cost of a round trip whenever the nonce changes.
func WithDPoPNonces(src NonceSource) Option {
	return func(c *config) { c.nonces, c.nonceSource = true, src }
}

// WithPublicURL gives the URL clients use to reach the API, when it stands
// behind a proxy or load balancer: a DPoP proof's htu is compared with this
// URL's scheme, host and port and the request's own path, instead of the
// request's Host header and whether it arrived over TLS. Only the scheme
// and authority are used. Default: none, the request's own.
func WithPublicURL(u string) Option {
	return func(c *config) { c.publicURL = u }
}

// WithClientCertFromTrustedProxy reads the client certificate of a
// certificate-bound token (RFC 8705 §3) from the Client-Cert header (RFC
// 9440) when the request itself did not arrive over TLS with one: for an
// API behind a TLS-terminating proxy that checks client certificates.
//
// Default: off; only the TLS connection's certificate counts. Security:
// turn it on only when every request reaches the API through that proxy,
// and the proxy removes any Client-Cert header a client sent. Otherwise a
// client can name any certificate, and a stolen certificate-bound token
// works without its private key.
func WithClientCertFromTrustedProxy() Option {
	return func(c *config) { c.proxyCert = true }
}

// setDPoP builds the proof checker and the challenges from the options.
func (v *Verifier) setDPoP() error {
	cfg := v.cfg
	dc := dpop.Config{Algorithms: cfg.dpopAlgs, Leeway: cfg.leeway, PublicURL: cfg.publicURL, Replay: cfg.replay}
	if cfg.dpopWindowSet {
		if cfg.dpopWindow < time.Second || cfg.dpopWindow > maxDPoPWindow {
			return fmt.Errorf("jwksauth: WithDPoPProofWindow(%v) is outside 1s to %v", cfg.dpopWindow, maxDPoPWindow)
		}
		dc.MaxAge = cfg.dpopWindow
	}
	if cfg.nonces {
		dc.Nonces = cfg.nonceSource
		if dc.Nonces == nil {
			src, err := dpop.NewMemoryNonces(dpop.MemoryNoncesConfig{Now: cfg.now})
			if err != nil {
				return fmt.Errorf("jwksauth: %w", err)
			}
			dc.Nonces = src
		}
	}
	chk, err := dpop.New(dc)
	if err != nil {
		return fmt.Errorf("jwksauth: %s", strings.TrimPrefix(err.Error(), "dpop: "))
	}
	v.dpop = chk
	v.ch = challenger{realm: cfg.realm, bearer: !cfg.dpopRequired, dpopAlgs: strings.Join(chk.Algorithms(), " "),
		resourceMetadata: cfg.metadataURL}
	return nil
}

// proofOf returns the one DPoP header of a request under the DPoP scheme.
func (v *Verifier) proofOf(c Credentials) (string, error) {
	proofs := c.Header("DPoP")
	if len(proofs) != 1 {
		return "", v.fail(ErrInvalidDPoPProof, ErrDPoPProofCount)
	}
	return proofs[0], nil
}

// bind checks what a verified token's confirmation (cnf) asks of the
// request: a DPoP-bound token comes under the DPoP scheme with a valid
// proof by its key (RFC 9449 §7), a certificate-bound token over a TLS
// connection with its certificate (RFC 8705 §3), and a token under the
// DPoP scheme is DPoP-bound. The proof is checked on every request, also
// when the token came from the verified-token cache.
func (v *Verifier) bind(ctx context.Context, c Credentials, cred credential, proof string, p *Principal) error {
	if p.unsupportedCnf {
		return v.fail(ErrUnsupportedBinding, nil)
	}
	switch {
	case cred.dpop && p.DPoPThumbprint == "":
		return v.fail(ErrTokenNotBound, nil)
	case cred.dpop:
		if err := v.checkProof(ctx, c, cred.token, proof, p); err != nil {
			return err
		}
	case p.DPoPThumbprint != "":
		return v.fail(ErrBoundTokenAsBearer, nil)
	}
	if p.CertificateThumbprint != "" {
		return v.checkCertificate(c, p)
	}
	return nil
}

// bindBearer refuses the tokens Verify cannot accept without a request:
// those with any confirmation.
func (v *Verifier) bindBearer(p *Principal) error {
	switch {
	case p.unsupportedCnf:
		return v.fail(ErrUnsupportedBinding, nil)
	case p.DPoPThumbprint != "":
		return v.fail(ErrBoundTokenAsBearer, nil)
	case p.CertificateThumbprint != "":
		return v.fail(ErrCertificateMismatch, nil)
	}
	return nil
}

// checkProof checks the request's DPoP proof against the request, the
// token and the token's key thumbprint.
func (v *Verifier) checkProof(ctx context.Context, c Credentials, token, proof string, p *Principal) error {
	scheme, host, target := c.URL()
	_, err := v.dpop.Check(ctx, proof, dpop.Request{
		Method: c.Method(), Scheme: scheme, Host: host, Path: targetPath(target),
		AccessToken: token, TokenThumbprint: p.DPoPThumbprint,
	}, v.cfg.now())
	var nonce *dpop.NonceError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, dpop.ErrStoreUnavailable):
		e := build(ErrProofStoreUnavailable, err)
		e.RetryAfter = 1
		return e
	case errors.As(err, &nonce):
		e := v.ch.fail(ErrUseDPoPNonce, nil)
		e.DPoPNonce = nonce.Nonce
		return e
	case errors.Is(err, dpop.ErrKeyBinding):
		return v.fail(ErrDPoPKeyMismatch, nil)
	default:
		return v.fail(ErrInvalidDPoPProof, err)
	}
}

// targetPath is the path of a request target (RFC 9112 §3.2): the target
// itself in origin form, what follows the authority in absolute form ("/"
// when nothing does), and "" for the asterisk and authority forms, which
// name no resource a proof could be for. The query stays on; the proof
// checker drops it.
func targetPath(target string) string {
	if target == "" || target[0] == '/' {
		return target
	}
	_, rest, ok := strings.Cut(target, "://")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 && rest[i] == '/' {
		return rest[i:]
	}
	return "/"
}

// ResponseHeader returns the headers to add to a successful answer to a
// request p was accepted for: the current server nonce (DPoP-Nonce, RFC
// 9449 §8.2) when p is DPoP-bound and WithDPoPNonces is on, so that clients
// keep up with its rotation; nil otherwise. Adapters call it; a failing
// nonce source adds nothing, as the request has passed already.
func (v *Verifier) ResponseHeader(ctx context.Context, p *Principal) http.Header {
	if v == nil || p == nil || p.DPoPThumbprint == "" || !v.cfg.nonces || v.dpop == nil {
		return nil
	}
	n, err := v.dpop.Nonce(ctx)
	if err != nil || n == "" {
		return nil
	}
	return http.Header{"Dpop-Nonce": {n}}
}
