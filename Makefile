# The two commands: `make run` serves the app, `make test` runs every test. Both set up first.
VENV ?= .venv
PY := $(VENV)/bin/python
export NUMBA_CACHE_DIR := $(CURDIR)/.cache/numba
export PYTHONUNBUFFERED := 1

.PHONY: run test lint setup setup-test bench examples

setup:
	@scripts/setup.sh

setup-test:
	@scripts/setup.sh --test

run: setup
	$(PY) app.py $(ARGS)

test: setup-test
	$(PY) -m pytest $(PYTEST_ARGS)

# ruff, configured in pyproject.toml ([tool.ruff]); installed with the test tools
lint: setup-test
	$(VENV)/bin/ruff check .

bench: setup
	$(PY) bench/bench_core.py

examples: setup
	$(PY) scripts/make_examples.py
