package dpop_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwksauth/jwksauth/core/internal/dpop"
)

// alwaysFirst lets one proof be checked again and again.
type alwaysFirst struct{}

func (alwaysFirst) FirstSeen(context.Context, string, time.Duration) (bool, error) { return true, nil }

// BenchmarkCheck measures a whole check of a valid proof, and of one whose
// signature fails: a refusal must cost no more than an acceptance.
func BenchmarkCheck(b *testing.B) {
	ks := testKeys(b)
	c := newChecker(b, dpop.Config{Replay: alwaysFirst{}})
	ctx := context.Background()
	for _, alg := range []string{"ES256", "RS256", "PS256", "EdDSA"} {
		s := ks[alg]
		good := newParts(s).mint(s)
		bad := good[:len(good)-2] + "AA"
		if good == bad {
			bad = good[:len(good)-2] + "BA"
		}
		for _, tc := range []struct {
			name, proof string
			ok          bool
		}{{"valid", good, true}, {"bad signature", bad, false}} {
			b.Run(fmt.Sprintf("%s/%s", alg, tc.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := c.Check(ctx, tc.proof, goodRequest(), testNow); (err == nil) != tc.ok {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkCheckMemoryStore is a whole check with the default replay store,
// each proof new.
func BenchmarkCheckMemoryStore(b *testing.B) {
	s := testKeys(b)["ES256"]
	c := newChecker(b, dpop.Config{})
	proofs := make([]string, 4096)
	for i := range proofs {
		proofs[i] = newParts(s).mint(s)
	}
	ctx := context.Background()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		if i == len(proofs) {
			b.StopTimer()
			c = newChecker(b, dpop.Config{})
			i = 0
			b.StartTimer()
		}
		if _, err := c.Check(ctx, proofs[i], goodRequest(), testNow); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkMemoryStore(b *testing.B) {
	store, err := dpop.NewMemoryStore(dpop.MemoryStoreConfig{MaxEntries: 1 << 20, MaxBytes: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	// The keys are made before the timer starts, so that allocs/op counts
	// the store's own allocations alone (amortised map and heap growth).
	keys := make([]string, 1<<20)
	for i := range keys {
		keys[i] = fmt.Sprintf("%043d", i)
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			key := keys[int(next.Add(1))%len(keys)]
			if _, err := store.FirstSeen(ctx, key, time.Millisecond); err != nil {
				b.Fatal(err)
			}
		}
	})
}
