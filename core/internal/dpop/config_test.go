package dpop_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jwksauth/jwksauth/core/internal/dpop"
)

func TestNewRefuses(t *testing.T) {
	tests := []struct {
		name string
		cfg  dpop.Config
	}{
		{"HS256", dpop.Config{Algorithms: []string{"ES256", "HS256"}}},
		{"none", dpop.Config{Algorithms: []string{"none"}}},
		{"unknown algorithm", dpop.Config{Algorithms: []string{"ES256K"}}},
		{"empty allow-list", dpop.Config{Algorithms: []string{}}},
		{"tiny size cap", dpop.Config{MaxProofSize: 100}},
		{"huge size cap", dpop.Config{MaxProofSize: 1 << 20}},
		{"negative max age", dpop.Config{MaxAge: -time.Second}},
		{"max age over an hour", dpop.Config{MaxAge: 2 * time.Hour}},
		{"leeway over 5 minutes", dpop.Config{Leeway: 6 * time.Minute}},
		{"public URL relative", dpop.Config{PublicURL: "/api"}},
		{"public URL ftp", dpop.Config{PublicURL: "ftp://api.example.com"}},
		{"public URL with a query", dpop.Config{PublicURL: "https://api.example.com/?a=b"}},
		{"public URL with userinfo", dpop.Config{PublicURL: "https://u@api.example.com"}},
		{"public URL bad port", dpop.Config{PublicURL: "https://api.example.com:99999"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := dpop.New(tc.cfg); err == nil {
				t.Fatal("New accepted it")
			}
		})
	}
}

func TestAlgorithms(t *testing.T) {
	c := newChecker(t, dpop.Config{})
	if got := c.Algorithms(); !slices.Equal(got, dpop.DefaultAlgorithms) {
		t.Fatalf("Algorithms() = %v", got)
	}
	c = newChecker(t, dpop.Config{Algorithms: []string{"EdDSA", "ES256", "EdDSA"}})
	if got := c.Algorithms(); !slices.Equal(got, []string{"EdDSA", "ES256"}) {
		t.Fatalf("Algorithms() = %v", got)
	}
	s := testKeys(t)["RS256"]
	if _, err := c.Check(context.Background(), newParts(s).mint(s), goodRequest(), testNow); !errors.Is(err, dpop.ErrAlgorithm) {
		t.Fatalf("RS256 off the allow-list: %v", err)
	}
}

// Behind a proxy the request's own scheme and Host are not what the client
// signed; the configured public URL is.
func TestPublicURL(t *testing.T) {
	s := testKeys(t)["ES256"]
	behindProxy := goodRequest()
	behindProxy.Scheme, behindProxy.Host = "http", "10.0.0.7:8080"
	tests := []struct {
		name      string
		publicURL string
		req       dpop.Request
		want      error
	}{
		{"request as the proxy forwards it, no public URL", "", behindProxy, dpop.ErrURI},
		{"public URL", "https://api.example.com", behindProxy, nil},
		{"public URL with the default port, case and a path", "HTTPS://API.example.com:443/base/", behindProxy, nil},
		{"public URL of another host", "https://other.example.com", goodRequest(), dpop.ErrURI},
		{"public URL with another port", "https://api.example.com:8443", goodRequest(), dpop.ErrURI},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newChecker(t, dpop.Config{PublicURL: tc.publicURL})
			_, err := c.Check(context.Background(), newParts(s).mint(s), tc.req, testNow)
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Fatalf("Check: %v, want %v", err, tc.want)
			}
		})
	}
}

func TestConfiguredWindow(t *testing.T) {
	s := testKeys(t)["ES256"]
	c := newChecker(t, dpop.Config{MaxAge: time.Minute, Leeway: 5 * time.Second})
	for _, tc := range []struct {
		iat  time.Duration
		want error
	}{{-61 * time.Second, dpop.ErrTooOld}, {-59 * time.Second, nil}, {4 * time.Second, nil}, {6 * time.Second, dpop.ErrFuture}} {
		p := newParts(s)
		p.claims["iat"] = testNow.Add(tc.iat).Unix()
		if _, err := c.Check(context.Background(), p.mint(s), goodRequest(), testNow); !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
			t.Errorf("iat %v: %v, want %v", tc.iat, err, tc.want)
		}
	}
}
