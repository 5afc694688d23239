package core

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jwksauth/jwksauth/core/internal/jwks"
)

// Issuer is one issuer a many-issuer Verifier accepts (WithIssuers): its
// exact iss and the options of its own tokens, applied after the
// Verifier's, so that each issuer has its own provider preset, audiences,
// client ids, scope and role claims and JWKS location.
type Issuer struct {
	// URL is the issuer, as for WithIssuer. A preset among Options may set it
	// instead (Cognito, Auth0, EntraID, …); then leave it "".
	URL string
	// Options are the issuer's own options.
	Options []Option
}

// IssuerResolver decides whether a Verifier accepts tokens of an issuer it
// has no fixed entry for, and with which options (see WithIssuerResolver):
// ok false refuses the issuer. It is called at most once at a time per
// issuer, with the token's iss exactly as sent, before any signature is
// checked: it must not fetch anything an attacker names, and should decide
// from a template and an allow-list or policy (EntraMultiTenant is one). An
// error is an outage of the policy's own source: the request answers 503.
type IssuerResolver func(ctx context.Context, iss string) (opts []Option, ok bool, err error)

// Bounds of the table of resolved issuers (WithIssuerTable).
const (
	defaultIssuerTable = 100
	defaultIssuerIdle  = time.Hour
	// Resolver calls for issuers not in the table: a burst, then a rate.
	resolveBurst     = 100
	resolvePerSecond = 10
)

// WithIssuers makes the Verifier accept tokens of several issuers: a
// multi-tenant API, a move between providers, users of one provider and
// machines of another. A token's iss selects its issuer exactly, before the
// signature is checked; it is then verified with that issuer's own keys and
// rules only, so no key of one issuer ever verifies a token naming another.
// Each issuer's options are applied after the Verifier's own (the shared
// ones: realm, DPoP, resource, token cache, hooks, clock, leeway, …), and
// each issuer loads its keys in the background from New. WithIssuer is
// then not used. A token of an issuer not listed (nor accepted by
// WithIssuerResolver) is refused with ErrIssuerInvalid, and causes no
// network request.
func WithIssuers(issuers ...Issuer) Option {
	return func(c *config) { c.issuers = append(c.issuers, issuers...) }
}

// WithIssuerResolver accepts, besides the WithIssuers list, the issuers
// resolve accepts. A resolved issuer's keys are discovered and fetched on
// its first token, which waits for them (up to the fetch timeout); it then
// stays in a bounded table (WithIssuerTable), as do refused issuers, so
// that neither costs a second call while it is there. At most 100 calls,
// then 10 a second, are made for issuers not in the table: a flood of
// invented issuers is refused (ErrIssuerInvalid) beyond that without a call.
func WithIssuerResolver(resolve IssuerResolver) Option {
	return func(c *config) { c.resolver = resolve }
}

// WithIssuerTable bounds the table of resolved issuers: at most entries
// issuers (accepted or refused), each dropped after idle without a token.
// When full, the issuer used least recently is dropped: its key refresh
// stops and its cached tokens are no longer served; its next token resolves
// it again. Default 100 entries, 1 hour.
func WithIssuerTable(entries int, idle time.Duration) Option {
	return func(c *config) { c.issuerTable, c.issuerIdle = entries, idle }
}

// EntraMultiTenant is an IssuerResolver for an Entra ID multi-tenant
// application (v2.0 tokens): it accepts the issuer
// https://login.microsoftonline.com/{tenant}/v2.0 of each tenant id GUID
// of tenants, with the EntraID preset for that tenant and audiences, and
// refuses every other issuer without a network request. Per tenant, keys
// come from its own JWKS.
func EntraMultiTenant(tenants []string, audiences ...string) IssuerResolver {
	allowed := make(map[string]bool, len(tenants))
	for _, t := range tenants {
		allowed[strings.ToLower(t)] = true
	}
	return EntraMultiTenantFunc(func(tid string) bool { return allowed[tid] }, audiences...)
}

// EntraMultiTenantFunc is EntraMultiTenant with a policy function instead
// of a list: allow receives the tenant id GUID (lower case) of a token's
// issuer and reports whether that tenant is a customer.
func EntraMultiTenantFunc(allow func(tenantID string) bool, audiences ...string) IssuerResolver {
	const prefix, suffix = "https://login.microsoftonline.com/", "/v2.0"
	return func(_ context.Context, iss string) ([]Option, bool, error) {
		tid, ok := strings.CutPrefix(iss, prefix)
		if !ok {
			return nil, false, nil
		}
		if tid, ok = strings.CutSuffix(tid, suffix); !ok || !entraGUID.MatchString(tid) || allow == nil || !allow(tid) {
			return nil, false, nil
		}
		return []Option{EntraID(tid, audiences...)}, true, nil
	}
}

// issuerSet is the routing table of a many-issuer Verifier.
type issuerSet struct {
	parent  *Verifier
	ctx     context.Context
	opts    []Option             // the Verifier's own options
	fixed   map[string]*Verifier // by iss, aliases included
	order   []*Verifier          // the fixed issuers, in the order given
	resolve IssuerResolver
	// transport is shared by every issuer's discovery and JWKS fetches
	// unless WithHTTPClient gave a client: tenants of one provider (every
	// Entra ID tenant is on login.microsoftonline.com) then share its
	// connections instead of each keeping idle ones of its own.
	transport *http.Transport

	mu      sync.Mutex
	table   map[string]*resolved
	max     int
	idle    time.Duration
	tokens  float64 // resolver calls the rate limit allows now
	refill  time.Time
	closed  bool
	retired atomic.Int64 // issuers dropped from the table, for tests
}

// resolved is one entry of the table: an accepted issuer (v), a refused
// one (v nil), or one being resolved (done open).
type resolved struct {
	v    *Verifier
	err  error // an outage of the resolver: answered 503 until retried
	done chan struct{}
	used atomic.Int64 // unix nanoseconds of the last token
	at   time.Time    // when it was resolved
}

// newMulti builds a many-issuer Verifier: one Verifier per fixed issuer,
// each with the shared token cache, DPoP checker and challenges.
func newMulti(ctx context.Context, opts []Option, cfg *config) (*Verifier, error) {
	if cfg.issuer != "" {
		return nil, errors.New("jwksauth: WithIssuer and WithIssuers are exclusive: list every issuer in WithIssuers")
	}
	if cfg.issuerTable == 0 {
		cfg.issuerTable = defaultIssuerTable
	}
	if cfg.issuerIdle == 0 {
		cfg.issuerIdle = defaultIssuerIdle
	}
	if cfg.issuerTable < 1 || cfg.issuerIdle < time.Second {
		return nil, errors.New("jwksauth: WithIssuerTable needs at least 1 entry and 1s of idle time")
	}
	v := &Verifier{cfg: cfg, log: cfg.logger}
	if v.log == nil {
		v.log = defaultLogger()
	}
	s := &issuerSet{parent: v, ctx: ctx, opts: opts, fixed: map[string]*Verifier{}, resolve: cfg.resolver,
		table: map[string]*resolved{}, max: cfg.issuerTable, idle: cfg.issuerIdle, tokens: resolveBurst, refill: time.Now()}
	v.multi = s
	if cfg.httpClient == nil {
		s.transport = jwks.NewTransport()
	}
	// The shared parts come from a probe: the Verifier's options for an
	// issuer of its own, which validates them even when every issuer is
	// resolved later.
	probe, err := s.build(append(slices.Clone(opts), WithIssuer("https://issuer.invalid"), WithAudiences("probe")), false)
	if err != nil {
		return nil, err
	}
	v.ch, v.dpop, v.cache = probe.ch, probe.dpop, probe.cache
	for _, is := range cfg.issuers {
		sub, err := s.build(slices.Concat(opts, optIssuer(is.URL), is.Options), true)
		if err != nil {
			s.close()
			return nil, err
		}
		for _, name := range append([]string{sub.cfg.issuer}, sub.cfg.issuerAliases...) {
			if _, dup := s.fixed[name]; dup {
				sub.Close()
				s.close()
				return nil, fmt.Errorf("jwksauth: WithIssuers: issuer %q is listed twice", name)
			}
			s.fixed[name] = sub
		}
		s.order = append(s.order, sub)
	}
	if len(s.order) == 0 && s.resolve == nil {
		return nil, errors.New("jwksauth: WithIssuers needs at least one issuer, or WithIssuerResolver")
	}
	return v, nil
}

func optIssuer(url string) []Option {
	if url == "" {
		return nil
	}
	return []Option{WithIssuer(url)}
}

// build makes the Verifier of one issuer from its options. With start, it
// loads keys and shares the parent's cache, checker and challenges; the
// probe does neither.
func (s *issuerSet) build(opts []Option, start bool) (*Verifier, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o(cfg)
		}
	}
	cfg.issuers, cfg.resolver = nil, nil
	if cfg.httpClient == nil && s.transport != nil {
		// Each issuer still checks its own redirects (package jwks).
		cfg.httpClient = &http.Client{Transport: s.transport}
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if !start {
		return newSingle(s.ctx, cfg, false)
	}
	sub, err := newSingle(s.ctx, cfg, true)
	if err != nil {
		return nil, err
	}
	p := s.parent
	sub.parent, sub.ch, sub.dpop, sub.cache = p, p.ch, p.dpop, p.cache
	return sub, nil
}

// route returns the Verifier of a token's issuer, resolving it if need be.
// A refused issuer is ErrIssuerInvalid; a resolver that fails, or a key
// set that cannot be had, is a 503.
func (s *issuerSet) route(ctx context.Context, iss string) (*Verifier, error) {
	if v, ok := s.fixed[iss]; ok {
		return v, nil
	}
	if s.resolve == nil || iss == "" {
		return nil, ErrIssuerInvalid
	}
	now := time.Now()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrIssuerInvalid
	}
	r, ok := s.table[iss]
	if ok && !isOpen(r.done) && s.expired(r, now) {
		s.retire(iss, r)
		ok = false
	}
	if !ok {
		if !s.allowCall(now) {
			s.mu.Unlock()
			return nil, ErrIssuerInvalid
		}
		r = &resolved{done: make(chan struct{}), at: now}
		s.insert(iss, r, now)
		s.mu.Unlock()
		s.resolveOne(ctx, iss, r)
	} else {
		s.mu.Unlock()
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		return nil, unavailableError(ctx.Err(), 1)
	}
	r.used.Store(now.UnixNano())
	switch {
	case r.err != nil:
		return nil, unavailableError(r.err, 1)
	case r.v == nil:
		return nil, ErrIssuerInvalid
	}
	return r.v, nil
}

func isOpen(c chan struct{}) bool {
	select {
	case <-c:
		return false
	default:
		return true
	}
}

// resolveOne asks the resolver about iss and builds its Verifier. A failed
// resolution is dropped from the table, so the next token tries again.
func (s *issuerSet) resolveOne(ctx context.Context, iss string, r *resolved) {
	defer close(r.done)
	opts, ok, err := s.resolve(ctx, iss)
	switch {
	case err != nil:
		r.err = err
	case !ok:
		return
	default:
		sub, berr := s.build(slices.Concat(s.opts, []Option{WithIssuer(iss)}, opts), true)
		switch {
		case berr != nil:
			s.parent.log.Error("jwksauth: the issuer resolver accepted an issuer whose options are invalid; it is refused", "issuer", iss, "err", berr)
			return
		case sub.cfg.issuer != iss:
			// The resolver's options named another issuer: routing by
			// iss would then be wrong, so refuse rather than guess.
			sub.Close()
			s.parent.log.Error("jwksauth: the issuer resolver's options name another issuer; it is refused", "issuer", iss)
			return
		}
		r.v = sub
	}
	if r.err != nil {
		s.mu.Lock()
		if s.table[iss] == r {
			delete(s.table, iss)
		}
		s.mu.Unlock()
	}
}

// allowCall takes one resolver call from the rate limit. Callers hold mu.
func (s *issuerSet) allowCall(now time.Time) bool {
	s.tokens = min(resolveBurst, s.tokens+now.Sub(s.refill).Seconds()*resolvePerSecond)
	s.refill = now
	if s.tokens < 1 {
		return false
	}
	s.tokens--
	return true
}

// expired reports an entry idle for longer than the table allows.
func (s *issuerSet) expired(r *resolved, now time.Time) bool {
	last := r.used.Load()
	if last == 0 {
		last = r.at.UnixNano()
	}
	return now.UnixNano()-last > int64(s.idle)
}

// insert adds an entry, first dropping the idle ones and, when the table
// is full, the one used least recently. Callers hold mu.
func (s *issuerSet) insert(iss string, r *resolved, now time.Time) {
	if old, ok := s.table[iss]; ok {
		s.retire(iss, old)
	}
	for name, e := range s.table {
		if !isOpen(e.done) && s.expired(e, now) {
			s.retire(name, e)
		}
	}
	for len(s.table) >= s.max {
		var victim string
		var oldest int64 = 1<<63 - 1
		for name, e := range s.table {
			if isOpen(e.done) {
				continue
			}
			last := e.used.Load()
			if last == 0 {
				last = e.at.UnixNano()
			}
			if last < oldest {
				victim, oldest = name, last
			}
		}
		if victim == "" {
			break // every entry is being resolved: let the table grow by one
		}
		s.retire(victim, s.table[victim])
	}
	s.table[iss] = r
}

// retire drops an entry: its Verifier stops refreshing and its cached
// tokens stop being served. Callers hold mu.
func (s *issuerSet) retire(iss string, r *resolved) {
	delete(s.table, iss)
	if r.v != nil {
		r.v.retired.Store(true)
		go r.v.Close() // Close waits for the refresh goroutine: not under mu
	}
	s.retired.Add(1)
}

// issuers returns the fixed issuers, for the resource metadata.
func (s *issuerSet) issuers() []string {
	out := make([]string, 0, len(s.order))
	for _, v := range s.order {
		out = append(out, v.cfg.issuer)
	}
	return out
}

// ready waits for every fixed issuer's first key set.
func (s *issuerSet) ready(ctx context.Context) error {
	for _, v := range s.order {
		if err := v.Ready(ctx); err != nil {
			return fmt.Errorf("issuer %s: %w", v.cfg.issuer, err)
		}
	}
	return nil
}

// close stops every issuer's refresh.
func (s *issuerSet) close() {
	s.mu.Lock()
	s.closed = true
	subs := slices.Clone(s.order)
	for _, r := range s.table {
		if r.v != nil {
			subs = append(subs, r.v)
		}
	}
	s.mu.Unlock()
	for _, v := range subs {
		_ = v.Close()
	}
	if s.transport != nil {
		s.transport.CloseIdleConnections()
	}
}
