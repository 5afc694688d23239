package apptest

import (
	"fmt"
	"os"
	"testing"
)

// RequireEnv is the environment variable that makes a test suite which
// needs an outside tool (node and oidc-provider for the end-to-end tests,
// Chromium for the browser test) fail instead of skip when the tool is
// missing. .ci/run sets it, so that CI always runs those suites; the CI
// variable that CI services set has the same effect.
const RequireEnv = "JWKSAUTH_REQUIRE_E2E"

// SkipLogEnv is the environment variable naming a file to which a skipped
// suite appends one line saying what it skipped and why. `make test` sets
// it and prints the lines at the end, so a skip is never silent.
const SkipLogEnv = "JWKSAUTH_SKIP_LOG"

// Unavailable ends t because the tool that suite needs is missing here:
// why says which and how to install it. With RequireEnv (not "0") or CI
// set, t fails; otherwise t is skipped, and the skip is recorded in the
// file that SkipLogEnv names, if any.
func Unavailable(t testing.TB, suite, why string) {
	t.Helper()
	if v := os.Getenv(RequireEnv); v != "" && v != "0" {
		t.Fatalf("%s: %s (%s=%s: this suite must run)", suite, why, RequireEnv, v)
	}
	if v := os.Getenv("CI"); v != "" {
		t.Fatalf("%s: %s (CI=%s: this suite must run)", suite, why, v)
	}
	if log := os.Getenv(SkipLogEnv); log != "" {
		if err := appendLine(log, fmt.Sprintf("%s (%s): %s", suite, t.Name(), why)); err != nil {
			t.Fatalf("%s: recording the skip in %s=%s: %v", suite, SkipLogEnv, log, err)
		}
	}
	t.Skipf("%s skipped: %s", suite, why)
}

// appendLine appends line and a newline to the file at path. One short
// write with O_APPEND, so that test processes running side by side do not
// interleave their lines.
func appendLine(path, line string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(line + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
