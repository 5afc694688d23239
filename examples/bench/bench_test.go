package bench_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"math/big"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/jwksauth/jwksauth/examples/bench"
)

// The fixture is shared by every benchmark of a run: one issuer, one key,
// one token, so that every row verifies exactly the same bytes.
var (
	fixtureOnce sync.Once
	fixture     *bench.Fixture
	fixtureErr  error
)

func benchFixture(b testing.TB) *bench.Fixture {
	b.Helper()
	fixtureOnce.Do(func() { fixture, fixtureErr = bench.NewFixture() })
	if fixtureErr != nil {
		b.Fatal(fixtureErr)
	}
	return fixture
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixture != nil {
		fixture.Close()
	}
	os.Exit(code)
}

// BenchmarkFloor/rs256 is the least any RS256 verifier must do: sha256 of
// the signing input and rsa.VerifyPKCS1v15, with the key and the signature
// already decoded.
func BenchmarkFloor(b *testing.B) {
	b.Run("rs256", func(b *testing.B) {
		f := benchFixture(b)
		pub, ok := f.Issuer.SigningKey().Signer.Public().(*rsa.PublicKey)
		if !ok {
			b.Fatal("the fixture's key is not RSA")
		}
		signed, sig := splitJWS(b, f.Token)
		b.ReportAllocs()
		m := startCPU()
		for b.Loop() {
			sum := sha256.Sum256(signed)
			if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
				b.Fatal(err)
			}
		}
		m.report(b)
	})
	// es256 is one DPoP proof's signature alone, the least a DPoP request
	// whose token is a cache hit must verify (RFC 9449 §4.3).
	b.Run("es256", func(b *testing.B) {
		key, signed, r, s := proofSignature(b, benchFixture(b))
		b.ReportAllocs()
		m := startCPU()
		for b.Loop() {
			sum := sha256.Sum256(signed)
			if !ecdsa.Verify(key, sum[:], r, s) {
				b.Fatal("proof signature")
			}
		}
		m.report(b)
	})
	// rs256+es256 adds what a DPoP request must verify beside the token:
	// one ES256 proof signature (SHA-256 and ecdsa.Verify), key and
	// signature decoded (RFC 9449 §4.3).
	b.Run("rs256+es256", func(b *testing.B) {
		f := benchFixture(b)
		pub, ok := f.Issuer.SigningKey().Signer.Public().(*rsa.PublicKey)
		if !ok {
			b.Fatal("the fixture's key is not RSA")
		}
		signed, sig := splitJWS(b, f.Token)
		proofKey, proofSigned, r, s := proofSignature(b, f)
		b.ReportAllocs()
		m := startCPU()
		for b.Loop() {
			sum := sha256.Sum256(signed)
			if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
				b.Fatal(err)
			}
			psum := sha256.Sum256(proofSigned)
			if !ecdsa.Verify(proofKey, psum[:], r, s) {
				b.Fatal("proof signature")
			}
		}
		m.report(b)
	})
}

// proofSignature returns the fixture's DPoP proof key, and one proof's
// signing input and ES256 signature (r, s), decoded.
func proofSignature(b *testing.B, f *bench.Fixture) (key *ecdsa.PublicKey, signed []byte, r, s *big.Int) {
	b.Helper()
	key, ok := f.DPoPKey.Signer.Public().(*ecdsa.PublicKey)
	if !ok {
		b.Fatal("the proof key is not ECDSA")
	}
	proofs, err := f.Proofs(1)
	if err != nil {
		b.Fatal(err)
	}
	signed, sig := splitJWS(b, proofs[0])
	return key, signed, new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
}

// splitJWS returns a compact JWS's signing input and decoded signature.
func splitJWS(b *testing.B, jws string) (signed, sig []byte) {
	b.Helper()
	i := strings.LastIndexByte(jws, '.')
	sig, err := base64.RawURLEncoding.DecodeString(jws[i+1:])
	if err != nil {
		b.Fatal(err)
	}
	return []byte(jws[:i]), sig
}

// proofFeed hands out fresh DPoP proofs, minting them in batches with the
// timer stopped: a proof is single-use, and making one (an ES256
// signature) is the client's work, not the server's.
type proofFeed struct {
	f      *bench.Fixture
	batch  []string
	timing bool
}

func (p *proofFeed) next(b *testing.B) string {
	if len(p.batch) == 0 {
		if p.timing {
			b.StopTimer()
		}
		var err error
		if p.batch, err = p.f.Proofs(512); err != nil {
			b.Fatal(err)
		}
		if p.timing {
			b.StartTimer()
		}
	}
	proof := p.batch[0]
	p.batch = p.batch[1:]
	return proof
}

// serveHTTPDPoP drives h serially with the DPoP-bound token and a fresh
// proof for every request. It loops over b.N rather than b.Loop, so that
// the proof batches are made with the timer stopped.
func serveHTTPDPoP(b *testing.B, h http.Handler, f *bench.Fixture) {
	r := newRequest("")
	r.Host = bench.DPoPHost
	r.Header.Set("Authorization", "DPoP "+f.DPoPToken)
	proof := []string{""}
	r.Header["Dpop"] = proof
	w := &okWriter{h: http.Header{}}
	feed := &proofFeed{f: f}
	serve := func() int { proof[0] = feed.next(b); w.reset(); h.ServeHTTP(w, r); return w.status }
	warm(b, serve)
	feed.timing = true
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if st := serve(); st != http.StatusOK {
			b.Fatalf("status %d", st)
		}
	}
}

// serveFiberDPoP is serveHTTPDPoP for Fiber.
func serveFiberDPoP(b *testing.B, app *fiber.App, f *bench.Fixture) {
	h := app.Handler()
	rc := newRequestCtx("")
	rc.Request.Header.SetHost(bench.DPoPHost)
	rc.Request.Header.Set(fasthttp.HeaderAuthorization, "DPoP "+f.DPoPToken)
	feed := &proofFeed{f: f}
	serve := func() int {
		rc.Request.Header.Set("DPoP", feed.next(b))
		next(rc)
		h(rc)
		return fiberStatus(rc)
	}
	warm(b, serve)
	feed.timing = true
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if st := serve(); st != http.StatusOK {
			b.Fatalf("status %d", st)
		}
	}
}

// BenchmarkHitParts measures two parts of the least a cache hit can cost
// (see the hit-floor rows), so that the ratios tool can say where a hit's
// time goes: sha256 is the SHA-256 of the whole fixture token, the cache
// key core uses; clock is one time.Now, which every hit needs to
// re-check exp. The rest of a hit-floor row is the framework (its bare row)
// and the two stores of the principal (docs/getting-started.md), with their GC.
func BenchmarkHitParts(b *testing.B) {
	f := benchFixture(b)
	b.Run("sha256", func(b *testing.B) {
		token := []byte(f.Token)
		var sum [32]byte
		b.ReportAllocs()
		m := startCPU()
		for b.Loop() {
			sum = sha256.Sum256(token)
		}
		m.report(b)
		if sum == ([32]byte{}) {
			b.Fatal("no sum")
		}
	})
	b.Run("clock", func(b *testing.B) {
		var now time.Time
		b.ReportAllocs()
		m := startCPU()
		for b.Loop() {
			now = time.Now()
		}
		m.report(b)
		if now.IsZero() {
			b.Fatal("no time")
		}
	})
}

// okWriter is the cheapest http.ResponseWriter that still records the
// status, so that every iteration can check it was served, not refused.
type okWriter struct {
	h      http.Header
	status int
	// The writers of parallel goroutines would otherwise share a cache
	// line, and every status write would bounce it between cores.
	_ [128]byte
}

func (w *okWriter) Header() http.Header { return w.h }
func (w *okWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *okWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return len(p), nil
}

func (w *okWriter) reset() {
	clear(w.h)
	w.status = 0
}

func newRequest(token string) *http.Request {
	r, _ := http.NewRequest(http.MethodGet, bench.Path, nil)
	r.Header.Set("Authorization", "Bearer "+token)
	r.RemoteAddr = "127.0.0.1:40000"
	return r
}

// cpuMeter measures how many CPUs the process got while a benchmark ran:
// CPU time over wall time. On a machine shared with other work, a parallel
// row's throughput gain can only be read against the CPUs it was given;
// the ratios tool prints both.
type cpuMeter struct {
	cpu  time.Duration
	wall time.Time
}

func startCPU() cpuMeter { return cpuMeter{cpuTime(), time.Now()} }

func (m cpuMeter) report(b *testing.B) {
	wall := time.Since(m.wall)
	if cpu := cpuTime() - m.cpu; cpu > 0 && wall > 0 {
		b.ReportMetric(cpu.Seconds()/wall.Seconds(), "cpus")
	}
}

// warm serves one request before the measurement, so that the first
// JWKS fetch of lazy peers and the first verification of the cached rows
// are not timed, and fails the benchmark unless it was served.
func warm(b *testing.B, serve func() int) {
	b.Helper()
	if st := serve(); st != http.StatusOK {
		b.Fatalf("warm-up request: status %d", st)
	}
}

// serveHTTP drives h through ServeHTTP, serially, and checks every answer.
func serveHTTP(b *testing.B, h http.Handler, token string) {
	r := newRequest(token)
	w := &okWriter{h: http.Header{}}
	warm(b, func() int { w.reset(); h.ServeHTTP(w, r); return w.status })
	b.ReportAllocs()
	m := startCPU()
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, r)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
	m.report(b)
}

// serveHTTPParallel drives h from GOMAXPROCS goroutines.
func serveHTTPParallel(b *testing.B, h http.Handler, token string) {
	r, w := newRequest(token), &okWriter{h: http.Header{}}
	warm(b, func() int { w.reset(); h.ServeHTTP(w, r); return w.status })
	b.ReportAllocs()
	b.ResetTimer()
	m := startCPU()
	b.RunParallel(func(pb *testing.PB) {
		r := newRequest(token)
		w := &okWriter{h: http.Header{}}
		for pb.Next() {
			w.reset()
			h.ServeHTTP(w, r)
			if w.status != http.StatusOK {
				b.Errorf("status %d", w.status)
				return
			}
		}
	})
	m.report(b)
}

func newRequestCtx(token string) *fasthttp.RequestCtx {
	var rc fasthttp.RequestCtx
	var req fasthttp.Request
	req.Header.SetMethod(fasthttp.MethodGet)
	req.SetRequestURI(bench.Path)
	req.Header.Set(fasthttp.HeaderAuthorization, "Bearer "+token)
	rc.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}, nil)
	return &rc
}

// next readies a reused RequestCtx for the next request as fasthttp's
// server does between requests: a fresh response and no user values (Fiber's
// Locals) left from the previous one.
func next(rc *fasthttp.RequestCtx) {
	rc.Response.Reset()
	rc.ResetUserValues()
}

// fiberStatus is the status of the answer, 0 unless the handler wrote the
// body "ok" (fasthttp reports 200 for a response nobody touched).
func fiberStatus(rc *fasthttp.RequestCtx) int {
	if st := rc.Response.StatusCode(); st != http.StatusOK || string(rc.Response.Body()) == "ok" {
		return st
	}
	return 0
}

// serveFiber drives app.Handler() on one reused fasthttp.RequestCtx.
func serveFiber(b *testing.B, app *fiber.App, token string) {
	h := app.Handler()
	rc := newRequestCtx(token)
	warm(b, func() int { next(rc); h(rc); return fiberStatus(rc) })
	b.ReportAllocs()
	m := startCPU()
	for b.Loop() {
		next(rc)
		h(rc)
		if st := fiberStatus(rc); st != http.StatusOK {
			b.Fatalf("status %d", st)
		}
	}
	m.report(b)
}

func serveFiberParallel(b *testing.B, app *fiber.App, token string) {
	h := app.Handler()
	rc := newRequestCtx(token)
	warm(b, func() int { next(rc); h(rc); return fiberStatus(rc) })
	b.ReportAllocs()
	b.ResetTimer()
	m := startCPU()
	b.RunParallel(func(pb *testing.PB) {
		rc := newRequestCtx(token)
		for pb.Next() {
			next(rc)
			h(rc)
			if st := fiberStatus(rc); st != http.StatusOK {
				b.Errorf("status %d", st)
				return
			}
		}
	})
	m.report(b)
}

// parallelRows are the rows also measured with b.RunParallel, as
// "<row>-parallel": jwksauth on both paths, and the bare framework, whose
// own scaling bounds what any middleware in it can show.
var parallelRows = []string{"bare", bench.HitFloor, "jwksauth", "jwksauth-nocache"}

func BenchmarkGin(b *testing.B) {
	benchHTTP(b, bench.GinRows, bench.NewGin)
}

func BenchmarkEcho(b *testing.B) {
	benchHTTP(b, bench.EchoRows, bench.NewEcho)
}

func benchHTTP(b *testing.B, rows []string, build func(context.Context, *bench.Fixture, string) (http.Handler, error)) {
	f := benchFixture(b)
	for _, row := range rows {
		b.Run(row, func(b *testing.B) {
			h, err := build(b.Context(), f, row)
			if err != nil {
				b.Fatal(err)
			}
			if strings.HasPrefix(row, "jwksauth-dpop") {
				serveHTTPDPoP(b, h, f)
				return
			}
			serveHTTP(b, h, f.Token)
		})
	}
	for _, row := range parallelRows {
		b.Run(row+"-parallel", func(b *testing.B) {
			h, err := build(b.Context(), f, row)
			if err != nil {
				b.Fatal(err)
			}
			serveHTTPParallel(b, h, f.Token)
		})
	}
}

func BenchmarkFiber(b *testing.B) {
	f := benchFixture(b)
	for _, row := range bench.FiberRows {
		b.Run(row, func(b *testing.B) {
			app, err := bench.NewFiber(b.Context(), f, row)
			if err != nil {
				b.Fatal(err)
			}
			if strings.HasPrefix(row, "jwksauth-dpop") {
				serveFiberDPoP(b, app, f)
				return
			}
			serveFiber(b, app, f.Token)
		})
	}
	for _, row := range parallelRows {
		b.Run(row+"-parallel", func(b *testing.B) {
			app, err := bench.NewFiber(b.Context(), f, row)
			if err != nil {
				b.Fatal(err)
			}
			serveFiberParallel(b, app, f.Token)
		})
	}
}
