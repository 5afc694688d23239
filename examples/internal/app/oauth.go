package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jwksauth/jwksauth/core/authtest"
)

// DefaultDevClientID is the client id of the development login when
// neither CLIENT_ID nor PERMITTED_CLIENT_IDS is set.
const DefaultDevClientID = "notes-docs"

// DevLoginTokenLifetime is how long tokens from the development login stay valid.
const DevLoginTokenLifetime = time.Hour

// DiscoveryTimeout bounds the start-up fetch of the issuer's discovery
// document for the docs' OAuth2 URLs: past it, the docs are served
// without the Authorize login rather than holding the start up.
const DiscoveryTimeout = 3 * time.Second

// maxDiscoverySize caps the discovery document read for the docs.
const maxDiscoverySize = 256 << 10

// devFlow turns on the development issuer's login (authorization code +
// PKCE, an auto-approving page where you pick the scopes) and returns its
// flow. Its tokens pass c's checks: their aud is the first permitted
// audience, and their client_id the docs' client, which is CLIENT_ID, else
// the first permitted client id, else DefaultDevClientID.
func devFlow(iss *authtest.Issuer, c Config) *OAuthFlow {
	client := c.ClientID
	if client == "" && len(c.ClientIDs) > 0 {
		client = c.ClientIDs[0]
	}
	if client == "" {
		client = DefaultDevClientID
	}
	login := authtest.DevLogin{ClientID: client, TokenTTL: DevLoginTokenLifetime}
	if len(c.Audiences) > 0 {
		login.Audience = c.Audiences[0]
	}
	for _, s := range noteScopes {
		login.Scopes = append(login.Scopes, s.name)
	}
	iss.EnableDevLogin(login)
	return &OAuthFlow{AuthorizationURL: iss.URL + "/authorize", TokenURL: iss.URL + "/token", ClientID: client}
}

// providerFlow returns the docs' flow for a real provider: each URL from
// AUTHORIZATION_URL and TOKEN_URL when set, else from the issuer's
// discovery document (fetched within DiscoveryTimeout). It returns nil
// and the reason when a URL cannot be had.
func providerFlow(ctx context.Context, c Config) (*OAuthFlow, error) {
	flow := &OAuthFlow{AuthorizationURL: c.AuthorizationURL, TokenURL: c.TokenURL, ClientID: c.ClientID}
	if flow.AuthorizationURL != "" && flow.TokenURL != "" {
		return flow, nil
	}
	auth, token, err := discoverOAuth(ctx, c.Issuer)
	if err != nil {
		return nil, err
	}
	if flow.AuthorizationURL == "" {
		flow.AuthorizationURL = auth
	}
	if flow.TokenURL == "" {
		flow.TokenURL = token
	}
	return flow, nil
}

// discoverOAuth reads authorization_endpoint and token_endpoint from
// {issuer}/.well-known/openid-configuration. As for the keys, the
// document's issuer must equal the configured one exactly, and both URLs
// must be https (or http on loopback); redirects must stay so too.
func discoverOAuth(ctx context.Context, issuer string) (auth, token string, err error) {
	if issuer == "" {
		return "", "", errors.New("no ISSUER to discover from")
	}
	ctx, cancel := context.WithTimeout(ctx, DiscoveryTimeout)
	defer cancel()
	u := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", "", fmt.Errorf("discovery: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	client := &http.Client{CheckRedirect: func(r *http.Request, via []*http.Request) error {
		if len(via) >= 3 {
			return errors.New("too many redirects")
		}
		return checkURL(r.URL.String())
	}}
	resp, err := client.Do(req)
	if err != nil {
		return "", "", fmt.Errorf("discovery: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("discovery: %s answered %d", u, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDiscoverySize+1))
	if err != nil {
		return "", "", fmt.Errorf("discovery: %w", err)
	}
	if len(body) > maxDiscoverySize {
		return "", "", fmt.Errorf("discovery: %s is larger than %d bytes", u, maxDiscoverySize)
	}
	var meta struct {
		Issuer                string `json:"issuer"`
		AuthorizationEndpoint string `json:"authorization_endpoint"`
		TokenEndpoint         string `json:"token_endpoint"`
	}
	if err := json.Unmarshal(body, &meta); err != nil {
		return "", "", fmt.Errorf("discovery: %s is not a JSON object", u)
	}
	switch {
	case meta.Issuer != issuer:
		return "", "", fmt.Errorf("discovery: %s names issuer %q, not %q", u, meta.Issuer, issuer)
	case meta.AuthorizationEndpoint == "" || meta.TokenEndpoint == "":
		return "", "", fmt.Errorf("discovery: %s lists no authorization_endpoint or token_endpoint", u)
	}
	for _, e := range []string{meta.AuthorizationEndpoint, meta.TokenEndpoint} {
		if err := checkURL(e); err != nil {
			return "", "", fmt.Errorf("discovery: endpoint %w", err)
		}
	}
	return meta.AuthorizationEndpoint, meta.TokenEndpoint, nil
}

// newAppDocs builds the docs of an app configured by c: with the login of
// the development issuer dev when there is one, else with the provider's
// flow (the first issuer's, when ISSUER lists several) when its URLs can
// be had. Without them the docs are served all the same, without the
// Authorize login, and the log says why.
func newAppDocs(ctx context.Context, c Config, dev *authtest.Issuer, realm string, log *slog.Logger) (*Docs, error) {
	var flow *OAuthFlow
	if dev != nil {
		if c.AuthorizationURL != "" || c.TokenURL != "" {
			log.Warn("development mode: AUTHORIZATION_URL and TOKEN_URL are ignored; the docs log in at the development issuer")
		}
		flow = devFlow(dev, c)
		if len(c.ClientIDs) > 0 && !slices.Contains(c.ClientIDs, flow.ClientID) {
			log.Warn("CLIENT_ID is not among PERMITTED_CLIENT_IDS: tokens from the docs' login will be refused",
				"client_id", flow.ClientID)
		}
	} else {
		if len(c.Issuers) > 1 {
			log.Info("interactive docs: the Authorize login is the first issuer's", "issuer", c.Issuer)
		}
		var err error
		if flow, err = providerFlow(ctx, c); err != nil {
			log.Warn("interactive docs without the Authorize login; set AUTHORIZATION_URL and TOKEN_URL",
				"reason", err.Error())
		} else if flow.ClientID == "" {
			log.Info("CLIENT_ID is not set: the docs' Authorize dialog asks for the client id")
		}
	}
	docs, err := NewDocs(flow, realm)
	if err != nil {
		return nil, fmt.Errorf("docs: %w", err)
	}
	return docs, nil
}
