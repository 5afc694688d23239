package authtest_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The test kit may be linked into an application's development mode (the
// examples do): neither it nor anything it imports may pull in testing or
// net/http/httptest. The conformance table, which needs testing, lives in
// package conformance.
func TestNoTestPackagesLinked(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "github.com/jwksauth/jwksauth/core/authtest") {
		t.Fatalf("go list -deps did not list authtest itself: %q", deps)
	}
	for _, name := range []string{"testing", "net/http/httptest"} {
		t.Run(name, func(t *testing.T) {
			if slices.Contains(deps, name) {
				t.Errorf("authtest links %s", name)
			}
		})
	}
}
