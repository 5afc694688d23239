package core

import (
	"context"
	"encoding/json"
	"slices"
	"time"
)

// Principal is a verified access token: who it was issued to, by whom, for
// what. A Principal is immutable and may be shared between goroutines (the
// verified-token cache hands the same one to every request with the same token).
type Principal struct {
	// Subject is the sub claim ("" when the token has none, as with some
	// client-credentials tokens).
	Subject string
	// Issuer is the iss claim, equal to the configured issuer or one of its aliases.
	Issuer string
	// Audience is the aud claim as a list (empty when the token has none).
	Audience []string
	// Scopes are the values of the scope claims (WithScopeClaims), split on
	// spaces, without duplicates: claim by claim in the configured order,
	// each claim's values in token order.
	Scopes []string
	// Roles are the values of the role claims (WithRoleClaims).
	Roles []string
	// ClientID is the first present client-id claim (WithClientIDClaims).
	ClientID string
	// ID is the jti claim.
	ID string
	// ExpiresAt is exp; IssuedAt and NotBefore are zero when absent.
	ExpiresAt, IssuedAt, NotBefore time.Time
	// KeyID and Algorithm name the JWKS key and the algorithm that verified the token.
	KeyID, Algorithm string
	// DPoPThumbprint is the RFC 7638 thumbprint of the key a DPoP-bound
	// token is bound to (its cnf.jkt, RFC 9449 §6.1), "" for other tokens.
	// Such a principal was accepted only with a valid DPoP proof signed by
	// that key, on this request.
	DPoPThumbprint string
	// CertificateThumbprint is the SHA-256 thumbprint of the client
	// certificate a certificate-bound token is bound to (its cnf
	// x5t#S256, RFC 8705 §3.1), "" for other tokens. Such a principal was
	// accepted only over a connection with that certificate.
	CertificateThumbprint string

	exp, nbf float64
	hasNbf   bool
	// unsupportedCnf: the cnf claim asks for a binding core cannot check.
	unsupportedCnf bool
	raw            []byte
	by             *Verifier // the Verifier that verified it
}

// Claims returns a copy of the token's claims as JSON, exactly as signed.
func (p *Principal) Claims() json.RawMessage { return slices.Clone(p.raw) }

// HasScope reports whether the token carries scope s (exact, case-sensitive).
func (p *Principal) HasScope(s string) bool { return slices.Contains(p.Scopes, s) }

// HasRole reports whether the token carries role r (exact, case-sensitive).
func (p *Principal) HasRole(r string) bool { return slices.Contains(p.Roles, r) }

// DecodeClaims decodes the token's claims into the caller's own type, with
// encoding/json. The claims were already checked to hold no duplicate
// names; note that encoding/json still matches field names
// case-insensitively, so use it for custom claims, and the Principal's
// fields for the registered ones it verified.
func DecodeClaims[T any](p *Principal) (T, error) {
	var out T
	err := json.Unmarshal(p.raw, &out)
	return out, err
}

type principalKey struct{}

// WithPrincipal returns a copy of ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFromContext returns the Principal stored by WithPrincipal (every
// adapter's middleware stores it), or nil and false.
func PrincipalFromContext(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok && p != nil
}
