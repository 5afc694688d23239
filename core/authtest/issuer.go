package authtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultAudience is the aud of minted tokens unless overridden: the seed's
// default permitted audience.
const DefaultAudience = "account"

// DefaultSubject is the sub of minted tokens unless overridden.
const DefaultSubject = "user-123"

// Claims are a token's claims. A key mapped to Omit is removed from the defaults.
type Claims map[string]any

// Omit removes a default claim or header parameter in Mint.
var Omit = omit{}

type omit struct{}

// Fault makes the issuer's JWKS endpoint misbehave.
type Fault int

// The faults SetFault injects. FaultNone, the zero value, is a healthy endpoint.
const (
	FaultNone        Fault = iota
	FaultDown              // the connection is closed without an answer
	Fault500               // 500 Internal Server Error
	FaultHTML              // 200 with an HTML page
	FaultHuge              // 200 with a body larger than any sane JWKS (2 MiB)
	FaultHang              // the answer never comes (until the request is cancelled)
	FaultEmpty             // 200 with {"keys":[]}
	FaultNotFound          // 404
	FaultInvalidJSON       // 200, Content-Type application/json, with a truncated JSON text
	FaultNotJWKS           // 200 with a JSON object that has no "keys" member
	FaultStall             // 200 and the start of a JWKS, then nothing (until the request is cancelled)
)

// Issuer is an in-process OpenID provider on loopback: discovery at
// /.well-known/openid-configuration, keys at /jwks, and token minting.
// It is safe for concurrent use.
type Issuer struct {
	// URL is the issuer identifier and base URL (http://127.0.0.1:port).
	URL string

	srv    *http.Server
	mux    *http.ServeMux
	served chan struct{} // closed when srv.Serve has returned

	// Close waits for the requests in flight (as httptest.Server.Close
	// does), counted in reqs while closed is false.
	reqMu  sync.Mutex
	reqs   sync.WaitGroup
	closed bool

	mu           sync.Mutex
	signing      *Key
	published    []*Key
	extra        []json.RawMessage
	fault        Fault
	cacheControl string
	headers      http.Header
	delay        time.Duration
	hook         func(*http.Request)
	discovery    map[string]any
	now          func() time.Time

	jwksHits      atomic.Int64
	discoveryHits atomic.Int64
}

// IssuerOption configures NewIssuer.
type IssuerOption func(*issuerConfig)

type issuerConfig struct {
	alg  string
	addr string
}

// WithAlgorithm sets the algorithm of the first signing key. Default RS256.
func WithAlgorithm(alg string) IssuerOption { return func(c *issuerConfig) { c.alg = alg } }

// WithAddr sets the loopback listen address. Default 127.0.0.1:0.
func WithAddr(addr string) IssuerOption { return func(c *issuerConfig) { c.addr = addr } }

// NewIssuer starts an issuer with one signing key.
func NewIssuer(opts ...IssuerOption) (*Issuer, error) {
	cfg := issuerConfig{alg: "RS256", addr: "127.0.0.1:0"}
	for _, o := range opts {
		o(&cfg)
	}
	key, err := NewKey(cfg.alg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return nil, fmt.Errorf("authtest: listen: %w", err)
	}
	if host, _, _ := net.SplitHostPort(ln.Addr().String()); !net.ParseIP(host).IsLoopback() {
		ln.Close()
		return nil, errors.New("authtest: the issuer only listens on loopback")
	}
	i := &Issuer{signing: key, published: []*Key{key}, now: time.Now, mux: http.NewServeMux()}
	i.mux.HandleFunc("GET /.well-known/openid-configuration", i.serveDiscovery)
	i.mux.HandleFunc("GET /jwks", i.serveJWKS)
	i.srv = &http.Server{Handler: http.HandlerFunc(i.serve), ReadHeaderTimeout: 5 * time.Second}
	i.served = make(chan struct{})
	i.URL = "http://" + ln.Addr().String()
	go func() {
		defer close(i.served)
		_ = i.srv.Serve(ln) // http.ErrServerClosed once Close is called
	}()
	return i, nil
}

// serve counts the request for Close, then hands it to the mux.
func (i *Issuer) serve(w http.ResponseWriter, r *http.Request) {
	i.reqMu.Lock()
	if i.closed {
		i.reqMu.Unlock()
		http.Error(w, "issuer closed", http.StatusServiceUnavailable)
		return
	}
	i.reqs.Add(1)
	i.reqMu.Unlock()
	defer i.reqs.Done()
	i.mux.ServeHTTP(w, r)
}

// Close stops the issuer's server: it closes the listener and every
// connection, then waits for the requests in flight to return (a handler
// blocked on its request's context returns once its connection is closed).
// Closing twice is harmless.
func (i *Issuer) Close() {
	i.reqMu.Lock()
	i.closed = true
	i.reqMu.Unlock()
	_ = i.srv.Close()
	<-i.served
	i.reqs.Wait()
	// As httptest.Server.Close does: idle keep-alive connections of the
	// default transport to this server are dead now.
	if t, ok := http.DefaultTransport.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
}

// JWKSURL returns the URL of the key set.
func (i *Issuer) JWKSURL() string { return i.URL + "/jwks" }

// Handle mounts an extra handler on the issuer's server (for example a
// development login). Patterns follow net/http.ServeMux.
func (i *Issuer) Handle(pattern string, h http.Handler) { i.mux.Handle(pattern, h) }

// SigningKey returns the key that signs minted tokens.
func (i *Issuer) SigningKey() *Key {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.signing
}

// Keys returns the published keys.
func (i *Issuer) Keys() []*Key {
	i.mu.Lock()
	defer i.mu.Unlock()
	return append([]*Key(nil), i.published...)
}

// Rotate publishes a new key for alg and makes it the signing key. The old
// keys stay published until Retire.
func (i *Issuer) Rotate(alg string) (*Key, error) {
	k, err := NewKey(alg)
	if err != nil {
		return nil, err
	}
	i.AddKey(k, true)
	return k, nil
}

// AddKey publishes k; when signing is true it also becomes the signing key.
func (i *Issuer) AddKey(k *Key, signing bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.published = append(i.published, k)
	if signing {
		i.signing = k
	}
}

// Retire removes the key with that kid from the JWKS. Tokens signed by it
// stop verifying once a verifier refreshes.
func (i *Issuer) Retire(kid string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	out := i.published[:0]
	for _, k := range i.published {
		if k.ID != kid {
			out = append(out, k)
		}
	}
	i.published = out
}

// SetExtraJWKs adds raw JWK objects to the published set (unusable keys,
// encryption keys, broken values), after the real keys.
func (i *Issuer) SetExtraJWKs(raw ...json.RawMessage) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.extra = raw
}

// SetFault makes the JWKS endpoint misbehave until SetFault(FaultNone).
func (i *Issuer) SetFault(f Fault) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.fault = f
}

// SetDelay delays every JWKS answer.
func (i *Issuer) SetDelay(d time.Duration) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.delay = d
}

// SetJWKSHook installs fn, called at the start of every JWKS request (after
// it is counted, before any delay or fault) on the request's goroutine. It
// may block, for example to hold a fetch in flight until a test releases it;
// fn should return when r.Context() ends. nil removes it.
func (i *Issuer) SetJWKSHook(fn func(r *http.Request)) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.hook = fn
}

// SetJWKSHeader sets a response header of healthy JWKS answers, such as Age
// or Expires ("" removes it). Cache-Control has SetCacheControl.
func (i *Issuer) SetJWKSHeader(name, value string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.headers == nil {
		i.headers = make(http.Header)
	}
	if value == "" {
		i.headers.Del(name)
	} else {
		i.headers.Set(name, value)
	}
}

// SetDiscovery overrides one member of the discovery document (Omit removes
// it), for example a foreign "issuer" or a plain-http "jwks_uri".
func (i *Issuer) SetDiscovery(name string, value any) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.discovery == nil {
		i.discovery = make(map[string]any)
	}
	i.discovery[name] = value
}

// SetCacheControl sets the Cache-Control header of JWKS answers ("" for none).
func (i *Issuer) SetCacheControl(v string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.cacheControl = v
}

// SetClock sets the clock used for iat and exp of minted tokens.
func (i *Issuer) SetClock(now func() time.Time) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.now = now
}

// JWKSHits returns how many JWKS requests the issuer has received.
func (i *Issuer) JWKSHits() int64 { return i.jwksHits.Load() }

// DiscoveryHits returns how many discovery requests the issuer has received.
func (i *Issuer) DiscoveryHits() int64 { return i.discoveryHits.Load() }

func (i *Issuer) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	i.discoveryHits.Add(1)
	doc := map[string]any{
		"issuer":                                i.URL,
		"jwks_uri":                              i.JWKSURL(),
		"authorization_endpoint":                i.URL + "/authorize",
		"token_endpoint":                        i.URL + "/token",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": Algorithms,
		"code_challenge_methods_supported":      []string{"S256"},
		"grant_types_supported":                 []string{"authorization_code"},
	}
	i.mu.Lock()
	for k, v := range i.discovery {
		if v == Omit {
			delete(doc, k)
		} else {
			doc[k] = v
		}
	}
	i.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(doc)
}

// JWKS returns the published key set as JSON.
func (i *Issuer) JWKS() []byte {
	i.mu.Lock()
	keys := make([]any, 0, len(i.published)+len(i.extra))
	for _, k := range i.published {
		keys = append(keys, k.JWK())
	}
	for _, raw := range i.extra {
		keys = append(keys, raw)
	}
	i.mu.Unlock()
	b, _ := json.Marshal(map[string]any{"keys": keys})
	return b
}

func (i *Issuer) serveJWKS(w http.ResponseWriter, r *http.Request) {
	i.jwksHits.Add(1)
	i.mu.Lock()
	fault, cc, delay, hook, hdr := i.fault, i.cacheControl, i.delay, i.hook, i.headers.Clone()
	i.mu.Unlock()
	if hook != nil {
		hook(r)
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if i.serveFault(w, r, fault) {
		return
	}
	for k, v := range hdr {
		w.Header()[k] = v
	}
	if cc != "" {
		w.Header().Set("Cache-Control", cc)
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	_, _ = w.Write(i.JWKS())
}

// serveFault answers a JWKS request as fault says, and reports whether it
// did: FaultNone (or any value that is no fault) leaves the answer to the
// healthy endpoint.
func (i *Issuer) serveFault(w http.ResponseWriter, r *http.Request, fault Fault) bool {
	switch fault {
	case FaultDown:
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return true
			}
		}
		w.WriteHeader(http.StatusBadGateway)
	case Fault500:
		http.Error(w, "internal error", http.StatusInternalServerError)
	case FaultNotFound:
		http.NotFound(w, r)
	case FaultHTML:
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><body>maintenance</body></html>"))
	case FaultHuge:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"keys":[],"pad":"` + strings.Repeat("x", 2<<20) + `"}`))
	case FaultHang:
		<-r.Context().Done()
	case FaultEmpty:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"keys":[]}`))
	case FaultInvalidJSON:
		w.Header().Set("Content-Type", "application/json")
		b := i.JWKS()
		_, _ = w.Write(b[:len(b)/2])
	case FaultNotJWKS:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"error":"maintenance","error_description":"try again later"}`))
	case FaultStall:
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write([]byte(`{"keys":[`))
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		<-r.Context().Done()
	default:
		return false
	}
	return true
}

// MintOption changes one minted token.
type MintOption func(*mint)

type mint struct {
	key    *Key
	header map[string]any
	cnf    map[string]any // BoundTo, BoundToCertificate
}

// SignedBy signs with k instead of the issuer's signing key (k need not be published).
func SignedBy(k *Key) MintOption { return func(m *mint) { m.key = k } }

// Header sets (or, with Omit, removes) a header parameter. "alg" changes the
// algorithm written and used; "kid" the key id written.
func Header(name string, value any) MintOption {
	return func(m *mint) { m.header[name] = value }
}

// DefaultClaims returns the claims Mint starts from: iss, sub, aud, iat,
// exp (one hour), jti.
func (i *Issuer) DefaultClaims() Claims {
	i.mu.Lock()
	now := i.now()
	i.mu.Unlock()
	return Claims{
		"iss": i.URL,
		"sub": DefaultSubject,
		"aud": DefaultAudience,
		"iat": now.Unix(),
		"exp": now.Add(time.Hour).Unix(),
		"jti": randomID("jti"),
	}
}

// Mint signs a token with the default claims overridden by claims.
func (i *Issuer) Mint(claims Claims, opts ...MintOption) (string, error) {
	all := i.DefaultClaims()
	for k, v := range claims {
		if v == Omit {
			delete(all, k)
		} else {
			all[k] = v
		}
	}
	key := i.SigningKey()
	m := &mint{key: key, header: map[string]any{"typ": "JWT"}}
	for _, o := range opts {
		o(m)
	}
	if m.cnf != nil {
		all["cnf"] = m.cnf
	}
	if m.header["kid"] == nil {
		m.header["kid"] = m.key.ID
	}
	if m.header["alg"] == nil {
		m.header["alg"] = m.key.Alg
	}
	for k, v := range maps.Clone(m.header) {
		if v == Omit {
			delete(m.header, k)
		}
	}
	alg, _ := m.header["alg"].(string)
	if alg == "" {
		alg = m.key.Alg
	}
	hdr, err := json.Marshal(m.header)
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(all)
	if err != nil {
		return "", err
	}
	if alg == "none" {
		return b64.EncodeToString(hdr) + "." + b64.EncodeToString(payload) + ".", nil
	}
	return m.key.Sign(alg, hdr, payload)
}

// TB is the part of testing.TB that the Must helpers use.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// MustMint is Mint that fails the test on error.
func (i *Issuer) MustMint(t TB, claims Claims, opts ...MintOption) string {
	t.Helper()
	tok, err := i.Mint(claims, opts...)
	if err != nil {
		t.Fatalf("authtest: mint: %v", err)
	}
	return tok
}

// MustIssuer is NewIssuer that fails the test on error and closes the
// issuer when the test ends.
func MustIssuer(t interface {
	TB
	Cleanup(func())
}, opts ...IssuerOption) *Issuer {
	t.Helper()
	i, err := NewIssuer(opts...)
	if err != nil {
		t.Fatalf("authtest: %v", err)
	}
	t.Cleanup(i.Close)
	return i
}
