package app_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jwksauth/jwksauth/core/authtest"
	"github.com/jwksauth/jwksauth/examples/internal/app"
	"github.com/jwksauth/jwksauth/examples/internal/apptest"
	"github.com/jwksauth/jwksauth/examples/internal/ginapp"
)

var listening = regexp.MustCompile(`msg="notes API listening" app=\w+ url=(http://\S+)`)

// started waits for the app's "listening" log line and returns its URL.
func started(t *testing.T, stderr *apptest.Buffer) string {
	t.Helper()
	return apptest.WaitFor(t, stderr, 10*time.Second, func(s string) (string, bool) {
		m := listening.FindStringSubmatch(s)
		if m == nil {
			return "", false
		}
		return m[1], true
	})
}

// TestGracefulShutdown starts each app against an issuer and cancels while
// a request is running (its token's key is new, and the issuer's JWKS
// answers slowly): the request still gets its 200, Run returns 0 only
// after it, and the port is closed.
func TestGracefulShutdown(t *testing.T) {
	for _, fw := range frameworks {
		t.Run(fw.Name, func(t *testing.T) {
			iss := authtest.MustIssuer(t)
			var stdout, stderr apptest.Buffer
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			code := make(chan int, 1)
			getenv := env(map[string]string{"ADDR": "127.0.0.1:0", "ISSUER": iss.URL})
			go func() { code <- app.Command(ctx, fw, getenv, &stdout, &stderr) }()
			base := started(t, &stderr)
			apptest.WaitFor(t, &stderr, 5*time.Second, func(s string) (bool, bool) {
				return true, strings.Contains(s, `msg="signing keys loaded"`)
			})

			// A token signed by a key the app has not seen: verifying it
			// refreshes the JWKS, which now takes 800ms.
			if _, err := iss.Rotate("ES256"); err != nil {
				t.Fatal(err)
			}
			iss.SetDelay(800 * time.Millisecond)
			tok := iss.MustMint(t, authtest.Claims{"scope": app.ScopeRead})
			inflight := make(chan answer, 1)
			go func() { inflight <- call(t, "GET", base+"/notes", "Bearer "+tok) }()
			time.Sleep(200 * time.Millisecond)
			cancel()

			select {
			case c := <-code:
				t.Fatalf("Run returned %d with a request in flight", c)
			case a := <-inflight:
				if a.status != http.StatusOK {
					t.Errorf("the request in flight got %d %s", a.status, a.body)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the request in flight got no answer within 5s")
			}
			exited(t, code, &stderr)
			if c, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), time.Second); err == nil {
				c.Close()
				t.Error("the port still accepts connections after Run returned")
			}
			if !strings.Contains(stderr.String(), `msg=stopped`) {
				t.Errorf("no 'stopped' log line:\n%s", stderr.String())
			}
		})
	}
}

// TestMainStopsOnSIGTERM runs Main, the mains' entry point, with the
// process environment and sends this process a SIGTERM: Main must catch
// it, shut down and return 0.
func TestMainStopsOnSIGTERM(t *testing.T) {
	iss := authtest.MustIssuer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	t.Setenv("ADDR", addr)
	t.Setenv("ISSUER", iss.URL)
	for _, name := range []string{"JWKS_URL", "PERMITTED_JWT_AUDIENCES", "PERMITTED_CLIENT_IDS"} {
		t.Setenv(name, "")
	}
	code := make(chan int, 1)
	go func() { code <- app.Main(ginapp.Framework) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := client.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Main did not serve: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited(t, code, nil)
}
