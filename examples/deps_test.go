package examples_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// testingImporters are, per app, the packages outside this repository
// that it links and that import testing themselves: Fiber v2's utils (its
// assertion helpers) in the Fiber app. Each app links only its own
// framework (internal/ginapp, echoapp, fiberapp), so the Gin and Echo
// binaries link no testing at all.
var testingImporters = map[string][]string{"./fiber": {"github.com/gofiber/fiber/v2/utils"}}

// The example apps' production binaries link no test package of ours:
// their development mode uses core/authtest's issuer, which imports neither
// testing nor net/http/httptest (the conformance table that does is
// core/authtest/conformance).
func TestAppsLinkNoTestPackages(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	for _, app := range []string{"./gin", "./echo", "./fiber"} {
		allowed := testingImporters[app]
		t.Run(app, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", app).Output()
			if err != nil {
				t.Fatalf("go list: %v", err)
			}
			var pkgs int
			for line := range strings.Lines(string(out)) {
				f := strings.Fields(line)
				if len(f) == 0 {
					continue
				}
				pkgs++
				if f[0] == "net/http/httptest" || (f[0] == "testing" && len(allowed) == 0) {
					t.Errorf("%s links %s", app, f[0])
				}
				if slices.Contains(f[1:], "testing") && !slices.Contains(allowed, f[0]) {
					t.Errorf("%s links %s, which imports testing", app, f[0])
				}
			}
			if pkgs < 10 {
				t.Fatalf("go list listed %d packages", pkgs)
			}
		})
	}
}
