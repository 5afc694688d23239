package dpop

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestExpiryHeapOrder: expiries come out of the heap earliest first,
// however they went in, with repeats.
func TestExpiryHeapOrder(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 7, 100, 1000} {
		var h expiryHeap
		want := make([]int64, n)
		for i := range want {
			want[i] = rand.Int64N(int64(n/2 + 1))
			h.push(expiry{at: want[i]})
		}
		slices.Sort(want)
		got := make([]int64, 0, n)
		for len(h) > 0 {
			got = append(got, h.pop().at)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("n=%d: popped %v, want %v", n, got, want)
		}
	}
}
