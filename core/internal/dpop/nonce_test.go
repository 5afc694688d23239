package dpop_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jwksauth/jwksauth/core/internal/dpop"
)

func newNonces(t *testing.T, clk *clock) *dpop.MemoryNonces {
	t.Helper()
	n, err := dpop.NewMemoryNonces(dpop.MemoryNoncesConfig{Interval: time.Minute, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func issue(t *testing.T, n dpop.NonceSource) string {
	t.Helper()
	s, err := n.Issue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCheckNonce(t *testing.T) {
	s := testKeys(t)["ES256"]
	tests := []struct {
		name  string
		nonce func(t *testing.T, n *dpop.MemoryNonces, clk *clock) any // nil: no nonce claim
		want  error
	}{
		{"missing", nil, dpop.ErrUseNonce},
		{"current", func(t *testing.T, n *dpop.MemoryNonces, _ *clock) any { return issue(t, n) }, nil},
		{"previous, after one rotation", func(t *testing.T, n *dpop.MemoryNonces, clk *clock) any {
			old := issue(t, n)
			clk.add(time.Minute)
			return old
		}, nil},
		{"stale, after two rotations", func(t *testing.T, n *dpop.MemoryNonces, clk *clock) any {
			old := issue(t, n)
			clk.add(time.Minute)
			issue(t, n)
			clk.add(time.Minute)
			return old
		}, dpop.ErrUseNonce},
		{"stale, after a long pause", func(t *testing.T, n *dpop.MemoryNonces, clk *clock) any {
			old := issue(t, n)
			clk.add(2 * time.Minute)
			return old
		}, dpop.ErrUseNonce},
		{"guessed", func(*testing.T, *dpop.MemoryNonces, *clock) any { return "AAAAAAAAAAAAAAAAAAAAAAAAAA" }, dpop.ErrUseNonce},
		{"empty", func(*testing.T, *dpop.MemoryNonces, *clock) any { return "" }, dpop.ErrUseNonce},
		{"current with a suffix", func(t *testing.T, n *dpop.MemoryNonces, _ *clock) any { return issue(t, n) + "x" }, dpop.ErrUseNonce},
		{"oversized", func(*testing.T, *dpop.MemoryNonces, *clock) any { return strings.Repeat("n", 300) }, dpop.ErrUseNonce},
		{"not a string", func(*testing.T, *dpop.MemoryNonces, *clock) any { return 5 }, dpop.ErrClaimInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := &clock{t: testNow}
			nonces := newNonces(t, clk)
			c := newChecker(t, dpop.Config{Nonces: nonces})
			p := newParts(s)
			if tc.nonce != nil {
				p.claims["nonce"] = tc.nonce(t, nonces, clk)
			}
			_, err := c.Check(context.Background(), p.mint(s), goodRequest(), testNow)
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Fatalf("Check: %v, want %v", err, tc.want)
			}
			var ne *dpop.NonceError
			if errors.As(err, &ne) {
				if ne.Nonce != issue(t, nonces) || errors.Is(err, dpop.ErrInvalidProof) {
					t.Fatalf("NonceError.Nonce = %q, want the current nonce", ne.Nonce)
				}
			} else if errors.Is(tc.want, dpop.ErrUseNonce) {
				t.Fatalf("Check: %v, not a *NonceError", err)
			}
		})
	}
}

type failingNonces struct{ currentErr, issueErr error }

func (f failingNonces) Current(context.Context, string) (bool, error) { return false, f.currentErr }
func (f failingNonces) Issue(context.Context) (string, error)         { return "n", f.issueErr }

func TestCheckNonceSourceDown(t *testing.T) {
	s := testKeys(t)["ES256"]
	down := errors.New("connection refused")
	for _, tc := range []struct {
		name   string
		source failingNonces
		nonce  any
	}{
		{"checking a nonce", failingNonces{currentErr: down}, "some-nonce"},
		{"issuing a nonce", failingNonces{issueErr: down}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newChecker(t, dpop.Config{Nonces: tc.source})
			p := newParts(s)
			if tc.nonce != nil {
				p.claims["nonce"] = tc.nonce
			}
			_, err := c.Check(context.Background(), p.mint(s), goodRequest(), testNow)
			if !errors.Is(err, dpop.ErrStoreUnavailable) || !errors.Is(err, down) || errors.Is(err, dpop.ErrUseNonce) {
				t.Fatalf("Check: %v, want ErrStoreUnavailable", err)
			}
		})
	}
}

func TestMemoryNonces(t *testing.T) {
	clk := &clock{t: testNow}
	n := newNonces(t, clk)
	ctx := context.Background()
	seen := map[string]bool{}
	for range 5 {
		cur := issue(t, n)
		if seen[cur] || len(cur) > dpop.MaxNonceLength || strings.Trim(cur, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
			t.Fatalf("nonce %q reused or not base32", cur)
		}
		seen[cur] = true
		clk.add(30 * time.Second)
		if issue(t, n) != cur {
			t.Fatal("rotated before the interval")
		}
		clk.add(30 * time.Second)
		if ok, err := n.Current(ctx, cur); !ok || err != nil {
			t.Fatalf("previous nonce refused: %v", err)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := n.Issue(cancelled); !errors.Is(err, context.Canceled) {
		t.Fatalf("Issue: %v", err)
	}
	if _, err := n.Current(cancelled, "x"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Current: %v", err)
	}
	if _, err := dpop.NewMemoryNonces(dpop.MemoryNoncesConfig{Interval: time.Millisecond}); err == nil {
		t.Fatal("a 1 ms interval accepted")
	}
}
