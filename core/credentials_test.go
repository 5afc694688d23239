package core_test

import (
	"bufio"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
)

// TestQueryScanAllocatesNothing: reading the raw query costs no allocation
// in the common cases, a query without access_token beside a header token
// (whether the query source is on or off: off, core still looks for a
// second method) and a query token that needs no decoding.
func TestQueryScanAllocatesNothing(t *testing.T) {
	iss := authtest.MustIssuer(t, authtest.WithAlgorithm("ES256"))
	ctx := context.Background()
	mk := func(opts ...core.Option) *core.Verifier {
		v, err := core.New(ctx, append([]core.Option{core.WithIssuer(iss.URL), core.WithAudiences(authtest.DefaultAudience)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = v.Close() })
		if err := v.Ready(ctx); err != nil {
			t.Fatal(err)
		}
		return v
	}
	off, on := mk(), mk(core.WithQueryToken())
	tok := iss.MustMint(t, nil)
	req := func(header, query string) *http.Request {
		r := &http.Request{Header: http.Header{}, URL: &url.URL{Path: "/", RawQuery: query}}
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		return r
	}
	allocs := func(v *core.Verifier, r *http.Request) float64 {
		c := core.FromHTTP(r)
		if _, err := v.Authenticate(ctx, c); err != nil { // warms the token cache
			t.Fatalf("Authenticate: %v", err)
		}
		return testing.AllocsPerRun(200, func() { _, _ = v.Authenticate(ctx, c) })
	}
	busy := "page=2&sort=a;b&q=%zz&x+y=1&access_tokens=1&%61ccess_toke=2&access_token%zz=3"
	for _, v := range []*core.Verifier{off, on} {
		base := allocs(v, req("Bearer "+tok, ""))
		t.Logf("header token hit: %v allocations", base)
		if got := allocs(v, req("Bearer "+tok, busy)); got != base {
			t.Errorf("header token and a busy query: %v allocations, %v without the query", got, base)
		}
	}
	if got, base := allocs(on, req("", busy+"&access_token="+tok)), allocs(on, req("Bearer "+tok, "")); got != base {
		t.Errorf("plain query token: %v allocations, %v for the same token in the header", got, base)
	}
}

// TestFromHTTP: the net/http Credentials hand core the request as received.
func TestFromHTTP(t *testing.T) {
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader("GET /p?b=%zz;c&a=1#f HTTP/1.1\r\nHost: x\r\nauthorization:  Bearer a \t\r\nAuthorization: Basic b\r\n\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	c := core.FromHTTP(r)
	if got := c.RawQuery(); got != "b=%zz;c&a=1#f" {
		t.Errorf("RawQuery = %q", got)
	}
	for _, name := range []string{"Authorization", "authorization", "AUTHORIZATION"} {
		if got := c.Header(name); len(got) != 2 || got[0] != "Bearer a" || got[1] != "Basic b" {
			t.Errorf("Header(%q) = %q", name, got)
		}
	}
	if got := core.FromHTTP(&http.Request{Header: http.Header{}}).RawQuery(); got != "" {
		t.Errorf("RawQuery without a URL = %q", got)
	}
}

// BenchmarkQueryScan measures the query scan beside a header token that
// the token cache already holds, with the query source off (core still
// looks for a second method).
func BenchmarkQueryScan(b *testing.B) {
	iss := authtest.MustIssuer(b, authtest.WithAlgorithm("ES256"))
	ctx := context.Background()
	v, err := core.New(ctx, core.WithIssuer(iss.URL), core.WithAudiences(authtest.DefaultAudience))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = v.Close() })
	if err := v.Ready(ctx); err != nil {
		b.Fatal(err)
	}
	tok := iss.MustMint(b, nil)
	for _, bc := range []struct{ name, query string }{
		{"no query", ""},
		{"busy query", "page=2&sort=a;b&q=%zz&x+y=1&access_tokens=1&%61ccess_toke=2&filter=" + strings.Repeat("x", 200)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := &http.Request{Header: http.Header{"Authorization": {"Bearer " + tok}}, URL: &url.URL{Path: "/", RawQuery: bc.query}}
			c := core.FromHTTP(r)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Authenticate(ctx, c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
