# jwksauth — every target loops over the modules of go.work.
# `make help` lists the targets.

SHELL        := /bin/bash
GO           ?= go
MODULES      := core ginauth echoauth fiberauth examples
ADAPTERS     := ginauth echoauth fiberauth
STATICCHECK  := honnef.co/go/tools/cmd/staticcheck@v0.8.2
BENCHSTAT    := golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
BENCH_COUNT  ?= 6
FUZZTIME     ?= 10s
TEST_FUZZTIME ?= 3s
E2E_NODE_DIR := examples/e2e/oidcprovider

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_%/-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  %-14s %s\n", $$1, $$2}'

.PHONY: demo
demo: ## start examples/gin against the built-in development issuer
	$(GO) run ./examples/gin

.PHONY: test
test: e2e-deps $(addprefix test/,$(MODULES)) $(addprefix test-nowork/,core $(ADAPTERS)) ## vet + race tests in every module, a GOWORK=off pass, then brief fuzzing
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(TEST_FUZZTIME)
	@echo "make test: all modules passed"

test/%: ## vet + race tests of one module (test/core, test/ginauth, …)
	cd $* && $(GO) vet ./... && $(GO) test -race -count=1 ./...

test-nowork/%: ## build and test one module alone, with GOWORK=off
	cd $* && GOWORK=off $(GO) vet ./... && GOWORK=off $(GO) test -count=1 ./...

.PHONY: e2e-deps
e2e-deps: ## install the pinned OpenID provider for the end-to-end tests (npm ci)
	@if [ -f $(E2E_NODE_DIR)/package-lock.json ] && [ ! -d $(E2E_NODE_DIR)/node_modules ]; then \
		cd $(E2E_NODE_DIR) && npm ci --no-audit --no-fund; fi

.PHONY: lint
lint: $(addprefix lint/,$(MODULES)) ## gofmt check + staticcheck (pinned) in every module
lint/%:
	@test -z "$$(gofmt -l $*)" || { gofmt -l $*; echo "gofmt needed"; exit 1; }
	cd $* && $(GO) run $(STATICCHECK) ./...

.PHONY: tidy
tidy: $(addprefix tidy/,$(MODULES)) ## go mod tidy in every module
tidy/%:
	cd $* && $(GO) mod tidy

.PHONY: fuzz
fuzz: ## run every fuzz target briefly (FUZZTIME=10s each)
	@cd core && for f in $$($(GO) test -list '^Fuzz' ./... | grep '^Fuzz'); do \
		echo "fuzz $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) . || exit 1; done

.PHONY: bench
# BENCH_COUNT samples of every row (-benchmem), taken in BENCH_COUNT rounds
# rather than with -count, so that load from other processes on a shared
# machine falls on every row alike. In each round the floor is measured
# again just before each framework's rows (with the parts of a cache hit,
# BenchmarkHitParts), and bench/ratios divides every
# sample by the floor sample taken just before it, then takes the median;
# core's rows are measured the same way against core's own floor. Then the
# benchstat table, the ratios and the targets of issue #7 (bench/ratios
# -check exits 1 on a miss). BENCH_TIME is -benchtime for every row.
BENCH_TIME ?= 1s
bench: ## benchmarks vs the RS256 floor and the peers (BENCH_COUNT rounds): benchstat table, paired ratios, targets
	@set -eo pipefail; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	(cd examples && $(GO) test -c -o "$$tmp/bench.test" ./bench); \
	(cd core && $(GO) test -c -o "$$tmp/core.test" .); \
	run() { "$$tmp/$$1" -test.run '^$$' -test.bench "$$2" -test.benchmem -test.benchtime $(BENCH_TIME) -test.count 1 | tee -a "$$tmp/out"; }; \
	for i in $$(seq $(BENCH_COUNT)); do \
		echo "bench: round $$i of $(BENCH_COUNT)" >&2; \
		for fw in Gin Echo Fiber; do \
			(cd examples/bench && run bench.test '^Benchmark(Floor|HitParts)$$' && run bench.test "^Benchmark$$fw\$$"); \
		done; \
		(cd core && run core.test '^BenchmarkCore'); \
	done; \
	$(GO) run $(BENCHSTAT) "$$tmp/out"; \
	cd examples && $(GO) run ./bench/ratios < "$$tmp/out"

.PHONY: ci
ci: lint test ## what CI runs, plus a check that tidy leaves the tree clean
	$(MAKE) tidy
	git diff --exit-code -- '*.mod' '*.sum'
