package redisstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/jwksauth/jwksauth/core"
	"github.com/redis/go-redis/v9"
)

// Defaults of the options.
const (
	// DefaultPrefix starts every key the Store writes (WithPrefix).
	DefaultPrefix = "jwksauth:dpop:"
	// DefaultTimeout bounds each call to Redis (WithTimeout).
	DefaultTimeout = 200 * time.Millisecond
	// DefaultNonceInterval is how often the shared nonce changes
	// (WithNonceInterval), the interval of core's in-memory nonces.
	DefaultNonceInterval = time.Minute
)

// maxNonceLength is the longest nonce a proof may carry (RFC 9449 §8.1
// sets no bound; core refuses longer ones before asking the Store).
const maxNonceLength = 256

// Option configures New.
type Option func(*config)

type config struct {
	prefix   string
	timeout  time.Duration
	interval time.Duration
}

// WithPrefix sets the string every key of the Store starts with, so that
// several APIs, or several issuers' Verifiers that must not share replay
// records, can use one Redis. Replicas of one API must use the same prefix,
// or they do not see each other's proofs and nonces. Default DefaultPrefix
// ("jwksauth:dpop:"); it must not be empty.
func WithPrefix(prefix string) Option {
	return func(c *config) { c.prefix = prefix }
}

// WithTimeout bounds each call to Redis — waiting for a pooled connection,
// dialling, sending and reading the answer, together — also when the
// request's context allows longer. A call that takes longer fails, and the
// Verifier answers 503: a stuck Redis delays each request by at most this
// much, and never lets one through. Default DefaultTimeout (200 ms), a
// hundred times a round trip on a local network; it must be positive.
func WithTimeout(d time.Duration) Option {
	return func(c *config) { c.timeout = d }
}

// WithNonceInterval sets how often the shared server nonce changes. The
// nonce before stays accepted for one more interval, so a nonce lives from
// one to two intervals; the Redis server's clock measures them, so the
// replicas' clocks need not agree. Default DefaultNonceInterval (1 minute);
// at least 1 second. Shorter bounds more tightly how far ahead a client
// can make proofs, at the cost of a use_dpop_nonce round trip per client
// each interval.
func WithNonceInterval(d time.Duration) Option {
	return func(c *config) { c.interval = d }
}

// Store is a core.ReplayStore and a core.NonceSource kept in Redis or
// Valkey, for replicas that share it. It is safe for concurrent use, holds
// no state of its own besides its options, and does not own the client:
// closing the client is the caller's.
type Store struct {
	rdb      redis.UniversalClient
	cfg      config
	nonceKey string
}

var (
	_ core.ReplayStore = (*Store)(nil)
	_ core.NonceSource = (*Store)(nil)
)

// New returns a Store using client, which may be any go-redis client
// (redis.NewClient, NewFailoverClient, NewClusterClient, NewRing or
// NewUniversalClient): every key the Store uses is touched by one command
// at a time, so cluster slots never matter. New does not contact the
// server, so the API can start before Redis does.
//
// The client's options must set ContextTimeoutEnabled: without it go-redis
// ignores context deadlines, and a stuck server would hold requests for
// the client's ReadTimeout (3 s by default, times its retries) instead of
// the Store's timeout. New refuses such a client. A client of another type
// (a wrapper implementing redis.UniversalClient) is not checked.
//
// One type for both roles, built from one client, because both must be
// shared by every replica and fail the same way; pass it to
// core.WithDPoPReplayStore and, for server nonces, to core.WithDPoPNonces.
func New(client redis.UniversalClient, opts ...Option) (*Store, error) {
	cfg := config{prefix: DefaultPrefix, timeout: DefaultTimeout, interval: DefaultNonceInterval}
	for _, o := range opts {
		o(&cfg)
	}
	switch {
	case client == nil:
		return nil, errors.New("redisstore: nil client")
	case cfg.prefix == "":
		return nil, errors.New("redisstore: empty key prefix")
	case cfg.timeout <= 0:
		return nil, fmt.Errorf("redisstore: WithTimeout(%v) is not positive", cfg.timeout)
	case cfg.interval < time.Second:
		return nil, fmt.Errorf("redisstore: WithNonceInterval(%v) is under 1s", cfg.interval)
	case !contextTimeouts(client):
		return nil, errors.New("redisstore: the client's options must set ContextTimeoutEnabled, or calls outlast WithTimeout")
	}
	return &Store{rdb: client, cfg: cfg, nonceKey: cfg.prefix + "nonce"}, nil
}

// contextTimeouts reports whether client honours context deadlines, as
// far as its type tells.
func contextTimeouts(client redis.UniversalClient) bool {
	switch c := client.(type) {
	case *redis.Client:
		return c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		return c.Options().ContextTimeoutEnabled
	case *redis.Ring:
		return c.Options().ContextTimeoutEnabled
	}
	return true
}

var b64 = base64.RawURLEncoding

// replayKey is the Redis key recording a proof: the prefix, then SHA-256
// over the prefix and the key core gives (itself a hash of the proof's key
// and jti), base64url. Hashing again keeps any caller's text out of Redis
// and every key the same length.
func (s *Store) replayKey(key string) string {
	h := sha256.New()
	h.Write([]byte(s.cfg.prefix))
	h.Write([]byte{0})
	h.Write([]byte(key))
	var sum [sha256.Size]byte
	return s.cfg.prefix + "jti:" + b64.EncodeToString(h.Sum(sum[:0]))
}

// FirstSeen implements core.ReplayStore with one command, SET key 1 NX PX
// ttl: Redis runs commands one at a time, so of any number of replicas
// sending the same key exactly one is answered OK, and the key expires by
// the server's clock. ttl is rounded up to whole milliseconds. On any
// error first is false.
//
// A call that times out may still have recorded the key; a client that
// retries with the same proof is then refused as a replay (RFC 9449 §11.1:
// a proof is for one request; retries use fresh ones).
func (s *Store) FirstSeen(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, fmt.Errorf("redisstore: replay ttl %v is not positive", ttl)
	}
	ttl = (ttl + time.Millisecond - 1).Truncate(time.Millisecond)
	ctx, cancel := context.WithTimeout(ctx, s.cfg.timeout)
	defer cancel()
	first, err := s.rdb.SetNX(ctx, s.replayKey(key), "1", ttl).Result()
	if err != nil {
		return false, s.fail(ctx, "recording a DPoP proof", err)
	}
	return first, nil
}

// nonceScript returns the shared nonces accepted now, current then
// previous ("" when none), rotating them first when the interval has
// passed by the server's clock (TIME): whichever replica first calls after
// that rotates, in one atomic step, to the fresh nonce it sent (ARGV[2]);
// the others then read that one. The hash expires two intervals after a
// rotation, so that after a pause of two intervals no old nonce survives.
// A scripted TIME before writes needs Redis 5 or later (or Valkey), which
// replicate a script's effects rather than the script.
var nonceScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local v = redis.call('HMGET', KEYS[1], 'cur', 'prev', 'at')
local cur, prev, at = v[1], v[2], tonumber(v[3])
if not cur or not at or now - at >= 2 * interval then
	cur, prev = ARGV[2], ''
elseif now - at >= interval or now < at then
	cur, prev = ARGV[2], cur
else
	return {cur, prev or ''}
end
redis.call('HSET', KEYS[1], 'cur', cur, 'prev', prev, 'at', now)
redis.call('PEXPIRE', KEYS[1], 2 * interval)
return {cur, prev}
`)

// nonces runs nonceScript: one round trip (EVALSHA; once per server start
// a second one, EVAL, when the script is not cached there yet).
func (s *Store) nonces(ctx context.Context) (cur, prev string, err error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.timeout)
	defer cancel()
	// 26 characters of base32 from crypto/rand, 128 bits and more:
	// unguessable, so no client can make proofs for a nonce to come.
	fresh := rand.Text()
	vals, err := nonceScript.Run(ctx, s.rdb, []string{s.nonceKey}, s.cfg.interval.Milliseconds(), fresh).StringSlice()
	if err != nil {
		return "", "", s.fail(ctx, "reading the DPoP nonces", err)
	}
	if len(vals) != 2 || !validNonce(vals[0]) || (vals[1] != "" && !validNonce(vals[1])) {
		return "", "", fmt.Errorf("redisstore: reading the DPoP nonces: %s holds no valid nonces", s.nonceKey)
	}
	return vals[0], vals[1], nil
}

// Current implements core.NonceSource: nonce is accepted when it is the
// shared current nonce or the one before (compared in constant time).
func (s *Store) Current(ctx context.Context, nonce string) (bool, error) {
	cur, prev, err := s.nonces(ctx)
	if err != nil {
		return false, err
	}
	ok := subtle.ConstantTimeCompare([]byte(nonce), []byte(cur)) == 1
	if prev != "" && subtle.ConstantTimeCompare([]byte(nonce), []byte(prev)) == 1 {
		ok = true
	}
	return ok, nil
}

// Issue implements core.NonceSource: it returns the shared current nonce,
// the same at every replica.
func (s *Store) Issue(ctx context.Context) (string, error) {
	cur, _, err := s.nonces(ctx)
	return cur, err
}

// validNonce reports whether n may be sent in a DPoP-Nonce header: 1 to
// 256 bytes of NQCHAR (RFC 9449 §8.1). It guards the header against
// whatever else may have written the Store's key.
func validNonce(n string) bool {
	if n == "" || len(n) > maxNonceLength {
		return false
	}
	for i := 0; i < len(n); i++ {
		if c := n[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// fail wraps a failed call's error; when the call's deadline passed, the
// error matches context.DeadlineExceeded too (errors.Is).
func (s *Store) fail(ctx context.Context, what string, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("redisstore: %s: %w (%w)", what, cerr, err)
	}
	return fmt.Errorf("redisstore: %s: %w", what, err)
}
