# Two targets do all set-up on a fresh machine (Python 3.11, pip, a package mirror):
#   make run   - install into .venv and analyse the sample batch into out/sample
#   make test  - install with the test extra and run the test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
BATCH ?= data/sample
OUT ?= out/sample
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export DO_NOT_TRACK ?= 1

.PHONY: run test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/huifang run $(BATCH) --out $(OUT)
	@echo "Report: $(OUT)/report.html  (per call: $(OUT)/calls/<call_id>.json, table: $(OUT)/calls.parquet)"

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest

clean:
	rm -rf out .pytest_cache
