package core

import (
	"net/http"
	"time"
)

// JWKSInternals exposes the key cache's unexported pieces to the external
// tests (jwks_test.go). It exists only in test builds.
var JWKSInternals = struct {
	// Failure causes, for errors.Is on RefreshInfo.Err. The JWKS reader's
	// own (a body that is no JWKS, a skipped key) are package jwks's.
	ErrDiscovery, ErrFetchStatus, ErrFetchSize, ErrRedirect, ErrNoUsableKeys,
	ErrStopped error

	Freshness func(http.Header) time.Duration
	Jitter    func(time.Duration) time.Duration
	// Schedule builds a configuration from the options and returns, for
	// it, the wait after a fetch fresh for lifetime (<0: no max-age), and
	// the first and the largest retry wait after a failed fetch.
	Schedule func(opts ...Option) (next func(lifetime time.Duration) time.Duration, first, most time.Duration, err error)
}{
	ErrDiscovery:    errDiscovery,
	ErrFetchStatus:  errFetchStatus,
	ErrFetchSize:    errFetchSize,
	ErrRedirect:     errRedirect,
	ErrNoUsableKeys: errNoUsableKeys,
	ErrStopped:      errStopped,
	Freshness:       freshness,
	Jitter:          jitter,
	Schedule: func(opts ...Option) (func(time.Duration) time.Duration, time.Duration, time.Duration, error) {
		cfg := defaultConfig()
		for _, o := range opts {
			o(cfg)
		}
		if err := cfg.validate(); err != nil {
			return nil, 0, 0, err
		}
		k := &keyCache{cfg: cfg}
		return k.nextRefresh, k.firstBackoff(), k.maxBackoff(), nil
	},
}
