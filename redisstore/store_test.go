package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwksauth/jwksauth/redisstore"
	"github.com/redis/go-redis/v9"
)

// key43 is a replay key of the form core passes: 43 bytes of base64url.
func key43(s string) string {
	return (s + strings.Repeat("A", 43))[:43]
}

// newStore is a Store on its own client of srv: a replica of its own.
func newStore(t testing.TB, srv *server, opts ...redisstore.Option) *redisstore.Store {
	t.Helper()
	s, err := redisstore.New(srv.Client(t), opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func TestNewRefusesBadOptions(t *testing.T) {
	ok := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	noDeadlines := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	noDeadlinesCluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}})
	t.Cleanup(func() { _, _, _ = ok.Close(), noDeadlines.Close(), noDeadlinesCluster.Close() })
	tests := []struct {
		name   string
		client redis.UniversalClient
		opts   []redisstore.Option
		want   string
	}{
		{"nil client", nil, nil, "nil client"},
		{"client ignoring deadlines", noDeadlines, nil, "ContextTimeoutEnabled"},
		{"cluster client ignoring deadlines", noDeadlinesCluster, nil, "ContextTimeoutEnabled"},
		{"empty prefix", ok, []redisstore.Option{redisstore.WithPrefix("")}, "prefix"},
		{"zero timeout", ok, []redisstore.Option{redisstore.WithTimeout(0)}, "WithTimeout"},
		{"negative timeout", ok, []redisstore.Option{redisstore.WithTimeout(-time.Second)}, "WithTimeout"},
		{"nonce interval under 1s", ok, []redisstore.Option{redisstore.WithNonceInterval(999 * time.Millisecond)}, "WithNonceInterval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := redisstore.New(tt.client, tt.opts...)
			if err == nil || s != nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New = %v, %v; want an error about %s", s, err, tt.want)
			}
		})
	}
	if _, err := redisstore.New(ok, redisstore.WithTimeout(time.Second), redisstore.WithNonceInterval(time.Second)); err != nil {
		t.Fatalf("New with valid options: %v", err)
	}
}

// TestFirstSeen: a key is first once; a replay, another key and another
// prefix are told apart.
func TestFirstSeen(t *testing.T) {
	srv := startServer(t)
	a := newStore(t, srv)
	other := newStore(t, srv, redisstore.WithPrefix("other-api:"))
	ctx := context.Background()
	tests := []struct {
		name  string
		store *redisstore.Store
		key   string
		want  bool
	}{
		{"first", a, key43("one"), true},
		{"replay", a, key43("one"), false},
		{"replay again", a, key43("one"), false},
		{"another key", a, key43("two"), true},
		{"same key under another prefix", other, key43("one"), true},
		{"replay under the other prefix", other, key43("one"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first, err := tt.store.FirstSeen(ctx, tt.key, time.Minute)
			if err != nil || first != tt.want {
				t.Fatalf("FirstSeen = %v, %v; want %v", first, err, tt.want)
			}
		})
	}
}

// TestFirstSeenKeys: what Redis holds is one key per proof, under the
// prefix, hashed (no trace of the key given), expiring within the ttl.
func TestFirstSeenKeys(t *testing.T) {
	srv := startServer(t)
	rdb := srv.Client(t)
	s := newStore(t, srv, redisstore.WithPrefix("api1:"))
	ctx := context.Background()
	given := key43("GivenKeyGivenKey")
	if first, err := s.FirstSeen(ctx, given, 30*time.Second); err != nil || !first {
		t.Fatalf("FirstSeen = %v, %v", first, err)
	}
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 {
		t.Fatalf("Redis holds %q, want one key", keys)
	}
	k := keys[0]
	if !strings.HasPrefix(k, "api1:") || strings.Contains(k, "GivenKey") || len(k) != len("api1:jti:")+43 {
		t.Fatalf("key %q: want api1:jti: and a 43-byte hash, without the key given", k)
	}
	pttl, err := rdb.PTTL(ctx, k).Result()
	if err != nil {
		t.Fatal(err)
	}
	if pttl <= 29*time.Second || pttl > 30*time.Second {
		t.Fatalf("PTTL = %v, want just under 30s", pttl)
	}
}

// TestFirstSeenExpiry: a key is first again once its ttl has passed, and
// not before; a ttl under a millisecond still records the key.
func TestFirstSeenExpiry(t *testing.T) {
	srv := startServer(t)
	s := newStore(t, srv)
	ctx := context.Background()
	key := key43("expiry")
	check := func(want bool) {
		t.Helper()
		if first, err := s.FirstSeen(ctx, key, 300*time.Millisecond); err != nil || first != want {
			t.Fatalf("FirstSeen = %v, %v; want %v", first, err, want)
		}
	}
	check(true)
	time.Sleep(100 * time.Millisecond)
	check(false) // still within the ttl
	time.Sleep(400 * time.Millisecond)
	check(true) // expired, recorded anew

	if first, err := s.FirstSeen(ctx, key43("tiny"), time.Nanosecond); err != nil || !first {
		t.Fatalf("FirstSeen with a 1ns ttl = %v, %v", first, err)
	}
	for _, ttl := range []time.Duration{0, -time.Second} {
		if first, err := s.FirstSeen(ctx, key43("bad ttl"), ttl); err == nil || first {
			t.Fatalf("FirstSeen with ttl %v = %v, %v; want an error", ttl, first, err)
		}
	}
}

// TestFirstSeenRace: 1,000 goroutines on two replicas (two clients, two
// connection pools) send the same key at once: exactly one is first.
func TestFirstSeenRace(t *testing.T) {
	srv := startServer(t)
	// A generous timeout: the point is atomicity, and 1,000 calls share
	// the pools' connections on a busy machine.
	replicas := []*redisstore.Store{
		newStore(t, srv, redisstore.WithTimeout(10*time.Second)),
		newStore(t, srv, redisstore.WithTimeout(10*time.Second)),
	}
	ctx := context.Background()
	for round := range 3 {
		key := key43(fmt.Sprint("race", round))
		var firsts, errs atomic.Int64
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 1000 {
			wg.Go(func() {
				<-start
				first, err := replicas[i%2].FirstSeen(ctx, key, time.Minute)
				if err != nil {
					errs.Add(1)
				}
				if first {
					firsts.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		if firsts.Load() != 1 || errs.Load() != 0 {
			t.Fatalf("round %d: %d of 1,000 calls were first, %d failed; want exactly 1 and none", round, firsts.Load(), errs.Load())
		}
	}
}

// countHook counts the commands a client sends, one per round trip here
// (the Store sends no pipelines).
type countHook struct{ n atomic.Int64 }

func (h *countHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *countHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}
func (h *countHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

// TestRoundTrips: a replay check is one command, and so is each nonce
// call once the server has the script.
func TestRoundTrips(t *testing.T) {
	srv := startServer(t)
	rdb := srv.Client(t)
	hook := &countHook{}
	rdb.AddHook(hook)
	s, err := redisstore.New(rdb)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := s.Issue(ctx); err != nil { // loads the script: EVALSHA, EVAL
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call func() error
	}{
		{"FirstSeen", func() error { _, err := s.FirstSeen(ctx, key43("rt"), time.Minute); return err }},
		{"FirstSeen replayed", func() error { _, err := s.FirstSeen(ctx, key43("rt"), time.Minute); return err }},
		{"Issue", func() error { _, err := s.Issue(ctx); return err }},
		{"Current", func() error { _, err := s.Current(ctx, "x"); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := hook.n.Load()
			if err := tt.call(); err != nil {
				t.Fatal(err)
			}
			if n := hook.n.Load() - before; n != 1 {
				t.Fatalf("%d commands, want 1", n)
			}
		})
	}
}

// TestServerKilled: with the server gone every call fails, and no replay
// check answers first; a new server on the same port serves again.
func TestServerKilled(t *testing.T) {
	srv := startServer(t)
	s := newStore(t, srv)
	ctx := context.Background()
	if first, err := s.FirstSeen(ctx, key43("before"), time.Minute); err != nil || !first {
		t.Fatalf("FirstSeen = %v, %v", first, err)
	}
	srv.Kill()
	for i := range 3 {
		if first, err := s.FirstSeen(ctx, key43(fmt.Sprint("during", i)), time.Minute); err == nil || first {
			t.Fatalf("FirstSeen with the server down = %v, %v; want false and an error", first, err)
		}
	}
	if ok, err := s.Current(ctx, "x"); err == nil || ok {
		t.Fatalf("Current with the server down = %v, %v", ok, err)
	}
	if n, err := s.Issue(ctx); err == nil || n != "" {
		t.Fatalf("Issue with the server down = %q, %v", n, err)
	}
	srv.Restart()
	if first, err := s.FirstSeen(ctx, key43("after"), time.Minute); err != nil || !first {
		t.Fatalf("FirstSeen after the restart = %v, %v", first, err)
	}
	if n, err := s.Issue(ctx); err != nil || n == "" {
		t.Fatalf("Issue after the restart = %q, %v", n, err)
	}
}

// TestSlowServer: a server that does not answer within the timeout makes
// the call fail with context.DeadlineExceeded, soon after the timeout and
// never first; once it answers again, so does the Store.
func TestSlowServer(t *testing.T) {
	srv := startServer(t)
	admin := srv.Client(t)
	const timeout = 100 * time.Millisecond
	s := newStore(t, srv, redisstore.WithTimeout(timeout))
	ctx := context.Background()
	if _, err := s.Issue(ctx); err != nil { // connects and loads the script
		t.Fatal(err)
	}
	calls := []struct {
		name string
		call func() (bool, error)
	}{
		{"FirstSeen", func() (bool, error) { return s.FirstSeen(ctx, key43("slow"), time.Minute) }},
		{"Current", func() (bool, error) { return s.Current(ctx, "x") }},
		{"Issue", func() (bool, error) { n, err := s.Issue(ctx); return n != "", err }},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			// CLIENT PAUSE holds every client's commands for a second, as
			// a server stuck on a slow command would (CLIENT UNPAUSE would
			// be held too).
			if err := admin.ClientPause(ctx, time.Second).Err(); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			got, err := c.call()
			took := time.Since(start)
			if !errors.Is(err, context.DeadlineExceeded) || got {
				t.Fatalf("%s on a paused server = %v, %v; want false and context.DeadlineExceeded", c.name, got, err)
			}
			if took < timeout || took > timeout+time.Second {
				t.Fatalf("%s failed after %v, want just over %v", c.name, took, timeout)
			}
			if err := admin.Ping(ctx).Err(); err != nil { // waits for the pause to end
				t.Fatal(err)
			}
		})
	}
	if first, err := s.FirstSeen(ctx, key43("after the pause"), time.Minute); err != nil || !first {
		t.Fatalf("FirstSeen after the pause = %v, %v", first, err)
	}
}

// TestNoncesShared: replicas issue the same nonce and accept each other's;
// anything else is refused.
func TestNoncesShared(t *testing.T) {
	srv := startServer(t)
	a, b := newStore(t, srv), newStore(t, srv)
	other := newStore(t, srv, redisstore.WithPrefix("other-api:"))
	ctx := context.Background()
	na, err := a.Issue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(na) != 26 || strings.Trim(na, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
		t.Fatalf("nonce %q: want 26 characters of base32", na)
	}
	nb, err := b.Issue(ctx)
	if err != nil || nb != na {
		t.Fatalf("replica b issued %q, %v; replica a %q", nb, err, na)
	}
	no, err := other.Issue(ctx)
	if err != nil || no == na {
		t.Fatalf("another prefix issued %q, %v; want its own nonce, not %q", no, err, na)
	}
	tests := []struct {
		name  string
		store *redisstore.Store
		nonce string
		want  bool
	}{
		{"a's nonce at b", b, na, true},
		{"a's nonce at a", a, na, true},
		{"another prefix's nonce", b, no, false},
		{"a's nonce under another prefix", other, na, false},
		{"a prefix of the nonce", b, na[:25], false},
		{"the nonce and more", b, na + "A", false},
		{"empty", b, "", false},
		{"lower case", b, strings.ToLower(na), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ok, err := tt.store.Current(ctx, tt.nonce); err != nil || ok != tt.want {
				t.Fatalf("Current(%q) = %v, %v; want %v", tt.nonce, ok, err, tt.want)
			}
		})
	}
}

// TestNonceRotation: when the interval has passed, the replicas calling at
// once rotate to one new nonce (exactly one of them rotates); the nonce
// before stays accepted for one interval; after two intervals without a
// call no old nonce is accepted.
func TestNonceRotation(t *testing.T) {
	srv := startServer(t)
	const interval = time.Second
	opts := []redisstore.Option{redisstore.WithNonceInterval(interval), redisstore.WithTimeout(5 * time.Second)}
	replicas := []*redisstore.Store{newStore(t, srv, opts...), newStore(t, srv, opts...)}
	ctx := context.Background()
	current := func(s *redisstore.Store, n string) bool {
		t.Helper()
		ok, err := s.Current(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	n1, err := replicas[0].Issue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(interval + 100*time.Millisecond)

	// Both replicas at once, 100 calls: one nonce comes out.
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			n, err := replicas[i%2].Issue(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			seen[n]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(seen) != 1 {
		t.Fatalf("after the interval the replicas issued %d nonces (%v), want one", len(seen), seen)
	}
	var n2 string
	for n := range seen {
		n2 = n
	}
	if n2 == n1 {
		t.Fatalf("the nonce %q did not change after the interval", n1)
	}
	if !current(replicas[1], n1) || !current(replicas[0], n2) || !current(replicas[1], n2) {
		t.Fatal("after one rotation the previous and the current nonce must both be accepted, at both replicas")
	}

	time.Sleep(interval + 100*time.Millisecond)
	n3, err := replicas[1].Issue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n3 == n2 || current(replicas[0], n1) || !current(replicas[0], n2) || !current(replicas[0], n3) {
		t.Fatal("after two rotations: want n1 refused, n2 (previous) and n3 (current) accepted")
	}

	time.Sleep(2*interval + 100*time.Millisecond)
	if current(replicas[0], n2) || current(replicas[1], n3) {
		t.Fatal("after two idle intervals an old nonce is still accepted")
	}
}

// TestNonceStateCorrupt: whatever else wrote the nonce key is never sent
// as a nonce.
func TestNonceStateCorrupt(t *testing.T) {
	srv := startServer(t)
	rdb := srv.Client(t)
	s := newStore(t, srv)
	ctx := context.Background()
	if err := rdb.HSet(ctx, redisstore.DefaultPrefix+"nonce", "cur", "two words\r\nSet-Cookie: x", "prev", "", "at", time.Now().UnixMilli()).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Issue(ctx); err == nil || n != "" {
		t.Fatalf("Issue = %q, %v; want an error", n, err)
	}
	if ok, err := s.Current(ctx, "two words\r\nSet-Cookie: x"); err == nil || ok {
		t.Fatalf("Current = %v, %v; want an error", ok, err)
	}
}
