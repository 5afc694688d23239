package core_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
)

// Other tokens of the same issuer — here an ID token for the API's own
// client — parsed with golang-jwt, with the keys of the Verifier's cache.
func ExampleVerifier_Keyfunc() {
	iss, _ := authtest.NewIssuer()
	defer iss.Close()
	ctx := context.Background()
	v, _ := core.New(ctx, core.WithIssuer(iss.URL), core.WithAudiences("account"))
	defer v.Close()
	_ = v.Ready(ctx)

	idToken, _ := iss.Mint(authtest.Claims{"aud": "my-client-id", "nonce": "n-0S6_WzA2Mj"})

	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(idToken, claims, v.Keyfunc(ctx),
		jwt.WithIssuer(v.Issuer()),
		jwt.WithAudience("my-client-id"),
		jwt.WithExpirationRequired(),
	)
	fmt.Println(claims["sub"], claims["nonce"], err)

	// HS256 keyed with the public key: refused before any key is chosen.
	forged, _ := iss.Mint(nil, authtest.Header("alg", "HS256"))
	_, err = jwt.Parse(forged, v.Keyfunc(ctx))
	fmt.Println(errors.Is(err, core.ErrAlgorithmNotAllowed), core.AsError(err).Status)
	// Output:
	// user-123 n-0S6_WzA2Mj <nil>
	// true 401
}
