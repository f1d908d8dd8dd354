# `make run` serves the API on :4000 (SQLite unless DATABASE_URL is set); `make test` lints and tests.
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 4000
APP_ENV ?= development
# The suite runs on SQLite always, and on PostgreSQL too when this server answers.
TEST_DATABASE_URL ?= postgresql://127.0.0.1:5432/postgres
# ... and the Redis-backed throttling tests when this Redis answers (database 15 is theirs).
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
export PORT APP_ENV TEST_DATABASE_URL TEST_REDIS_URL

# Debian's PgBouncer, for the suite's runs through a transaction-mode pooler (tests/pgbouncer.py
# starts its own); installed with apt-get when missing (as root, or through sudo).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# The npm packages the tests run (Redocly and Spectral, a TypeScript client, the browser's
# EventSource check, the exports' ical.js), installed as their lock files say, again whenever
# one changes.
NODE_PACKAGES := tests/clients/lint tests/clients/typescript tests/clients/browser tests/clients/ical
NODE_MODULES := $(addsuffix /node_modules/.package-lock.json,$(NODE_PACKAGES))
# recurring-ical-events, for the exports' occurrences, in a virtual environment of its own (it
# needs python-dateutil < 3; the app pins 4), made again whenever its requirements change.
RECURRING := tests/clients/recurring

.PHONY: run migrate test lint format bench bench-reads clean pgbouncer chromium node-packages

$(BIN)/python:
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: $(BIN)/python requirements.txt
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

run: migrate
	exec $(BIN)/python -m server

migrate: $(VENV)/.runtime
	$(BIN)/flask db upgrade

test: lint pgbouncer chromium node-packages $(RECURRING)/.venv/.installed
	$(BIN)/pytest

node-packages: $(NODE_MODULES)

%/node_modules/.package-lock.json: %/package-lock.json
	cd $* && npm ci --no-audit --no-fund

$(RECURRING)/.venv/.installed: $(RECURRING)/requirements.txt
	python3 -m venv --clear $(RECURRING)/.venv
	$(RECURRING)/.venv/bin/pip install --quiet -r $<
	touch $@

pgbouncer:
	@command -v pgbouncer >/dev/null || test -x /usr/sbin/pgbouncer || \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	    pgbouncer >/dev/null || \
	  echo "PgBouncer could not be installed: its tests skip (and fail under CI=true)"

# Debian's Chromium, for the browser's EventSource test (tests/test_live_browser.py, driven by
# playwright-core from tests/clients/browser); installed with apt-get when missing.
chromium:
	@command -v chromium >/dev/null || \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	    chromium >/dev/null || \
	  echo "Chromium could not be installed: the browser test skips (and fails under CI=true)"

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(VENV)/.runtime
	bench/bench.sh

bench-reads: $(VENV)/.runtime
	bench/reads.sh

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache $(addsuffix /node_modules,$(NODE_PACKAGES)) \
	  $(RECURRING)/.venv
