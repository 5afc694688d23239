# jwksauth — every target loops over the modules of go.work.
# `make help` lists the targets.

SHELL        := /bin/bash
GO           ?= go
MODULES      := core ginauth echoauth fiberauth redisstore examples
ADAPTERS     := ginauth echoauth fiberauth
STATICCHECK  := honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOVULNCHECK  := golang.org/x/vuln/cmd/govulncheck@v1.10.0
GOCYCLO      := github.com/fzipp/gocyclo/cmd/gocyclo@v0.6.0
CYCLO_OVER   ?= 15
BENCHSTAT    := golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
# The newest patch of the Go release in the modules' go directive (their
# floor), fetched from the Go module proxy by GOTOOLCHAIN: test-go1.25 builds
# and tests with it. Move both when the go directive moves.
GO_FLOOR     ?= go1.25.14
BENCH_COUNT  ?= 6
BENCH_TIME   ?= 1s
FUZZTIME     ?= 10s
# make test fuzzes each target for a count of inputs, not a duration: with a
# duration, Go before 1.27 can fail a target at the deadline with a bare
# "context deadline exceeded" (go.dev/issue/75804), a race in its fuzzing
# coordinator rather than a finding.
TEST_FUZZTIME ?= 5000x

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_.%/-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  %-16s %s\n", $$1, $$2}'

.PHONY: demo
demo: ## start examples/gin against the built-in development issuer
	$(GO) run ./examples/gin

# test runs test-run under scripts/skips.sh, which prints at the end one line
# per test suite that skipped for want of a tool (node and oidc-provider for
# examples/e2e, Chromium for the browser test); with JWKSAUTH_REQUIRE_E2E=1
# (set by .ci/run) those suites fail instead.
.PHONY: test test-run
test: ## vet + race tests in every module, a GOWORK=off pass, brief fuzzing; lists any end-to-end suite it skipped and why
	@bash scripts/skips.sh "make test" $(MAKE) --no-print-directory test-run
test-run: e2e-deps $(addprefix test/,$(MODULES)) $(addprefix test-nowork/,core $(ADAPTERS) redisstore)
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(TEST_FUZZTIME)
	@echo "make test: all modules passed"

test/%: ## vet + race tests of one module (test/core, test/ginauth, …)
	cd $* && $(GO) vet ./... && $(GO) test -race -count=1 ./...

test-nowork/%: ## build and test one module alone, with GOWORK=off
	cd $* && GOWORK=off $(GO) vet ./... && GOWORK=off $(GO) test -count=1 ./...

.PHONY: test-go1.25 test-go1.25-run
test-go1.25: ## build + vet + tests (no -race) of every module with the newest Go 1.25 (GO_FLOOR), the modules' floor, fetched by GOTOOLCHAIN
	@bash scripts/skips.sh "make test-go1.25" $(MAKE) --no-print-directory test-go1.25-run
test-go1.25-run: e2e-deps
	@GOTOOLCHAIN=$(GO_FLOOR) $(GO) version
	@$(MAKE) --no-print-directory $(addprefix test-go1.25/,$(MODULES))
	@echo "make test-go1.25: all modules passed with $(GO_FLOOR)"
test-go1.25/%: ## the same for one module
	cd $* && export GOTOOLCHAIN=$(GO_FLOOR) && $(GO) build ./... && $(GO) vet ./... && $(GO) test -count=1 ./...

.PHONY: e2e-deps
e2e-deps: ## install the pinned OpenID provider for the end-to-end tests (npm ci), unless installed; without npm it says so
	@bash scripts/e2e-deps.sh

.PHONY: lint
lint: $(addprefix lint/,$(MODULES)) cyclo vulncheck ## gofmt check + staticcheck (pinned) in every module, then cyclo and vulncheck
lint/%:
	@test -z "$$(gofmt -l $*)" || { gofmt -l $*; echo "gofmt needed"; exit 1; }
	cd $* && $(GO) run $(STATICCHECK) ./...

.PHONY: cyclo
cyclo: ## gocyclo (pinned) over the non-test code of every module: lists and fails on each function over 15 (CYCLO_OVER)
	@$(GO) run $(GOCYCLO) -over $(CYCLO_OVER) -ignore '_test\.go$$|/testdata/|/node_modules/' $(MODULES) || \
		{ echo "cyclo: the functions above have a cyclomatic complexity over $(CYCLO_OVER)"; exit 1; }

.PHONY: vulncheck
vulncheck: ## govulncheck (pinned) in every module; the database from vuln.go.dev, else built from golang.org/x/vulndb via the module proxy
	@GO=$(GO) GOVULNCHECK=$(GOVULNCHECK) MODULES="$(MODULES)" bash scripts/vulncheck.sh

.PHONY: tidy
tidy: $(addprefix tidy/,$(MODULES)) ## go mod tidy in every module
tidy/%:
	cd $* && $(GO) mod tidy

.PHONY: tidy-check
tidy-check: $(addprefix tidy-check/,$(MODULES)) ## go mod tidy -diff in every module: fails, showing the diff, where go.mod or go.sum is untidy
	@echo "tidy-check: every module is tidy"
tidy-check/%:
	@cd $* && $(GO) mod tidy -diff || { echo "tidy-check: $* is not tidy (the diff above); run make tidy/$*"; exit 1; }

.PHONY: fuzz
fuzz: ## run every fuzz target briefly (FUZZTIME=10s each)
	@cd core && for p in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$p | grep '^Fuzz'); do \
			echo "fuzz $$p $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$p || exit 1; done; done

.PHONY: bench
bench: ## benchmarks vs the RS256 floor and the peers (BENCH_COUNT rounds, BENCH_TIME each): benchstat table, paired ratios, targets (scripts/bench.sh)
	@GO=$(GO) BENCH_COUNT=$(BENCH_COUNT) BENCH_TIME=$(BENCH_TIME) BENCHSTAT=$(BENCHSTAT) bash scripts/bench.sh

.PHONY: ci
ci: lint test test-go1.25 tidy-check ## lint, test, test-go1.25 and tidy-check (.ci/run runs test and test-go1.25 on a fresh machine)
