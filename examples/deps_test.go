package examples_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// testingImporters are the packages outside this repository that the apps
// link and that import testing themselves: Fiber v2's utils (its assertion
// helpers), which every app links since internal/app serves all three
// frameworks.
var testingImporters = []string{"github.com/gofiber/fiber/v2/utils"}

// The example apps' production binaries link no test package of ours:
// their development mode uses core/authtest's issuer, which imports neither
// testing nor net/http/httptest (the conformance table that does is
// core/authtest/conformance).
func TestAppsLinkNoTestPackages(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	for _, app := range []string{"./gin", "./echo", "./fiber"} {
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
				if f[0] == "net/http/httptest" {
					t.Errorf("%s links net/http/httptest", app)
				}
				if slices.Contains(f[1:], "testing") && !slices.Contains(testingImporters, f[0]) {
					t.Errorf("%s links %s, which imports testing", app, f[0])
				}
			}
			if pkgs < 10 {
				t.Fatalf("go list listed %d packages", pkgs)
			}
		})
	}
}
