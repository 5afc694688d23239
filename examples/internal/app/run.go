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
	var dev *authtest.Issuer
	if cfg.Development() {
		if dev, err = authtest.NewIssuer(); err != nil {
			return fmt.Errorf("development issuer: %w", err)
		}
		defer dev.Close()
		cfg.Issuer = dev.URL
		printDevWarning(stderr, dev.URL)
	}
	var dpopURL string
	if dev != nil {
		dpopURL = enableDevDPoP(dev, cfg)
	}
	// Listen before building the verifier: in development mode the
	// resource identifier is the app's own URL, port included.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close() // on an early return; Serve closes it otherwise
	base := baseURL(ln.Addr())
	if dev != nil && cfg.ResourceURL == "" {
		cfg.ResourceURL = base
	}
	metrics := NewMetrics()
	v, err := core.New(life, append(cfg.Options(), core.WithLogger(log), core.WithHooks(metrics.Hooks()))...)
	if err != nil {
		// LoadConfig checked each variable; this is what core alone knows.
		return &ConfigError{strings.Join([]string{EnvIssuer, EnvJWKSURL, EnvAudiences, EnvClientIDs, EnvResourceURL}, ", "), err.Error()}
	}
	defer v.Close()

	docs, err := newAppDocs(ctx, cfg, dev, v.Realm(), log)
	if err != nil {
		return err
	}

	srv := fw.Server(Service{Verifier: v, Docs: docs, Metrics: metrics})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("notes API listening", "url", base, "issuer", cfg.issuerNames())
	if u := v.ResourceMetadataURL(); u != "" {
		log.Info("protected resource metadata", "url", u, "resource", cfg.ResourceURL)
	}
	log.Info("interactive docs", "url", base+DocsPath, "authorize", docs.Flow() != nil, "metrics", base+MetricsPath)

	if dev != nil {
		toks, err := mintDevTokens(dev, cfg)
		if err == nil {
			// The issuer is in-process: its keys load at once.
			rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
			err = v.Ready(rctx)
			rcancel()
		}
		if err != nil && ctx.Err() == nil {
			return stop(srv, served, fmt.Errorf("development issuer: %w", err))
		}
		printDevUsage(stdout, base, docs.Flow(), toks, cfg.DPoPRequired)
		printDevDPoP(stdout, base, dpopURL)
		printResourceMetadata(stdout, base, v.ResourceMetadataURL())
	} else {
		wg.Go(func() {
			if v.Ready(life) == nil {
				log.Info("signing keys loaded", "issuer", cfg.issuerNames())
			}
		})
	}

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
