package app_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
	"github.com/jwksauth/jwksauth/examples/internal/app"
	"github.com/jwksauth/jwksauth/examples/internal/apptest"
	"github.com/jwksauth/jwksauth/examples/internal/echoapp"
	"github.com/jwksauth/jwksauth/examples/internal/fiberapp"
	"github.com/jwksauth/jwksauth/examples/internal/ginapp"
)

// frameworks are the apps under test; every table runs against each.
var frameworks = []app.Framework{ginapp.Framework, echoapp.Framework, fiberapp.Framework}

var client = &http.Client{Timeout: 5 * time.Second}

// env is a getenv over a map.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// newVerifier builds the verifier the mains would build for iss, through
// LoadConfig and Config.Options (plus opts), and waits for its keys.
func newVerifier(t *testing.T, iss *authtest.Issuer, opts ...core.Option) *core.Verifier {
	t.Helper()
	cfg, err := app.LoadConfig(env(map[string]string{app.EnvIssuer: iss.URL}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	v, err := core.New(context.Background(), append(cfg.Options(), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close() })
	if err := v.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	return v
}

// serve starts fw's server for s on a free loopback port and returns its
// URL. The server is shut down when the test ends.
func serve(t *testing.T, fw app.Framework, s app.Service) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := fw.Server(s)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("%s: shutdown: %v", fw.Name, err)
		}
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("%s: serve: %v", fw.Name, err)
		}
	})
	return "http://" + ln.Addr().String()
}

// answer is what a test compares of a response.
type answer struct {
	status       int
	challenges   []string // every WWW-Authenticate field, in order
	contentType  string
	cacheControl string
	allow        string
	body         []byte
}

func call(t *testing.T, method, url string, auth ...string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(auth) > 0 {
		req.Header["Authorization"] = auth
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return answer{
		status:       resp.StatusCode,
		challenges:   resp.Header.Values("WWW-Authenticate"),
		contentType:  resp.Header.Get("Content-Type"),
		cacheControl: resp.Header.Get("Cache-Control"),
		allow:        resp.Header.Get("Allow"),
		body:         body,
	}
}

// payload returns the claims segment of a JWT, as JSON.
func payload(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// exited waits for the exit code of an app started with app.Command or
// app.Main, and checks it is 0. stderr may be nil (Main writes to os.Stderr).
func exited(t *testing.T, code <-chan int, stderr *apptest.Buffer) {
	t.Helper()
	select {
	case c := <-code:
		if c != app.ExitOK {
			out := "(os.Stderr)"
			if stderr != nil {
				out = stderr.String()
			}
			t.Errorf("exit code %d, want 0; stderr:\n%s", c, out)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the app did not stop within 5s")
	}
}
