package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
	"github.com/jwksauth/jwksauth/redisstore"
)

const apiURL = "https://api.example/notes"

// fleet is an issuer, a client's DPoP key with a token bound to it, and
// the replicas of one API: a Verifier each, each with its own Redis client
// of one server.
type fleet struct {
	iss      *authtest.Issuer
	key      *authtest.Key
	token    string
	replicas []*core.Verifier
}

func newFleet(t *testing.T, srv *server, n int, nonces bool, opts ...redisstore.Option) *fleet {
	t.Helper()
	iss := authtest.MustIssuer(t)
	key, err := authtest.NewKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	f := &fleet{iss: iss, key: key, token: iss.MustMint(t, authtest.Claims{"scope": "notes"}, authtest.BoundTo(key))}
	for range n {
		store := newStore(t, srv, opts...)
		vopts := []core.Option{core.WithIssuer(iss.URL), core.WithAudiences(authtest.DefaultAudience), core.WithDPoPReplayStore(store)}
		if nonces {
			vopts = append(vopts, core.WithDPoPNonces(store))
		}
		v, err := core.New(context.Background(), vopts...)
		if err != nil {
			t.Fatalf("core.New: %v", err)
		}
		t.Cleanup(func() { _ = v.Close() })
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = v.Ready(ctx)
		cancel()
		if err != nil {
			t.Fatalf("Ready: %v", err)
		}
		f.replicas = append(f.replicas, v)
	}
	return f
}

// proof is a fresh proof for a GET of apiURL with the fleet's token.
func (f *fleet) proof(t *testing.T, opts ...authtest.ProofOption) string {
	t.Helper()
	return authtest.MustProof(t, f.key, http.MethodGet, apiURL, f.token, opts...)
}

// send sends the token and proof to replica i, as a load balancer would.
func (f *fleet) send(i int, proof string) (*core.Principal, error) {
	r := httptest.NewRequest(http.MethodGet, apiURL, nil)
	r.Header.Set("Authorization", "DPoP "+f.token)
	r.Header.Set("DPoP", proof)
	return f.replicas[i].Authenticate(context.Background(), core.FromHTTP(r))
}

// wantRefused checks that err is a *core.Error matching sentinel with status.
func wantRefused(t *testing.T, p *core.Principal, err, sentinel error, status int) *core.Error {
	t.Helper()
	if p != nil || !errors.Is(err, sentinel) {
		t.Fatalf("Authenticate = %v, %v; want a refusal matching %v", p, err, sentinel)
	}
	var e *core.Error
	if !errors.As(err, &e) || e.Status != status {
		t.Fatalf("err %v: want a *core.Error with status %d", err, status)
	}
	return e
}

// TestReplicasRefuseReplays: a proof accepted at one replica is refused at
// every replica, however often it is sent; a fresh proof is accepted
// anywhere.
func TestReplicasRefuseReplays(t *testing.T) {
	srv := startServer(t)
	f := newFleet(t, srv, 3, false)
	for i := range f.replicas {
		used := f.proof(t)
		if p, err := f.send(i, used); err != nil || p.DPoPThumbprint != f.key.Thumbprint() {
			t.Fatalf("replica %d refused a fresh proof: %v", i, err)
		}
		for j := range f.replicas {
			t.Run(fmt.Sprintf("accepted at %d, replayed to %d", i, j), func(t *testing.T) {
				p, err := f.send(j, used)
				wantRefused(t, p, err, core.ErrDPoPProofReplayed, http.StatusUnauthorized)
				if !errors.Is(err, core.ErrInvalidDPoPProof) {
					t.Fatalf("err = %v, want ErrInvalidDPoPProof", err)
				}
			})
		}
	}
}

// TestReplicasShareNonces: a nonce one replica asks for is accepted by the
// others, and every replica hands out the same one.
func TestReplicasShareNonces(t *testing.T) {
	srv := startServer(t)
	f := newFleet(t, srv, 2, true)
	p, err := f.send(0, f.proof(t))
	e := wantRefused(t, p, err, core.ErrUseDPoPNonce, http.StatusUnauthorized)
	if e.DPoPNonce == "" {
		t.Fatal("use_dpop_nonce without a DPoP-Nonce")
	}
	p, err = f.send(1, f.proof(t, authtest.ProofNonce(e.DPoPNonce)))
	if err != nil {
		t.Fatalf("replica 1 refused replica 0's nonce: %v", err)
	}
	if got := f.replicas[1].ResponseHeader(context.Background(), p).Get("DPoP-Nonce"); got != e.DPoPNonce {
		t.Fatalf("replica 1 hands out %q, replica 0 %q", got, e.DPoPNonce)
	}
	shared := e.DPoPNonce
	p, err = f.send(0, f.proof(t, authtest.ProofNonce("not-a-nonce-we-issued")))
	if e := wantRefused(t, p, err, core.ErrUseDPoPNonce, http.StatusUnauthorized); e.DPoPNonce != shared {
		t.Fatalf("a refused nonce got %q, want the shared nonce %q", e.DPoPNonce, shared)
	}
}

// nonceOf asks replica i for a nonce, by sending a proof without one.
func nonceOf(t *testing.T, f *fleet, i int) string {
	t.Helper()
	p, err := f.send(i, f.proof(t))
	return wantRefused(t, p, err, core.ErrUseDPoPNonce, http.StatusUnauthorized).DPoPNonce
}

// TestOutage: with Redis down every proof, fresh or replayed, with or
// without nonces, is answered 503 with Retry-After — never accepted;
// when Redis returns, fresh proofs are accepted again. A replay of a proof
// accepted before a restart that lost Redis's data is still refused when
// nonces are on, as the nonce it carries was lost too.
func TestOutage(t *testing.T) {
	for _, nonces := range []bool{false, true} {
		name := map[bool]string{false: "replay store", true: "replay store and nonces"}[nonces]
		t.Run(name, func(t *testing.T) {
			srv := startServer(t)
			f := newFleet(t, srv, 2, nonces)
			var opts []authtest.ProofOption
			if nonces {
				opts = append(opts, authtest.ProofNonce(nonceOf(t, f, 0)))
			}
			used := f.proof(t, opts...)
			if _, err := f.send(0, used); err != nil {
				t.Fatalf("fresh proof refused: %v", err)
			}

			srv.Kill()
			for i := range f.replicas {
				for _, proof := range []string{f.proof(t, opts...), used} {
					p, err := f.send(i, proof)
					e := wantRefused(t, p, err, core.ErrProofStoreUnavailable, http.StatusServiceUnavailable)
					if e.RetryAfter < 1 {
						t.Fatalf("503 with Retry-After %d", e.RetryAfter)
					}
				}
			}

			srv.Restart()
			if nonces {
				p, err := f.send(1, used)
				wantRefused(t, p, err, core.ErrUseDPoPNonce, http.StatusUnauthorized)
				opts = []authtest.ProofOption{authtest.ProofNonce(nonceOf(t, f, 1))}
			}
			for i := range f.replicas {
				if _, err := f.send(i, f.proof(t, opts...)); err != nil {
					t.Fatalf("replica %d after Redis returned: %v", i, err)
				}
			}
		})
	}
}

// TestSlowRedis: a Redis that does not answer within the Store's timeout
// is an outage: 503 soon after the timeout, never a pass.
func TestSlowRedis(t *testing.T) {
	srv := startServer(t)
	admin := srv.Client(t)
	const timeout = 100 * time.Millisecond
	f := newFleet(t, srv, 1, false, redisstore.WithTimeout(timeout))
	if _, err := f.send(0, f.proof(t)); err != nil { // connects
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := admin.ClientPause(ctx, time.Second).Err(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	p, err := f.send(0, f.proof(t))
	took := time.Since(start)
	wantRefused(t, p, err, core.ErrProofStoreUnavailable, http.StatusServiceUnavailable)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the cause context.DeadlineExceeded", err)
	}
	if took < timeout || took > timeout+time.Second {
		t.Fatalf("refused after %v, want just over %v", took, timeout)
	}
	if err := admin.Ping(ctx).Err(); err != nil { // waits for the pause to end
		t.Fatal(err)
	}
	if _, err := f.send(0, f.proof(t)); err != nil {
		t.Fatalf("after the pause: %v", err)
	}
}
