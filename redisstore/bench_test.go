package redisstore_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
	"github.com/jwksauth/jwksauth/redisstore"
)

// reportLatency adds the median and the 99th percentile of took to b's
// results.
func reportLatency(b *testing.B, took []time.Duration) {
	if len(took) == 0 {
		return
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(took[len(took)*99/100].Nanoseconds()), "p99-ns")
}

// BenchmarkFirstSeen measures one replay check against a local
// redis-server: latency per call (p50, p99) and commands per call (cmds/op,
// from the server's own count, so each is a round trip).
func BenchmarkFirstSeen(b *testing.B) {
	srv := startServer(b)
	rdb := srv.Client(b)
	s, err := redisstore.New(rdb)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	processed := func() int64 {
		v, err := rdb.InfoMap(ctx, "stats").Result()
		if err != nil {
			b.Fatal(err)
		}
		var n int64
		fmt.Sscan(v["Stats"]["total_commands_processed"], &n)
		return n
	}
	keys := make([]string, b.N)
	for i := range keys {
		keys[i] = key43(fmt.Sprint("bench", i))
	}
	took := make([]time.Duration, 0, b.N)
	before := processed()
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		first, err := s.FirstSeen(ctx, keys[i], time.Minute)
		took = append(took, time.Since(start))
		if err != nil || !first {
			b.Fatal(first, err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(processed()-before-1)/float64(b.N), "cmds/op") // -1: the INFO itself
	reportLatency(b, took)
}

// BenchmarkFirstSeenParallel is BenchmarkFirstSeen from GOMAXPROCS
// goroutines sharing one client.
func BenchmarkFirstSeenParallel(b *testing.B) {
	srv := startServer(b)
	s := newStore(b, srv)
	ctx := context.Background()
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if first, err := s.FirstSeen(ctx, key43(fmt.Sprint("par", n.Add(1))), time.Minute); err != nil || !first {
				b.Error(first, err)
				return
			}
		}
	})
}

// BenchmarkAuthenticateDPoP measures a whole DPoP request through core
// (token from the verified-token cache, proof checked, replay recorded)
// with the in-memory store and with the Redis store, with and without
// server nonces; proofs are made before the timer starts.
func BenchmarkAuthenticateDPoP(b *testing.B) {
	srv := startServer(b)
	iss := authtest.MustIssuer(b)
	key, err := authtest.NewKey("ES256")
	if err != nil {
		b.Fatal(err)
	}
	token := iss.MustMint(b, authtest.Claims{"scope": "notes"}, authtest.BoundTo(key))
	store := newStore(b, srv)
	cases := []struct {
		name string
		opts []core.Option
	}{
		{"memory", nil},
		{"redis", []core.Option{core.WithDPoPReplayStore(store)}},
		{"redis+nonces", []core.Option{core.WithDPoPReplayStore(store), core.WithDPoPNonces(store)}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			v, err := core.New(ctx, append([]core.Option{core.WithIssuer(iss.URL), core.WithAudiences(authtest.DefaultAudience),
				core.WithLogger(slog.New(slog.DiscardHandler))}, c.opts...)...)
			if err != nil {
				b.Fatal(err)
			}
			defer v.Close()
			if err := v.Ready(ctx); err != nil {
				b.Fatal(err)
			}
			var nonce []authtest.ProofOption
			if len(c.opts) > 1 {
				n, err := store.Issue(ctx)
				if err != nil {
					b.Fatal(err)
				}
				nonce = append(nonce, authtest.ProofNonce(n))
			}
			reqs := make([]*http.Request, b.N)
			for i := range reqs {
				r := httptest.NewRequest(http.MethodGet, apiURL, nil)
				r.Header.Set("Authorization", "DPoP "+token)
				r.Header.Set("DPoP", authtest.MustProof(b, key, http.MethodGet, apiURL, token, nonce...))
				reqs[i] = r
			}
			took := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				start := time.Now()
				_, err := v.Authenticate(ctx, core.FromHTTP(reqs[i]))
				took = append(took, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			reportLatency(b, took)
		})
	}
}
