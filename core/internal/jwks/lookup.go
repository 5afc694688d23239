package jwks

import (
	"context"
	"time"
)

// Usable returns the current key set, or nil when none was ever loaded or
// the last success is older than the staleness bound.
func (k *Cache) Usable(now time.Time) *Set {
	s := k.set.Load()
	if s == nil || now.Sub(s.FetchedAt()) > k.cfg.MaxStale {
		return nil
	}
	return s
}

// find looks kid up in the usable keys. ok is false when the key set has to
// be consulted anew: the kid is unknown, or no usable set is loaded.
func (k *Cache) find(kid, alg string, kind Kind, now time.Time) (keys Candidates, ok bool, err error) {
	s := k.Usable(now)
	if s == nil {
		return keys, false, nil
	}
	keys, found := s.Lookup(kid, kind, alg)
	switch {
	case keys.Len() > 0:
		return keys, true, nil
	case found:
		// The kid is known but its keys are for another algorithm: not a
		// rotation, so no refresh.
		return keys, true, ErrKeyMismatch
	}
	return keys, false, nil
}

// Lookup finds the keys a token may be verified with (see the rules on
// Cache, and MaxKeysPerKID for a kid that several keys share); on
// success there is at least one. It never blocks on a fetch for a kid that
// is cached and usable.
func (k *Cache) Lookup(ctx context.Context, kid, alg string, kind Kind, now time.Time) (Candidates, error) {
	if keys, ok, err := k.find(kid, alg, kind, now); ok {
		return keys, err
	}
	if h := k.cfg.Hooks.OnUnknownKID; h != nil {
		h()
	}
	k.mu.Lock()
	// A refresh may have completed since the look above.
	if keys, ok, err := k.find(kid, alg, kind, now); ok {
		k.mu.Unlock()
		return keys, err
	}
	if k.stopped || k.ctx.Err() != nil {
		k.mu.Unlock()
		return Candidates{}, unavailable(ErrStopped, int(k.cfg.Cooldown/time.Second))
	}
	f := k.flight
	if f == nil {
		if k.coolingLocked(now) {
			err := k.missError(now, k.lastErr)
			k.mu.Unlock()
			if h := k.cfg.Hooks.OnCooldown; h != nil {
				h()
			}
			return Candidates{}, err
		}
		k.lastUnknown = now
		f = k.startLocked(ReasonUnknownKID)
		if f.err == nil {
			k.log.Debug("jwksauth: unknown kid, refreshing the JWKS", "url", k.url(), "kid", kid)
		}
	}
	k.mu.Unlock()
	// Join the flight: it ends within the fetch timeout, and the request
	// stops waiting when its own context ends.
	select {
	case <-f.done:
	case <-ctx.Done():
		return Candidates{}, unavailable(ctx.Err(), 1)
	}
	if keys, ok, err := k.find(kid, alg, kind, now); ok {
		return keys, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return Candidates{}, k.missError(now, f.err)
}

// coolingLocked reports whether an unknown kid started a refresh within the
// cooldown before now.
func (k *Cache) coolingLocked(now time.Time) bool {
	return !k.lastUnknown.IsZero() && now.Sub(k.lastUnknown) < k.cfg.Cooldown
}

// missError is the answer for a kid that is not among the usable keys, once
// the provider was consulted (or may not be yet): with no usable keys, or
// after a failed fetch, it is an outage (503 with Retry-After); after a
// successful fetch the key is unknown (401). Retry-After is the time left in
// the cooldown (1 s when none is running): when a retry could see a new
// answer. Called with k.mu held.
func (k *Cache) missError(now time.Time, fetchErr error) error {
	if fetchErr == nil && k.Usable(now) != nil {
		return ErrUnknownKey
	}
	cause := fetchErr
	if cause == nil {
		cause = ErrKeysStale
		if k.set.Load() == nil {
			cause = ErrNotLoadedYet
		}
	}
	retry := time.Second
	if k.coolingLocked(now) {
		retry = k.cfg.Cooldown - now.Sub(k.lastUnknown)
	}
	return unavailable(cause, int((retry+time.Second-1)/time.Second))
}

// Current returns the last key set loaded, usable or not, or nil.
func (k *Cache) Current() *Set { return k.set.Load() }
