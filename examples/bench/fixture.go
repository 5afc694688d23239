package bench

import (
	"errors"
	"time"

	"github.com/jwksauth/jwksauth/core/authtest"
)

// The work every row does, whatever the framework or library.
const (
	// Path is the route every row serves.
	Path = "/notes"
	// TokenScope is the scope claim of the benchmark token.
	TokenScope = "example:note:read example:note:create"
	// RequiredScope is the scope every row checks after verification.
	RequiredScope = "example:note:read"
	// Audience is the audience every row requires.
	Audience = authtest.DefaultAudience
	// DPoPHost is the Host of the DPoP rows' requests, and DPoPURL the URL
	// their proofs are made for (RFC 9449 §4.2 htu).
	DPoPHost = "bench.example"
	DPoPURL  = "http://" + DPoPHost + Path
)

// Fixture is the in-process provider and the tokens of a benchmark run.
type Fixture struct {
	// Issuer serves discovery and the JWKS on loopback and signs the tokens.
	Issuer *authtest.Issuer
	// Token is the one token every row verifies: RS256 with a 2048-bit key,
	// kid in the header, and iss, aud, exp and scope (TokenScope) as claims.
	Token string
	// Refused are tokens every row must refuse, by what is wrong with them.
	// None of them would pass a verifier that skipped the signature, the
	// expiry, the issuer, the audience or the scope check.
	Refused map[string]string
	// DPoPKey is the client's ES256 proof key, and DPoPToken the Token's
	// claims bound to it (cnf.jkt, RFC 9449 §6), sent as
	// "Authorization: DPoP" by the DPoP rows with a fresh proof each time.
	DPoPKey   *authtest.Key
	DPoPToken string
}

// Refusal names, the keys of Fixture.Refused.
const (
	ForgedSignature = "forged signature"   // signed by an unpublished key, under the published kid
	TamperedPayload = "tampered payload"   // the good token's signature on another payload
	Expired         = "expired"            // exp an hour ago
	NoExpiry        = "no exp"             // exp absent
	WrongIssuer     = "wrong issuer"       // iss of another provider
	WrongAudience   = "wrong audience"     // aud of another API
	MissingScope    = "missing scope"      // valid, but without RequiredScope
	AlgNone         = "alg none"           // unsigned
	OtherAlgorithm  = "HS256 with the key" // HMAC keyed with the public JWK
)

// NewFixture starts an RS256 issuer and mints the tokens.
func NewFixture() (*Fixture, error) {
	iss, err := authtest.NewIssuer(authtest.WithAlgorithm("RS256"))
	if err != nil {
		return nil, err
	}
	f := &Fixture{Issuer: iss, Refused: map[string]string{}}
	if err := f.mint(); err != nil {
		iss.Close()
		return nil, err
	}
	return f, nil
}

// Close stops the issuer.
func (f *Fixture) Close() { f.Issuer.Close() }

// claims are the benchmark token's claims: iss, aud and exp come from the
// issuer's defaults; sub, jti and iat are left out so that the token holds
// exactly the claims of a typical access token.
func claims(extra authtest.Claims) authtest.Claims {
	c := authtest.Claims{"scope": TokenScope, "sub": authtest.Omit, "jti": authtest.Omit, "iat": authtest.Omit}
	for k, v := range extra {
		c[k] = v
	}
	return c
}

func (f *Fixture) mint() error {
	iss := f.Issuer
	var err error
	if f.Token, err = iss.Mint(claims(nil)); err != nil {
		return err
	}
	if f.DPoPKey, err = authtest.NewKey("ES256"); err != nil {
		return err
	}
	if f.DPoPToken, err = iss.Mint(claims(nil), authtest.BoundTo(f.DPoPKey)); err != nil {
		return err
	}
	stranger, err := authtest.NewKey("RS256")
	if err != nil {
		return err
	}
	kid := iss.SigningKey().ID
	for name, mint := range map[string]func() (string, error){
		ForgedSignature: func() (string, error) {
			return iss.Mint(claims(nil), authtest.SignedBy(stranger), authtest.Header("kid", kid))
		},
		TamperedPayload: func() (string, error) { return tamper(f.Token, iss) },
		Expired: func() (string, error) {
			return iss.Mint(claims(authtest.Claims{"exp": time.Now().Add(-time.Hour).Unix()}))
		},
		NoExpiry:       func() (string, error) { return iss.Mint(claims(authtest.Claims{"exp": authtest.Omit})) },
		WrongIssuer:    func() (string, error) { return iss.Mint(claims(authtest.Claims{"iss": "https://other.example"})) },
		WrongAudience:  func() (string, error) { return iss.Mint(claims(authtest.Claims{"aud": "another-api"})) },
		MissingScope:   func() (string, error) { return iss.Mint(claims(authtest.Claims{"scope": "example:note:create"})) },
		AlgNone:        func() (string, error) { return iss.Mint(claims(nil), authtest.Header("alg", "none")) },
		OtherAlgorithm: func() (string, error) { return iss.Mint(claims(nil), authtest.Header("alg", "HS256")) },
	} {
		tok, err := mint()
		if err != nil {
			return err
		}
		f.Refused[name] = tok
	}
	return nil
}

// tamper puts the signature of good on a payload that grants more: the
// same claims with every note scope.
func tamper(good string, iss *authtest.Issuer) (string, error) {
	other, err := iss.Mint(claims(authtest.Claims{"scope": TokenScope + " example:note:delete"}))
	if err != nil {
		return "", err
	}
	cut := func(t string) (signed, sig string, err error) {
		for i := len(t) - 1; i >= 0; i-- {
			if t[i] == '.' {
				return t[:i], t[i:], nil
			}
		}
		return "", "", errors.New("bench: token has no signature")
	}
	signed, _, err := cut(other)
	if err != nil {
		return "", err
	}
	_, sig, err := cut(good)
	if err != nil {
		return "", err
	}
	return signed + sig, nil
}

// Proofs returns n fresh DPoP proofs of DPoPKey for GET DPoPURL with
// DPoPToken, each with its own jti: a proof is accepted once.
func (f *Fixture) Proofs(n int) ([]string, error) {
	out := make([]string, n)
	for i := range out {
		p, err := authtest.Proof(f.DPoPKey, "GET", DPoPURL, f.DPoPToken)
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}
