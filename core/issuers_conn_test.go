package core_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
)

// TestIssuersShareConnections: the resolved tenants of one provider fetch
// their discovery documents and keys over shared connections, not one pool
// of idle connections each, so a thousand tenants do not hold a thousand
// connections to the provider.
func TestIssuersShareConnections(t *testing.T) {
	keys := authtest.MustIssuer(t)
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(nil)
	prefix := ""
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch tenant, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/t/"), "/.well-known/openid-configuration"); {
		case r.URL.Path == "/jwks":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(keys.JWKS())
		case ok && tenant != "" && !strings.Contains(tenant, "/"):
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]string{"issuer": prefix + tenant, "jwks_uri": srv.URL + "/jwks"})
		default:
			http.NotFound(w, r)
		}
	})
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	prefix = srv.URL + "/t/"

	v := readyVerifier(t, core.WithIssuerResolver(func(_ context.Context, iss string) ([]core.Option, bool, error) {
		return []core.Option{core.WithAudiences(authtest.DefaultAudience)}, strings.HasPrefix(iss, prefix), nil
	}))
	const tenants = 20
	for i := range tenants {
		tok := keys.MustMint(t, authtest.Claims{"iss": fmt.Sprintf("%s%d", prefix, i)})
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatalf("tenant %d: %v", i, err)
		}
	}
	// Each tenant fetched twice (discovery, keys), one after another: a
	// shared pool reuses one connection; a pool per tenant opens one each.
	if n := conns.Load(); n > 3 {
		t.Errorf("%d tenants opened %d connections to their provider, want at most 3", tenants, n)
	}
}
