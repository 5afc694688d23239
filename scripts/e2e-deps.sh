#!/usr/bin/env bash
# The step behind `make e2e-deps`: install the pinned OpenID provider of the
# end-to-end tests (examples/e2e/oidcprovider, npm ci from its lockfile)
# unless node_modules is already installed from that lockfile.
#
# Without npm, or when npm ci fails, it says so and exits 0, so that the Go
# tests still run (the end-to-end tests then skip, and `make test` lists
# the skip) — unless JWKSAUTH_REQUIRE_E2E (not 0) or CI is set, as .ci/run
# does: then it exits 1.
set -euo pipefail

cd "$(dirname "$0")/../examples/e2e/oidcprovider"
[ -f package-lock.json ] || exit 0

required() {
	{ [ -n "${JWKSAUTH_REQUIRE_E2E:-}" ] && [ "$JWKSAUTH_REQUIRE_E2E" != 0 ]; } || [ -n "${CI:-}" ]
}
unavailable() {
	if required; then
		echo "e2e-deps: FAILED: $* (JWKSAUTH_REQUIRE_E2E or CI is set: the end-to-end tests must run)" >&2
		exit 1
	fi
	echo "e2e-deps: $*; the end-to-end tests will be skipped" >&2
	exit 0
}

# npm ci writes node_modules/.package-lock.json: older than the lockfile
# means the lockfile changed since.
if [ -f node_modules/oidc-provider/package.json ] && [ -f node_modules/oauth4webapi/package.json ] && [ -f node_modules/@modelcontextprotocol/sdk/package.json ] && [ -f node_modules/.package-lock.json ] &&
	[ ! package-lock.json -nt node_modules/.package-lock.json ]; then
	exit 0
fi
command -v npm >/dev/null || unavailable "npm is not on PATH (Debian: apt-get install nodejs npm)"
echo "e2e-deps: npm ci in examples/e2e/oidcprovider"
if ! npm ci --no-audit --no-fund; then
	rm -rf node_modules || true # a half-installed provider would fail, not skip
	unavailable "npm ci failed in examples/e2e/oidcprovider"
fi
