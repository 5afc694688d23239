#!/usr/bin/env bash
# The check behind `make vulncheck`: govulncheck (pinned by the Makefile) over
# every module, against the Go vulnerability database. Run it from the
# repository root. Variables (the Makefile passes them):
#
#   GO            the go command                                  (default go)
#   GOVULNCHECK   govulncheck as module/cmd/govulncheck@version   (required)
#   MODULES       the module folders to check                     (required)
#   VULNDB        a database URL (https://… or file:///…) to use as it is
#   VULNDB_MODULE the golang.org/x/vulndb version to build the database
#                 from when vuln.go.dev cannot be reached         (default latest)
#
# Where the database comes from, in this order: VULNDB if set; else
# https://vuln.go.dev if it answers; else a database built from the
# golang.org/x/vulndb module, fetched through the Go module proxy: that
# module is the source vuln.go.dev is generated from (its data/osv folder
# holds every report as OSV JSON), and its cmd/indexdb writes the same
# layout. The script says which source it used and how old the data is,
# and fails, loudly, if it can get no database at all: it never passes
# without having checked.
set -euo pipefail

GO=${GO:-go}
: "${GOVULNCHECK:?GOVULNCHECK must name govulncheck as module@version (make vulncheck sets it)}"
: "${MODULES:?MODULES must list the module folders (make vulncheck sets it)}"
VULNDB_MODULE=${VULNDB_MODULE:-latest}
stale_days=30

cd "$(dirname "$0")/.."
root=$PWD
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() {
	printf '\nvulncheck: FAILED: %s\n' "$*" >&2
	exit 1
}

db=${VULNDB:-}
if [ -n "$db" ]; then
	echo "vulncheck: database $db (VULNDB)"
elif command -v curl >/dev/null && curl -fsS -m 10 -o "$tmp/db.json" https://vuln.go.dev/index/db.json 2>/dev/null; then
	db=https://vuln.go.dev
	echo "vulncheck: database $db ($(cat "$tmp/db.json"))"
else
	echo "vulncheck: https://vuln.go.dev cannot be reached from here; building the database from golang.org/x/vulndb@$VULNDB_MODULE through the Go module proxy"
	# Outside any module, so that the query and the download touch no go.mod.
	info=$(cd "$tmp" && GOWORK=off "$GO" list -m -f '{{.Version}} {{.Time.Unix}} {{.Time.Format "2006-01-02"}}' "golang.org/x/vulndb@$VULNDB_MODULE") ||
		fail "cannot resolve golang.org/x/vulndb@$VULNDB_MODULE through the Go module proxy ($("$GO" env GOPROXY)): there is no vulnerability database to check against"
	read -r version unix when <<<"$info"
	dir=$(cd "$tmp" && GOWORK=off "$GO" mod download -json "golang.org/x/vulndb@$version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
	[ -d "$dir/data/osv" ] || fail "golang.org/x/vulndb@$version has no data/osv folder: cannot build a database from it"
	(cd "$tmp" && GOWORK=off "$GO" run "golang.org/x/vulndb/cmd/indexdb@$version" -vulns "$dir/data/osv" -out "$tmp/db") ||
		fail "building the database from golang.org/x/vulndb@$version failed"
	db=file://$tmp/db
	reports=$(find "$dir/data/osv" -name '*.json' | wc -l)
	age=$((($(date +%s) - unix) / 86400))
	echo "vulncheck: database golang.org/x/vulndb@$version: $reports reports, as of $when ($age days ago)"
	if [ "$age" -gt "$stale_days" ]; then
		echo "vulncheck: WARNING: that database is more than $stale_days days old: reports published since then are not checked" >&2
	fi
fi

failed=()
for m in $MODULES; do
	echo "vulncheck: $m"
	(cd "$root/$m" && "$GO" run "$GOVULNCHECK" -db "$db" ./...) || failed+=("$m")
done
[ ${#failed[@]} -eq 0 ] || fail "govulncheck found vulnerabilities reachable from ${failed[*]} (or could not run there); see above. Findings in the standard library (\"Found in: net/http@go1.x.y\") are fixed by building with the Go release they name, e.g. GOTOOLCHAIN=go1.x.z make vulncheck"
echo "vulncheck: no reachable vulnerabilities in $MODULES ($("$GO" env GOVERSION))"
