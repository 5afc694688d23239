package apptest_test

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jwksauth/jwksauth/examples/internal/apptest"
)

// childEnv marks the run of this test binary that TestUnavailable starts.
const childEnv = "JWKSAUTH_APPTEST_UNAVAILABLE_CHILD"

// TestUnavailableChild is the suite that TestUnavailable runs in a child
// process: it calls Unavailable, as a suite does when its tool is missing.
// Run directly, it does nothing.
func TestUnavailableChild(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		return
	}
	apptest.Unavailable(t, "demo suite", "no demo tool on PATH")
	t.Log("still running after Unavailable")
}

// TestUnavailable runs TestUnavailableChild in a child process with each
// environment and checks that the suite skips (and records the skip) only
// where nothing requires it, and fails where RequireEnv or CI is set.
func TestUnavailable(t *testing.T) {
	tests := []struct {
		name     string
		env      []string
		wantFail bool
		wantLog  bool
	}{
		{name: "nothing set: skipped and recorded", wantLog: true},
		{name: "required: fails", env: []string{apptest.RequireEnv + "=1"}, wantFail: true},
		{name: "required is 0: skipped", env: []string{apptest.RequireEnv + "=0"}, wantLog: true},
		{name: "CI set: fails", env: []string{"CI=true"}, wantFail: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := filepath.Join(t.TempDir(), "skipped")
			cmd := exec.Command(os.Args[0], "-test.run=^TestUnavailableChild$", "-test.v", "-test.count=1")
			cmd.Env = append(withoutRequire(os.Environ()), childEnv+"=1", apptest.SkipLogEnv+"="+log)
			cmd.Env = append(cmd.Env, tt.env...)
			out, err := cmd.CombinedOutput()
			if strings.Contains(string(out), "still running after Unavailable") {
				t.Errorf("Unavailable returned; output:\n%s", out)
			}
			switch {
			case tt.wantFail && (err == nil || !strings.Contains(string(out), "--- FAIL: TestUnavailableChild")):
				t.Errorf("want the suite to fail, got err %v, output:\n%s", err, out)
			case !tt.wantFail && (err != nil || !strings.Contains(string(out), "--- SKIP: TestUnavailableChild")):
				t.Errorf("want the suite skipped, got err %v, output:\n%s", err, out)
			}
			got, err := os.ReadFile(log)
			if tt.wantLog {
				want := "demo suite (TestUnavailableChild): no demo tool on PATH\n"
				if err != nil || string(got) != want {
					t.Errorf("skip log %q (%v), want %q", got, err, want)
				}
			} else if !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a failing suite recorded a skip: %q (%v)", got, err)
			}
		})
	}
}

// withoutRequire drops the variables that require the suites, which CI sets
// for this test's own run.
func withoutRequire(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, apptest.RequireEnv+"=") && !strings.HasPrefix(kv, "CI=") &&
			!strings.HasPrefix(kv, apptest.SkipLogEnv+"=") {
			out = append(out, kv)
		}
	}
	return out
}
