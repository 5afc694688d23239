package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
)

// ShutdownTimeout bounds the graceful shutdown: requests still running
// after it are cut off.
const ShutdownTimeout = 10 * time.Second

// Exit codes of Main and Command.
const (
	ExitOK     = 0
	ExitFailed = 1 // the server could not start or stopped on an error
	ExitConfig = 2 // a bad setting (a *ConfigError)
)

// Server is a started framework's HTTP server. *http.Server is one.
type Server interface {
	// Serve answers connections from ln until Shutdown.
	Serve(ln net.Listener) error
	// Shutdown stops accepting connections and waits for running requests.
	Shutdown(ctx context.Context) error
}

// Framework is one web framework's way to serve the notes API.
type Framework struct {
	// Name is the framework's name ("gin", "echo", "fiber").
	Name string
	// Server returns a server answering every route of Routes and every
	// page of s (see Service).
	Server func(s Service) Server
}

// Main runs fw with the process's environment until SIGINT or SIGTERM and
// returns the exit code. A second signal stops the process at once.
func Main(fw Framework) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // restore the default action: a second signal kills
	}()
	return Command(ctx, fw, os.Getenv, os.Stdout, os.Stderr)
}

// Command is Main with its inputs given: it runs Run, prints the error as
// one line on stderr, and returns ExitOK, ExitConfig for a *ConfigError or
// ExitFailed.
func Command(ctx context.Context, fw Framework, getenv func(string) string, stdout, stderr io.Writer) int {
	err := Run(ctx, fw, getenv, stdout, stderr)
	if err == nil {
		return ExitOK
	}
	fmt.Fprintf(stderr, "%s: %s\n", fw.Name, strings.ReplaceAll(err.Error(), "\n", "; "))
	if ce := (*ConfigError)(nil); errors.As(err, &ce) {
		return ExitConfig
	}
	return ExitFailed
}

// Run serves the notes API with fw until ctx ends, then shuts down
// gracefully: running requests finish (within ShutdownTimeout), still
// verified by a live Verifier. It is configured through getenv (see
// LoadConfig). Beside the API it serves Swagger UI at /, the OpenAPI
// document at /openapi.json and Prometheus metrics at /metrics. Without
// ISSUER and JWKS_URL it starts a development issuer on loopback with a
// login for the docs' Authorize button, warns on stderr, and prints the
// docs' URL, ready tokens and curl lines on stdout. Logs go to stderr.
func Run(ctx context.Context, fw Framework, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := LoadConfig(getenv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil)).With("app", fw.Name)

	// The verifier and the development issuer outlive ctx: they must
	// serve the requests still running while the server shuts down.
	life, end := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	defer func() {
		end()
		wg.Wait()
	}()
	dev, dpopURL, err := startDevIssuer(&cfg, stderr)
	if err != nil {
		return err
	}
	if dev != nil {
		defer dev.Close()
	}
	ln, base, err := listen(&cfg, dev != nil)
	if err != nil {
		return err
	}
	defer ln.Close() // on an early return; Serve closes it otherwise
	metrics := NewMetrics()
	v, err := newVerifier(life, cfg, log, metrics)
	if err != nil {
		return err
	}
	defer v.Close()

	docs, err := newAppDocs(ctx, cfg, dev, v.Realm(), log)
	if err != nil {
		return err
	}

	srv := fw.Server(Service{Verifier: v, Docs: docs, Metrics: metrics})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logStart(log, base, cfg, v, docs)

	if dev != nil {
		if err := printDev(ctx, stdout, dev, cfg, v, docs, base, dpopURL); err != nil && ctx.Err() == nil {
			return stop(srv, served, fmt.Errorf("development issuer: %w", err))
		}
	} else {
		wg.Go(func() {
			if v.Ready(life) == nil {
				log.Info("signing keys loaded", "issuer", cfg.issuerNames())
			}
		})
	}

	return serveUntilDone(ctx, log, srv, served)
}

// newVerifier builds the app's Verifier from cfg, its hooks feeding
// metrics. An error is a ConfigError: LoadConfig checked each variable,
// and this is what core alone knows.
func newVerifier(ctx context.Context, cfg Config, log *slog.Logger, metrics *Metrics) (*core.Verifier, error) {
	v, err := core.New(ctx, append(cfg.Options(), core.WithLogger(log), core.WithHooks(metrics.Hooks()))...)
	if err != nil {
		return nil, &ConfigError{strings.Join([]string{EnvIssuer, EnvJWKSURL, EnvAudiences, EnvClientIDs, EnvResourceURL}, ", "), err.Error()}
	}
	return v, nil
}

// serveUntilDone waits until Serve fails or ctx ends, then shuts srv down.
func serveUntilDone(ctx context.Context, log *slog.Logger, srv Server, served chan error) error {
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	if err := stop(srv, served, nil); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

// startDevIssuer starts the development issuer when cfg names no issuer
// (development mode), makes it cfg's issuer, prints the warning, and turns
// on its DPoP token endpoint, whose URL it returns. Otherwise it returns
// nil: the app verifies the configured issuer's tokens.
func startDevIssuer(cfg *Config, stderr io.Writer) (*authtest.Issuer, string, error) {
	if !cfg.Development() {
		return nil, "", nil
	}
	dev, err := authtest.NewIssuer()
	if err != nil {
		return nil, "", fmt.Errorf("development issuer: %w", err)
	}
	cfg.Issuer = dev.URL
	printDevWarning(stderr, dev.URL)
	return dev, enableDevDPoP(dev, *cfg), nil
}

// printDev mints the development tokens, waits until v has the in-process
// issuer's keys (they load at once), and prints the tokens and how to use
// them, the DPoP endpoint and the resource metadata.
func printDev(ctx context.Context, stdout io.Writer, dev *authtest.Issuer, cfg Config, v *core.Verifier, docs *Docs, base, dpopURL string) error {
	toks, err := mintDevTokens(dev, cfg)
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := v.Ready(rctx); err != nil {
		return err
	}
	printDevUsage(stdout, base, docs.Flow(), toks, cfg.DPoPRequired)
	printDevDPoP(stdout, base, dpopURL)
	printResourceMetadata(stdout, base, v.ResourceMetadataURL())
	return nil
}

// listen opens cfg.Addr and returns the listener and the app's URL. It
// runs before the verifier is built: in development mode the resource
// identifier defaults to that URL, port included.
func listen(cfg *Config, dev bool) (net.Listener, string, error) {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, "", fmt.Errorf("listen: %w", err)
	}
	base := baseURL(ln.Addr())
	if dev && cfg.ResourceURL == "" {
		cfg.ResourceURL = base
	}
	return ln, base, nil
}

// logStart logs where the app listens and what it serves there.
func logStart(log *slog.Logger, base string, cfg Config, v *core.Verifier, docs *Docs) {
	log.Info("notes API listening", "url", base, "issuer", cfg.issuerNames())
	if u := v.ResourceMetadataURL(); u != "" {
		log.Info("protected resource metadata", "url", u, "resource", cfg.ResourceURL)
	}
	log.Info("interactive docs", "url", base+DocsPath, "authorize", docs.Flow() != nil, "metrics", base+MetricsPath)
}

// stop shuts srv down, waits for Serve to return, and returns cause or the
// first shutdown error.
func stop(srv Server, served <-chan error, cause error) error {
	ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(ctx)
	if serr := <-served; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if cause != nil {
		return cause
	}
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// baseURL is the app's URL for clients: an unspecified listen address
// (":8080", "0.0.0.0:8080") is reached through loopback.
func baseURL(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return "http://" + a.String()
	}
	ip := tcp.IP
	switch {
	case ip.IsUnspecified() && ip.To4() == nil:
		ip = net.IPv6loopback
	case ip.IsUnspecified():
		ip = net.IPv4(127, 0, 0, 1)
	}
	return "http://" + net.JoinHostPort(ip.String(), fmt.Sprint(tcp.Port))
}

// NewHTTPServer serves an http.Handler with timeouts against slow clients.
func NewHTTPServer(h http.Handler) Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
}
