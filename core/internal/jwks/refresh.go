package jwks

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"
)

// loop loads the keys at start-up, retrying with backoff, then refreshes
// them ahead of expiry until the context ends.
func (k *Cache) loop() {
	defer k.shutdown()
	backoff := k.cfg.FirstBackoff()
	for {
		f := k.refresh(ReasonScheduled)
		select {
		case <-f.done:
		case <-k.ctx.Done():
			return
		}
		var wait time.Duration
		if f.err != nil {
			wait = jitter(backoff)
			backoff = min(backoff*2, k.cfg.MaxBackoff())
		} else {
			backoff = k.cfg.FirstBackoff()
			wait = k.cfg.NextRefresh(f.lifetime)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-k.ctx.Done():
			t.Stop()
			return
		}
	}
}

// FirstBackoff is the wait before the first retry of a failed fetch: 1 s,
// or the refresh floor when that is shorter.
func (c *Config) FirstBackoff() time.Duration { return min(time.Second, c.MinRefresh) }

// MaxBackoff caps the doubling retry wait: 1 min, or the refresh ceiling when
// that is shorter (a failing provider is never polled less often than a
// healthy one).
func (c *Config) MaxBackoff() time.Duration {
	return max(min(time.Minute, c.MaxRefresh), c.FirstBackoff())
}

// NextRefresh is the wait after a successful fetch whose answer was fresh
// for lifetime (<0: the provider said nothing). It is held to a quarter of
// the staleness bound: keys go stale MaxStale after the last successful
// fetch, so a provider's long max-age (a JWKS served as a static file for
// a year) must not put the next refresh near that edge, where an outage
// would leave almost no time on cached keys. The floor still wins over
// that, when a configuration sets the two close together.
func (c *Config) NextRefresh(lifetime time.Duration) time.Duration {
	d := c.RefreshInterval
	if lifetime >= 0 {
		d = min(max(lifetime, c.MinRefresh), c.MaxRefresh)
	}
	if limit := c.MaxStale / 4; d > limit {
		d = max(limit, c.MinRefresh)
	}
	return jitter(d)
}

// jitter shortens d by a random amount of up to a tenth, so that a fleet
// started together does not refresh in step, and a refresh always comes
// before the provider's max-age runs out.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return d
	}
	return d - time.Duration(rand.Int64N(int64(d/10)+1))
}

// refresh starts a fetch, or joins the one in flight.
func (k *Cache) refresh(reason Reason) *flight {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.startLocked(reason)
}

// startLocked returns the flight in progress, or starts one. Once the cache
// is closed it returns a flight that has already failed.
func (k *Cache) startLocked(reason Reason) *flight {
	if k.flight != nil {
		return k.flight
	}
	f := &flight{done: make(chan struct{}), lifetime: -1}
	// lookup refuses to start a fetch once the cache is stopped; this
	// check keeps flights.Add from ever racing shutdown's Wait whatever
	// the caller.
	if k.stopped || k.ctx.Err() != nil {
		f.err = ErrStopped
		close(f.done)
		return f
	}
	k.flight = f
	k.flights.Add(1)
	go k.run(f, reason)
	return f
}

// run performs one fetch. The new set (on success) is in place and the
// hooks have run before the flight is cleared; Ready and the flight's
// waiters are released after that. A request that arrives while the hooks
// run shares the flight's outcome, as if it had arrived a moment earlier.
func (k *Cache) run(f *flight, reason Reason) {
	defer k.flights.Done()
	start := time.Now()
	n, skipped, lifetime, err := k.fetch()
	k.report(reason, n, skipped, err, time.Since(start))
	k.mu.Lock()
	k.flight = nil
	k.lastErr = err
	k.mu.Unlock()
	if err == nil {
		k.readyOn.Do(func() { close(k.ready) })
	}
	f.err, f.lifetime = err, lifetime
	close(f.done)
}

// report logs one fetch and calls the hooks. Fetches never overlap, so the
// fields it keeps need no lock.
func (k *Cache) report(reason Reason, n int, skipped []Skipped, err error, took time.Duration) {
	url := k.url()
	seen := make(map[string]struct{}, len(skipped))
	for _, s := range skipped {
		id := s.KID + "\x00" + s.Err.Error()
		seen[id] = struct{}{}
		level := slog.LevelWarn
		if _, again := k.lastSkip[id]; again {
			level = slog.LevelDebug // already reported at Warn by the previous fetch
		}
		k.log.Log(context.Background(), level, "jwksauth: JWKS key skipped", "url", url, "kid", s.KID, "err", s.Err)
		if h := k.cfg.Hooks.OnKeySkipped; h != nil {
			h(s.KID, s.Err)
		}
	}
	if skipped != nil || err == nil {
		k.lastSkip = seen
	}
	switch {
	case err != nil:
		k.failing = true
		if k.ctx.Err() == nil {
			msg := "jwksauth: JWKS refresh failed; keeping the last good keys"
			if !k.loaded {
				msg = "jwksauth: JWKS load failed; requests answer 503 until it succeeds"
			}
			k.log.Warn(msg, "url", url, "reason", string(reason), "err", err)
		}
	case !k.loaded || k.failing:
		msg := "jwksauth: JWKS loaded"
		if k.loaded {
			msg = "jwksauth: JWKS refreshed after failures"
		}
		k.loaded, k.failing = true, false
		k.log.Info(msg, "url", url, "reason", string(reason), "keys", n, "skipped", len(skipped))
	default:
		k.log.Debug("jwksauth: JWKS refreshed", "url", url, "reason", string(reason), "keys", n, "skipped", len(skipped))
	}
	if h := k.cfg.Hooks.OnRefresh; h != nil {
		h(Refresh{URL: url, Reason: reason, Keys: n, Skipped: len(skipped), Err: err, Duration: took})
	}
}
