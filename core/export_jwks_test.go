package core

import (
	"net/http"
	"time"
)

// JWKSInternals exposes the key cache's unexported pieces to the external
// tests (jwks_test.go, keys_test.go). It exists only in test builds.
var JWKSInternals = struct {
	// Failure causes, for errors.Is on RefreshInfo.Err and skip reasons.
	ErrDiscovery, ErrFetchStatus, ErrFetchSize, ErrRedirect, ErrNoUsableKeys,
	ErrJWKSNotJSON, ErrJWKSNoKeys, ErrStopped error
	ErrKeyUse, ErrKeyType, ErrKeyAlg, ErrKeyTooSmall, ErrKeyTooLarge,
	ErrKeyExponent, ErrDuplicateKey, ErrTooManyKeys error

	// MaxJWKs is how many JWKs of one set are read.
	MaxJWKs int
	// ParseJWKS parses body as a first fetch and returns the key set (to
	// keep alive), how many keys loaded and the skip reasons.
	ParseJWKS func(body []byte) (set any, keys int, skipped []error, err error)

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
	ErrJWKSNotJSON:  errJWKSNotJSON,
	ErrJWKSNoKeys:   errJWKSNoKeys,
	ErrStopped:      errStopped,
	ErrKeyUse:       errKeyUse,
	ErrKeyType:      errKeyType,
	ErrKeyAlg:       errKeyAlg,
	ErrKeyTooSmall:  errKeyTooSmall,
	ErrKeyTooLarge:  errKeyTooLarge,
	ErrKeyExponent:  errKeyExponent,
	ErrDuplicateKey: errDuplicateKey,
	ErrTooManyKeys:  errTooManyKeys,
	MaxJWKs:         maxJWKs,
	ParseJWKS: func(body []byte) (any, int, []error, error) {
		set, skipped, err := parseJWKS(body, nil, time.Now())
		if err != nil {
			return nil, 0, nil, err
		}
		var reasons []error
		for _, s := range skipped {
			reasons = append(reasons, s.err)
		}
		return set, set.count, reasons, nil
	},

	Freshness: freshness,
	Jitter:    jitter,
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
