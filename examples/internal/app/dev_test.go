package app_test

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jwksauth/jwksauth/examples/internal/app"
	"github.com/jwksauth/jwksauth/examples/internal/apptest"
)

var (
	exportLine = regexp.MustCompile(`(?m)^export (TOKEN_\w+)='([A-Za-z0-9_.-]+)'  # (.+)$`)
	curlLine   = regexp.MustCompile(`(?m)^curl -i(?: -X ([A-Z]+))? (http://\S+)(?: -H "Authorization: Bearer \$(TOKEN_\w+)")?  # (\d{3}) `)
)

type curl struct {
	method, url, token string
	status             int
}

// TestDevelopmentMode runs each app with no ISSUER and no JWKS_URL, reads
// what it prints, and uses it: the printed tokens and curl lines must work
// against the app's actual address and get the statuses they promise.
func TestDevelopmentMode(t *testing.T) {
	for _, fw := range frameworks {
		t.Run(fw.Name, func(t *testing.T) {
			var stdout, stderr apptest.Buffer
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			code := make(chan int, 1)
			start := time.Now()
			go func() { code <- app.Command(ctx, fw, env(map[string]string{"ADDR": "127.0.0.1:0"}), &stdout, &stderr) }()

			curls := apptest.WaitFor(t, &stdout, 10*time.Second, func(s string) ([]curl, bool) {
				if !strings.Contains(s, "Then try:") || !strings.HasSuffix(s, "\n\n") {
					return nil, false
				}
				var out []curl
				for _, m := range curlLine.FindAllStringSubmatch(s, -1) {
					status, _ := strconv.Atoi(m[4])
					method := m[1]
					if method == "" {
						method = "GET"
					}
					out = append(out, curl{method, m[2], m[3], status})
				}
				return out, true
			})
			t.Logf("%s printed its tokens %v after start", fw.Name, time.Since(start).Round(time.Millisecond))

			warn := stderr.String()
			for _, want := range []string{"DEVELOPMENT MODE", "DEVELOPMENT ISSUER", "NOT FOR PRODUCTION"} {
				if !strings.Contains(warn, want) {
					t.Errorf("stderr lacks %q:\n%s", want, warn)
				}
			}

			tokens := map[string]string{}
			for _, m := range exportLine.FindAllStringSubmatch(stdout.String(), -1) {
				tokens[m[1]] = m[2]
			}
			wantScopes := map[string]string{
				"TOKEN_NONE":        "",
				"TOKEN_READ":        "example:note:read",
				"TOKEN_READ_CREATE": "example:note:read example:note:create",
				"TOKEN_ALL":         "example:note:read example:note:create example:note:update example:note:delete",
			}
			if len(tokens) != len(wantScopes) {
				t.Fatalf("printed tokens %v, want %d:\n%s", slices.Sorted(mapsKeys(tokens)), len(wantScopes), stdout.String())
			}
			for name, scope := range wantScopes {
				var claims struct {
					Scope string  `json:"scope"`
					Exp   float64 `json:"exp"`
				}
				if err := json.Unmarshal([]byte(payload(t, tokens[name])), &claims); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if claims.Scope != scope {
					t.Errorf("%s has scope %q, want %q", name, claims.Scope, scope)
				}
				if left := time.Until(time.Unix(int64(claims.Exp), 0)); left < 11*time.Hour || left > 12*time.Hour {
					t.Errorf("%s expires in %v, want about 12h", name, left)
				}
			}

			seen := map[int]bool{}
			for _, c := range curls {
				var auth []string
				if c.token != "" {
					tok, ok := tokens[c.token]
					if !ok {
						t.Fatalf("curl line uses $%s, which is not printed", c.token)
					}
					auth = []string{"Bearer " + tok}
				}
				if a := call(t, c.method, c.url, auth...); a.status != c.status {
					t.Errorf("%s %s with $%s: status %d, printed %d (body %s)", c.method, c.url, c.token, a.status, c.status, a.body)
				}
				seen[c.status] = true
			}
			for _, s := range []int{200, 401, 403} {
				if !seen[s] {
					t.Errorf("no printed curl line shows a %d", s)
				}
			}

			base := strings.TrimSuffix(curls[0].url, "/notes")
			a := call(t, "POST", base+"/notes", "Bearer "+tokens["TOKEN_READ"])
			// The development resource is the app's own URL (RFC 9728 §5.1).
			want := withMetadata(base+metadataWellKnown, insufficient(app.ScopeCreate))
			if a.status != 403 || !slices.Equal(a.challenges, want) {
				t.Errorf("read-only token on POST /notes: %d %q, want 403 %q", a.status, a.challenges, want)
			}
			if a := call(t, "DELETE", base+"/notes/1", "Bearer "+tokens["TOKEN_ALL"]); a.status != 200 {
				t.Errorf("TOKEN_ALL on DELETE /notes/1: %d %s", a.status, a.body)
			}
			if a := call(t, "GET", base+"/my-scopes", "Bearer "+tokens["TOKEN_NONE"]); a.status != 200 || string(a.body) != "[]" {
				t.Errorf("TOKEN_NONE on /my-scopes: %d %s, want 200 []", a.status, a.body)
			}

			cancel()
			exited(t, code, &stderr)
		})
	}
}

func mapsKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
