package core

import "time"

// JWKSInternals exposes the refresh schedule that a configuration gives the
// key cache to the external tests (jwks_test.go), so that they check the
// options and their defaults all the way to the waits. It exists only in
// test builds.
var JWKSInternals = struct {
	// Schedule builds a configuration from the options and returns, for
	// it, the wait after a fetch fresh for lifetime (<0: no max-age), and
	// the first and the largest retry wait after a failed fetch.
	Schedule func(opts ...Option) (next func(lifetime time.Duration) time.Duration, first, most time.Duration, err error)
}{
	Schedule: func(opts ...Option) (func(time.Duration) time.Duration, time.Duration, time.Duration, error) {
		cfg := defaultConfig()
		for _, o := range opts {
			o(cfg)
		}
		if err := cfg.validate(); err != nil {
			return nil, 0, 0, err
		}
		c := cacheConfig(cfg, nil)
		return c.NextRefresh, c.FirstBackoff(), c.MaxBackoff(), nil
	},
}
