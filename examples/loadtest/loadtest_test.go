package loadtest_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
	"github.com/jwksauth/jwksauth/examples/internal/app"
	"github.com/jwksauth/jwksauth/examples/internal/apptest"
	"github.com/jwksauth/jwksauth/examples/internal/echoapp"
	"github.com/jwksauth/jwksauth/examples/internal/fiberapp"
	"github.com/jwksauth/jwksauth/examples/internal/ginapp"
)

var (
	requests = flag.Int("requests", 0, "requests per app (default 3000, 600 with -short)")
	workers  = flag.Int("workers", 8, "concurrent clients per app")
)

var b64 = base64.RawURLEncoding

// kind is what a request is, and so what it must get.
type kind int

const (
	valid     kind = iota // must get 200
	invalid               // must get its exact 4xx
	malicious             // invalid, and its token was never seen before
)

// template is one kind of request in the mix. n numbers the request, so
// that malicious ones carry a token no earlier request carried.
type template struct {
	name   string
	kind   kind
	status int
	build  func(base string, n int) *http.Request
}

// fill returns size deterministic pseudo-random bytes for request n.
func fill(n, size int) []byte {
	out := make([]byte, 0, size+32)
	var seed [8]byte
	binary.BigEndian.PutUint64(seed[:], uint64(n))
	sum := sha256.Sum256(seed[:])
	for len(out) < size {
		out = append(out, sum[:]...)
		sum = sha256.Sum256(sum[:])
	}
	return out[:size]
}

func get(base, path string, auth ...string) *http.Request {
	return req(http.MethodGet, base, path, auth...)
}

func req(method, base, path string, auth ...string) *http.Request {
	r, _ := http.NewRequest(method, base+path, nil)
	for _, a := range auth {
		r.Header.Add("Authorization", a)
	}
	return r
}

// mix builds the request templates against one issuer.
func mix(t *testing.T, iss *authtest.Issuer) []template {
	t.Helper()
	m := func(claims authtest.Claims, opts ...authtest.MintOption) string {
		return iss.MustMint(t, claims, opts...)
	}
	all := app.ScopeRead + " " + app.ScopeCreate + " " + app.ScopeUpdate + " " + app.ScopeDelete
	// A pool of distinct valid tokens, so the verified-token cache sees churn.
	pool := make([]string, 64)
	for i := range pool {
		pool[i] = m(authtest.Claims{"scope": all, "sub": "user-" + strconv.Itoa(i)})
	}
	tok := func(n int) string { return "Bearer " + pool[n%len(pool)] }
	readOnly := "Bearer " + m(authtest.Claims{"scope": app.ScopeRead})
	createOnly := "Bearer " + m(authtest.Claims{"scope": app.ScopeCreate})
	other, err := authtest.NewKey("RS256")
	if err != nil {
		t.Fatal(err)
	}
	ec, err := authtest.NewKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	kid := iss.SigningKey().ID
	now := time.Now()
	std := `{"iss":"` + iss.URL + `","aud":"account","sub":"x","scope":"` + all + `","exp":` + strconv.FormatInt(now.Add(time.Hour).Unix(), 10)
	fixed := func(tok string) func(string, int) *http.Request {
		return func(base string, _ int) *http.Request { return get(base, "/notes", "Bearer "+tok) }
	}
	// unique builds a token no one signed: header, then claims padded to
	// about pad bytes, then a pseudo-random signature, all unique to n.
	unique := func(header string, pad int, extra string) func(string, int) *http.Request {
		return func(base string, n int) *http.Request {
			h := strings.ReplaceAll(header, "N", strconv.Itoa(n))
			p := std + extra + `,"jti":"` + strconv.Itoa(n) + `","pad":"` + b64.EncodeToString(fill(n, pad)) + `"}`
			return get(base, "/notes", "Bearer "+b64.EncodeToString([]byte(h))+"."+b64.EncodeToString([]byte(p))+"."+b64.EncodeToString(fill(-n, 256)))
		}
	}
	return []template{
		// Valid: every route, every method.
		{"GET /healthz", valid, 200, func(base string, _ int) *http.Request { return get(base, "/healthz") }},
		{"GET /my-token", valid, 200, func(base string, n int) *http.Request { return get(base, "/my-token", tok(n)) }},
		{"GET /my-scopes", valid, 200, func(base string, n int) *http.Request { return get(base, "/my-scopes", tok(n)) }},
		{"GET /notes", valid, 200, func(base string, n int) *http.Request { return get(base, "/notes", tok(n)) }},
		{"GET /notes (read-only token)", valid, 200, func(base string, _ int) *http.Request { return get(base, "/notes", readOnly) }},
		{"POST /notes", valid, 200, func(base string, n int) *http.Request { return req(http.MethodPost, base, "/notes", tok(n)) }},
		{"PUT /notes/{id}", valid, 200, func(base string, n int) *http.Request {
			return req(http.MethodPut, base, "/notes/n"+strconv.Itoa(n), tok(n))
		}},
		{"DELETE /notes/{id}", valid, 200, func(base string, n int) *http.Request {
			return req(http.MethodDelete, base, "/notes/n"+strconv.Itoa(n), tok(n))
		}},
		// Invalid, with their exact status.
		{"no token", invalid, 401, func(base string, _ int) *http.Request { return get(base, "/notes") }},
		{"scope missing (403)", invalid, 403, func(base string, _ int) *http.Request { return get(base, "/notes", createOnly) }},
		{"delete with a read-only token", invalid, 403, func(base string, _ int) *http.Request {
			return req(http.MethodDelete, base, "/notes/1", readOnly)
		}},
		{"Bearer alone", invalid, 400, func(base string, _ int) *http.Request { return get(base, "/notes", "Bearer") }},
		{"two Authorization fields", invalid, 400, func(base string, n int) *http.Request { return get(base, "/notes", tok(n), tok(n+1)) }},
		{"inner space", invalid, 400, func(base string, _ int) *http.Request { return get(base, "/notes", "Bearer abc def") }},
		{"expired", invalid, 401, fixed(m(authtest.Claims{"scope": all, "exp": now.Add(-time.Hour).Unix()}))},
		{"wrong audience", invalid, 401, fixed(m(authtest.Claims{"scope": all, "aud": "other"}))},
		{"wrong issuer", invalid, 401, fixed(m(authtest.Claims{"scope": all, "iss": iss.URL + "/"}))},
		{"Cognito ID token", invalid, 401, fixed(m(authtest.Claims{"scope": all, "token_use": "id"}))},
		{"alg none", invalid, 401, fixed(m(authtest.Claims{"scope": all}, authtest.Header("alg", "none")))},
		{"HS256 with the public key", invalid, 401, fixed(m(authtest.Claims{"scope": all}, authtest.Header("alg", "HS256")))},
		{"ES256 under the RSA kid", invalid, 401, fixed(m(authtest.Claims{"scope": all}, authtest.SignedBy(ec), authtest.Header("kid", kid)))},
		{"crit header", invalid, 401, fixed(m(authtest.Claims{"scope": all}, authtest.Header("crit", []string{"exp"})))},
		{"expired and forged", invalid, 401, fixed(m(authtest.Claims{"scope": all, "exp": now.Add(-time.Hour).Unix()},
			authtest.SignedBy(other), authtest.Header("kid", kid)))},
		{"16 KiB of dots", invalid, 401, fixed(strings.Repeat(".", core.DefaultMaxTokenSize))},
		{"one byte over the size cap", invalid, 401, fixed(strings.Repeat("A", core.DefaultMaxTokenSize+1))},
		// Malicious, every token new: nothing about them may be kept.
		{"forged signature, new each time", malicious, 401, unique(`{"alg":"RS256","kid":"`+kid+`"}`, 64, "")},
		{"forged 12 KiB token, new each time", malicious, 401, unique(`{"alg":"RS256","kid":"`+kid+`"}`, 9<<10, "")},
		{"unknown kid flood", malicious, 401, unique(`{"alg":"RS256","kid":"flood-N"}`, 64, "")},
		{"unknown 6 KiB kid flood", malicious, 401, unique(`{"alg":"RS256","kid":"`+strings.Repeat("k", 6<<10)+`N"}`, 2<<10, "")},
		{"duplicate exp and forged, new each time", malicious, 401, unique(`{"alg":"RS256","kid":"`+kid+`"}`, 32, `,"exp":0`)},
		{"garbage, new each time", malicious, 401, func(base string, n int) *http.Request {
			g := b64.EncodeToString(fill(n, 8<<10))
			return get(base, "/notes", "Bearer "+g[:3000]+"."+g[3000:6000]+"."+g[6000:])
		}},
	}
}

var listening = regexp.MustCompile(`msg="notes API listening" app=\w+ url=(http://\S+)`)

// start runs the example app fw against iss until the test ends and returns its URL.
func start(t *testing.T, fw app.Framework, iss *authtest.Issuer) (string, func()) {
	t.Helper()
	env := map[string]string{
		app.EnvAddr:      "127.0.0.1:0",
		app.EnvIssuer:    iss.URL,
		app.EnvAudiences: authtest.DefaultAudience,
	}
	var stdout, stderr apptest.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx, fw, func(k string) string { return env[k] }, &stdout, &stderr) }()
	stop := func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s: %v", fw.Name, err)
			}
		case <-time.After(app.ShutdownTimeout + 5*time.Second):
			t.Errorf("%s did not stop", fw.Name)
		}
	}
	base := apptest.WaitFor(t, &stderr, 10*time.Second, func(s string) (string, bool) {
		m := listening.FindStringSubmatch(s)
		if m == nil {
			return "", false
		}
		return m[1], true
	})
	apptest.WaitFor(t, &stderr, 10*time.Second, func(s string) (bool, bool) {
		return true, strings.Contains(s, "signing keys loaded")
	})
	return base, stop
}

// tally counts the answers of one template.
type tally struct {
	sent, wrong, fiveXX atomic.Int64
	mu                  sync.Mutex
	example             string
}

// run sends count requests from the mix with w concurrent clients.
func run(ctx context.Context, client *http.Client, base string, tpl []template, tallies []*tally, first, count, w int) error {
	var next atomic.Int64
	next.Store(int64(first))
	end := int64(first + count)
	var wg sync.WaitGroup
	errs := make(chan error, w)
	for range w {
		wg.Go(func() {
			for {
				n := next.Add(1) - 1
				if n >= end || ctx.Err() != nil {
					return
				}
				// A stride through the templates, so that every worker
				// sends every kind.
				i := int(n*7) % len(tpl)
				r := tpl[i].build(base, int(n)).WithContext(ctx)
				resp, err := client.Do(r)
				if err != nil {
					errs <- fmt.Errorf("%s: %w", tpl[i].name, err)
					return
				}
				body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
				resp.Body.Close()
				tl := tallies[i]
				tl.sent.Add(1)
				if resp.StatusCode >= 500 {
					tl.fiveXX.Add(1)
				}
				if resp.StatusCode != tpl[i].status {
					tl.wrong.Add(1)
					tl.mu.Lock()
					if tl.example == "" {
						tl.example = fmt.Sprintf("%d %s", resp.StatusCode, body)
					}
					tl.mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func heap() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestLoad starts each example app and sends it the mix concurrently, in
// two equal rounds: no valid request may fail, no invalid one pass, none
// get a 5xx; the heap after the second round must not have grown with the
// requests (each malicious one carried a new token, some of 12 KiB), and
// the unknown-kid flood must not hammer the JWKS endpoint.
func TestLoad(t *testing.T) {
	total := *requests
	if total == 0 {
		total = 3000
		if testing.Short() {
			total = 600
		}
	}
	iss := authtest.MustIssuer(t)
	tpl := mix(t, iss)
	for _, fw := range []app.Framework{ginapp.Framework, echoapp.Framework, fiberapp.Framework} {
		t.Run(fw.Name, func(t *testing.T) {
			base, stop := start(t, fw, iss)
			defer stop()
			client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
				MaxIdleConnsPerHost: *workers, MaxConnsPerHost: *workers, IdleConnTimeout: 30 * time.Second}}
			defer client.CloseIdleConnections()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()

			tallies := make([]*tally, len(tpl))
			for i := range tallies {
				tallies[i] = &tally{}
			}
			// Warm up: connections, the token cache, the first unknown-kid refresh.
			if err := run(ctx, client, base, tpl, tallies, 1<<30, 2*len(tpl), *workers); err != nil {
				t.Fatal(err)
			}
			hits0 := iss.JWKSHits()
			began := time.Now()
			h0 := heap()
			if err := run(ctx, client, base, tpl, tallies, 0, total/2, *workers); err != nil {
				t.Fatal(err)
			}
			h1 := heap()
			if err := run(ctx, client, base, tpl, tallies, total/2, total-total/2, *workers); err != nil {
				t.Fatal(err)
			}
			h2 := heap()
			took := time.Since(began)

			var sent [3]int64
			for i, tl := range tallies {
				sent[tpl[i].kind] += tl.sent.Load()
				if n := tl.fiveXX.Load(); n > 0 {
					t.Errorf("%s: %d answers were 5xx (%s)", tpl[i].name, n, tl.example)
				}
				if n := tl.wrong.Load(); n > 0 {
					what := map[kind]string{valid: "valid requests failed", invalid: "invalid requests got another status", malicious: "malicious requests got another status"}[tpl[i].kind]
					t.Errorf("%s: %d of %d %s; first: %s", tpl[i].name, n, tl.sent.Load(), what, tl.example)
				}
			}
			// No per-request growth: the second round's heap is within
			// 256 bytes per request of the first's. Malicious requests
			// average over 5 KiB of never-seen token and are a fifth of
			// the mix: keeping them would show as 1 KiB per request or more.
			round := int64(total - total/2)
			growth := int64(h2) - int64(h1)
			if growth > round*256 {
				t.Errorf("heap grew %d KiB over %d requests (%d B/request): %d → %d → %d KiB",
					growth>>10, round, growth/round, h0>>10, h1>>10, h2>>10)
			}
			if int64(h2)-int64(h0) > 16<<20 {
				t.Errorf("heap grew %d MiB under load", (int64(h2)-int64(h0))>>20)
			}
			// The unknown-kid flood refreshes the JWKS at most once per
			// cooldown (and scheduled refreshes are an hour apart).
			allowed := 1 + int64(took/core.DefaultCooldown)
			if hits := iss.JWKSHits() - hits0; hits > allowed {
				t.Errorf("%d JWKS fetches in %v of unknown-kid flood, want at most %d", hits, took.Round(time.Millisecond), allowed)
			}
			t.Logf("%s: %d requests (%d valid, %d invalid, %d malicious) by %d clients in %v (%.0f req/s); heap %d → %d → %d KiB; JWKS fetches %d",
				fw.Name, sent[0]+sent[1]+sent[2], sent[valid], sent[invalid], sent[malicious], *workers, took.Round(time.Millisecond),
				float64(total)/took.Seconds(), h0>>10, h1>>10, h2>>10, iss.JWKSHits()-hits0)
		})
	}
}
