package fiberauth_test

// The Fiber code of README.md and docs/ (quick start, testing guide), compiled
// and run. core's doc check (core/doccheck_test.go) fails when a marked
// snippet of the docs is no longer made of lines of this file.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
	"github.com/jwksauth/jwksauth/fiberauth"
)

// The README's three-line quick start, against a loopback issuer.
func Example_quickStart() {
	iss, err := authtest.NewIssuer() // stands in for your OpenID provider
	if err != nil {
		fmt.Println(err)
		return
	}
	defer iss.Close()
	ctx := context.Background()
	issuer, audience := iss.URL, authtest.DefaultAudience
	listNotes := func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"notes": []string{}}) }
	app := fiber.New(fiber.Config{ReadBufferSize: 32 << 10}) // fasthttp's 4 KiB default is too small for large tokens

	v, err := core.New(ctx, core.WithIssuer(issuer), core.WithAudiences(audience)) // once per issuer; never blocks
	if err != nil {
		fmt.Println(err)
		return
	}
	defer v.Close()
	app.Use(fiberauth.Middleware(v))
	app.Get("/notes", fiberauth.RequireScopes(v, "note:read"), listNotes)

	_ = v.Ready(ctx) // in a test, wait for the keys: until they load, requests answer 503
	for _, scope := range []string{"note:read", "note:create", ""} {
		req := httptest.NewRequest(http.MethodGet, "/notes", nil)
		if scope != "" {
			token, _ := iss.Mint(authtest.Claims{"scope": scope})
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := app.Test(req, -1)
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
		fmt.Println(strings.TrimSpace(fmt.Sprint(resp.StatusCode, " ", resp.Header.Get("WWW-Authenticate"))))
	}
	// Output:
	// 200
	// 403 Bearer realm="api", error="insufficient_scope", scope="note:read"
	// 401 Bearer realm="api"
}

// A custom error handler that logs each refusal, then answers exactly as
// the default does.
func Example_customErrorHandler() {
	iss, err := authtest.NewIssuer()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer iss.Close()
	ctx := context.Background()
	v, err := core.New(ctx, core.WithIssuer(iss.URL), core.WithAudiences(authtest.DefaultAudience))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer v.Close()
	_ = v.Ready(ctx)
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: withoutTime}))
	app := fiber.New(fiber.Config{ReadBufferSize: 32 << 10})

	refusals := fiberauth.WithErrorHandler(func(c *fiber.Ctx, err *core.Error) error {
		logger.Info("refused", "status", err.Status, "code", err.Code, "path", c.Path(), "cause", err) // the cause is for logs only
		return fiberauth.WriteError(c, err)                                                            // core's status, WWW-Authenticate and body, unchanged
	})
	app.Use(fiberauth.Middleware(v, refusals))
	app.Get("/notes", fiberauth.Require(v, v.RequireScopes("note:read"), refusals), func(c *fiber.Ctx) error { return c.SendStatus(http.StatusOK) })

	token, _ := iss.Mint(authtest.Claims{"scope": "note:create"})
	for _, auth := range []string{"", "Bearer " + token} {
		req := httptest.NewRequest(http.MethodGet, "/notes", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := app.Test(req, -1)
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
		fmt.Println(resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	// Output:
	// level=INFO msg=refused status=401 code="" path=/notes cause="no bearer credential in the request"
	// 401 Bearer realm="api"
	// level=INFO msg=refused status=403 code=insufficient_scope path=/notes cause="insufficient scope"
	// 403 Bearer realm="api", error="insufficient_scope", scope="note:read"
}

// withoutTime drops the time from log lines, so that examples print the same
// output at every run.
func withoutTime(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey && len(groups) == 0 {
		return slog.Attr{}
	}
	return a
}

// newNotesRouter is the application under test: your own router
// constructor, which takes the verifier so that a test can pass one for a
// test issuer.
func newNotesRouter(v *core.Verifier) *fiber.App {
	app := fiber.New(fiber.Config{ReadBufferSize: 32 << 10})
	app.Use(fiberauth.Middleware(v))
	app.Get("/notes", fiberauth.RequireScopes(v, "note:read"), func(c *fiber.Ctx) error {
		p, _ := fiberauth.Principal(c) // valid only until the handler returns
		return c.SendString("notes of " + p.Subject)
	})
	return app
}

func TestNotesRouter(t *testing.T) {
	iss := authtest.MustIssuer(t) // closed when the test ends
	v, err := core.New(t.Context(), core.WithIssuer(iss.URL), core.WithAudiences(authtest.DefaultAudience))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := v.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	app := newNotesRouter(v)

	tests := []struct {
		name      string
		token     string
		status    int
		challenge string
		body      string
	}{
		{"no token", "", 401, `Bearer realm="api"`, `"unauthorized"`},
		{"reader", iss.MustMint(t, authtest.Claims{"scope": "note:read", "sub": "alice"}), 200, "", "notes of alice"},
		{"other scope", iss.MustMint(t, authtest.Claims{"scope": "note:create"}), 403,
			`Bearer realm="api", error="insufficient_scope", scope="note:read"`, `"insufficient_scope"`},
		{"expired", iss.MustMint(t, authtest.Claims{"scope": "note:read", "exp": time.Now().Add(-time.Hour).Unix()}), 401,
			`Bearer realm="api", error="invalid_token", error_description="the access token has expired"`, `"invalid_token"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/notes", nil)
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			resp, err := app.Test(req, -1)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.status)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != tc.challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tc.challenge)
			}
			if !strings.Contains(string(body), tc.body) {
				t.Errorf("body = %s, want it to contain %s", body, tc.body)
			}
		})
	}
}
