# positions: `make help` lists the targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

.DEFAULT_GOAL := help

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 14

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

venv: $(STAMP) ## create .venv and install the package with its dev tools

demo: $(STAMP) ## import the seed scenario into demo.db and print the comparison and proposals tables
	rm -f demo.db demo.db-wal demo.db-shm
	$(BIN)/positions --store sqlite:///demo.db import fixtures/ukraine-2025-03-13.yaml
	$(BIN)/positions --store sqlite:///demo.db compare
	$(BIN)/positions --store sqlite:///demo.db proposals

# The tests' stores are real SQLite files; where /dev/shm is a memory file system with room
# (2 GB free), they are written there, so that a commit does not wait for the disk.
TEST_TMPDIR ?= $(shell [ -d /dev/shm ] && [ -w /dev/shm ] && \
	[ "$$(df -Pk /dev/shm | awk 'NR==2 {print $$4}')" -gt 2000000 ] && echo /dev/shm)
# The tests run `positions` as a subprocess hundreds of times: each should load the package's
# bytecode, not compile it again (an empty PYTHONDONTWRITEBYTECODE is unset, for Python).
TEST_ENV := $(if $(TEST_TMPDIR),TMPDIR=$(TEST_TMPDIR)) PYTHONDONTWRITEBYTECODE=

test: $(STAMP) ## run the whole test suite in four workers, a module to a worker (CONTRIBUTING.md)
	$(TEST_ENV) $(BIN)/pytest -q -n 4 --dist loadscope

test-fast: $(STAMP) ## the suite without the slow tests (crash, concurrency, browser, benchmarks)
	$(TEST_ENV) $(BIN)/pytest -q -n 4 --dist loadscope -m "not slow"

bench: $(BENCH_STAMP) ## benchmarks at 10k, 100k and 1M statements: benchmarks/results/latest.json, docs/performance.md
	$(BIN)/python -m benchmarks.run --sizes 10k,100k,1M --timeout 2400 --postgres-timeout 300

bench-quick: $(BENCH_STAMP) ## the benchmarks at 10k alone, a few minutes: benchmarks/results/quick.json
	$(BIN)/python -m benchmarks.run --sizes 10k --postgres '' --profile '' --doc '' \
		--out benchmarks/results/quick.json

lint: $(STAMP) ## ruff (check and format) and mypy strict on positions/ and tests/
	$(BIN)/ruff check positions tests benchmarks
	$(BIN)/ruff format --check positions tests benchmarks
	$(BIN)/mypy

docs: $(STAMP) ## regenerate docs/cli.md from --help
	$(BIN)/python -m positions.clidoc > docs/cli.md

clean: ## remove .venv and generated stores
	rm -rf $(VENV) demo.db demo.db-wal demo.db-shm .pytest_cache .hypothesis

.PHONY: help venv demo test test-fast bench bench-quick lint docs clean
