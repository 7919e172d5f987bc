# Makefile for 帮扶走访 (Bangfu Visits). The README's two commands wrap the main
# targets: `bash ./scripts/run.sh` runs `make run`, `bash ./scripts/test.sh` runs
# `make test`; both first install what a fresh Debian/Ubuntu machine lacks.
#
#   make run         the sync server with the demo village, and the app
#   make test        go vet, then every test with the race detector
#   make test-short  every test in -short mode, without the race detector
#   make bench       the benchmarks, as one table
#   make fmt | vet | setup

SHELL       := bash
.SHELLFLAGS := -eu -o pipefail -c
# The official Go tarball lives in /usr/local/go; it counts even when it is not on PATH.
export PATH := $(PATH):/usr/local/go/bin

GO          ?= go
# DATA is the sync server's data directory for `make run`.
DATA        ?= $(CURDIR)/tmp/demo
# BENCH selects benchmarks (a -bench pattern); BENCHFLAGS adds flags, e.g. -count=5.
BENCH       ?= .
BENCHFLAGS  ?=

.DEFAULT_GOAL := help
.PHONY: help setup run test test-short bench fmt vet

help:
	@sed -n 's/^#   make /make /p' $(firstword $(MAKEFILE_LIST))

# setup installs missing apt packages and checks Go (quiet when all is there).
setup:
	@bash scripts/setup.sh test

# run builds cmd/bangfud and the app, starts `bangfud serve -demo -data $(DATA)`
# (the sync server on an embedded bbolt store with the demo village 王坪村; it
# prints enrolment codes for a demo group cadre and a team leader) in the
# background, and the app in the foreground; see scripts/rundemo.sh.
run:
	@bash scripts/setup.sh run
	@DATA='$(DATA)' bash scripts/rundemo.sh

# test runs go vet and then the tests even when vet fails, so one run reports
# everything. The first -race build of Fyne's cgo code takes about 3 minutes on
# 2 cores; later runs reuse the build cache. Logs: tmp/vet.log, tmp/test.log.
test: setup
	@mkdir -p tmp
	@echo "== go vet ./..."
	@vet=0; \
	$(GO) vet ./... 2>&1 | tee tmp/vet.log || vet=$$?; \
	echo "== go test -race -count=1 -timeout 30m ./...   (first -race build of Fyne: ~3 min)"; \
	status=0; \
	$(GO) test -race -count=1 -timeout 30m ./... 2>&1 | tee tmp/test.log || status=$$?; \
	bash scripts/testsummary.sh tmp/test.log $$status; \
	if [[ $$vet != 0 ]]; then echo "== go vet failed: see above or tmp/vet.log"; fi; \
	if [[ $$vet != 0 || $$status != 0 ]]; then exit 1; fi

test-short: setup
	@mkdir -p tmp
	@status=0; \
	$(GO) test -short -count=1 ./... 2>&1 | tee tmp/test.log || status=$$?; \
	bash scripts/testsummary.sh tmp/test.log $$status; \
	exit $$status

# bench runs the benchmarks of every package that has some, then prints them as
# one table (scripts/benchtable). The raw output is kept in tmp/bench.txt.
bench: setup
	@mkdir -p tmp bin
	@$(GO) build -o bin/benchtable ./scripts/benchtable
	@pkgs=$$( (grep -rlE --include='*_test.go' --exclude-dir=.git --exclude-dir=tmp '^func Benchmark' . || true) \
		| xargs -r -n1 dirname | sort -u); \
	if [[ -z "$$pkgs" ]]; then echo "no benchmarks yet"; exit 0; fi; \
	echo "== go test -run '^$$' -bench '$(BENCH)' -benchmem $(BENCHFLAGS)" $$pkgs; \
	status=0; \
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem $(BENCHFLAGS) $$pkgs 2>&1 | tee tmp/bench.txt || status=$$?; \
	echo; \
	bin/benchtable < tmp/bench.txt || status=$$((status ? status : $$?)); \
	exit $$status

fmt:
	@$(GO) fmt ./...

vet:
	@$(GO) vet ./...
