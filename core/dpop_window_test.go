package core_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
)

// TestDPoPProofWindowOptions: a proof's iat is held to the window and the
// leeway the Verifier is given (RFC 9449 §4.3 step 11, §11.1), not only to
// the defaults: WithDPoPProofWindow bounds the past, WithLeeway the future.
func TestDPoPProofWindowOptions(t *testing.T) {
	f := newDPoPFixture(t)
	const url = "http://api.example/notes"
	now := time.Now()
	tests := []struct {
		name string
		opts []core.Option
		iat  time.Time
		want error
	}{
		{"default window, 4 min old", nil, now.Add(-4 * time.Minute), nil},
		{"default window, 6 min old", nil, now.Add(-6 * time.Minute), core.ErrDPoPProofTooOld},
		{"1 min window, 30 s old", []core.Option{core.WithDPoPProofWindow(time.Minute)}, now.Add(-30 * time.Second), nil},
		{"1 min window, 2 min old", []core.Option{core.WithDPoPProofWindow(time.Minute)}, now.Add(-2 * time.Minute), core.ErrDPoPProofTooOld},
		{"10 min window, 8 min old", []core.Option{core.WithDPoPProofWindow(10 * time.Minute)}, now.Add(-8 * time.Minute), nil},
		{"default leeway, 20 s ahead", nil, now.Add(20 * time.Second), nil},
		{"default leeway, 2 min ahead", nil, now.Add(2 * time.Minute), core.ErrDPoPProofFuture},
		{"5 s leeway, 20 s ahead", []core.Option{core.WithLeeway(5 * time.Second)}, now.Add(20 * time.Second), core.ErrDPoPProofFuture},
		{"3 min leeway, 2 min ahead", []core.Option{core.WithLeeway(3 * time.Minute)}, now.Add(2 * time.Minute), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVerifier(t, f.iss, append(tt.opts, core.WithAudiences(authtest.DefaultAudience))...)
			proof := authtest.MustProof(t, f.key, "GET", url, f.bound, authtest.ProofIssuedAt(tt.iat))
			_, err := v.Authenticate(context.Background(), core.FromHTTP(dpopRequest(url, f.bound, proof)))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) || !errors.Is(err, core.ErrInvalidDPoPProof) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}
