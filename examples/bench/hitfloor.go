package bench

import (
	"context"
	"crypto/sha256"
	"errors"
	"strings"
	"time"
	"unsafe"

	"github.com/jwksauth/jwksauth/core"
)

// HitFloor is the name of the row that measures the least a cache hit can
// cost under jwksauth's rules, on each framework.
const HitFloor = "hit-floor"

// hitFloor is the least work any verified-token cache may do on a hit
// within the rules jwksauth is held to: a cache of exactly one entry, the
// fixture's token, and nothing else. Per request it
//
//   - takes the token out of the Authorization header (prefix cut only:
//     no scheme case folding, no check for other credentials);
//   - computes its SHA-256, the cache key core uses, and
//     compares it with the one entry's (no table, no eviction, no check
//     that the signing key is still published);
//   - reads the clock and re-checks exp, as core does on every hit;
//   - checks the scope;
//
// and the row's handler then stores the principal the way the adapters do
// (docs/getting-started.md, "Read the principal"): in the framework's own store and on the request's
// context.Context.
//
// It refuses every other token (TestRowsRefuseWhatTheyMust holds it to
// that), so it is a real, if useless, cache: no real cache can do less
// per hit, and the distance from the jwksauth row to this one is what
// jwksauth's own cache, extraction and checks cost.
type hitFloor struct {
	sum [32]byte
	p   *core.Principal
}

var errRefused = errors.New("bench: token refused")

// newHitFloor verifies the fixture's token once with jwksauth, for the
// principal the one entry holds.
func newHitFloor(ctx context.Context, f *Fixture) (*hitFloor, error) {
	v, err := newVerifier(ctx, f, false)
	if err != nil {
		return nil, err
	}
	p, err := v.Verify(ctx, f.Token)
	if err != nil {
		return nil, err
	}
	return &hitFloor{sum: sha256.Sum256([]byte(f.Token)), p: p}, nil
}

// check answers one request's Authorization header value.
func (h *hitFloor) check(authorization string) (*core.Principal, error) {
	token, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok || sha256.Sum256(unsafe.Slice(unsafe.StringData(token), len(token))) != h.sum {
		return nil, errRefused
	}
	if !time.Now().Before(h.p.ExpiresAt) {
		return nil, errRefused
	}
	if !h.p.HasScope(RequiredScope) {
		return nil, errScope
	}
	return h.p, nil
}
