package core

import (
	"time"
)

// RefreshInfo describes one JWKS fetch, for Hooks.OnRefresh.
type RefreshInfo struct {
	// Issuer is the issuer whose keys were fetched: the Verifier's, or one
	// of a many-issuer Verifier's (WithIssuers, WithIssuerResolver).
	Issuer   string
	URL      string
	Reason   RefreshReason
	Keys     int   // usable keys loaded (0 on failure)
	Skipped  int   // keys skipped as unusable
	Err      error // nil on success; the last good keys were kept otherwise
	Duration time.Duration
}

// RefreshReason is why a JWKS fetch ran: a fixed set, safe as a metric label.
type RefreshReason string

// The reasons of RefreshInfo.
const (
	// RefreshScheduled: the start-up load, its retries, and the scheduled
	// refreshes (Cache-Control max-age, or WithRefreshInterval).
	RefreshScheduled RefreshReason = "scheduled"
	// RefreshUnknownKID: a token named a kid the loaded keys lack.
	RefreshUnknownKID RefreshReason = "unknown kid"
)

// VerifyInfo describes one verification, for Hooks.OnVerify.
type VerifyInfo struct {
	Err      error // nil when the token was accepted; classify with errors.Is
	CacheHit bool  // answered from the verified-token cache
	// Issuer is the accepted token's issuer ("" for a refusal: an unverified
	// iss is not a safe metric label).
	Issuer string
}

// Hooks observe a Verifier, for metrics. Every field is optional. Hooks run
// synchronously on the request or refresh goroutine: keep them cheap.
// A hook must not call Close (Close waits for the refresh goroutine).
type Hooks struct {
	// OnRefresh is called after every JWKS fetch, successful or not: the
	// start-up load and its retries, scheduled refreshes, and refreshes
	// started by an unknown kid.
	OnRefresh func(RefreshInfo)
	// OnKeySkipped is called, for each fetch that got a JWK Set, once per
	// key the verifier cannot use, with the key's kid ("" when it has
	// none) and the reason.
	OnKeySkipped func(kid string, reason error)
	// OnUnknownKID is called when a token's kid is not among the usable
	// keys (unknown, or no fresh enough key set is loaded), before the
	// cooldown decides whether it may start a refresh.
	OnUnknownKID func()
	// OnCooldown is called when such a token is answered at once because
	// an unknown kid already started a refresh within the cooldown.
	OnCooldown func()
	// OnVerify is called once per verification, with its outcome.
	OnVerify func(VerifyInfo)
}

func (v *Verifier) observed(p *Principal, err error, hit bool) {
	if h := v.cfg.hooks.OnVerify; h != nil {
		info := VerifyInfo{Err: err, CacheHit: hit}
		if err == nil && p != nil {
			info.Issuer = p.Issuer
		}
		h(info)
	}
}
