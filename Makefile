# vertebro — two entry points: `make demo` runs the main job, `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev

.PHONY: demo test lint typecheck architecture pytest bench system-deps seed-check clean vendor-check

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(RUNTIME): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(RUNTIME)

## demo: install, migrate the SQLite database, load demo patients and staff, serve http://127.0.0.1:8000
##       (and the DICOM worklist, MPPS and dose reports on 127.0.0.1:11112, calling AE titles DEMO_CARM, DEMO_CT)
demo: $(RUNTIME)
	bash scripts/ensure-system-packages.sh
	$(BIN)/vertebro db upgrade
	$(BIN)/vertebro demo --serve

## test: install everything (PostgreSQL included) and run lint, types, architecture and tests
test: $(DEV) system-deps lint typecheck architecture pytest

system-deps:
	bash scripts/ensure-system-packages.sh
	bash scripts/ensure-postgres.sh
	bash scripts/ensure-node-tools.sh

## vendor-check: fetch the vendored FullCalendar release from npm again and check it is the pinned one
vendor-check:
	bash scripts/vendor-fullcalendar.sh

lint: $(DEV)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(DEV)
	$(BIN)/mypy --strict src

architecture: $(DEV)
	$(BIN)/lint-imports

pytest: $(DEV)
	$(BIN)/pytest -n auto --dist loadfile

## seed-check: no wording copied from the seed pages (needs ../shared/tools beside the checkout, as CI has it)
seed-check:
	@if [ -f ../shared/tools/seed_overlap.py ]; then \
		out=$$(python3 ../shared/tools/seed_overlap.py) || true; \
		if [ -n "$$out" ]; then echo "$$out"; exit 1; fi; echo "seed-check: no seed wording found"; \
	else echo "seed-check: ../shared/tools is not beside this checkout; not run"; fi

## bench: the assessment throughput benchmark (prints its figures)
bench: $(RUNTIME)
	$(BIN)/python bench/assess.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
