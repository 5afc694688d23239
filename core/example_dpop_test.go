package core_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
)

// A DPoP-bound token (RFC 9449) is accepted with a fresh proof by its key,
// and refused as a bearer token or with a proof used before.
func ExampleWithDPoPRequired() {
	iss, _ := authtest.NewIssuer()
	defer iss.Close()
	ctx := context.Background()
	v, _ := core.New(ctx, core.WithIssuer(iss.URL), core.WithAudiences("account"), core.WithDPoPRequired())
	defer v.Close()
	_ = v.Ready(ctx)

	clientKey, _ := authtest.NewKey("ES256") // the client's DPoP key pair
	token, _ := iss.Mint(nil, authtest.BoundTo(clientKey))
	proof, _ := authtest.Proof(clientKey, "GET", "https://api.example.com/notes", token)

	send := func(scheme, proof string) error {
		r := httptest.NewRequest("GET", "https://api.example.com/notes", nil)
		r.Header.Set("Authorization", scheme+" "+token)
		if proof != "" {
			r.Header.Set("DPoP", proof)
		}
		p, err := v.Authenticate(ctx, core.FromHTTP(r))
		if err == nil {
			fmt.Println("accepted, bound to", p.DPoPThumbprint == clientKey.Thumbprint())
		}
		return err
	}
	_ = send("DPoP", proof)
	err := send("DPoP", proof)
	fmt.Println(errors.Is(err, core.ErrDPoPProofReplayed), core.AsError(err).Code)
	err = send("Bearer", "")
	fmt.Println(core.AsError(err).Challenges())
	// Output:
	// accepted, bound to true
	// true invalid_dpop_proof
	// [DPoP realm="api", algs="RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA", error="invalid_token", error_description="a DPoP-bound access token is required"]
}
