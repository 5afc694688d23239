package core_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
	"github.com/jwksauth/jwksauth/core/internal/jwks"
)

// settableClock is a settable clock, shared by a verifier and its issuer.
type settableClock struct {
	mu sync.Mutex
	t  time.Time
}

func newSettableClock() *settableClock { return &settableClock{t: time.Now()} }

func (c *settableClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *settableClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// hookProbe records what the hooks report.
type hookProbe struct {
	mu        sync.Mutex
	refreshes []core.RefreshInfo
	skipped   []skippedKey
	unknown   atomic.Int64
	cooldown  atomic.Int64
}

type skippedKey struct {
	kid    string
	reason error
}

func (p *hookProbe) hooks() core.Hooks {
	return core.Hooks{
		OnRefresh: func(ri core.RefreshInfo) {
			p.mu.Lock()
			p.refreshes = append(p.refreshes, ri)
			p.mu.Unlock()
		},
		OnKeySkipped: func(kid string, reason error) {
			p.mu.Lock()
			p.skipped = append(p.skipped, skippedKey{kid, reason})
			p.mu.Unlock()
		},
		OnUnknownKID: func() { p.unknown.Add(1) },
		OnCooldown:   func() { p.cooldown.Add(1) },
	}
}

func (p *hookProbe) Refreshes() []core.RefreshInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]core.RefreshInfo(nil), p.refreshes...)
}

func (p *hookProbe) Skipped() []skippedKey {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]skippedKey(nil), p.skipped...)
}

func (p *hookProbe) last(t *testing.T) core.RefreshInfo {
	t.Helper()
	rs := p.Refreshes()
	if len(rs) == 0 {
		t.Fatal("no refresh reported")
	}
	return rs[len(rs)-1]
}

// logRecorder is a slog.Handler that keeps the records.
type logRecorder struct {
	mu   sync.Mutex
	recs []logRecord
}

type logRecord struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

func (s *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (s *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return s }
func (s *logRecorder) WithGroup(string) slog.Handler            { return s }
func (s *logRecorder) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.String()
		return true
	})
	s.mu.Lock()
	s.recs = append(s.recs, rec)
	s.mu.Unlock()
	return nil
}

func (s *logRecorder) find(level slog.Level, msgPart, key, val string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.recs {
		if r.level == level && strings.Contains(r.msg, msgPart) && (key == "" || r.attrs[key] == val) {
			n++
		}
	}
	return n
}

// jwksHits records when the issuer received each JWKS request.
type jwksHits struct {
	mu    sync.Mutex
	times []time.Time
}

func watchJWKSHits(iss *authtest.Issuer) *jwksHits {
	h := &jwksHits{}
	iss.SetJWKSHook(func(*http.Request) {
		h.mu.Lock()
		h.times = append(h.times, time.Now())
		h.mu.Unlock()
	})
	return h
}

func (h *jwksHits) wait(t *testing.T, n int, timeout time.Duration) []time.Time {
	t.Helper()
	var out []time.Time
	waitFor(t, timeout, func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		out = append([]time.Time(nil), h.times...)
		return len(out) >= n
	}, "JWKS requests")
	return out
}

type cacheEnv struct {
	t     *testing.T
	iss   *authtest.Issuer
	v     *core.Verifier
	probe *hookProbe
	logs  *logRecorder
}

// p256Issuer starts an issuer with a P-256 key, quick to generate; the
// cache does not care about the key type.
func p256Issuer(t *testing.T) *authtest.Issuer {
	t.Helper()
	return authtest.MustIssuer(t, authtest.WithAlgorithm("ES256"))
}

// startVerifier builds a verifier for iss with the JWKS URL given, a recording
// logger and hooks, then opts.
func startVerifier(t *testing.T, iss *authtest.Issuer, opts ...core.Option) *cacheEnv {
	t.Helper()
	return buildCacheEnv(t, iss, append([]core.Option{core.WithJWKSURL(iss.JWKSURL())}, opts...)...)
}

// startDiscovering is startVerifier without the JWKS URL: it is discovered.
func startDiscovering(t *testing.T, iss *authtest.Issuer, opts ...core.Option) *cacheEnv {
	t.Helper()
	return buildCacheEnv(t, iss, opts...)
}

func buildCacheEnv(t *testing.T, iss *authtest.Issuer, opts ...core.Option) *cacheEnv {
	t.Helper()
	e := &cacheEnv{t: t, iss: iss, probe: &hookProbe{}, logs: &logRecorder{}}
	all := append([]core.Option{
		core.WithIssuer(iss.URL),
		core.WithAudiences(authtest.DefaultAudience),
		core.WithLogger(slog.New(e.logs)),
		core.WithHooks(e.probe.hooks()),
	}, opts...)
	v, err := core.New(context.Background(), all...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = v.Close() })
	e.v = v
	return e
}

func (e *cacheEnv) ready() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.v.Ready(ctx); err != nil {
		e.t.Fatalf("Ready: %v", err)
	}
}

// verify verifies tok and reports how long it took.
func (e *cacheEnv) verify(tok string) (time.Duration, error) {
	return e.verifyCtx(context.Background(), tok)
}

func (e *cacheEnv) verifyCtx(ctx context.Context, tok string) (time.Duration, error) {
	began := time.Now()
	_, err := e.v.Verify(ctx, tok)
	return time.Since(began), err
}

func (e *cacheEnv) mustVerify(tok string) {
	e.t.Helper()
	if _, err := e.verify(tok); err != nil {
		e.t.Fatalf("Verify: %v", err)
	}
}

func randomKID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "unknown-" + hex.EncodeToString(b)
}

// unknownKIDToken is a token of iss's signing key under a kid nobody publishes.
func unknownKIDToken(t *testing.T, iss *authtest.Issuer) string {
	t.Helper()
	return iss.MustMint(t, nil, authtest.Header("kid", randomKID()))
}

func waitFor(t *testing.T, timeout time.Duration, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestBackgroundRefresh runs the real loop with short bounds and measures
// the gaps between the provider's JWKS requests.
func TestBackgroundRefresh(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		cc     string
		age    string
		opts   []core.Option
		lo, hi time.Duration
	}{
		{name: "max-age less Age, between floor and ceiling", cc: "public, max-age=2", age: "1", opts: []core.Option{core.WithRefreshBounds(100*time.Millisecond, 10*time.Second)}, lo: 850 * time.Millisecond, hi: 1600 * time.Millisecond},
		{name: "ceiling caps max-age", cc: "max-age=3600", opts: []core.Option{core.WithRefreshBounds(100*time.Millisecond, 300*time.Millisecond)}, lo: 250 * time.Millisecond, hi: 750 * time.Millisecond},
		{name: "floor lifts max-age=0", cc: "max-age=0", opts: []core.Option{core.WithRefreshBounds(300*time.Millisecond, 10*time.Second)}, lo: 250 * time.Millisecond, hi: 750 * time.Millisecond},
		{name: "floor lifts no-cache", cc: "no-cache", opts: []core.Option{core.WithRefreshBounds(300*time.Millisecond, 10*time.Second)}, lo: 250 * time.Millisecond, hi: 750 * time.Millisecond},
		{name: "interval without max-age", opts: []core.Option{core.WithRefreshInterval(300 * time.Millisecond), core.WithRefreshBounds(5*time.Second, 10*time.Second)}, lo: 250 * time.Millisecond, hi: 750 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			iss := p256Issuer(t)
			iss.SetCacheControl(tt.cc)
			iss.SetJWKSHeader("Age", tt.age)
			hits := watchJWKSHits(iss)
			e := startVerifier(t, iss, tt.opts...)
			times := hits.wait(t, 2, 5*time.Second)
			if gap := times[1].Sub(times[0]); gap < tt.lo || gap > tt.hi {
				t.Fatalf("the first scheduled refresh came %v after the load, want within [%v, %v]", gap, tt.lo, tt.hi)
			}
			for _, r := range e.probe.Refreshes() {
				if r.Reason != "scheduled" || r.Err != nil || r.Keys != 1 {
					t.Fatalf("refresh = %+v, want a successful scheduled one with 1 key", r)
				}
			}
		})
	}
}

// TestUnknownKIDFlood: 200 concurrent tokens with distinct unknown kids
// cause one fetch, shared by all; while that fetch is held, tokens of the
// known key keep verifying; a second flood inside the cooldown fails at
// once without any fetch.
func TestUnknownKIDFlood(t *testing.T) {
	t.Parallel()
	iss := p256Issuer(t)
	var gated atomic.Bool
	gate := make(chan struct{})
	iss.SetJWKSHook(func(r *http.Request) {
		if gated.Load() {
			select {
			case <-gate:
			case <-r.Context().Done():
			}
		}
	})
	e := startVerifier(t, iss, core.WithoutTokenCache(), core.WithUnknownKIDCooldown(time.Minute))
	e.ready()
	known := make([]string, 8)
	for i := range known {
		known[i] = iss.MustMint(t, nil)
	}
	const flood = 200
	wave := func() []string {
		toks := make([]string, flood)
		for i := range toks {
			toks[i] = unknownKIDToken(t, iss)
		}
		return toks
	}
	first, second := wave(), wave()
	base := iss.JWKSHits()
	gated.Store(true)

	// Known-kid traffic throughout.
	var (
		knownN, knownFail atomic.Int64
		knownMax          atomic.Int64
		stop              = make(chan struct{})
		kwg               sync.WaitGroup
	)
	kwg.Add(1)
	go func() {
		defer kwg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			d, err := e.verify(known[i%len(known)])
			if err != nil {
				knownFail.Add(1)
			}
			knownN.Add(1)
			for {
				m := knownMax.Load()
				if int64(d) <= m || knownMax.CompareAndSwap(m, int64(d)) {
					break
				}
			}
			time.Sleep(time.Millisecond)
		}
	}()

	errs := make([]error, flood)
	var fwg sync.WaitGroup
	for i, tok := range first {
		fwg.Add(1)
		go func() {
			defer fwg.Done()
			_, errs[i] = e.verify(tok)
		}()
	}
	waitFor(t, 5*time.Second, func() bool { return e.probe.unknown.Load() == flood }, "the flood to reach the cache")
	heldFrom := knownN.Load()
	time.Sleep(300 * time.Millisecond) // hold the fetch
	if got := iss.JWKSHits() - base; got != 1 {
		t.Fatalf("%d JWKS fetches for the flood, want 1", got)
	}
	if knownN.Load()-heldFrom == 0 {
		t.Fatal("no known-kid token verified while the fetch was in flight")
	}
	if c := e.probe.cooldown.Load(); c != 0 {
		t.Fatalf("%d requests hit the cooldown while the refresh was in flight; they should have joined it", c)
	}
	close(gate)
	fwg.Wait()
	for i, err := range errs {
		if err == nil {
			t.Fatalf("token %d with an unknown kid verified", i)
		}
		wantErr(t, err, core.ErrUnknownKey, http.StatusUnauthorized)
	}

	// Second flood, within the cooldown; a fetch would now take 2 s.
	iss.SetDelay(2 * time.Second)
	lat := make([]time.Duration, flood)
	for i, tok := range second {
		fwg.Add(1)
		go func() {
			defer fwg.Done()
			lat[i], errs[i] = e.verify(tok)
		}()
	}
	fwg.Wait()
	var worst time.Duration
	for i, err := range errs {
		wantErr(t, err, core.ErrUnknownKey, http.StatusUnauthorized)
		worst = max(worst, lat[i])
	}
	if worst > 500*time.Millisecond {
		t.Fatalf("a request in the cooldown took %v; it should fail at once", worst)
	}
	if got := e.probe.cooldown.Load(); got != flood {
		t.Fatalf("OnCooldown fired %d times, want %d", got, flood)
	}
	if got := iss.JWKSHits() - base; got != 1 {
		t.Fatalf("%d JWKS fetches after two floods, want 1", got)
	}
	close(stop)
	kwg.Wait()
	if n := knownFail.Load(); n != 0 {
		t.Fatalf("%d known-kid verifications failed during the flood", n)
	}
	if m := time.Duration(knownMax.Load()); m >= 250*time.Millisecond {
		t.Fatalf("a known-kid verification took %v: it waited for the fetch", m)
	}
}

// TestCooldown: one unknown-kid refresh per cooldown; later requests fail
// at once; after the cooldown a rotation is picked up.
func TestCooldown(t *testing.T) {
	t.Parallel()
	// The default cooldown is the documented 30 s (docs/operations.md),
	// and WithUnknownKIDCooldown sets the same.
	for name, opts := range map[string][]core.Option{
		"default":                     nil,
		"WithUnknownKIDCooldown(30s)": {core.WithUnknownKIDCooldown(30 * time.Second)},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			clock := newSettableClock()
			iss := p256Issuer(t)
			iss.SetClock(clock.Now)
			e := startVerifier(t, iss, append(opts, core.WithClock(clock.Now))...)
			e.ready()
			base := iss.JWKSHits()

			_, err := e.verify(unknownKIDToken(t, iss))
			wantErr(t, err, core.ErrUnknownKey, http.StatusUnauthorized)
			if got := iss.JWKSHits() - base; got != 1 {
				t.Fatalf("%d fetches for the first unknown kid, want 1", got)
			}
			if r := e.probe.last(t); r.Reason != "unknown kid" || r.Err != nil {
				t.Fatalf("refresh = %+v, want a successful unknown-kid refresh", r)
			}

			iss.SetDelay(time.Second)
			next, err := iss.Rotate("ES256")
			if err != nil {
				t.Fatal(err)
			}
			rotated := iss.MustMint(t, nil)
			for _, step := range []time.Duration{0, 10 * time.Second, 19 * time.Second} {
				clock.Add(step)
				d, err := e.verify(rotated)
				wantErr(t, err, core.ErrUnknownKey, http.StatusUnauthorized)
				if d > 300*time.Millisecond {
					t.Fatalf("a request in the cooldown took %v, want it to fail at once", d)
				}
			}
			if got := iss.JWKSHits() - base; got != 1 {
				t.Fatalf("%d fetches within the cooldown, want 1", got)
			}
			if got := e.probe.cooldown.Load(); got != 3 {
				t.Fatalf("OnCooldown fired %d times, want 3", got)
			}

			iss.SetDelay(0)
			clock.Add(2 * time.Second) // 31 s after the first refresh
			e.mustVerify(rotated)
			if got := iss.JWKSHits() - base; got != 2 {
				t.Fatalf("%d fetches after the cooldown, want 2", got)
			}
			if p, err := e.v.Verify(context.Background(), rotated); err != nil || p.KeyID != next.ID {
				t.Fatalf("rotated token: %v, %v", p, err)
			}
		})
	}
}

// TestStartupLoadKeepsTheFirstCooldown: a rotation right after start is
// picked up by the first token of the new key.
func TestStartupLoadKeepsTheFirstCooldown(t *testing.T) {
	t.Parallel()
	for _, discover := range []bool{false, true} {
		name := map[bool]string{false: "JWKS URL", true: "discovery"}[discover]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			iss := p256Issuer(t)
			mk := startVerifier
			if discover {
				mk = startDiscovering
			}
			e := mk(t, iss, core.WithUnknownKIDCooldown(time.Hour))
			e.ready()
			if _, err := iss.Rotate("ES384"); err != nil {
				t.Fatal(err)
			}
			e.mustVerify(iss.MustMint(t, nil))
			rs := e.probe.Refreshes()
			if len(rs) != 2 || rs[0].Reason != "scheduled" || rs[1].Reason != "unknown kid" || rs[1].Keys != 2 {
				t.Fatalf("refreshes = %+v, want the start-up load then one unknown-kid refresh with 2 keys", rs)
			}
			if got := iss.JWKSHits(); got != 2 {
				t.Fatalf("%d JWKS fetches, want 2", got)
			}
			if discover && iss.DiscoveryHits() != 1 {
				t.Fatalf("%d discovery fetches, want 1 (the jwks_uri is kept)", iss.DiscoveryHits())
			}
		})
	}
}

// TestRotationByScheduledRefresh: a key published between two scheduled
// refreshes verifies without any unknown-kid fetch.
func TestRotationByScheduledRefresh(t *testing.T) {
	t.Parallel()
	iss := p256Issuer(t)
	e := startVerifier(t, iss, core.WithRefreshInterval(200*time.Millisecond))
	e.ready()
	if _, err := iss.Rotate("EdDSA"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Second, func() bool {
		for _, r := range e.probe.Refreshes() {
			if r.Keys == 2 {
				return true
			}
		}
		return false
	}, "a scheduled refresh with the new key")
	hits := iss.JWKSHits()
	e.mustVerify(iss.MustMint(t, nil))
	if e.probe.unknown.Load() != 0 {
		t.Fatal("the rotated key was unknown: the scheduled refresh did not publish it")
	}
	if got := iss.JWKSHits(); got > hits+1 { // at most one scheduled refresh in between
		t.Fatalf("verifying the rotated token fetched the JWKS (%d -> %d)", hits, got)
	}
}

// TestRetiredKeyStopsVerifying: after the next successful refresh a key
// that left the JWKS no longer verifies, cached tokens included; a failed
// refresh does not remove it.
func TestRetiredKeyStopsVerifying(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		scheduled bool
	}{
		{name: "unknown-kid refresh"},
		{name: "scheduled refresh", scheduled: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := newSettableClock()
			iss := p256Issuer(t)
			iss.SetClock(clock.Now)
			opts := []core.Option{core.WithClock(clock.Now)}
			if tt.scheduled {
				opts = append(opts, core.WithRefreshInterval(300*time.Millisecond), core.WithRefreshBounds(100*time.Millisecond, time.Minute))
			}
			e := startVerifier(t, iss, opts...)
			e.ready()
			old := iss.SigningKey()
			cached := iss.MustMint(t, nil)
			e.mustVerify(cached) // now in the verified-token cache
			if _, err := iss.Rotate("ES256"); err != nil {
				t.Fatal(err)
			}
			iss.Retire(old.ID)
			fresh := iss.MustMint(t, nil, authtest.SignedBy(old))

			// A bad answer does not remove the key.
			iss.SetFault(authtest.FaultHTML)
			if tt.scheduled {
				waitFor(t, 3*time.Second, func() bool { return e.probe.last(t).Err != nil }, "a failed scheduled refresh")
			} else {
				_, err := e.verify(iss.MustMint(t, nil))
				wantErr(t, err, core.ErrKeysUnavailable, http.StatusServiceUnavailable)
			}
			if r := e.probe.last(t); !errors.Is(r.Err, jwks.ErrNotJSON) {
				t.Fatalf("refresh error = %v, want the not-JSON failure", r.Err)
			}
			e.mustVerify(cached)
			e.mustVerify(fresh)

			// The next good answer does.
			iss.SetFault(authtest.FaultNone)
			if tt.scheduled {
				waitFor(t, 5*time.Second, func() bool { r := e.probe.last(t); return r.Err == nil && r.Keys == 1 }, "a good scheduled refresh")
			} else {
				clock.Add(time.Minute) // past the cooldown
				e.mustVerify(iss.MustMint(t, nil))
			}
			for name, tok := range map[string]string{"cached": cached, "fresh": fresh} {
				_, err := e.verify(tok)
				if err == nil {
					t.Fatalf("%s token of the retired key still verifies", name)
				}
				wantErr(t, err, core.ErrUnknownKey, http.StatusUnauthorized)
			}
		})
	}
}

// TestFetchHygiene: every kind of bad answer keeps the good keys, and an
// unknown kid meanwhile answers 503 with Retry-After.
func TestFetchHygiene(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	tests := []struct {
		name  string
		fault authtest.Fault
		setup func(t *testing.T, iss *authtest.Issuer) // instead of a fault
		cause error                                    // expected in RefreshInfo.Err
		slow  bool                                     // the answer hangs until the fetch timeout
	}{
		{name: "connection closed", fault: authtest.FaultDown},
		{name: "500", fault: authtest.Fault500, cause: jwks.ErrFetchStatus},
		{name: "404", fault: authtest.FaultNotFound, cause: jwks.ErrFetchStatus},
		{name: "HTML page", fault: authtest.FaultHTML, cause: jwks.ErrNotJSON},
		{name: "invalid JSON", fault: authtest.FaultInvalidJSON, cause: jwks.ErrNotJSON},
		{name: "JSON without keys", fault: authtest.FaultNotJWKS, cause: jwks.ErrNoKeys},
		{name: "empty key set", fault: authtest.FaultEmpty, cause: jwks.ErrNoUsableKeys},
		{name: "huge answer", fault: authtest.FaultHuge, cause: jwks.ErrFetchSize},
		{name: "answer never comes", fault: authtest.FaultHang, cause: context.DeadlineExceeded, slow: true},
		{name: "body stalls", fault: authtest.FaultStall, cause: context.DeadlineExceeded, slow: true},
		{name: "slower than the timeout", setup: func(t *testing.T, iss *authtest.Issuer) { iss.SetDelay(5 * time.Second) }, cause: context.DeadlineExceeded, slow: true},
		{name: "over the configured size cap", setup: func(t *testing.T, iss *authtest.Issuer) {
			for range 8 { // each P-256 JWK is ~170 bytes; the cap below is 1 KiB
				iss.AddKey(iss.SigningKey(), false)
			}
		}, cause: jwks.ErrFetchSize},
		{name: "only unusable keys", setup: func(t *testing.T, iss *authtest.Issuer) {
			k := iss.SigningKey()
			iss.Retire(k.ID)
			enc := k.JWK()
			enc["use"] = "enc"
			raw, _ := json.Marshal(enc)
			iss.SetExtraJWKs(raw)
		}, cause: jwks.ErrNoUsableKeys},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			iss := p256Issuer(t)
			e := startVerifier(t, iss, core.WithoutTokenCache(), core.WithFetchTimeout(timeout), core.WithMaxJWKSSize(1<<10))
			e.ready()
			known := iss.MustMint(t, nil)
			e.mustVerify(known)
			if tt.setup != nil {
				tt.setup(t, iss)
			} else {
				iss.SetFault(tt.fault)
			}
			d, err := e.verify(unknownKIDToken(t, iss))
			wantErr(t, err, core.ErrKeysUnavailable, http.StatusServiceUnavailable)
			if tt.slow && (d < timeout-50*time.Millisecond || d > timeout+time.Second) {
				t.Fatalf("the request waited %v, want about the fetch timeout %v", d, timeout)
			}
			if !tt.slow && d > time.Second {
				t.Fatalf("the request waited %v for a fast failure", d)
			}
			r := e.probe.last(t)
			if r.Err == nil || r.Keys != 0 || r.Reason != "unknown kid" {
				t.Fatalf("refresh = %+v, want a failed unknown-kid refresh", r)
			}
			if tt.cause != nil && !errors.Is(r.Err, tt.cause) {
				t.Fatalf("refresh error = %v, want %v", r.Err, tt.cause)
			}
			if d, err := e.verify(known); err != nil || d > time.Second {
				t.Fatalf("known key after a bad answer: %v after %v", err, d)
			}
			if n := e.logs.find(slog.LevelWarn, "JWKS refresh failed", "reason", "unknown kid"); n != 1 {
				t.Fatalf("%d refresh-failure warnings, want 1", n)
			}
		})
	}
}

// TestRedirects: a redirect to plain http on another host is refused, with
// the built-in client and with the caller's; loopback redirects work.
func TestRedirects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		target func(iss *authtest.Issuer) string
		client bool
		ok     bool
	}{
		{name: "to plain http elsewhere", target: func(*authtest.Issuer) string { return "http://jwks.example.com/jwks" }},
		{name: "to plain http elsewhere, caller's client", target: func(*authtest.Issuer) string { return "http://jwks.example.com/jwks" }, client: true},
		{name: "to loopback", target: func(iss *authtest.Issuer) string { return iss.JWKSURL() }, ok: true},
		{name: "to loopback, caller's client", target: func(iss *authtest.Issuer) string { return iss.JWKSURL() }, client: true, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			iss := p256Issuer(t)
			iss.Handle("GET /moved", http.RedirectHandler(tt.target(iss), http.StatusFound))
			var theirs atomic.Int64
			opts := []core.Option{core.WithJWKSURL(iss.URL + "/moved")}
			if tt.client {
				opts = append(opts, core.WithHTTPClient(&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
					theirs.Add(1)
					return nil
				}}))
			}
			e := buildCacheEnv(t, iss, opts...)
			if tt.ok {
				e.ready()
				e.mustVerify(iss.MustMint(t, nil))
				if tt.client && theirs.Load() == 0 {
					t.Fatal("the caller's redirect policy was not consulted")
				}
				return
			}
			waitFor(t, 3*time.Second, func() bool { return len(e.probe.Refreshes()) > 0 }, "the first fetch")
			if r := e.probe.last(t); !errors.Is(r.Err, jwks.ErrRedirect) {
				t.Fatalf("refresh error = %v, want a refused redirect", r.Err)
			}
			if theirs.Load() != 0 {
				t.Fatal("the caller's redirect policy ran for a refused redirect")
			}
			_, err := e.verify(iss.MustMint(t, nil))
			wantErr(t, err, core.ErrKeysUnavailable, http.StatusServiceUnavailable)
		})
	}
}

// TestOutage: during an outage cached keys keep verifying up to the
// maximum staleness, unknown kids answer 503 with Retry-After, and the
// keys come back with the provider.
func TestOutage(t *testing.T) {
	t.Parallel()
	clock := newSettableClock()
	iss := p256Issuer(t)
	iss.SetClock(clock.Now)
	e := startVerifier(t, iss, core.WithClock(clock.Now), core.WithMaxStaleness(time.Hour), core.WithUnknownKIDCooldown(30*time.Second))
	e.ready()
	iss.SetFault(authtest.FaultDown)

	clock.Add(59 * time.Minute)
	e.mustVerify(iss.MustMint(t, nil))

	// An unknown kid while the provider is down: 503, through the error model.
	_, err := e.verify(unknownKIDToken(t, iss))
	ce := wantErr(t, err, core.ErrKeysUnavailable, http.StatusServiceUnavailable)
	if ce.RetryAfter != 30 {
		t.Fatalf("Retry-After %d, want the cooldown (30)", ce.RetryAfter)
	}
	rec := httptest.NewRecorder()
	ce.WriteHTTP(rec)
	if rec.Code != 503 || rec.Header().Get("Retry-After") != "30" || rec.Header().Get("WWW-Authenticate") != "" {
		t.Fatalf("answer %d %v", rec.Code, rec.Header())
	}
	var body map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["error"] != "temporarily_unavailable" {
		t.Fatalf("body %s: %v", rec.Body, err)
	}
	fetches := len(e.probe.Refreshes())

	// Within the cooldown: 503 at once, the remaining cooldown as Retry-After.
	clock.Add(10 * time.Second)
	d, err := e.verify(unknownKIDToken(t, iss))
	ce = wantErr(t, err, core.ErrKeysUnavailable, http.StatusServiceUnavailable)
	if ce.RetryAfter != 20 || d > 300*time.Millisecond {
		t.Fatalf("in the cooldown: Retry-After %d after %v, want 20 at once", ce.RetryAfter, d)
	}
	if len(e.probe.Refreshes()) != fetches {
		t.Fatal("a request in the cooldown fetched the JWKS")
	}

	// Past the staleness bound even the cached key answers 503.
	clock.Add(2 * time.Minute)
	_, err = e.verify(iss.MustMint(t, nil))
	wantErr(t, err, core.ErrKeysUnavailable, http.StatusServiceUnavailable)

	// The provider is back: the next refresh (after the cooldown) restores them.
	iss.SetFault(authtest.FaultNone)
	clock.Add(31 * time.Second)
	e.mustVerify(iss.MustMint(t, nil))
	if n := e.logs.find(slog.LevelInfo, "after failures", "", ""); n != 1 {
		t.Fatalf("%d recovery log records, want 1", n)
	}
}

// TestStartupProviderDown: New returns at once, requests answer 503, the
// load is retried with growing waits and succeeds once the provider is back.
func TestStartupProviderDown(t *testing.T) {
	t.Parallel()
	iss := p256Issuer(t)
	iss.SetFault(authtest.FaultDown)
	hits := watchJWKSHits(iss)
	began := time.Now()
	e := startVerifier(t, iss, core.WithRefreshBounds(50*time.Millisecond, time.Second))
	if d := time.Since(began); d > 200*time.Millisecond {
		t.Fatalf("New took %v with the provider down", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := e.v.Ready(ctx); err == nil {
		t.Fatal("Ready succeeded with the provider down")
	}
	// Retries come after 50, 100, 200, 400 ms (less jitter, plus
	// scheduling noise on a busy machine).
	times := hits.wait(t, 5, 6*time.Second)
	var gaps []time.Duration
	for i := 1; i < 5; i++ {
		gaps = append(gaps, times[i].Sub(times[i-1]))
	}
	if gaps[0] < 40*time.Millisecond || gaps[3] < 3*gaps[0] || gaps[3] < 350*time.Millisecond {
		t.Fatalf("retry gaps %v: want a backoff from the 50 ms floor, doubling", gaps)
	}
	for i, r := range e.probe.Refreshes() {
		if r.Err == nil {
			t.Fatalf("refresh %d succeeded with the provider down", i)
		}
	}
	if n := e.logs.find(slog.LevelWarn, "load failed", "", ""); n == 0 {
		t.Fatal("no warning for the failed start-up load")
	}

	d, err := e.verify(iss.MustMint(t, nil))
	wantErr(t, err, core.ErrKeysUnavailable, http.StatusServiceUnavailable)
	if d > time.Second {
		t.Fatalf("a request took %v while the provider is down", d)
	}

	iss.SetFault(authtest.FaultNone)
	e.ready() // the background retry loads the keys, no request needed
	e.mustVerify(iss.MustMint(t, nil))
	if n := e.logs.find(slog.LevelInfo, "JWKS loaded", "", ""); n != 1 {
		t.Fatalf("%d load log records, want 1", n)
	}
}

// TestStartupProviderHangs: a request joining the hanging start-up fetch
// waits at most the fetch timeout, or less when its own context ends.
func TestStartupProviderHangs(t *testing.T) {
	t.Parallel()
	const timeout = 500 * time.Millisecond
	iss := p256Issuer(t)
	iss.SetFault(authtest.FaultHang)
	began := time.Now()
	e := startVerifier(t, iss, core.WithFetchTimeout(timeout))
	if d := time.Since(began); d > 200*time.Millisecond {
		t.Fatalf("New took %v with the provider hanging", d)
	}
	tok := iss.MustMint(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	d, err := e.verifyCtx(ctx, tok)
	wantErr(t, err, core.ErrKeysUnavailable, http.StatusServiceUnavailable)
	if d > 300*time.Millisecond {
		t.Fatalf("a request with a 50 ms deadline waited %v", d)
	}
	d, err = e.verify(tok)
	wantErr(t, err, core.ErrKeysUnavailable, http.StatusServiceUnavailable)
	if d > timeout+time.Second {
		t.Fatalf("a request waited %v on a fetch with a %v timeout", d, timeout)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cause %v, want the fetch timeout", err)
	}
}

// TestHangingFetchDoesNotDelayCachedKeys: while a refresh hangs (started by
// an unknown kid, or scheduled), tokens of cached keys verify at once, and
// requests that joined the refresh leave when their own context ends.
func TestHangingFetchDoesNotDelayCachedKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		scheduled bool
	}{
		{name: "refresh started by an unknown kid"},
		{name: "scheduled refresh", scheduled: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			const timeout = 800 * time.Millisecond
			iss := p256Issuer(t)
			opts := []core.Option{core.WithoutTokenCache(), core.WithFetchTimeout(timeout)}
			if tt.scheduled {
				opts = append(opts, core.WithRefreshInterval(100*time.Millisecond))
			}
			e := startVerifier(t, iss, opts...)
			e.ready()
			hits := watchJWKSHits(iss)
			iss.SetFault(authtest.FaultHang)
			var wg sync.WaitGroup
			var unknownErr error
			var unknownTook time.Duration
			if !tt.scheduled {
				tok := unknownKIDToken(t, iss)
				wg.Add(1)
				go func() {
					defer wg.Done()
					unknownTook, unknownErr = e.verify(tok)
				}()
			}
			hits.wait(t, 1, 3*time.Second) // the hanging fetch is in flight

			// A request that joins the hanging refresh leaves with its context.
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			d, err := e.verifyCtx(ctx, unknownKIDToken(t, iss))
			wantErr(t, err, core.ErrKeysUnavailable, http.StatusServiceUnavailable)
			if d > 600*time.Millisecond {
				t.Fatalf("a joining request with a 100 ms deadline waited %v", d)
			}

			known := iss.MustMint(t, nil)
			for range 20 {
				d, err := e.verify(known)
				if err != nil || d > 100*time.Millisecond {
					t.Fatalf("known key during a hanging fetch: %v after %v", err, d)
				}
			}
			wg.Wait()
			if !tt.scheduled {
				wantErr(t, unknownErr, core.ErrKeysUnavailable, http.StatusServiceUnavailable)
				if unknownTook < timeout-100*time.Millisecond || unknownTook > timeout+time.Second {
					t.Fatalf("the request that started the refresh waited %v, want about the fetch timeout %v", unknownTook, timeout)
				}
			}
		})
	}
}

// TestDiscovery: the discovery document must name the configured issuer
// and a jwks_uri that passes the URL rule.
func TestDiscovery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		field string
		value func(iss *authtest.Issuer) any
	}{
		{name: "foreign issuer", field: "issuer", value: func(*authtest.Issuer) any { return "https://evil.example" }},
		{name: "issuer with a trailing slash", field: "issuer", value: func(iss *authtest.Issuer) any { return iss.URL + "/" }},
		{name: "issuer not a string", field: "issuer", value: func(iss *authtest.Issuer) any { return []string{iss.URL} }},
		{name: "no issuer", field: "issuer", value: func(*authtest.Issuer) any { return authtest.Omit }},
		{name: "plain-http jwks_uri on another host", field: "jwks_uri", value: func(*authtest.Issuer) any { return "http://keys.example.com/jwks" }},
		{name: "relative jwks_uri", field: "jwks_uri", value: func(*authtest.Issuer) any { return "/jwks" }},
		{name: "no jwks_uri", field: "jwks_uri", value: func(*authtest.Issuer) any { return authtest.Omit }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			iss := p256Issuer(t)
			iss.SetDiscovery(tt.field, tt.value(iss))
			e := startDiscovering(t, iss)
			waitFor(t, 3*time.Second, func() bool { return len(e.probe.Refreshes()) > 0 }, "the first fetch")
			if r := e.probe.last(t); !errors.Is(r.Err, jwks.ErrDiscovery) {
				t.Fatalf("refresh error = %v, want the discovery document refused", r.Err)
			}
			if iss.JWKSHits() != 0 {
				t.Fatal("the JWKS was fetched from a refused discovery document")
			}
			_, err := e.verify(iss.MustMint(t, nil))
			wantErr(t, err, core.ErrKeysUnavailable, http.StatusServiceUnavailable)
		})
	}
}

// cacheGoroutines counts the goroutines running key-cache code and those
// of HTTP client connections.
func cacheGoroutines() (cache, conns int) {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "internal/jwks.(*Cache)") {
			cache++
		}
		if strings.Contains(g, "net/http.(*persistConn)") {
			conns++
		}
	}
	return cache, conns
}

// TestLifecycle: Close and the end of New's context stop the background
// goroutine and any fetch in flight; Close returns only once they have
// ended; nothing is left running, idle connections included. Not parallel:
// it counts goroutines.
func TestLifecycle(t *testing.T) {
	tests := []struct {
		name     string
		cancel   bool // stop through the context rather than Close
		inFlight bool // a fetch hangs in flight when the stop comes
	}{
		{name: "Close, idle"},
		{name: "Close, fetch in flight", inFlight: true},
		{name: "context cancelled, idle", cancel: true},
		{name: "context cancelled, fetch in flight", cancel: true, inFlight: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss := p256Issuer(t)
			time.Sleep(20 * time.Millisecond)
			baseCache, baseConns := cacheGoroutines()
			base := runtime.NumGoroutine()

			// OnRefresh is slow while stopping, so that a stop that did
			// not wait for the fetch in flight would return before it.
			var slow atomic.Bool
			var entered, exited atomic.Int64
			hooks := core.Hooks{OnRefresh: func(core.RefreshInfo) {
				entered.Add(1)
				if slow.Load() {
					time.Sleep(150 * time.Millisecond)
				}
				exited.Add(1)
			}}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			v, err := core.New(ctx, core.WithIssuer(iss.URL), core.WithAudiences(authtest.DefaultAudience),
				core.WithLogger(slog.New(slog.DiscardHandler)), core.WithHooks(hooks))
			if err != nil {
				t.Fatal(err)
			}
			rctx, rcancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer rcancel()
			if err := v.Ready(rctx); err != nil {
				t.Fatal(err)
			}
			known := iss.MustMint(t, nil)
			if _, err := v.Verify(context.Background(), known); err != nil {
				t.Fatal(err)
			}
			joined := make(chan error, 1)
			if tt.inFlight {
				iss.SetFault(authtest.FaultHang)
				tok := unknownKIDToken(t, iss)
				hits := iss.JWKSHits()
				go func() {
					_, err := v.Verify(context.Background(), tok)
					joined <- err
				}()
				waitFor(t, 3*time.Second, func() bool { return iss.JWKSHits() > hits }, "the hanging fetch")
			}

			slow.Store(true)
			stopped := make(chan struct{})
			go func() {
				if tt.cancel {
					cancel()
				}
				_ = v.Close() // after cancel: returns once the background work has ended
				_ = v.Close() // a second Close returns too
				close(stopped)
			}()
			select {
			case <-stopped:
			case <-time.After(3 * time.Second):
				t.Fatal("stopping did not return")
			}
			if entered.Load() != exited.Load() {
				t.Fatal("Close returned while a fetch was still reporting")
			}
			n := entered.Load()
			if tt.inFlight {
				select {
				case err := <-joined:
					wantErr(t, err, core.ErrKeysUnavailable, http.StatusServiceUnavailable)
				case <-time.After(2 * time.Second):
					t.Fatal("a request waiting on the fetch in flight was not released")
				}
			}
			waitFor(t, 3*time.Second, func() bool {
				c, conns := cacheGoroutines()
				return c <= baseCache && conns <= baseConns && runtime.NumGoroutine() <= base
			}, "the cache's goroutines and connections to end")

			// After the stop: cached keys still verify; an unknown kid
			// answers 503 at once, with no fetch and no new goroutine.
			if _, err := v.Verify(context.Background(), known); err != nil {
				t.Fatalf("known key after the stop: %v", err)
			}
			hits := iss.JWKSHits()
			d, err := timed(func() error { _, err := v.Verify(context.Background(), unknownKIDToken(t, iss)); return err })
			wantErr(t, err, core.ErrKeysUnavailable, http.StatusServiceUnavailable)
			if !errors.Is(err, jwks.ErrStopped) || d > 100*time.Millisecond || iss.JWKSHits() != hits {
				t.Fatalf("unknown kid after the stop: %v after %v, %d fetches", err, d, iss.JWKSHits()-hits)
			}
			time.Sleep(100 * time.Millisecond)
			if c, _ := cacheGoroutines(); c > baseCache || entered.Load() != n {
				t.Fatalf("after the stop: %d key-cache goroutines, %d more fetches", c-baseCache, entered.Load()-n)
			}
		})
	}
}

// TestReadyAfterClose: Ready returns once the verifier is closed, without
// waiting for its context.
func TestReadyAfterClose(t *testing.T) {
	t.Parallel()
	iss := p256Issuer(t)
	iss.SetFault(authtest.FaultDown)
	e := startVerifier(t, iss)
	_ = e.v.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d, err := timed(func() error { return e.v.Ready(ctx) })
	if err == nil || d > time.Second {
		t.Fatalf("Ready after Close: %v after %v", err, d)
	}
}

func timed(f func() error) (time.Duration, error) {
	began := time.Now()
	err := f()
	return time.Since(began), err
}

// TestHooks: each hook fires when its documentation says, with its values.
func TestHooks(t *testing.T) {
	t.Parallel()
	clock := newSettableClock()
	iss := p256Issuer(t)
	iss.SetClock(clock.Now)
	enc := iss.SigningKey().JWK()
	enc["kid"], enc["use"] = "enc-key", "enc"
	raw, _ := json.Marshal(enc)
	iss.SetExtraJWKs(raw)
	e := startVerifier(t, iss, core.WithClock(clock.Now), core.WithUnknownKIDCooldown(30*time.Second))
	e.ready()

	r := e.probe.last(t)
	if r.URL != iss.JWKSURL() || r.Reason != "scheduled" || r.Keys != 1 || r.Skipped != 1 || r.Err != nil || r.Duration <= 0 {
		t.Fatalf("start-up refresh = %+v", r)
	}
	if s := e.probe.Skipped(); len(s) != 1 || s[0].kid != "enc-key" || !errors.Is(s[0].reason, jwks.ErrKeyUse) {
		t.Fatalf("skipped = %+v, want enc-key for its use", s)
	}
	if e.probe.unknown.Load() != 0 || e.probe.cooldown.Load() != 0 {
		t.Fatal("unknown-kid hooks fired at start-up")
	}

	e.mustVerify(iss.MustMint(t, nil)) // known kid: no unknown-kid hook
	if e.probe.unknown.Load() != 0 {
		t.Fatal("OnUnknownKID fired for a known kid")
	}

	_, _ = e.verify(unknownKIDToken(t, iss))
	if e.probe.unknown.Load() != 1 || e.probe.cooldown.Load() != 0 {
		t.Fatalf("unknown kid: OnUnknownKID %d, OnCooldown %d; want 1, 0", e.probe.unknown.Load(), e.probe.cooldown.Load())
	}
	if r := e.probe.last(t); r.Reason != "unknown kid" || r.Keys != 1 || r.Skipped != 1 || r.Err != nil {
		t.Fatalf("unknown-kid refresh = %+v", r)
	}
	if len(e.probe.Skipped()) != 2 {
		t.Fatal("OnKeySkipped did not fire again on the second fetch")
	}

	n := len(e.probe.Refreshes())
	_, _ = e.verify(unknownKIDToken(t, iss))
	if e.probe.unknown.Load() != 2 || e.probe.cooldown.Load() != 1 || len(e.probe.Refreshes()) != n {
		t.Fatalf("in the cooldown: OnUnknownKID %d, OnCooldown %d, refreshes +%d; want 2, 1, +0",
			e.probe.unknown.Load(), e.probe.cooldown.Load(), len(e.probe.Refreshes())-n)
	}

	iss.SetFault(authtest.Fault500)
	clock.Add(time.Minute)
	_, _ = e.verify(unknownKIDToken(t, iss))
	if r := e.probe.last(t); r.Err == nil || r.Keys != 0 || r.Skipped != 0 || !errors.Is(r.Err, jwks.ErrFetchStatus) {
		t.Fatalf("failed refresh = %+v", r)
	}

	// Logs: the skipped key once at Warn, then at Debug; the failure at Warn.
	if w, d := e.logs.find(slog.LevelWarn, "key skipped", "kid", "enc-key"), e.logs.find(slog.LevelDebug, "key skipped", "kid", "enc-key"); w != 1 || d != 1 {
		t.Fatalf("skipped-key log records: %d Warn, %d Debug; want 1, 1", w, d)
	}
	if n := e.logs.find(slog.LevelWarn, "refresh failed", "reason", "unknown kid"); n != 1 {
		t.Fatalf("%d refresh-failure warnings, want 1", n)
	}
}

// TestOneFetchInFlight: a scheduled refresh that comes while an
// unknown-kid refresh hangs joins it instead of opening a second fetch.
func TestOneFetchInFlight(t *testing.T) {
	t.Parallel()
	iss := p256Issuer(t)
	e := startVerifier(t, iss, core.WithRefreshInterval(100*time.Millisecond), core.WithFetchTimeout(500*time.Millisecond))
	e.ready()
	var now, most atomic.Int64
	iss.SetJWKSHook(func(r *http.Request) {
		n := now.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		<-r.Context().Done() // every fetch hangs until it times out
		now.Add(-1)
	})
	_, err := e.verify(unknownKIDToken(t, iss))
	wantErr(t, err, core.ErrKeysUnavailable, http.StatusServiceUnavailable)
	if m := most.Load(); m != 1 {
		t.Fatalf("%d JWKS fetches were in flight at once, want 1", m)
	}
}

// TestReadyAfterFirstReport: when Ready returns, the first load's hooks
// have run.
func TestReadyAfterFirstReport(t *testing.T) {
	t.Parallel()
	iss := p256Issuer(t)
	var reported atomic.Bool
	v, err := core.New(context.Background(), core.WithIssuer(iss.URL), core.WithAudiences(authtest.DefaultAudience),
		core.WithLogger(slog.New(slog.DiscardHandler)),
		core.WithHooks(core.Hooks{OnRefresh: func(core.RefreshInfo) {
			time.Sleep(100 * time.Millisecond)
			reported.Store(true)
		}}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := v.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	if !reported.Load() {
		t.Fatal("Ready returned before the first load was reported")
	}
}

// TestUnknownKIDRecheck: a refresh that completes between a request's
// first look at the keys and its cooldown check serves that request.
func TestUnknownKIDRecheck(t *testing.T) {
	t.Parallel()
	iss := p256Issuer(t)
	var v *core.Verifier
	var calls atomic.Int64
	other := ""
	v, err := core.New(context.Background(), core.WithIssuer(iss.URL), core.WithJWKSURL(iss.JWKSURL()),
		core.WithAudiences(authtest.DefaultAudience), core.WithLogger(slog.New(slog.DiscardHandler)),
		core.WithHooks(core.Hooks{OnUnknownKID: func() {
			if calls.Add(1) == 1 {
				// Another token's unknown kid refreshes the keys (and
				// starts the cooldown) right now.
				_, _ = v.Verify(context.Background(), other)
			}
		}}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := v.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := iss.Rotate("ES256"); err != nil {
		t.Fatal(err)
	}
	other = unknownKIDToken(t, iss)
	if _, err := v.Verify(context.Background(), iss.MustMint(t, nil)); err != nil {
		t.Fatalf("token of the key the concurrent refresh loaded: %v", err)
	}
	if calls.Load() != 2 || iss.JWKSHits() != 2 {
		t.Fatalf("%d unknown kids, %d fetches; want 2, 2", calls.Load(), iss.JWKSHits())
	}
}

// ExampleHooks feeds counters, the way a metrics library's would be fed,
// from the key cache's hooks.
func ExampleHooks() {
	iss, err := authtest.NewIssuer(authtest.WithAlgorithm("ES256"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer iss.Close()

	var refreshes, refreshFailures, skippedKeys, unknownKIDs, cooldownHits atomic.Int64
	hooks := core.Hooks{
		OnRefresh: func(r core.RefreshInfo) {
			refreshes.Add(1)
			if r.Err != nil {
				refreshFailures.Add(1) // r.Err says why; the last good keys were kept
			}
		},
		OnKeySkipped: func(kid string, reason error) { skippedKeys.Add(1) },
		OnUnknownKID: func() { unknownKIDs.Add(1) },
		OnCooldown:   func() { cooldownHits.Add(1) },
	}
	v, err := core.New(context.Background(),
		core.WithIssuer(iss.URL),
		core.WithAudiences(authtest.DefaultAudience),
		core.WithHooks(hooks),
		core.WithLogger(slog.New(slog.DiscardHandler)),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer v.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := v.Ready(ctx); err != nil {
		fmt.Println(err)
		return
	}

	// Two tokens under a kid the JWKS does not list: the first refreshes
	// the keys, the second arrives within the cooldown and fails at once.
	for range 2 {
		tok, _ := iss.Mint(nil, authtest.Header("kid", "not-published"))
		_, err := v.Verify(context.Background(), tok)
		fmt.Println(errors.Is(err, core.ErrUnknownKey))
	}
	fmt.Println(refreshes.Load(), refreshFailures.Load(), skippedKeys.Load(), unknownKIDs.Load(), cooldownHits.Load())
	// Output:
	// true
	// true
	// 2 0 0 2 1
}

// A provider that moves its JWKS says so in its discovery document. A
// verifier that discovered the old URL must find the new one once the old
// one fails, not answer 503 until restarted.
func TestMovedJWKSIsDiscoveredAgain(t *testing.T) {
	iss := authtest.MustIssuer(t, authtest.WithAlgorithm("ES256"))
	v := rediscoveryVerifier(t, iss)
	moveKeys(iss)
	iss.SetFault(authtest.FaultNotFound) // the old /jwks is gone
	// The first unknown kid fetches the old URL and fails (503); the
	// next attempt, a cooldown later, discovers the new one.
	rotateUntilServed(t, iss, v, nil, "the token of the moved JWKS to be accepted")
	if hits := iss.DiscoveryHits(); hits != 2 {
		t.Errorf("discovery fetched %d times, want 2 (start-up, then once after the move)", hits)
	}
}

// Rediscovery must never make discovery a dependency of every refresh: with
// discovery broken, a JWKS endpoint that recovers from an outage is used
// again, and an outage (5xx) retries the known URL without asking
// discovery at all.
func TestDiscoveryOutageDoesNotBlockAKnownJWKS(t *testing.T) {
	iss := authtest.MustIssuer(t, authtest.WithAlgorithm("ES256"))
	v := rediscoveryVerifier(t, iss)
	discovered := iss.DiscoveryHits()
	iss.SetDiscovery("issuer", "https://elsewhere.example") // discovery now refused
	iss.SetFault(authtest.Fault500)                         // and the JWKS has an outage
	rotateUntilServed(t, iss, v, func() { iss.SetFault(authtest.FaultNone) }, "the recovered JWKS's new key to load")
	if n := iss.DiscoveryHits() - discovered; n != 0 {
		t.Errorf("a 5xx outage made %d discovery requests, want 0 (an outage is not a move)", n)
	}
}

// A JWKS host that no longer resolves is a move, as a 404 is: discovery is
// asked again and a new jwks_uri is followed.
func TestJWKSHostGoneIsDiscoveredAgain(t *testing.T) {
	iss := authtest.MustIssuer(t, authtest.WithAlgorithm("ES256"))
	var gone atomic.Bool
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if gone.Load() && r.URL.Path == "/jwks" {
			return nil, &net.DNSError{Err: "no such host", Name: "old-keys.example", IsNotFound: true}
		}
		return http.DefaultTransport.RoundTrip(r)
	})}
	v := rediscoveryVerifier(t, iss, core.WithHTTPClient(client))
	moveKeys(iss)
	gone.Store(true)
	rotateUntilServed(t, iss, v, nil, "the keys on their new host to load")
}

// rediscoveryVerifier is a verifier that discovers iss's JWKS URL, with
// a one-second unknown-kid cooldown so that a second attempt comes soon.
func rediscoveryVerifier(t *testing.T, iss *authtest.Issuer, opts ...core.Option) *core.Verifier {
	t.Helper()
	return newVerifier(t, iss, append([]core.Option{core.WithAudiences(authtest.DefaultAudience),
		core.WithUnknownKIDCooldown(time.Second), core.WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
}

// moveKeys serves iss's JWKS at /keys-v2 too, and names that URL in its
// discovery document.
func moveKeys(iss *authtest.Issuer) {
	iss.Handle("GET /keys-v2", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(iss.JWKS())
	}))
	iss.SetDiscovery("jwks_uri", iss.URL+"/keys-v2")
}

// rotateUntilServed rotates iss's key and checks that the first token of
// the new key gets 503 (its JWKS cannot be fetched now); then, after heal
// (when not nil), that the token is accepted within 5 s.
func rotateUntilServed(t *testing.T, iss *authtest.Issuer, v *core.Verifier, heal func(), what string) {
	t.Helper()
	if _, err := iss.Rotate("ES256"); err != nil {
		t.Fatal(err)
	}
	tok := iss.MustMint(t, nil)
	_, err := v.Verify(context.Background(), tok)
	wantErr(t, err, core.ErrKeysUnavailable, http.StatusServiceUnavailable)
	if heal != nil {
		heal()
	}
	waitFor(t, 5*time.Second, func() bool {
		_, err := v.Verify(context.Background(), tok)
		return err == nil
	}, what)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// publishSharedKID publishes keys, all under the kid of iss's signing key, after
// that key (as extra JWKs, so that SetExtraJWKs can withdraw them again).
func publishSharedKID(t *testing.T, iss *authtest.Issuer, keys ...*authtest.Key) {
	t.Helper()
	raw := make([]json.RawMessage, len(keys))
	for i, k := range keys {
		k.ID = iss.SigningKey().ID
		raw[i] = jwkOf(t, k, k.ID, nil)
	}
	iss.SetExtraJWKs(raw...)
}

// RFC 7517 §4.5 makes distinct kids a SHOULD only: a token signed by any
// key of a kid that several keys share verifies, and a token that no such
// key verified is refused as a bad signature, not an unknown key.
func TestKeysSharingAKID(t *testing.T) {
	t.Parallel()
	iss := authtest.MustIssuer(t) // RS256
	first, second := iss.SigningKey(), newKey(t, "RS256")
	publishSharedKID(t, iss, second)
	e := startVerifier(t, iss)
	e.ready()
	stranger := newKey(t, "RS256") // published by nobody
	stranger.ID = first.ID

	tests := []struct {
		name string
		by   *authtest.Key
		want error // nil: verifies
	}{
		{"signed by the first key of the kid", first, nil},
		{"signed by the second key of the kid", second, nil},
		{"signed by no key of the kid", stranger, core.ErrSignatureInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := iss.MustMint(t, nil, authtest.SignedBy(tc.by))
			p, err := e.v.Verify(context.Background(), tok)
			if tc.want != nil {
				wantErr(t, err, tc.want, http.StatusUnauthorized)
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if p.KeyID != first.ID {
				t.Fatalf("KeyID %q, want %q", p.KeyID, first.ID)
			}
		})
	}
	if n := e.probe.unknown.Load(); n != 0 {
		t.Fatalf("%d unknown-kid lookups; a shared kid is a known one", n)
	}
}

// At most MaxKeysPerKID keys may share a kid: the ones after them are
// skipped at load with their reason, and never verify, so that a refused
// token costs at most that many signature checks.
func TestKeysSharingAKIDAreBounded(t *testing.T) {
	t.Parallel()
	bound := jwks.MaxKeysPerKID
	iss := p256Issuer(t) // ES256: quick keys
	keys := []*authtest.Key{iss.SigningKey()}
	for range bound { // bound+1 keys in all
		keys = append(keys, newKey(t, "ES256"))
	}
	publishSharedKID(t, iss, keys[1:]...)
	e := startVerifier(t, iss)
	e.ready()

	if ri := e.probe.last(t); ri.Keys != bound || ri.Skipped != 1 {
		t.Fatalf("refresh loaded %d keys, skipped %d; want %d and 1", ri.Keys, ri.Skipped, bound)
	}
	skipped := e.probe.Skipped()
	if len(skipped) != 1 || skipped[0].kid != keys[0].ID || !errors.Is(skipped[0].reason, jwks.ErrKIDShared) {
		t.Fatalf("skipped %v, want the last key of kid %q for ErrKIDShared", skipped, keys[0].ID)
	}
	if n := e.logs.find(slog.LevelWarn, "key skipped", "kid", keys[0].ID); n != 1 {
		t.Fatalf("%d warnings for the skipped key, want 1", n)
	}
	for i, k := range keys {
		t.Run(fmt.Sprintf("key %d of %d", i+1, len(keys)), func(t *testing.T) {
			_, err := e.v.Verify(context.Background(), iss.MustMint(t, nil, authtest.SignedBy(k)))
			if i < bound {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			wantErr(t, err, core.ErrSignatureInvalid, http.StatusUnauthorized)
		})
	}
}
