package e2e_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
	"github.com/jwksauth/jwksauth/examples/internal/app"
	"github.com/jwksauth/jwksauth/examples/internal/apptest"
)

// mtlsClient is the provider's client whose tokens are bound to the client
// certificate of the token request (its README).
const mtlsClient = "client-mtls"

// dpopKeys are the proof keys oauth4webapi makes, with the client whose
// tokens are asked for. oidc-provider 8 refuses the library's EdDSA proofs
// on Node 20, so EdDSA proofs are not covered here.
var dpopKeys = []struct{ client, alg string }{
	{"client-es256", "ES256"},
	{"client-ps256", "PS256"},
}

// TestDPoP runs every example app, DPOP=allowed and DPOP=required, against
// DPoP-bound tokens (RFC 9449) that oauth4webapi got from oidc-provider by
// client credentials, with proofs oauth4webapi made: a fresh proof is
// served, a missing scope is 403 with the DPoP challenge, a replayed proof
// and proofs for another URL or method or by another key are refused, and
// so is the bound token sent as a bearer token; under DPOP=required a plain bearer token is
// refused with the DPoP challenge alone. The three frameworks must agree.
func TestDPoP(t *testing.T) {
	start := time.Now()
	p := startProvider(t)
	dc := startDPoPClient(t, p.url)

	bound := make([]boundToken, len(dpopKeys))
	for i, k := range dpopKeys {
		bound[i] = dc.token(t, k.client, scopeRead, k.alg)
		checkBound(t, p, k.client, bound[i])
	}
	bearer := p.token(t, "client-es256", scopeRead, "")
	t.Logf("provider and tokens ready in %v", time.Since(start).Round(time.Millisecond))

	answers := map[string][]answer{}
	var names []string
	for _, mode := range []string{app.DPoPAllowed, app.DPoPRequired} {
		// dpopOnly keeps the DPoP challenge alone when DPoP is required.
		dpopOnly := func(ch []string) []string {
			if mode == app.DPoPRequired {
				return ch[1:]
			}
			return ch
		}
		for _, fw := range frameworks {
			if mode == app.DPoPAllowed {
				names = append(names, fw.Name)
			}
			a := startAppEnv(t, fw, p.url, freeAddr(t), map[string]string{app.EnvDPoP: mode})
			notes := a.url + "/notes"
			for i, k := range dpopKeys {
				tok := bound[i]
				cases := []struct {
					name string
					// method and url are the request's; the proof is made
					// for proofMethod and proofURL, or for the request.
					method, url, proofMethod, proofURL string
					replay                             bool
					want                               func(t *testing.T, got answer)
				}{
					{name: "fresh proof", method: http.MethodGet, url: notes, want: wantNote()},
					{name: "my-token", method: http.MethodGet, url: a.url + "/my-token", want: wantJKT(tok.jkt)},
					{name: "missing scope", method: http.MethodPost, url: notes, want: wantDPoPScope(scopeCreate)},
					{name: "replayed proof", method: http.MethodGet, url: notes, replay: true,
						want: wantDPoPRefusal(dpopOnly, "invalid_dpop_proof", "the DPoP proof is invalid")},
					{name: "proof for another URL", method: http.MethodGet, url: notes, proofURL: a.url + "/my-scopes",
						want: wantDPoPRefusal(dpopOnly, "invalid_dpop_proof", "the DPoP proof is invalid")},
					{name: "proof for another method", method: http.MethodGet, url: notes, proofMethod: http.MethodDelete,
						want: wantDPoPRefusal(dpopOnly, "invalid_dpop_proof", "the DPoP proof is invalid")},
				}
				for _, c := range cases {
					key := mode + "/" + k.alg + "/" + c.name
					t.Run(mode+"/"+fw.Name+"/"+k.alg+"/"+c.name, func(t *testing.T) {
						pm, pu := c.method, c.url
						if c.proofMethod != "" {
							pm = c.proofMethod
						}
						if c.proofURL != "" {
							pu = c.proofURL
						}
						h := dc.proof(t, tok, pm, pu)
						if c.replay {
							if first := send(t, httpClient, c.method, c.url, h); first.status != http.StatusOK {
								t.Fatalf("first use of the proof: %s", first)
							}
						}
						got := send(t, httpClient, c.method, c.url, h)
						c.want(t, got)
						answers[key] = append(answers[key], got)
					})
				}

				key := mode + "/" + k.alg + "/proof by another key"
				t.Run(mode+"/"+fw.Name+"/"+k.alg+"/proof by another key", func(t *testing.T) {
					// A valid proof for this token and request, by the key
					// of the other token: cnf.jkt is not its thumbprint.
					other := bound[(i+1)%len(bound)]
					got := send(t, httpClient, http.MethodGet, notes, dc.proofFor(t, other, tok.token, http.MethodGet, notes))
					checkRefusal(t, got, dpopOnly(authtest.Challenges(`, error="invalid_token", error_description="the DPoP proof key does not match the access token"`)))
					answers[key] = append(answers[key], got)
				})

				key = mode + "/" + k.alg + "/bound token as bearer"
				t.Run(mode+"/"+fw.Name+"/"+k.alg+"/bound token as bearer", func(t *testing.T) {
					// RFC 9449 §7.2: no downgrade to bearer, with or without
					// the proof beside it.
					h := dc.proof(t, tok, http.MethodGet, notes)
					h.Set("Authorization", "Bearer "+tok.token)
					got := send(t, httpClient, http.MethodGet, notes, h)
					want := []string{`DPoP realm="api", ` + authtest.DPoPAlgs + `, error="invalid_token", error_description="a DPoP-bound access token is required"`}
					if mode == app.DPoPAllowed {
						want = authtest.Challenges(`, error="invalid_token", error_description="the access token is bound to a DPoP key"`)
					}
					checkRefusal(t, got, want)
					answers[key] = append(answers[key], got)
					if bare := call(t, http.MethodGet, notes, tok.token); !bare.same(got) {
						t.Errorf("without the DPoP header: %s, want the same as with it: %s", bare, got)
					}
				})
			}

			key := mode + "/plain bearer token"
			t.Run(mode+"/"+fw.Name+"/plain bearer token", func(t *testing.T) {
				got := call(t, http.MethodGet, notes, bearer)
				if mode == app.DPoPAllowed {
					wantNote()(t, got) // a token without cnf is a bearer token
				} else {
					checkRefusal(t, got, []string{`DPoP realm="api", ` + authtest.DPoPAlgs +
						`, error="invalid_token", error_description="a DPoP-bound access token is required"`})
				}
				answers[key] = append(answers[key], got)
			})
		}
	}
	t.Run("frameworks agree", func(t *testing.T) { checkAgree(t, names, answers) })
	t.Logf("DPoP end to end in %v", time.Since(start).Round(time.Millisecond))
}

// TestCertificateBound runs every example app's handler over TLS, asking
// for a client certificate, against a token oidc-provider bound to a client
// certificate (RFC 8705 §3). The certificate reaches the provider in the
// RFC 9440 Client-Cert header, as from a TLS-terminating proxy in front of
// it. The token passes with that certificate only.
func TestCertificateBound(t *testing.T) {
	start := time.Now()
	p := startProvider(t)
	right, other := selfSigned(t, "right client"), selfSigned(t, "other client")

	if status, body := p.certToken(t, nil); status != http.StatusBadRequest || !strings.Contains(body, "invalid_grant") {
		t.Fatalf("token for %s without a certificate: %d %s, want 400 invalid_grant", mtlsClient, status, body)
	}
	tok := p.boundToCertificate(t, right.Certificate[0])
	bearer := p.token(t, "client-es256", scopeRead, "")

	mismatch := authtest.Challenges(`, error="invalid_token", error_description="the access token is bound to another client certificate"`)
	cases := []struct {
		name   string
		cert   *tls.Certificate
		header http.Header
		token  string
		want   func(t *testing.T, got answer)
	}{
		{name: "right certificate", cert: &right, token: tok, want: wantNote()},
		{name: "other certificate", cert: &other, token: tok, want: func(t *testing.T, got answer) { checkRefusal(t, got, mismatch) }},
		{name: "no certificate", token: tok, want: func(t *testing.T, got answer) { checkRefusal(t, got, mismatch) }},
		// The app trusts no proxy: a Client-Cert header is not a certificate.
		{name: "no certificate, Client-Cert header", token: tok, header: http.Header{"Client-Cert": {clientCertField(right.Certificate[0])}},
			want: func(t *testing.T, got answer) { checkRefusal(t, got, mismatch) }},
		{name: "unbound token with a certificate", cert: &right, token: bearer, want: wantNote()},
	}

	answers := map[string][]answer{}
	var names []string
	for _, fw := range frameworks {
		names = append(names, fw.Name)
		base, roots := startTLSApp(t, fw, p.url)
		for _, c := range cases {
			t.Run(fw.Name+"/"+c.name, func(t *testing.T) {
				h := http.Header{"Authorization": {"Bearer " + c.token}}
				for k, v := range c.header {
					h[k] = v
				}
				got := send(t, tlsClient(roots, c.cert), http.MethodGet, base+"/notes", h)
				c.want(t, got)
				answers[c.name] = append(answers[c.name], got)
			})
		}
	}
	t.Run("frameworks agree", func(t *testing.T) { checkAgree(t, names, answers) })
	t.Logf("certificate-bound end to end in %v", time.Since(start).Round(time.Millisecond))
}

// --- the DPoP client --------------------------------------------------------

// dpopClient drives oidcprovider/dpopclient.mjs, oauth4webapi's DPoP client.
type dpopClient struct {
	in     io.WriteCloser
	lines  chan []byte
	stderr *apptest.Buffer
}

// boundToken is a DPoP-bound token and the client session holding its key.
type boundToken struct {
	id         int
	token, jkt string
}

// startDPoPClient starts `node dpopclient.mjs <issuer>`, which reads one
// JSON request a line and answers each with one line.
func startDPoPClient(t *testing.T, issuer string) *dpopClient {
	t.Helper()
	node := nodeWith(t, "oauth4webapi")
	c := &dpopClient{lines: make(chan []byte, 1), stderr: &apptest.Buffer{}}
	cmd := exec.Command(node, "dpopclient.mjs", issuer)
	cmd.Dir, cmd.Stderr = providerDir, c.stderr
	var err error
	if c.in, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dpopclient.mjs: %v", err)
	}
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			c.lines <- slices.Clone(sc.Bytes())
		}
	}()
	t.Cleanup(func() {
		_ = c.in.Close() // the client exits at the end of its input
		for range c.lines {
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		awaitExit(t, "dpopclient.mjs", "at the end of its input", cmd, exited, c.stderr)
	})
	return c
}

// do sends one request and decodes its answer into out.
func (c *dpopClient) do(t *testing.T, req map[string]any, out any) {
	t.Helper()
	line, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.in.Write(append(line, '\n')); err != nil {
		t.Fatalf("dpopclient.mjs: %v", err)
	}
	var got []byte
	select {
	case l, ok := <-c.lines:
		if !ok {
			t.Fatalf("dpopclient.mjs stopped; stderr:\n%s", c.stderr.String())
		}
		got = l
	case <-time.After(20 * time.Second):
		t.Fatalf("dpopclient.mjs gave no answer to %s within 20s; stderr:\n%s", line, c.stderr.String())
	}
	var failed struct{ Error string }
	if err := json.Unmarshal(got, &failed); err != nil || failed.Error != "" {
		t.Fatalf("dpopclient.mjs %s: %s (%v)", req["op"], got, err)
	}
	if err := json.Unmarshal(got, out); err != nil {
		t.Fatalf("dpopclient.mjs %s: %s: %v", req["op"], got, err)
	}
}

// token gets a DPoP-bound token for client under a new proof key of alg.
func (c *dpopClient) token(t *testing.T, client, scope, alg string) boundToken {
	t.Helper()
	var out struct {
		ID          int    `json:"id"`
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		JKT         string `json:"jkt"`
	}
	c.do(t, map[string]any{"op": "token", "client": client, "scope": scope, "alg": alg}, &out)
	// Token types are case-insensitive (RFC 6749 §7.1); oauth4webapi lowers them.
	if !strings.EqualFold(out.TokenType, "DPoP") || out.AccessToken == "" || out.JKT == "" {
		t.Fatalf("%s %s token: type %q, jkt %q", client, alg, out.TokenType, out.JKT)
	}
	return boundToken{id: out.ID, token: out.AccessToken, jkt: out.JKT}
}

// proof returns the Authorization and DPoP headers oauth4webapi sends
// with tok for method and url.
func (c *dpopClient) proof(t *testing.T, tok boundToken, method, url string) http.Header {
	t.Helper()
	return c.proofFor(t, tok, tok.token, method, url)
}

// proofFor is proof under tok's key for another access token.
func (c *dpopClient) proofFor(t *testing.T, key boundToken, token, method, url string) http.Header {
	t.Helper()
	var out struct{ Authorization, DPoP string }
	c.do(t, map[string]any{"op": "proof", "id": key.id, "method": method, "url": url, "token": token}, &out)
	if out.Authorization != "DPoP "+token || out.DPoP == "" {
		t.Fatalf("proof headers %+v", out)
	}
	return http.Header{"Authorization": {out.Authorization}, "Dpop": {out.DPoP}}
}

// checkBound checks that the provider bound tok to the client's key.
func checkBound(t *testing.T, p *provider, client string, tok boundToken) {
	t.Helper()
	c := claimsOf(t, tok.token)
	if c.Cnf["jkt"] != tok.jkt || c.ClientID != client || c.Iss != p.url || c.Scope != scopeRead {
		t.Fatalf("token claims %+v: want cnf.jkt %s, client_id %s, iss %s, scope %s", c, tok.jkt, client, p.url, scopeRead)
	}
}

type tokenClaims struct {
	Iss      string            `json:"iss"`
	ClientID string            `json:"client_id"`
	Scope    string            `json:"scope"`
	Cnf      map[string]string `json:"cnf"`
}

func claimsOf(t *testing.T, token string) tokenClaims {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not a JWS", token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	var c tokenClaims
	if err == nil {
		err = json.Unmarshal(raw, &c)
	}
	if err != nil {
		t.Fatalf("token claims: %v", err)
	}
	return c
}

// --- certificates -----------------------------------------------------------

// selfSigned makes a self-signed ECDSA P-256 certificate.
func selfSigned(t *testing.T, name string, hosts ...net.IP) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if len(hosts) > 0 {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = hosts
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// clientCertField is the RFC 9440 Client-Cert field of a certificate.
func clientCertField(der []byte) string {
	return ":" + base64.StdEncoding.EncodeToString(der) + ":"
}

// certToken asks the provider for a token for the mTLS client, sending der
// (if any) in the Client-Cert header, as a TLS-terminating proxy would.
func (p *provider) certToken(t *testing.T, der []byte) (status int, body string) {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {scopeRead}}
	req, err := http.NewRequest(http.MethodPost, p.url+"/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(mtlsClient, clientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if der != nil {
		req.Header.Set("Client-Cert", clientCertField(der))
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("token request: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// boundToCertificate gets a token bound to der and checks its cnf.
func (p *provider) boundToCertificate(t *testing.T, der []byte) string {
	t.Helper()
	status, body := p.certToken(t, der)
	var tr struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	if status != http.StatusOK || json.Unmarshal([]byte(body), &tr) != nil || tr.TokenType != "Bearer" {
		t.Fatalf("certificate-bound token: %d %s", status, body)
	}
	if c := claimsOf(t, tr.AccessToken); c.Cnf["x5t#S256"] != authtest.CertificateThumbprint(der) || c.ClientID != mtlsClient {
		t.Fatalf("token claims %+v: want cnf x5t#S256 %s", c, authtest.CertificateThumbprint(der))
	}
	return tr.AccessToken
}

// startTLSApp serves fw's handler, built as app.Run builds it from the
// same environment, over TLS that asks for a client certificate and checks
// none (the token binding is the check). It returns the base URL and the
// pool that trusts the server's certificate.
func startTLSApp(t *testing.T, fw app.Framework, issuer string) (string, *x509.CertPool) {
	t.Helper()
	env := map[string]string{app.EnvIssuer: issuer, app.EnvAudiences: audience}
	cfg, err := app.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := core.New(context.Background(), append(cfg.Options(), core.WithLogger(slog.New(slog.DiscardHandler)))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close() })
	if err := v.Ready(ctx); err != nil {
		t.Fatalf("keys: %v", err)
	}

	server := selfSigned(t, "notes API", net.IPv4(127, 0, 0, 1))
	roots := x509.NewCertPool()
	leaf, err := x509.ParseCertificate(server.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	roots.AddCert(leaf)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := fw.Server(app.Service{Verifier: v})
	served := make(chan error, 1)
	go func() {
		served <- srv.Serve(tls.NewListener(ln, &tls.Config{
			Certificates: []tls.Certificate{server},
			ClientAuth:   tls.RequestClientCert,
			MinVersion:   tls.VersionTLS12,
		}))
	}()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		if err := srv.Shutdown(sctx); err != nil {
			t.Errorf("%s shutdown: %v", fw.Name, err)
		}
		if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("%s serve: %v", fw.Name, err)
		}
	})
	return "https://" + ln.Addr().String(), roots
}

// tlsClient trusts roots and presents cert (none when nil).
func tlsClient(roots *x509.CertPool, cert *tls.Certificate) *http.Client {
	cfg := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	if cert != nil {
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
}

// --- requests and answers ---------------------------------------------------

// send makes a request with the given header fields through client.
func send(t *testing.T, client *http.Client, method, url string, h http.Header) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = h.Clone()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	ch := resp.Header.Values("WWW-Authenticate")
	return answer{status: resp.StatusCode, challenge: strings.Join(ch, " | "), challenges: ch, body: body}
}

// checkRefusal: 401 with exactly the challenges want, and the body naming
// the last one's error code.
func checkRefusal(t *testing.T, got answer, want []string) {
	t.Helper()
	if got.status != http.StatusUnauthorized || !slices.Equal(got.challenges, want) {
		t.Errorf("got %s, want 401 with %q", got, want)
	}
	_, params, _ := strings.Cut(want[len(want)-1], `error="`)
	code, _, _ := strings.Cut(params, `"`)
	if c, _ := errorBody(t, got); c != code {
		t.Errorf("body error %q, want %q", c, code)
	}
}

// wantDPoPRefusal: 401 with the error code on the DPoP challenge; the Bearer
// challenge beside it (DPoP allowed) names no error, as a DPoP error code
// means nothing to a bearer client.
func wantDPoPRefusal(dpopOnly func([]string) []string, code, desc string) func(*testing.T, answer) {
	return func(t *testing.T, got answer) {
		t.Helper()
		want := authtest.Challenges(`, error="` + code + `", error_description="` + desc + `"`)
		want[0] = `Bearer realm="api"`
		checkRefusal(t, got, dpopOnly(want))
	}
}

// wantDPoPScope: 403 insufficient_scope with the DPoP challenge alone.
func wantDPoPScope(scope string) func(*testing.T, answer) {
	return func(t *testing.T, got answer) {
		t.Helper()
		want := []string{`DPoP realm="api", ` + authtest.DPoPAlgs + `, error="insufficient_scope", scope="` + scope + `"`}
		if got.status != http.StatusForbidden || !slices.Equal(got.challenges, want) {
			t.Errorf("got %s, want 403 with %q", got, want)
		}
		if code, _ := errorBody(t, got); code != "insufficient_scope" {
			t.Errorf("body error %q, want insufficient_scope", code)
		}
	}
}

// wantJKT checks /my-token: the verified claims carry the proof key's thumbprint.
func wantJKT(jkt string) func(*testing.T, answer) {
	return func(t *testing.T, got answer) {
		t.Helper()
		var c struct{ Cnf map[string]string }
		if got.status != http.StatusOK || json.Unmarshal(got.body, &c) != nil || c.Cnf["jkt"] != jkt {
			t.Errorf("got %s, want 200 with cnf.jkt %s", got, jkt)
		}
	}
}

// checkAgree: every case got the same answer from every framework.
func checkAgree(t *testing.T, names []string, answers map[string][]answer) {
	t.Helper()
	for key, got := range answers {
		if len(got) != len(names) {
			t.Errorf("%s: %d answers for %d frameworks", key, len(got), len(names))
			continue
		}
		for i := 1; i < len(got); i++ {
			if !got[0].same(got[i]) {
				t.Errorf("%s: %s answered %s, %s answered %s", key, names[0], got[0], names[i], got[i])
			}
		}
	}
}
