package dpop_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwksauth/jwksauth/core/internal/dpop"
)

func TestCheckReplay(t *testing.T) {
	ks := testKeys(t)
	s := ks["ES256"]
	c := newChecker(t, dpop.Config{})
	ctx := context.Background()
	p := newParts(s)
	proof := p.mint(s)
	if _, err := c.Check(ctx, proof, goodRequest(), testNow); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		proof string
		want  error
	}{
		{"same proof", proof, dpop.ErrReplay},
		{"same jti and key, new iat", func() string {
			p.claims["iat"] = testNow.Unix() - 1
			return p.mint(s)
		}(), dpop.ErrReplay},
		{"same jti, another key", func() string {
			q := newParts(ks["EdDSA"])
			q.claims["jti"] = p.claims["jti"]
			return q.mint(ks["EdDSA"])
		}(), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Check(ctx, tc.proof, goodRequest(), testNow)
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Fatalf("Check: %v, want %v", err, tc.want)
			}
		})
	}
}

// A refused proof takes no place in the replay store: sent again with the
// right request, it is accepted.
func TestCheckRefusalNotRecorded(t *testing.T) {
	s := testKeys(t)["ES256"]
	c := newChecker(t, dpop.Config{})
	proof := newParts(s).mint(s)
	req := goodRequest()
	req.Method = "POST"
	if _, err := c.Check(context.Background(), proof, req, testNow); !errors.Is(err, dpop.ErrMethod) {
		t.Fatalf("Check: %v, want ErrMethod", err)
	}
	req.Method, req.TokenThumbprint = "GET", "not-it"
	if _, err := c.Check(context.Background(), proof, req, testNow); !errors.Is(err, dpop.ErrKeyBinding) {
		t.Fatalf("Check: %v, want ErrKeyBinding", err)
	}
	if _, err := c.Check(context.Background(), proof, goodRequest(), testNow); err != nil {
		t.Fatalf("Check: %v, want accepted", err)
	}
}

// The same proof sent by 1,000 goroutines at once is accepted once.
func TestCheckReplayRace(t *testing.T) {
	s := testKeys(t)["ES256"]
	c := newChecker(t, dpop.Config{})
	proof := newParts(s).mint(s)
	var ok, replayed atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 1000 {
		wg.Go(func() {
			<-start
			_, err := c.Check(context.Background(), proof, goodRequest(), testNow)
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, dpop.ErrReplay):
				replayed.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	if ok.Load() != 1 || replayed.Load() != 999 {
		t.Fatalf("accepted %d, replays %d; want 1 and 999", ok.Load(), replayed.Load())
	}
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newStore(t *testing.T, cfg dpop.MemoryStoreConfig) *dpop.MemoryStore {
	t.Helper()
	s, err := dpop.NewMemoryStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMemoryStoreRace(t *testing.T) {
	store := newStore(t, dpop.MemoryStoreConfig{})
	for _, key := range []string{"one-key", "another-key"} {
		var first atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 1000 {
			wg.Go(func() {
				<-start
				ok, err := store.FirstSeen(context.Background(), key, time.Minute)
				if err != nil {
					t.Error(err)
				}
				if ok {
					first.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		if first.Load() != 1 {
			t.Fatalf("%s: first for %d callers, want 1", key, first.Load())
		}
	}
}

func TestMemoryStoreExpiry(t *testing.T) {
	clk := &clock{t: testNow}
	store := newStore(t, dpop.MemoryStoreConfig{Now: clk.now})
	ctx := context.Background()
	seen := func(key string, ttl time.Duration) bool {
		ok, err := store.FirstSeen(ctx, key, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !seen("k", time.Minute) || seen("k", time.Hour) {
		t.Fatal("a key must be first once")
	}
	clk.add(time.Minute - time.Nanosecond)
	if seen("k", time.Hour) {
		t.Fatal("a key forgotten before its time")
	}
	clk.add(time.Nanosecond)
	if !seen("k", time.Minute) {
		t.Fatal("an expired key still remembered")
	}
	if n := store.Len(); n != 1 {
		t.Fatalf("Len = %d, want 1 (the expired key evicted)", n)
	}
}

// A full store refuses new keys and keeps answering for the old ones: it
// never forgets a live key to make room.
func TestMemoryStoreFull(t *testing.T) {
	for _, cfg := range []dpop.MemoryStoreConfig{
		{MaxEntries: 8},
		{MaxEntries: 1000, MaxBytes: 64 * (96 + 64)}, // 64 shards, one 43-byte key each
	} {
		t.Run(fmt.Sprintf("%d entries %d bytes", cfg.MaxEntries, cfg.MaxBytes), func(t *testing.T) {
			clk := &clock{t: testNow}
			cfg.Now = clk.now
			store := newStore(t, cfg)
			ctx := context.Background()
			const ttl = time.Minute
			var kept []string
			full := 0
			for i := 0; full < 20 && i < 10000; i++ {
				key := fmt.Sprintf("%043d", i)
				ok, err := store.FirstSeen(ctx, key, ttl)
				switch {
				case errors.Is(err, dpop.ErrStoreFull):
					full++
				case err != nil || !ok:
					t.Fatalf("FirstSeen(%s) = %v, %v", key, ok, err)
				default:
					kept = append(kept, key)
				}
			}
			if full == 0 || len(kept) > max(cfg.MaxEntries, 64) {
				t.Fatalf("kept %d keys, refused %d", len(kept), full)
			}
			for _, key := range kept {
				if ok, err := store.FirstSeen(ctx, key, ttl); ok || err != nil {
					t.Fatalf("FirstSeen(%s) on a full store = %v, %v; want a replay", key, ok, err)
				}
			}
			clk.add(time.Minute)
			if ok, err := store.FirstSeen(ctx, "after expiry", ttl); !ok || err != nil {
				t.Fatalf("FirstSeen after expiry = %v, %v", ok, err)
			}
		})
	}
}

func TestMemoryStoreContext(t *testing.T) {
	store := newStore(t, dpop.MemoryStoreConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := store.FirstSeen(ctx, "k", time.Minute); !errors.Is(err, context.Canceled) {
		t.Fatalf("FirstSeen: %v, want context.Canceled", err)
	}
}

func TestNewMemoryStoreRefuses(t *testing.T) {
	for _, cfg := range []dpop.MemoryStoreConfig{{MaxEntries: -1}, {MaxBytes: -1}, {MaxBytes: 1000}} {
		if _, err := dpop.NewMemoryStore(cfg); err == nil {
			t.Errorf("NewMemoryStore(%+v) accepted", cfg)
		}
	}
}

type failingStore struct{ err error }

func (f failingStore) FirstSeen(context.Context, string, time.Duration) (bool, error) {
	return false, f.err
}

// recordingStore keeps the keys and times it is given.
type recordingStore struct {
	mu   sync.Mutex
	keys []string
	ttls []time.Duration
}

func (r *recordingStore) FirstSeen(_ context.Context, key string, ttl time.Duration) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keys, r.ttls = append(r.keys, key), append(r.ttls, ttl)
	return true, nil
}

func TestCheckStoreErrors(t *testing.T) {
	s := testKeys(t)["ES256"]
	down := errors.New("connection refused")
	full := newStore(t, dpop.MemoryStoreConfig{MaxEntries: 1})
	if _, err := full.FirstSeen(context.Background(), "only", time.Hour); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name  string
		store dpop.ReplayStore
		ctx   context.Context
		cause error
	}{
		{"store down", failingStore{down}, context.Background(), down},
		{"store full", full, context.Background(), dpop.ErrStoreFull},
		{"context cancelled", nil, cancelled, context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newChecker(t, dpop.Config{Replay: tc.store})
			_, err := c.Check(tc.ctx, newParts(s).mint(s), goodRequest(), testNow)
			if !errors.Is(err, dpop.ErrStoreUnavailable) || !errors.Is(err, tc.cause) || errors.Is(err, dpop.ErrInvalidProof) {
				t.Fatalf("Check: %v, want ErrStoreUnavailable wrapping %v", err, tc.cause)
			}
		})
	}
}

// The store sees a hash, never the jti, and keeps it for the whole window.
func TestCheckReplayKey(t *testing.T) {
	s := testKeys(t)["ES256"]
	rec := &recordingStore{}
	c := newChecker(t, dpop.Config{Replay: rec, MaxAge: time.Minute, Leeway: 10 * time.Second})
	p := newParts(s)
	p.claims["jti"] = "a-client-chosen-jti"
	p.claims["iat"] = testNow.Add(-20 * time.Second).Unix()
	if _, err := c.Check(context.Background(), p.mint(s), goodRequest(), testNow); err != nil {
		t.Fatal(err)
	}
	if len(rec.keys) != 1 || len(rec.keys[0]) != 43 || rec.keys[0] == "a-client-chosen-jti" {
		t.Fatalf("store keys %q", rec.keys)
	}
	// iat 20 s ago: accepted for 40 s more, remembered 10 s beyond.
	if want := 50 * time.Second; rec.ttls[0] != want {
		t.Fatalf("ttl %v, want %v", rec.ttls[0], want)
	}
}
