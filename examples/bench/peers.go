package bench

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	jwtmiddleware "github.com/auth0/go-jwt-middleware/v2"
	"github.com/auth0/go-jwt-middleware/v2/jwks"
	"github.com/auth0/go-jwt-middleware/v2/validator"
	"github.com/golang-jwt/jwt/v5"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
)

// errScope is what the peers' added scope check answers (they have none).
var errScope = errors.New("bench: insufficient scope")

// hasScope is the scope check added after every peer: exact match in the
// space-separated scope claim, as jwksauth does.
func hasScope(scope string) bool {
	for s := range strings.SplitSeq(scope, " ") {
		if s == RequiredScope {
			return true
		}
	}
	return false
}

// jwksauthVerifier is the verifier of the jwksauth rows: the one of
// newMultiVerifier for "jwksauth-3issuers", else newVerifier's, without
// its token cache for the rows named "-nocache".
func jwksauthVerifier(ctx context.Context, f *Fixture, row string) (*core.Verifier, error) {
	if row == "jwksauth-3issuers" {
		return newMultiVerifier(ctx, f)
	}
	return newVerifier(ctx, f, !strings.HasSuffix(row, "-nocache"))
}

// newVerifier is jwksauth's verifier for the rows: the fixture's issuer
// (JWKS found by discovery), its audience, keys loaded before it returns.
// The verifier stops when ctx ends.
func newVerifier(ctx context.Context, f *Fixture, cache bool) (*core.Verifier, error) {
	opts := []core.Option{core.WithIssuer(f.Issuer.URL)}
	if !cache {
		opts = append(opts, core.WithoutTokenCache())
	}
	return startVerifier(ctx, opts...)
}

// newMultiVerifier is the row "jwksauth-3issuers": a Verifier of three
// issuers (WithIssuers), the fixture's the last of them, so that the row
// measures what routing by iss adds. The two other issuers run on loopback
// until ctx ends.
func newMultiVerifier(ctx context.Context, f *Fixture) (*core.Verifier, error) {
	issuers := make([]core.Issuer, 0, 3)
	for range 2 {
		other, err := authtest.NewIssuer()
		if err != nil {
			return nil, err
		}
		context.AfterFunc(ctx, other.Close)
		issuers = append(issuers, core.Issuer{URL: other.URL})
	}
	return startVerifier(ctx, core.WithIssuers(append(issuers, core.Issuer{URL: f.Issuer.URL})...))
}

// startVerifier is a verifier of opts that requires the fixture's audience
// and logs nowhere, returned once its keys are loaded (within 10 s). It
// stops when ctx ends.
func startVerifier(ctx context.Context, opts ...core.Option) (*core.Verifier, error) {
	v, err := core.New(ctx, append(opts,
		core.WithAudiences(Audience),
		core.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
	)...)
	if err != nil {
		return nil, err
	}
	wait, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := v.Ready(wait); err != nil {
		return nil, err
	}
	return v, nil
}

// golangJWT is the hand-rolled golang-jwt v5 setup: keyfunc v3 over the
// JWKS, and a parser that requires the issuer, the audience and exp and
// accepts RS256 only.
type golangJWT struct {
	keys   keyfunc.Keyfunc
	parser *jwt.Parser
}

// scopeClaims are golang-jwt's registered claims plus scope.
type scopeClaims struct {
	jwt.RegisteredClaims
	Scope string `json:"scope"`
}

func newGolangJWT(ctx context.Context, f *Fixture) (*golangJWT, error) {
	kf, err := keyfunc.NewDefaultCtx(ctx, []string{f.Issuer.JWKSURL()})
	if err != nil {
		return nil, err
	}
	return &golangJWT{
		keys: kf,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{"RS256"}),
			jwt.WithIssuer(f.Issuer.URL),
			jwt.WithAudience(Audience),
			jwt.WithExpirationRequired(),
		),
	}, nil
}

// verify reads "Bearer <token>", verifies it and checks the scope.
func (g *golangJWT) verify(authorization string) (*scopeClaims, error) {
	tok, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok {
		return nil, errors.New("bench: no bearer token")
	}
	claims := &scopeClaims{}
	if _, err := g.parser.ParseWithClaims(tok, claims, g.keys.Keyfunc); err != nil {
		return nil, err
	}
	if !hasScope(claims.Scope) {
		return nil, errScope
	}
	return claims, nil
}

// auth0Claims are the custom claims of the auth0 rows: the scope, and exp
// so that a token without one is refused (auth0's validator checks exp only
// when present).
type auth0Claims struct {
	Scope string   `json:"scope"`
	Exp   *float64 `json:"exp"`
}

// Validate implements validator.CustomClaims.
func (c *auth0Claims) Validate(context.Context) error {
	if c.Exp == nil {
		return errors.New("bench: exp is required")
	}
	return nil
}

// newAuth0 is auth0/go-jwt-middleware v2 as its documentation sets it up:
// a caching JWKS provider that discovers the JWKS from the issuer, and a
// validator for RS256, the issuer and the audience.
func newAuth0(f *Fixture) (*jwtmiddleware.JWTMiddleware, error) {
	u, err := url.Parse(f.Issuer.URL)
	if err != nil {
		return nil, err
	}
	provider := jwks.NewCachingProvider(u, 5*time.Minute)
	v, err := validator.New(provider.KeyFunc, validator.RS256, f.Issuer.URL, []string{Audience},
		validator.WithCustomClaims(func() validator.CustomClaims { return &auth0Claims{} }))
	if err != nil {
		return nil, err
	}
	return jwtmiddleware.New(v.ValidateToken), nil
}

// auth0Scope checks the scope of the claims auth0's middleware stored.
func auth0Scope(ctx context.Context) error {
	vc, ok := ctx.Value(jwtmiddleware.ContextKey{}).(*validator.ValidatedClaims)
	if !ok {
		return errors.New("bench: no claims")
	}
	c, ok := vc.CustomClaims.(*auth0Claims)
	if !ok || !hasScope(c.Scope) {
		return errScope
	}
	return nil
}

// checkClaims makes the checks that jwtware's middleware leaves to the
// application (it parses with golang-jwt's defaults: exp optional, no
// issuer or audience), then the scope.
func checkClaims(c *scopeClaims, issuer string) error {
	switch {
	case c.ExpiresAt == nil:
		return jwt.ErrTokenRequiredClaimMissing
	case c.Issuer != issuer:
		return jwt.ErrTokenInvalidIssuer
	case !slices.Contains(c.Audience, Audience):
		return jwt.ErrTokenInvalidAudience
	case !hasScope(c.Scope):
		return errScope
	}
	return nil
}
