// Package bench measures jwksauth against the floor of RS256 verification
// and against the peers, through each framework's own entry point
// (README.md, "Compared with other Go libraries"). Every row does the same work: verify one RS256-2048 token
// (kid, iss, aud, exp, scope) against keys fetched from an in-process
// JWKS server, require the issuer, the audience and exp, and check the
// scope example:note:read.
//
// Besides the rows the README's table lists, each framework has a hit-floor row (a
// one-entry cache that does only what every cache hit must: see
// hitfloor.go) and BenchmarkHitParts measures the SHA-256 and the clock
// read inside it, so that the report can tell the cost of a hit that no
// cache can avoid from the cost jwksauth adds.
//
// Run it from examples/ with `make bench` at the repository root, which
// prints a benchstat table and each row's ratio to BenchmarkFloor/rs256
// from the same run (see ratios/).
package bench
