package core

import (
	"context"
	"errors"
)

// Authenticate reads the one credential of a request (docs/errors.md lists
// every refusal) and verifies it: a bearer token, or a DPoP-bound token
// with its proof (RFC 9449), and a certificate-bound token's certificate
// (RFC 8705). The error is always an *Error.
func (v *Verifier) Authenticate(ctx context.Context, c Credentials) (*Principal, error) {
	if v == nil {
		return nil, newError(defaultRealm, ErrMisconfigured, nil)
	}
	p, hit, err := v.authenticate(ctx, c)
	v.observed(p, err, hit)
	if err != nil {
		return nil, err
	}
	return p, nil
}

func (v *Verifier) authenticate(ctx context.Context, c Credentials) (p *Principal, hit bool, err error) {
	cred, err := v.extract(c)
	if err != nil {
		return nil, false, err
	}
	var proof string
	switch {
	case cred.dpop:
		if proof, err = v.proofOf(c); err != nil {
			return nil, false, err
		}
	case v.cfg.dpopRequired:
		return nil, false, v.fail(ErrDPoPRequired, nil)
	}
	if p, hit, err = v.verifyToken(ctx, cred.token, cred.checked); err != nil {
		return nil, false, err
	}
	if err := v.bind(ctx, c, cred, proof, p); err != nil {
		return nil, hit, err
	}
	return p, hit, nil
}

// AuthenticateOptional is Authenticate for routes open to anonymous callers:
// a request with no credential returns (nil, nil). A credential that is
// present but malformed or invalid is still refused.
func (v *Verifier) AuthenticateOptional(ctx context.Context, c Credentials) (*Principal, error) {
	p, err := v.Authenticate(ctx, c)
	if err != nil && errors.Is(err, ErrNoCredentials) {
		return nil, nil
	}
	return p, err
}

// Authorize is the one call behind a route guard: it authenticates the
// request unless p is already its verified principal, then checks r. It
// returns the principal or the *Error, never both: a token that lacks a
// required scope or role is a 403 and a nil principal, so that a caller
// that overlooks the error has no principal to act on.
//
// p is reused only when this Verifier produced it; a principal from another
// Verifier (another issuer or audience) is not trusted here, and the
// request is authenticated again.
func (v *Verifier) Authorize(ctx context.Context, c Credentials, p *Principal, r *Requirement) (*Principal, error) {
	if v == nil {
		return nil, newError(defaultRealm, ErrMisconfigured, nil)
	}
	if r.unbuilt() {
		// Before authentication, so that every request answers 500 and
		// the wiring mistake shows on the first one, token or not.
		return nil, newError(defaultRealm, ErrMisconfigured, errUnbuiltRequirement)
	}
	if p == nil || !v.owns(p) {
		var err error
		if p, err = v.Authenticate(ctx, c); err != nil {
			return nil, err
		}
	}
	if err := r.Check(p); err != nil {
		return nil, err
	}
	return p, nil
}

// Step is one request's whole decision, in the shape every adapter calls:
// given the request's credentials and the principal an earlier step of the
// same request stored (or nil), it returns the principal to store — nil for
// an anonymous request on an optional route — or the *Error to answer with.
type Step func(ctx context.Context, c Credentials, stored *Principal) (*Principal, error)

// Authenticator returns the Step of an authentication middleware:
// Authenticate. A principal this Verifier already stored for the request
// is reused.
func (v *Verifier) Authenticator() Step { return v.authenticator(false) }

// OptionalAuthenticator returns the Step of an authentication middleware
// for routes open to anonymous callers: AuthenticateOptional. A principal
// this Verifier already stored for the request is reused.
func (v *Verifier) OptionalAuthenticator() Step { return v.authenticator(true) }

func (v *Verifier) authenticator(optional bool) Step {
	return func(ctx context.Context, c Credentials, stored *Principal) (*Principal, error) {
		if v != nil && stored != nil && v.owns(stored) {
			return stored, nil
		}
		if optional {
			return v.AuthenticateOptional(ctx, c)
		}
		return v.Authenticate(ctx, c)
	}
}

// Guard returns the Step of a route guard: Authorize with r.
func (v *Verifier) Guard(r *Requirement) Step {
	return func(ctx context.Context, c Credentials, stored *Principal) (*Principal, error) {
		return v.Authorize(ctx, c, stored, r)
	}
}
