package core_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
)

// benchSetup returns an RS256 issuer, a verifier of it with opts, and the
// token every benchmark verifies (the shape of a typical access token: kid, iss, aud, exp and
// scope "example:note:read example:note:create").
func benchSetup(b *testing.B, opts ...core.Option) (*authtest.Issuer, *core.Verifier, string) {
	b.Helper()
	iss, err := authtest.NewIssuer()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(iss.Close)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	all := append([]core.Option{core.WithIssuer(iss.URL), core.WithAudiences(authtest.DefaultAudience), core.WithLogger(quiet)}, opts...)
	v, err := core.New(context.Background(), all...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = v.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := v.Ready(ctx); err != nil {
		b.Fatal(err)
	}
	tok, err := iss.Mint(authtest.Claims{"scope": "example:note:read example:note:create", "sub": authtest.Omit, "jti": authtest.Omit, "iat": authtest.Omit})
	if err != nil {
		b.Fatal(err)
	}
	return iss, v, tok
}

// BenchmarkCoreFloor is sha256 + rsa.VerifyPKCS1v15 of the token alone.
func BenchmarkCoreFloor(b *testing.B) {
	iss, _, tok := benchSetup(b)
	pub := iss.SigningKey().Signer.Public().(*rsa.PublicKey)
	i := strings.LastIndexByte(tok, '.')
	sig, _ := base64.RawURLEncoding.DecodeString(tok[i+1:])
	signed := []byte(tok[:i])
	b.ReportAllocs()
	for b.Loop() {
		sum := sha256.Sum256(signed)
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}

var cacheRows = []struct {
	name string
	opts []core.Option
}{{"nocache", []core.Option{core.WithoutTokenCache()}}, {"cache", nil}}

// BenchmarkCoreVerify is Verify and the scope check, without and with the
// token cache (every iteration after the first is a hit).
func BenchmarkCoreVerify(b *testing.B) {
	for _, row := range cacheRows {
		b.Run(row.name, func(b *testing.B) {
			_, v, tok := benchSetup(b, row.opts...)
			need := v.RequireScopes("example:note:read")
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				p, err := v.Verify(ctx, tok)
				if err != nil {
					b.Fatal(err)
				}
				if err := need.Check(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCoreAuthorize is what an adapter's route guard calls: read the
// Authorization header of a net/http request, verify, check the scope.
// The -parallel rows run on every P: with the cache, hits share no lock
// and write no shared memory, so throughput scales with the cores.
func BenchmarkCoreAuthorize(b *testing.B) {
	for _, row := range cacheRows {
		// One setup for both rows: a parallel benchmark's function runs
		// once per b.N tried, and each issuer generates an RSA key.
		_, v, tok := benchSetup(b, row.opts...)
		r, _ := http.NewRequest(http.MethodGet, "/notes", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		need := v.RequireScopes("example:note:read")
		ctx := context.Background()
		b.Run(row.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Authorize(ctx, core.FromHTTP(r), nil, need); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(row.name+"-parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := v.Authorize(ctx, core.FromHTTP(r), nil, need); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// alwaysFirst is a replay store that remembers nothing, so that
// BenchmarkCoreAuthorizeDPoP can reuse a proof: it measures the proof's
// checks, and the in-memory store is measured on its own
// (internal/dpop's BenchmarkMemoryStore).
type alwaysFirst struct{}

func (alwaysFirst) FirstSeen(context.Context, string, time.Duration) (bool, error) { return true, nil }

// BenchmarkCoreAuthorizeDPoP is BenchmarkCoreAuthorize for a DPoP-bound
// token with its proof (ES256, the common client key): the token is a
// cache hit after the first iteration, the proof is checked every time.
func BenchmarkCoreAuthorizeDPoP(b *testing.B) {
	iss, v, _ := benchSetup(b, core.WithDPoPReplayStore(alwaysFirst{}))
	key, err := authtest.NewKey("ES256")
	if err != nil {
		b.Fatal(err)
	}
	tok, err := iss.Mint(authtest.Claims{"scope": "example:note:read example:note:create"}, authtest.BoundTo(key))
	if err != nil {
		b.Fatal(err)
	}
	proof, err := authtest.Proof(key, "GET", "http://api.example/notes", tok)
	if err != nil {
		b.Fatal(err)
	}
	r, _ := http.NewRequest(http.MethodGet, "http://api.example/notes", nil)
	r.Header.Set("Authorization", "DPoP "+tok)
	r.Header.Set("DPoP", proof)
	need := v.RequireScopes("example:note:read")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Authorize(ctx, core.FromHTTP(r), nil, need); err != nil {
			b.Fatal(err)
		}
	}
}
