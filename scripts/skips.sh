#!/usr/bin/env bash
# skips.sh LABEL COMMAND [ARG...]: run COMMAND with JWKSAUTH_SKIP_LOG naming a
# new file, to which every test suite that skips for want of a tool (node
# and oidc-provider, Chromium) appends a line; then print those lines, one
# per skipped suite, after everything else, and exit with COMMAND's status.
# It is how `make test` ends with what it did not test and why.
set -uo pipefail

label=$1
shift
log=$(mktemp)
trap 'rm -f "$log"' EXIT

JWKSAUTH_SKIP_LOG=$log "$@"
rc=$?
if [ -s "$log" ]; then
	sort -u "$log" | while IFS= read -r line; do
		echo "$label: SKIPPED $line"
	done
	echo "$label: $(sort -u "$log" | wc -l) suite(s) skipped; JWKSAUTH_REQUIRE_E2E=1 makes them fail instead (.ci/run sets it)"
elif [ "$rc" -eq 0 ]; then
	echo "$label: no suite skipped"
fi
exit "$rc"
