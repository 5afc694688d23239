package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwksauth/jwksauth/core/authtest"
)

// The verified-token cache (core/tokencache.go). verifier_test.go's
// TestTokenCache* cover the basic hit, expiry and removed keys; these cover
// the rest (docs/security.md, "The verified-token cache"): the syntax check skipped on hits only, time claims
// in both directions, the sweep when a key leaves the JWKS, the bounds and
// eviction, concurrency, failures, and the memory an entry really holds.

// hitCounter counts OnVerify outcomes, and successful JWKS refreshes.
// failedHits counts failures reported as cache hits, which must never
// happen.
type hitCounter struct{ hits, misses, failures, failedHits, refreshes atomic.Int64 }

func (h *hitCounter) hooks() Hooks {
	return Hooks{OnVerify: func(i VerifyInfo) {
		switch {
		case i.Err != nil && i.CacheHit:
			h.failedHits.Add(1)
		case i.Err != nil:
			h.failures.Add(1)
		case i.CacheHit:
			h.hits.Add(1)
		default:
			h.misses.Add(1)
		}
	}, OnRefresh: func(i RefreshInfo) {
		if i.Err == nil {
			h.refreshes.Add(1)
		}
	}}
}

func bearerRequest(t *testing.T, header string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(http.MethodGet, "/notes", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Authorization", header)
	return r
}

// cacheAccounting returns how many verified tokens v caches and the bytes
// the cache accounts for them. ok is false when the accounted bytes differ
// from the sum of the entries' sizes or exceed the bound, which can only be
// checked while no verification runs.
func cacheAccounting(v *Verifier) (entries int, bytes int64, ok bool) {
	c := v.cache
	if c == nil {
		return 0, 0, true
	}
	var sum int64
	for b := range c.buckets {
		for i := range c.buckets[b].slots[:c.ways] {
			if e := c.buckets[b].slots[i].Load(); e != nil {
				entries++
				sum += int64(e.size)
			}
		}
	}
	bytes = c.bytes.Load()
	return entries, bytes, bytes == sum && bytes <= c.maxBytes
}

// cacheLen is how many verified tokens v caches.
func cacheLen(v *Verifier) int {
	if v.cache == nil {
		return 0
	}
	return v.cache.len()
}

// cacheSlots is the number of slots of v's cache table.
func cacheSlots(v *Verifier) int {
	if v.cache == nil {
		return 0
	}
	return len(v.cache.buckets) * v.cache.ways
}

// cacheStats is cacheAccounting, failing t when the accounting is off.
func cacheStats(t *testing.T, v *Verifier) (int, int64) {
	t.Helper()
	n, bytes, ok := cacheAccounting(v)
	if !ok {
		t.Fatalf("cache accounting inconsistent: %d entries, %d bytes accounted", n, bytes)
	}
	return n, bytes
}

func TestTokenCacheHitSkipsOnlyWhatAVerifiedTokenPasses(t *testing.T) {
	iss := authtest.MustIssuer(t, authtest.WithAlgorithm("ES256"))
	var count hitCounter
	v := newVerifier(t, iss, WithAudiences(authtest.DefaultAudience), WithHooks(count.hooks()))
	tok := iss.MustMint(t, nil)
	ctx := context.Background()

	first, err := v.Authenticate(ctx, FromHTTP(bearerRequest(t, "Bearer "+tok)))
	if err != nil {
		t.Fatal(err)
	}
	again, err := v.Authenticate(ctx, FromHTTP(bearerRequest(t, "bearer   "+tok)))
	if err != nil {
		t.Fatal(err)
	}
	if again != first || count.hits.Load() != 1 || count.misses.Load() != 1 {
		t.Fatalf("second request: same principal %v, hits %d, misses %d; want a hit on the first one's principal",
			again == first, count.hits.Load(), count.misses.Load())
	}

	for _, tc := range []struct {
		name   string
		header string
		want   error
		status int
	}{
		{"b64token character appended", "Bearer " + tok + "~", ErrTokenMalformed, http.StatusUnauthorized},
		{"padding appended", "Bearer " + tok + "=", ErrTokenMalformed, http.StatusUnauthorized},
		{"character outside b64token", "Bearer " + tok[:10] + "!" + tok[11:], ErrInvalidRequest, http.StatusBadRequest},
		{"inner space", "Bearer " + tok[:10] + " " + tok[10:], ErrInvalidRequest, http.StatusBadRequest},
		{"trailing tab", "Bearer " + tok + "\t", ErrInvalidRequest, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hits := count.hits.Load()
			_, err := v.Authenticate(ctx, FromHTTP(bearerRequest(t, tc.header)))
			wantErr(t, err, tc.want, tc.status)
			if count.hits.Load() != hits {
				t.Fatal("a token other than the cached one was answered from the cache")
			}
		})
	}

	t.Run("a malformed header is reported before a second credential", func(t *testing.T) {
		v := newVerifier(t, iss, WithAudiences(authtest.DefaultAudience), WithCookieToken("at"))
		for _, tc := range []struct {
			name   string
			header string
			want   error
		}{
			{"malformed header and a cookie", "Bearer " + tok[:10] + "!" + tok[11:], ErrInvalidRequest},
			{"well-formed header and a cookie", "Bearer " + tok, ErrMultipleCredentials},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := bearerRequest(t, tc.header)
				r.AddCookie(&http.Cookie{Name: "at", Value: tok})
				_, err := v.Authenticate(ctx, FromHTTP(r))
				wantErr(t, err, tc.want, http.StatusBadRequest)
			})
		}
	})
}

func TestTokenCacheRechecksTimeOnEveryHit(t *testing.T) {
	iss := authtest.MustIssuer(t, authtest.WithAlgorithm("ES256"))
	start := time.Now()
	var offset atomic.Int64 // of the verifier's clock from start
	clock := func() time.Time { return start.Add(time.Duration(offset.Load())) }
	var count hitCounter
	v := newVerifier(t, iss, WithAudiences(authtest.DefaultAudience), WithClock(clock),
		WithLeeway(10*time.Second), WithHooks(count.hooks()))
	// No iat: whatever the clock, only exp and nbf can refuse the token.
	tok := iss.MustMint(t, authtest.Claims{"nbf": start.Unix(), "exp": start.Add(time.Minute).Unix(), "iat": authtest.Omit})
	ctx := context.Background()
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name   string
		offset time.Duration // from start
		want   error         // nil: a hit
	}{
		{"inside the lifetime", 30 * time.Second, nil},
		{"after exp, within the leeway", 65 * time.Second, nil},
		{"before nbf, within the leeway", -5 * time.Second, nil},
		{"before nbf, beyond the leeway (clock set back)", -time.Minute, ErrTokenNotYetValid},
		{"after exp, beyond the leeway", 71 * time.Second, ErrTokenExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Cache the token again at start, then move the clock.
			offset.Store(0)
			if _, err := v.Verify(ctx, tok); err != nil {
				t.Fatal(err)
			}
			offset.Store(int64(tc.offset))
			hits := count.hits.Load()
			_, err := v.Verify(ctx, tok)
			if tc.want == nil {
				if err != nil || count.hits.Load() != hits+1 {
					t.Fatalf("err %v, hit %v; want a hit", err, count.hits.Load() == hits+1)
				}
				return
			}
			wantErr(t, err, tc.want, http.StatusUnauthorized)
			if n, _ := cacheStats(t, v); n != 0 {
				t.Fatalf("%d entries after the token went out of its time window, want it dropped", n)
			}
		})
	}
}

func TestTokenCacheDropsEntriesOfRemovedKeys(t *testing.T) {
	iss := authtest.MustIssuer(t, authtest.WithAlgorithm("ES256"))
	iss.SetCacheControl("max-age=0")
	var count hitCounter
	v := newVerifier(t, iss, WithAudiences(authtest.DefaultAudience), WithHooks(count.hooks()),
		WithRefreshBounds(20*time.Millisecond, time.Second))
	ctx := context.Background()

	old := iss.SigningKey()
	oldTok := iss.MustMint(t, nil)
	if _, err := v.Verify(ctx, oldTok); err != nil {
		t.Fatal(err)
	}
	if _, err := iss.Rotate("ES256"); err != nil {
		t.Fatal(err)
	}
	newTok := iss.MustMint(t, nil)

	t.Run("refreshes that keep the key keep the entry", func(t *testing.T) {
		waitRefreshes(t, &count.refreshes)
		hits := count.hits.Load()
		if _, err := v.Verify(ctx, oldTok); err != nil {
			t.Fatal(err)
		}
		if count.hits.Load() != hits+1 {
			t.Fatal("the entry of a key still published was lost on refresh")
		}
	})

	t.Run("the first verification after the key left drops its entries", func(t *testing.T) {
		iss.Retire(old.ID)
		waitRefreshes(t, &count.refreshes)
		// Verify another token: its miss notices the new key set and
		// sweeps, without oldTok being presented again.
		if _, err := v.Verify(ctx, newTok); err != nil {
			t.Fatal(err)
		}
		if n, _ := cacheStats(t, v); n != 1 {
			t.Fatalf("%d entries, want 1 (the new key's token only)", n)
		}
		_, err := v.Verify(ctx, oldTok)
		if !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("token of a retired key: err %v, want ErrUnknownKey", err)
		}
	})
}

// waitRefreshes waits for two more successful JWKS refreshes, as refreshes
// counts them: one that may have started before the change, one after.
func waitRefreshes(t *testing.T, refreshes *atomic.Int64) {
	t.Helper()
	n := refreshes.Load()
	deadline := time.Now().Add(5 * time.Second)
	for refreshes.Load() < n+2 {
		if time.Now().After(deadline) {
			t.Fatal("no JWKS refresh within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// mintMany mints n tokens that differ only by jti, with extra claims.
func mintMany(t *testing.T, iss *authtest.Issuer, n int, extra func(i int) authtest.Claims) []string {
	t.Helper()
	toks := make([]string, n)
	for i := range toks {
		c := authtest.Claims{"jti": fmt.Sprintf("token-%d", i), "scope": "example:note:read example:note:create"}
		if extra != nil {
			for k, val := range extra(i) {
				c[k] = val
			}
		}
		toks[i] = iss.MustMint(t, c)
	}
	return toks
}

// accountedSize is the size the cache accounts for tok's entry, as a
// verifier of iss with the default bounds caches it.
func accountedSize(t *testing.T, iss *authtest.Issuer, tok string) int64 {
	t.Helper()
	p, err := newVerifier(t, iss, WithAudiences(authtest.DefaultAudience)).Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	return entrySize(p)
}

func TestTokenCacheBounds(t *testing.T) {
	iss := authtest.MustIssuer(t, authtest.WithAlgorithm("ES256"))
	toks := mintMany(t, iss, 64, nil)
	ctx := context.Background()

	// The accounted size of one of these entries, from an unbounded cache.
	entry := accountedSize(t, iss, toks[0])

	for _, tc := range []struct {
		name       string
		entries    int
		bytes      int64
		maxEntries int
	}{
		{"by entries", 16, 1 << 20, 16},
		{"by entries, fewer than a bucket", 3, 1 << 20, 3},
		{"by bytes", 1000, 4*entry + entry/2, 4},
		{"an entry larger than the byte bound is not cached", 1000, entry - 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerifier(t, iss, WithAudiences(authtest.DefaultAudience), WithTokenCache(tc.entries, tc.bytes))
			for round := range 2 {
				for i, tok := range toks {
					if _, err := v.Verify(ctx, tok); err != nil {
						t.Fatalf("round %d, token %d: %v", round, i, err)
					}
					n, bytes := cacheStats(t, v)
					if n > tc.maxEntries || bytes > tc.bytes {
						t.Fatalf("after token %d: %d entries and %d bytes, bound %d entries and %d bytes",
							i, n, bytes, tc.maxEntries, tc.bytes)
					}
				}
			}
			if n, _ := cacheStats(t, v); tc.maxEntries > 0 && n == 0 {
				t.Fatal("nothing cached")
			}
		})
	}
}

func TestTokenCacheEvictsTheEntryThatExpiresFirst(t *testing.T) {
	iss := authtest.MustIssuer(t, authtest.WithAlgorithm("ES256"))
	var count hitCounter
	// Eight entries are one bucket: every token competes for its slots.
	v := newVerifier(t, iss, WithAudiences(authtest.DefaultAudience), WithTokenCache(8, 1<<20),
		WithHooks(count.hooks()))
	now := time.Now()
	// Token i expires i+1 hours from now; the ninth expires last.
	toks := mintMany(t, iss, 9, func(i int) authtest.Claims {
		return authtest.Claims{"exp": now.Add(time.Duration(i+1) * time.Hour).Unix()}
	})
	ctx := context.Background()
	for _, tok := range toks {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	hits := count.hits.Load()
	for _, tok := range toks[1:] {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if got := count.hits.Load() - hits; got != 8 {
		t.Fatalf("%d of the 8 later-expiring tokens were hits, want all", got)
	}
	misses := count.misses.Load()
	if _, err := v.Verify(ctx, toks[0]); err != nil {
		t.Fatal(err)
	}
	if count.misses.Load() != misses+1 {
		t.Fatal("the token expiring first was still cached; it should have been evicted")
	}
}

func TestTokenCacheNeverCachesFailures(t *testing.T) {
	iss := authtest.MustIssuer(t, authtest.WithAlgorithm("ES256"))
	var count hitCounter
	v := newVerifier(t, iss, WithAudiences(authtest.DefaultAudience), WithHooks(count.hooks()))
	stranger, err := authtest.NewKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	good := iss.MustMint(t, nil)
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		token string
		want  error
	}{
		{"forged signature", iss.MustMint(t, nil, authtest.SignedBy(stranger), authtest.Header("kid", iss.SigningKey().ID)), ErrSignatureInvalid},
		{"expired", iss.MustMint(t, authtest.Claims{"exp": time.Now().Add(-time.Hour).Unix()}), ErrTokenExpired},
		{"not yet valid", iss.MustMint(t, authtest.Claims{"nbf": time.Now().Add(time.Hour).Unix()}), ErrTokenNotYetValid},
		{"wrong audience", iss.MustMint(t, authtest.Claims{"aud": "another-api"}), ErrAudienceInvalid},
		{"wrong issuer", iss.MustMint(t, authtest.Claims{"iss": "https://other.example"}), ErrIssuerInvalid},
		{"no exp", iss.MustMint(t, authtest.Claims{"exp": authtest.Omit}), ErrMissingClaim},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 3 {
				_, err := v.Verify(ctx, tc.token)
				wantErr(t, err, tc.want, http.StatusUnauthorized)
			}
			if n, _ := cacheStats(t, v); n != 0 {
				t.Fatalf("%d entries after failures only", n)
			}
		})
	}
	if count.hits.Load() != 0 || count.misses.Load() != 0 || count.failedHits.Load() != 0 {
		t.Fatalf("hits %d, successes %d, failed hits %d after failures only",
			count.hits.Load(), count.misses.Load(), count.failedHits.Load())
	}
	if _, err := v.Verify(ctx, good); err != nil {
		t.Fatal(err)
	}
	if n, _ := cacheStats(t, v); n != 1 {
		t.Fatalf("%d entries after one success, want 1", n)
	}

	t.Run("WithoutTokenCache", func(t *testing.T) {
		var count hitCounter
		v := newVerifier(t, iss, WithAudiences(authtest.DefaultAudience), WithoutTokenCache(), WithHooks(count.hooks()))
		for range 3 {
			if _, err := v.Verify(ctx, good); err != nil {
				t.Fatal(err)
			}
		}
		if count.hits.Load() != 0 || count.misses.Load() != 3 {
			t.Fatalf("hits %d, misses %d with the cache off", count.hits.Load(), count.misses.Load())
		}
	})
}

// TestTokenCacheConcurrency runs hits of one hot token, inserts and both
// kinds of eviction, and key-set changes (sweeps) at once; -race checks the
// lock-free reads against the writers.
func TestTokenCacheConcurrency(t *testing.T) {
	iss := authtest.MustIssuer(t, authtest.WithAlgorithm("ES256"))
	iss.SetCacheControl("max-age=0")
	toks := mintMany(t, iss, 120, nil)
	ctx := context.Background()
	bound := 12 * accountedSize(t, iss, toks[0]) // fewer bytes than the 32 entries hold
	v := newVerifier(t, iss, WithAudiences(authtest.DefaultAudience), WithTokenCache(32, bound),
		WithRefreshBounds(10*time.Millisecond, time.Second))

	var wg sync.WaitGroup
	var failures atomic.Int64
	stop := make(chan struct{})
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				tok := toks[0] // half the workers hit one token
				if w%2 == 1 {
					tok = toks[1+(i*7+w)%(len(toks)-1)]
				}
				if _, err := v.Verify(ctx, tok); err != nil {
					failures.Add(1)
				}
			}
		})
	}
	// Meanwhile, publish and retire keys: every refresh brings a new key
	// set, and retiring a key makes the next verification sweep.
	for range 5 {
		k, err := authtest.NewKey("ES256")
		if err != nil {
			t.Fatal(err)
		}
		iss.AddKey(k, false)
		time.Sleep(30 * time.Millisecond)
		iss.Retire(k.ID)
		time.Sleep(30 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if failures.Load() != 0 {
		t.Fatalf("%d valid tokens refused under concurrency", failures.Load())
	}
	n, bytes := cacheStats(t, v)
	if n == 0 || n > 32 || bytes > bound {
		t.Fatalf("%d entries, %d bytes; bound 32 entries, %d bytes", n, bytes, bound)
	}
}

// TestTokenCacheBytesPerEntry measures, with runtime.MemStats, the heap an
// entry keeps alive, and checks that the byte bound's accounting does not
// undercount it. The numbers are quoted in docs/security.md.
func TestTokenCacheBytesPerEntry(t *testing.T) {
	if testing.Short() {
		t.Skip("mints and verifies a thousand tokens")
	}
	// The benchmark token's claims (iss, aud, exp, scope) plus sub, iat and jti.
	t.Run("typical claims", func(t *testing.T) { measureEntries(t, 1000, nil) })
	// A claim with an escape is unescaped into a new string, which every
	// scope split from it would keep alive whole.
	escaped := "& " + strings.Repeat("x ", 4000) // json.Marshal writes & as \u0026
	t.Run("escaped scopes", func(t *testing.T) {
		measureEntries(t, 300, func(int) authtest.Claims { return authtest.Claims{"scope": escaped} })
	})
}

// measureEntries caches n tokens with the given claims and checks that the
// heap they hold is what the byte bound accounts for them, within 10 %.
func measureEntries(t *testing.T, n int, claims func(i int) authtest.Claims) {
	t.Helper()
	iss := authtest.MustIssuer(t, authtest.WithAlgorithm("ES256"))
	toks := mintMany(t, iss, n, claims)
	v := newVerifier(t, iss, WithAudiences(authtest.DefaultAudience), WithTokenCache(4*n, 1<<30))
	ctx := context.Background()

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, tok := range toks {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	entries, accounted := cacheStats(t, v)
	runtime.KeepAlive(v)
	runtime.KeepAlive(toks)
	p, err := v.Verify(ctx, toks[0])
	if err != nil {
		t.Fatal(err)
	}
	if entries < n*9/10 {
		t.Fatalf("only %d of %d tokens cached", entries, n)
	}
	measured := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(entries)
	perEntry := float64(accounted) / float64(entries)
	t.Logf("claims of %d bytes: %.0f bytes per entry measured, %.0f accounted", len(p.Claims()), measured, perEntry)
	if measured > perEntry*1.1 {
		t.Fatalf("an entry holds %.0f bytes but is accounted %.0f: the byte bound undercounts", measured, perEntry)
	}
	if measured < perEntry/2 {
		t.Fatalf("an entry holds %.0f bytes but is accounted %.0f: the accounting is far off", measured, perEntry)
	}
}

// A cache hit must answer as a fresh verification would. A token without
// kid is verified by the only key of a one-key set; once a second key is
// published, a fresh verification refuses it (which key was meant?), so
// the cached entry must stop answering too, although its key is still in
// the set.
func TestTokenCacheHitSelectsKeyAsAMissWould(t *testing.T) {
	iss := authtest.MustIssuer(t, authtest.WithAlgorithm("ES256"))
	iss.SetCacheControl("max-age=0")
	var refreshes [2]atomic.Int64
	mk := func(n *atomic.Int64, extra ...Option) *Verifier {
		count := WithHooks(Hooks{OnRefresh: func(i RefreshInfo) {
			if i.Err == nil {
				n.Add(1)
			}
		}})
		return newVerifier(t, iss, append([]Option{WithAudiences(authtest.DefaultAudience),
			WithRefreshBounds(10*time.Millisecond, time.Second), count}, extra...)...)
	}
	cached, uncached := mk(&refreshes[0]), mk(&refreshes[1], WithoutTokenCache())
	tok := iss.MustMint(t, nil, authtest.Header("kid", authtest.Omit))
	for _, v := range []*Verifier{cached, uncached} {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatalf("token without kid, one-key set: %v", err)
		}
	}
	second, err := authtest.NewKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	iss.AddKey(second, false)
	seen := [2]int64{refreshes[0].Load(), refreshes[1].Load()}
	deadline := time.Now().Add(5 * time.Second)
	for refreshes[0].Load() < seen[0]+2 || refreshes[1].Load() < seen[1]+2 {
		if time.Now().After(deadline) {
			t.Fatal("no refresh saw the second key")
		}
		time.Sleep(5 * time.Millisecond)
	}
	_, err = uncached.Verify(context.Background(), tok)
	wantErr(t, err, ErrUnknownKey, http.StatusUnauthorized)
	_, err = cached.Verify(context.Background(), tok)
	wantErr(t, err, ErrUnknownKey, http.StatusUnauthorized)
}

// WithTokenCache's entry bound is checked, and the table has no more slots
// than the byte bound can fill.
func TestTokenCacheTableIsBounded(t *testing.T) {
	v, err := New(context.Background(), WithIssuer("https://id.example.com"), WithAudiences("a"),
		WithTokenCache(maxTokenCacheEntries+1, 1<<20))
	if err == nil {
		_ = v.Close()
		t.Fatal("New accepted an entry bound over maxTokenCacheEntries")
	}
	v, err = New(context.Background(), WithIssuer("https://id.example.com"), WithAudiences("a"),
		WithTokenCache(maxTokenCacheEntries, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	// Every entry accounts at least ~416 bytes: 1 MiB holds about 2,500.
	if slots := cacheSlots(v); slots > 4096 {
		t.Fatalf("a 1 MiB cache has a table of %d slots", slots)
	}
}

// Two keys share a kid. The entry of a token stays while the key that
// verified it is published, and goes when that key leaves, even though
// another key of the same kid stays and would pass a lookup by kid alone.
func TestTokenCacheKeysSharingAKID(t *testing.T) {
	iss := authtest.MustIssuer(t) // RS256
	iss.SetCacheControl("max-age=0")
	var count hitCounter
	first := iss.SigningKey()
	second, err := authtest.NewKey("RS256")
	if err != nil {
		t.Fatal(err)
	}
	second.ID = first.ID
	jwk, err := json.Marshal(second.JWK())
	if err != nil {
		t.Fatal(err)
	}
	iss.SetExtraJWKs(jwk)
	v := newVerifier(t, iss, WithAudiences(authtest.DefaultAudience), WithHooks(count.hooks()),
		WithRefreshBounds(20*time.Millisecond, time.Second))
	ctx := context.Background()
	hit := func(t *testing.T, tok string) bool {
		t.Helper()
		hits := count.hits.Load()
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		return count.hits.Load() == hits+1
	}
	tok1 := iss.MustMint(t, nil)
	tok2 := iss.MustMint(t, nil, authtest.SignedBy(second))
	for _, tok := range []string{tok1, tok2} {
		if hit(t, tok) {
			t.Fatal("a first verification was a hit")
		}
	}

	t.Run("refreshes that keep both keys keep both entries", func(t *testing.T) {
		waitRefreshes(t, &count.refreshes)
		if !hit(t, tok1) || !hit(t, tok2) {
			t.Fatal("the entry of a key still published was lost on refresh")
		}
	})

	t.Run("the entry goes with its key, not with its kid", func(t *testing.T) {
		iss.SetExtraJWKs() // a rotation withdraws the second key
		waitRefreshes(t, &count.refreshes)
		// The hit on tok1 notices the new key set and sweeps, without
		// tok2 being presented again.
		if !hit(t, tok1) {
			t.Fatal("the entry of the key that stays was lost")
		}
		if n, _ := cacheStats(t, v); n != 1 {
			t.Fatalf("%d entries, want 1 (the first key's token only)", n)
		}
		_, err := v.Verify(ctx, tok2)
		wantErr(t, err, ErrSignatureInvalid, http.StatusUnauthorized)
		if n := count.failedHits.Load(); n != 0 {
			t.Fatalf("%d refusals answered from the cache", n)
		}
	})
}

func TestTokenCacheBoundAndConcurrency(t *testing.T) {
	iss := authtest.MustIssuer(t, authtest.WithAlgorithm("ES256"))
	// 32 shards: a bound of 64 entries keeps at most 2 per shard.
	v := newVerifier(t, iss, WithAudiences(authtest.DefaultAudience), WithTokenCache(64, 1<<20))
	toks := make([]string, 300)
	for i := range toks {
		toks[i] = iss.MustMint(t, authtest.Claims{"jti": fmt.Sprint(i)})
	}
	var wg sync.WaitGroup
	var failures atomic.Int64
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range toks {
				if _, err := v.Verify(context.Background(), toks[(i+w*7)%len(toks)]); err != nil {
					failures.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if failures.Load() != 0 {
		t.Fatalf("%d valid tokens refused under concurrency", failures.Load())
	}
	if n := cacheLen(v); n > 64 || n == 0 {
		t.Fatalf("cache holds %d entries, want 1..64", n)
	}
}
