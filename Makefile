# Two targets do all set-up on a fresh machine (Python 3.11, pip, the package mirrors):
#   make run   - install into .venv and analyse the sample batch into out/sample
#   make test  - install with the test extra and run the test suite
# Both install the exact versions the suite passed with, hash-checked, from
# requirements.lock / requirements-test.lock; `make lock` refreshes them.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
BATCH ?= data/sample
OUT ?= out/sample
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export DO_NOT_TRACK ?= 1
# Prefect's embedded server gets 30 s to start by default; a loaded 2-core machine has needed more.
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 120

.PHONY: run test bench lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The locked versions first (every file hash-checked), then the project itself without
# resolving anything again, so a fresh machine gets exactly what the suite passed with.
$(VENV)/.installed: requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-test: requirements-test.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-test.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/huifang run $(BATCH) --out $(OUT) --engine prefect
	@echo "Report: $(OUT)/report.html  (per call: $(OUT)/calls/<call_id>.json, table: $(OUT)/calls.parquet)"

# The report's browser tests drive Debian's Chromium through Playwright (browser
# downloads are not reachable); fonts-noto-cjk renders the Chinese screenshots.
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk; \
	else \
		echo "note: the report's browser tests need Debian's chromium and fonts-noto-cjk (apt-get install chromium fonts-noto-cjk)"; \
	fi

test: $(VENV)/.installed-test $(CHROMIUM)
	$(BIN)/python scripts/environment.py
	$(BIN)/python -m pytest

bench: $(VENV)/.installed
	$(BIN)/python -m bench

# Refresh the locks: resolve pyproject.toml's ranges to today's newest versions (with
# hashes), then `make test` on a fresh clone before committing the new locks.
UV_VERSION := 0.13.9
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 --generate-hashes --quiet -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra test --python-version 3.11 --generate-hashes --quiet -o requirements-test.lock

clean:
	rm -rf out .pytest_cache
