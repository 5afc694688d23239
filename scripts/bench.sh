#!/usr/bin/env bash
# The loop behind `make bench` (run it from the repository root; the Makefile
# passes these variables):
#
#   GO           the go command                          (default go)
#   BENCH_COUNT  samples of every row, taken in rounds   (default 6)
#   BENCH_TIME   -benchtime of every row                 (default 1s)
#   BENCHSTAT    benchstat's module path@version, for go run (required)
#
# BENCH_COUNT samples of every row (-benchmem), taken in BENCH_COUNT rounds
# rather than with -count, so that load from other processes on a shared
# machine falls on every row alike. In each round the floor is measured
# again just before each framework's rows (with the parts of a cache hit,
# BenchmarkHitParts), and bench/ratios divides every sample by the floor
# sample taken just before it, then takes the median; core's rows
# (BenchmarkCore*, and BenchmarkRefuse: what a refusal costs) are measured
# in the same rounds, core's against core's own floor. Then the benchstat
# table, the ratios and the targets (bench/ratios -check exits 1 on a miss).
set -euo pipefail

GO=${GO:-go}
BENCH_COUNT=${BENCH_COUNT:-6}
BENCH_TIME=${BENCH_TIME:-1s}
: "${BENCHSTAT:?BENCHSTAT must name benchstat as module@version (make bench sets it)}"

cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

(cd examples && "$GO" test -c -o "$tmp/bench.test" ./bench)
(cd core && "$GO" test -c -o "$tmp/core.test" .)

# run BINARY REGEXP: one sample of every benchmark REGEXP matches, appended to $tmp/out.
run() {
	"$tmp/$1" -test.run '^$' -test.bench "$2" -test.benchmem -test.benchtime "$BENCH_TIME" -test.count 1 | tee -a "$tmp/out"
}

for i in $(seq "$BENCH_COUNT"); do
	echo "bench: round $i of $BENCH_COUNT" >&2
	for fw in Gin Echo Fiber; do
		(cd examples/bench && run bench.test '^Benchmark(Floor|HitParts)$' && run bench.test "^Benchmark$fw\$")
	done
	(cd core && run core.test '^Benchmark(Core|Refuse)')
done

"$GO" run "$BENCHSTAT" "$tmp/out"
cd examples && "$GO" run ./bench/ratios <"$tmp/out"
