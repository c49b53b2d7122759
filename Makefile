# EverFresh: `make run` serves the demo, `make test` runs lint and the whole suite,
# `make test-fast` only the tests that need no server, browser, PostgreSQL or Redis.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test test-fast lint venv clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "EverFresh needs Python 3.11 or newer (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

venv: $(VENV)/.runtime

run: $(VENV)/.runtime
	$(FLASK) init-db
	$(FLASK) seed-demo
	$(BIN)/gunicorn -c gunicorn.conf.py

lint: $(VENV)/.dev
	$(BIN)/ruff check .

# The browser tests' npm packages (playwright-core, event-source-polyfill), when npm is here;
# without npm those tests skip locally and fail under CI=true.
BROWSER_DEPS := $(if $(shell command -v npm 2>/dev/null),tests/browser/node_modules/.installed)

tests/browser/node_modules/.installed: tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Three test processes, a module each at a time: most of the suite waits on real servers and
# sockets rather than the CPU, so on two cores this runs in under half the serial time.
test: $(VENV)/.dev lint $(BROWSER_DEPS)
	$(BIN)/pytest -n 3 --dist loadfile

# pytest exits 5 when every test was deselected, and make fails on it: no silent empty run.
test-fast: $(VENV)/.dev
	$(BIN)/pytest --fast -q -n 2 --dist loadfile $(PYTEST_ARGS)

# The exactness fault run of `make test` (tests/test_exactness.py) for ten minutes, its faults
# in a loop; it prints its totals (bookings, events per stream, reconnects, holes read).
.PHONY: soak
soak: $(VENV)/.dev
	EXACTNESS_SECONDS=$${EXACTNESS_SECONDS:-600} $(BIN)/pytest -s -q tests/test_exactness.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# Benchmarks (issue 7; see bench/README.md): `make bench`, `make bench BENCH_QUICK=1` (1-2 minutes),
# knobs as BENCH_* variables; `make bench-plot` draws docs/bench-latency.png from the newest results.
.PHONY: bench bench-plot

$(VENV)/.bench: bench/requirements.txt | $(VENV)/.runtime
	$(BIN)/pip install --quiet -r bench/requirements.txt
	touch $@

bench: $(VENV)/.bench
	ulimit -n "$$(ulimit -Hn)" && timeout --kill-after=30 "$${BENCH_HARD_TIMEOUT:-4000}" \
		$(BIN)/python -m bench run

bench-plot: $(VENV)/.bench
	$(BIN)/python -m bench plot
