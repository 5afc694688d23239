package dpop

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Defaults and bounds of Config.
const (
	DefaultMaxProofSize = 8 << 10
	MinProofSize        = 1 << 10
	MaxProofSize        = 64 << 10
	DefaultMaxAge       = 5 * time.Minute
	MaxMaxAge           = time.Hour
	DefaultLeeway       = 30 * time.Second
	MaxLeeway           = 5 * time.Minute
	// MaxJTILength bounds a proof's jti, in bytes. RFC 9449 §4.2 asks for
	// at least 96 random bits; a UUID is 36 bytes.
	MaxJTILength = 256
)

// DefaultAlgorithms is the allow-list used when Config.Algorithms is nil:
// every asymmetric JWS algorithm the checker knows.
var DefaultAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// Config configures a Checker. A zero field means its default, and the
// zero Config is valid: every default is the safe one.
type Config struct {
	// Algorithms is the allow-list of proof algorithms, a subset of
	// DefaultAlgorithms (the default). none and HS* are refused by New.
	Algorithms []string
	// MaxProofSize caps the proof, in bytes, before anything is decoded.
	// Default DefaultMaxProofSize (8 KiB, room for a 4096-bit RSA key and
	// a long htu); from MinProofSize to MaxProofSize.
	MaxProofSize int
	// MaxAge is how far in the past iat may be. Default DefaultMaxAge
	// (5 minutes); at most MaxMaxAge. Shorter narrows the window in which
	// a stolen proof could be used and the replay store's size.
	MaxAge time.Duration
	// Leeway is how far in the future iat may be, for clients whose clock
	// is ahead. Default DefaultLeeway (30 s); at most MaxLeeway.
	Leeway time.Duration
	// PublicURL is the URL clients use to reach the API, when the server
	// stands behind a proxy and its own view of the request (the Host
	// header, plain http) is not what the client signed. Its scheme, host
	// and port replace the request's in the htu comparison; its path is not
	// used. Default: none, the request's scheme and host are used.
	PublicURL string
	// Replay is the replay store. Default: a MemoryStore with its default
	// bounds, which serves one process only; a fleet needs a shared store.
	Replay ReplayStore
	// Nonces turns server nonces on (RFC 9449 §9): every proof must carry
	// a current nonce, else Check answers a *NonceError. Default nil: off.
	Nonces NonceSource
}

// Checker checks DPoP proofs. It is safe for concurrent use.
type Checker struct {
	algs    map[string]*algorithm
	names   []string
	maxSize int
	maxAge  time.Duration
	leeway  time.Duration
	origin  string // normal form of PublicURL's scheme and authority, or ""
	replay  ReplayStore
	nonces  NonceSource
}

// New validates cfg and returns a Checker.
func New(cfg Config) (*Checker, error) {
	c := &Checker{maxSize: cfg.MaxProofSize, maxAge: cfg.MaxAge, leeway: cfg.Leeway,
		replay: cfg.Replay, nonces: cfg.Nonces}
	if err := c.setAlgorithms(cfg.Algorithms); err != nil {
		return nil, err
	}
	if err := c.setLimits(); err != nil {
		return nil, err
	}
	if cfg.PublicURL != "" {
		origin, ok := parsePublicURL(cfg.PublicURL)
		if !ok {
			return nil, fmt.Errorf("dpop: PublicURL %q is not an absolute http or https URL without userinfo, query or fragment", cfg.PublicURL)
		}
		c.origin = origin
	}
	if c.replay == nil {
		store, err := NewMemoryStore(MemoryStoreConfig{})
		if err != nil {
			return nil, err
		}
		c.replay = store
	}
	return c, nil
}

func (c *Checker) setAlgorithms(names []string) error {
	if names == nil {
		names = DefaultAlgorithms
	}
	if len(names) == 0 {
		return errors.New("dpop: empty algorithm allow-list")
	}
	c.algs = make(map[string]*algorithm, len(names))
	for _, n := range names {
		a, ok := algorithms[n]
		if !ok {
			return fmt.Errorf("dpop: algorithm %q is not an accepted asymmetric signature algorithm", n)
		}
		if c.algs[n] == nil {
			c.algs[n] = a
			c.names = append(c.names, n)
		}
	}
	return nil
}

func (c *Checker) setLimits() error {
	if c.maxSize == 0 {
		c.maxSize = DefaultMaxProofSize
	}
	if c.maxAge == 0 {
		c.maxAge = DefaultMaxAge
	}
	if c.leeway == 0 {
		c.leeway = DefaultLeeway
	}
	switch {
	case c.maxSize < MinProofSize || c.maxSize > MaxProofSize:
		return fmt.Errorf("dpop: MaxProofSize %d outside [%d, %d]", c.maxSize, MinProofSize, MaxProofSize)
	case c.maxAge < 0 || c.maxAge > MaxMaxAge:
		return fmt.Errorf("dpop: MaxAge %v outside (0, %v]", c.maxAge, MaxMaxAge)
	case c.leeway < 0 || c.leeway > MaxLeeway:
		return fmt.Errorf("dpop: Leeway %v outside (0, %v]", c.leeway, MaxLeeway)
	}
	return nil
}

// parsePublicURL returns the normal form of the URL's scheme and authority.
func parsePublicURL(raw string) (string, bool) {
	if strings.ContainsAny(raw, "?#@") {
		return "", false
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return "", false
	}
	authority, _, _ := strings.Cut(rest, "/")
	return normalizeOrigin(scheme, authority)
}

// Algorithms returns the allow-list, for the algs parameter of a DPoP
// challenge (RFC 9449 §7.1) and dpop_signing_alg_values_supported (RFC 9728).
func (c *Checker) Algorithms() []string { return slices.Clone(c.names) }
