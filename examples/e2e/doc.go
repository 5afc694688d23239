// Package e2e holds the end-to-end tests of jwksauth against a real OpenID
// provider: panva's oidc-provider (see oidcprovider/README.md), started on
// loopback, issues JWT access tokens by client credentials (RS256, PS256,
// ES256, EdDSA), and the three example apps, started through their
// environment-configured entry point, answer over real HTTP. The tests
// include a key rotation in the middle of the run.
// They also cover sender-constrained tokens: DPoP-bound tokens (RFC 9449)
// that oauth4webapi gets from the provider and makes proofs for, and
// tokens bound to a client certificate (RFC 8705), served over TLS.
//
// The provider needs node and oidcprovider/node_modules (`make e2e-deps`
// runs npm ci). Without them the tests are skipped (`make test` lists the
// skip at its end), or fail when JWKSAUTH_REQUIRE_E2E (set by .ci/run) or
// CI is set.
package e2e
