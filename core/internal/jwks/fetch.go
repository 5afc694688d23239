package jwks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jwksauth/jwksauth/core/internal/strictjson"
)

// maxRedirects bounds the redirects a discovery or JWKS fetch follows.
const maxRedirects = 5

// newHTTPClient returns the client for discovery and JWKS fetches. Every
// redirect is checked like a configured URL (https, or http on loopback or
// with the insecure switch: Config.CheckURL), whether the client is ours or the caller's; a
// caller's own redirect policy still runs after that check. Our client has a
// transport of its own, so that closing the cache can close its idle
// connections without touching anybody else's.
func newHTTPClient(cfg Config) (*http.Client, *http.Transport) {
	check := func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("%w: more than %d redirects", ErrRedirect, maxRedirects)
		}
		if err := cfg.CheckURL(req.URL.String()); err != nil {
			return fmt.Errorf("%w: %w", ErrRedirect, err)
		}
		return nil
	}
	if cfg.HTTPClient != nil {
		c := *cfg.HTTPClient
		theirs := c.CheckRedirect
		c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if err := check(req, via); err != nil {
				return err
			}
			if theirs != nil {
				return theirs(req, via)
			}
			return nil
		}
		return &c, nil
	}
	t := NewTransport()
	return &http.Client{Transport: t, CheckRedirect: check}, t
}

// NewTransport is a transport of our own, with net/http's defaults. A
// many-issuer Verifier shares one among its issuers (as Config.HTTPClient).
func NewTransport() *http.Transport {
	if dt, ok := http.DefaultTransport.(*http.Transport); ok {
		return dt.Clone()
	}
	return &http.Transport{Proxy: http.ProxyFromEnvironment, ForceAttemptHTTP2: true}
}

// fetch loads the JWKS (discovering its URL first when needed) and, on
// success only, replaces the key set. The fetch timeout bounds the whole of
// it, discovery included; Close cancels it.
//
// A discovered URL that answered as if the keys had moved (404, 410, a host
// that no longer resolves, or a body that is not a JWKS) sends the next
// attempt to discovery first. If
// discovery names another URL, that one is used from then on; if it fails
// or names the same one, the known URL is fetched anyway, so a discovery
// outage never keeps a working JWKS from loading. Other failures (5xx,
// timeouts: an outage, not a move) retry the known URL alone.
func (k *Cache) fetch() (n int, skipped []Skipped, lifetime time.Duration, err error) {
	lifetime = -1
	ctx, cancel := context.WithTimeout(k.ctx, k.cfg.FetchTimeout)
	defer cancel()
	u := k.url()
	switch {
	case u == "":
		if u, err = k.discover(ctx); err != nil {
			return 0, nil, lifetime, err
		}
		k.jwksURL.Store(&u)
	case k.moved:
		// Half the time for discovery, so that the known URL still gets
		// its chance when discovery hangs.
		dctx, dcancel := context.WithTimeout(ctx, k.cfg.FetchTimeout/2)
		if nu, derr := k.discover(dctx); derr == nil && nu != u {
			k.log.Info("jwksauth: discovery names a new JWKS URL", "old", u, "url", nu)
			u = nu
			k.jwksURL.Store(&u)
		}
		dcancel()
	}
	defer func() {
		k.moved = k.cfg.URL == "" && (isGone(err) || errors.Is(err, ErrNotJSON) || errors.Is(err, ErrNoKeys))
	}()
	body, hdr, err := k.get(ctx, u, "application/jwk-set+json, application/json")
	if err != nil {
		return 0, nil, lifetime, err
	}
	prev := k.set.Load()
	set, skipped, err := Parse(body, prev, k.cfg.Now())
	if err != nil {
		return 0, skipped, lifetime, err
	}
	if set.Count() == 0 {
		// A provider that signs tokens publishes at least one key: an
		// empty (or wholly unusable) set is a broken answer, not a reason
		// to stop verifying. The last good keys stay, and age.
		return 0, skipped, lifetime, ErrNoUsableKeys
	}
	k.set.Store(set)
	return set.Count(), skipped, freshness(hdr), nil
}

// discover reads the issuer's OpenID configuration and returns its
// jwks_uri. The document's issuer must equal the configured issuer exactly,
// and the jwks_uri must pass the same URL rule as a configured one.
func (k *Cache) discover(ctx context.Context) (string, error) {
	base := strings.TrimSuffix(k.cfg.Issuer, "/")
	body, _, err := k.get(ctx, base+"/.well-known/openid-configuration", "application/json")
	if err != nil {
		return "", err
	}
	ms, err := strictjson.ParseObject(string(body), nil)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrDiscovery, err)
	}
	var iss, jwks string
	for _, m := range ms {
		switch m.Key {
		case "issuer":
			iss, _ = strictjson.String(m.Val)
		case "jwks_uri":
			jwks, _ = strictjson.String(m.Val)
		}
	}
	if iss != k.cfg.Issuer {
		return "", fmt.Errorf("%w: its issuer %q is not the configured issuer", ErrDiscovery, iss)
	}
	if err := k.cfg.CheckURL(jwks); err != nil {
		return "", fmt.Errorf("%w: jwks_uri: %w", ErrDiscovery, err)
	}
	return strings.Clone(jwks), nil // not a view that keeps the discovery body alive
}

// get fetches u. Only a 200 whose body fits the size cap is returned.
func (k *Cache) get(ctx context.Context, u, accept string) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", accept)
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, nil, ctxCause(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return nil, nil, &statusError{code: resp.StatusCode, url: u}
	}
	if resp.ContentLength > k.cfg.MaxSize {
		return nil, nil, fmt.Errorf("%w (%d bytes) from %s", ErrFetchSize, k.cfg.MaxSize, u)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, k.cfg.MaxSize+1))
	if err != nil {
		return nil, nil, ctxCause(ctx, err)
	}
	if int64(len(body)) > k.cfg.MaxSize {
		return nil, nil, fmt.Errorf("%w (%d bytes) from %s", ErrFetchSize, k.cfg.MaxSize, u)
	}
	return body, resp.Header, nil
}

// statusError is a non-200 answer; errors.Is(err, ErrFetchStatus) holds.
type statusError struct {
	code int
	url  string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%v %d from %s", ErrFetchStatus, e.code, e.url)
}

func (e *statusError) Unwrap() error { return ErrFetchStatus }

// isGone reports a fetch that says the JWKS is not there (any more): a 404
// or 410, or a host name that no longer resolves.
func isGone(err error) bool {
	var se *statusError
	var de *net.DNSError
	return (errors.As(err, &se) && (se.code == http.StatusNotFound || se.code == http.StatusGone)) ||
		(errors.As(err, &de) && de.IsNotFound)
}

// ctxCause makes a fetch that failed because its context ended say so
// (errors.Is(err, context.DeadlineExceeded) for the fetch timeout), whatever
// the transport reported.
func ctxCause(ctx context.Context, err error) error {
	if c := ctx.Err(); c != nil && !errors.Is(err, c) {
		return fmt.Errorf("%w: %w", c, err)
	}
	return err
}

// freshness is how long a JWKS answer stays fresh by its headers:
// Cache-Control max-age less the Age a shared cache added. It returns -1
// when the headers say nothing usable.
func freshness(h http.Header) time.Duration {
	age := maxAge(strings.Join(h.Values("Cache-Control"), ","))
	if age <= 0 {
		return age
	}
	if a, err := strconv.ParseInt(strings.TrimSpace(h.Get("Age")), 10, 64); err == nil && a > 0 {
		age = max(age-time.Duration(min(a, 1<<31))*time.Second, 0)
	}
	return age
}

// maxAge reads Cache-Control's max-age; no-store and no-cache count as 0.
// It returns -1 when the header says nothing usable.
func maxAge(cc string) time.Duration {
	age := time.Duration(-1)
	for part := range strings.SplitSeq(cc, ",") {
		part = strings.TrimSpace(part)
		name, val, _ := strings.Cut(part, "=")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "no-store", "no-cache":
			return 0
		case "max-age":
			if n, err := strconv.ParseInt(strings.Trim(strings.TrimSpace(val), `"`), 10, 64); err == nil && n >= 0 {
				age = time.Duration(min(n, 1<<31)) * time.Second
			}
		}
	}
	return age
}
