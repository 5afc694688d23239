package core_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
)

// BenchmarkCoreIssuerResolver resolves 1,000 issuers of a resolver
// (tenants /t/0 … /t/999 of one in-process provider, sharing its keys) and
// reports the heap each resolved issuer keeps (B/issuer: its table entry,
// key cache and refresh state). A Verifier resolves at most 100 issuers at
// once and then 10 a second (WithIssuerResolver), so the 1,000 are spread
// over 10 Verifiers of 100 each. Each op then verifies a token of one of a
// Verifier's 100 issuers, the token cache off: routing among resolved
// issuers plus the signature check.
func BenchmarkCoreIssuerResolver(b *testing.B) {
	const verifiers, perVerifier = 10, 100
	iss, err := authtest.NewIssuer()
	if err != nil {
		b.Fatal(err)
	}
	defer iss.Close()
	prefix := iss.URL + "/t/"
	// Every tenant's discovery document names its own issuer and the
	// provider's one key set.
	iss.Handle("/t/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tenant, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/t/"), "/.well-known/openid-configuration")
		if !ok || tenant == "" || strings.Contains(tenant, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": prefix + tenant, "jwks_uri": iss.JWKSURL()})
	}))
	resolve := func(_ context.Context, issuer string) ([]core.Option, bool, error) {
		if !strings.HasPrefix(issuer, prefix) {
			return nil, false, nil
		}
		return []core.Option{core.WithAudiences(authtest.DefaultAudience)}, true, nil
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	tokens := make([]string, verifiers*perVerifier)
	for i := range tokens {
		if tokens[i], err = iss.Mint(authtest.Claims{"iss": fmt.Sprintf("%s%d", prefix, i)}); err != nil {
			b.Fatal(err)
		}
	}
	vs := make([]*core.Verifier, verifiers)
	for i := range vs {
		v, err := core.New(context.Background(), core.WithIssuerResolver(resolve), core.WithoutTokenCache(),
			core.WithIssuerTable(perVerifier, 0), core.WithLogger(quiet))
		if err != nil {
			b.Fatal(err)
		}
		defer v.Close()
		vs[i] = v
	}

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ctx := context.Background()
	for i, tok := range tokens {
		if _, err := vs[i/perVerifier].Verify(ctx, tok); err != nil {
			b.Fatalf("issuer %d: %v", i, err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perIssuer := float64(after.HeapAlloc-before.HeapAlloc) / float64(len(tokens))

	v := vs[0]
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if _, err := v.Verify(ctx, tokens[i%perVerifier]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(perIssuer, "B/issuer")
	runtime.KeepAlive(vs)
}
