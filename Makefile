# Grand Livre — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000


.PHONY: help install run key test lint format typecheck pytest smoke bench bench-load bench-scale bench-soak bench-failback clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(INSTALLED): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python >= 3.11 is needed (none found on PATH)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(INSTALLED) ## Create .venv with the package (editable) and its dev tools

run: install ## Migrate, seed and serve the API and its console on http://127.0.0.1:8000 (HOST/PORT override; embedded SQLite ./dev.db)
	HOST=$(HOST) PORT=$(PORT) $(BIN)/grandlivre serve

key: install ## Print a new admin API key (shown once; never logged): export API_KEY=$(make -s key)
	@$(BIN)/grandlivre keys create --name "$${KEY_NAME:-$${USER:-local}-admin}" --role admin

test: install lint typecheck smoke pytest ## Everything CI runs: ruff, mypy, smoke tests on a served process, pytest (SQLite + PostgreSQL)

lint: install ## ruff lint and format check
	$(BIN)/ruff check src tests migrations bench
	$(BIN)/ruff format --check src tests migrations bench

format: install ## Format the code with ruff
	$(BIN)/ruff format src tests migrations bench
	$(BIN)/ruff check --fix src tests migrations bench

typecheck: install ## mypy --strict on src/
	$(BIN)/mypy

pytest: install ## The test suite (PostgreSQL tests need TEST_DATABASE_URL reachable)
	$(BIN)/pytest

smoke: install ## Serve a real process on a free port and run scripts/smoke_tests.sh against it
	PATH="$(abspath $(BIN)):$$PATH" scripts/serve_and_smoke.sh

bench: install ## Benchmarks (not in `make test`): served posting vs pgbench and a peer, in-process figures, then the service on 1,000,000 entries
	$(BIN)/python -m bench

bench-load: install ## Seed BENCH_ENTRIES (1,000,000) sealed 3-line entries into DATABASE_URL (PostgreSQL) with COPY
	$(BIN)/python -m bench load

bench-scale: install ## The service on a private PostgreSQL of BENCH_ENTRIES (1,000,000) entries: first mirror copy vs the probe, reports, exports, FEC import
	$(BIN)/python -m bench scale

bench-soak: install ## grandlivre serve under wrk for BENCH_SOAK_SECONDS (300): resident memory per process, slice by slice
	$(BIN)/python -m bench soak

bench-failback: install ## grandlivre serve under wrk while PostgreSQL is killed and restarted: time back to primary, writes lost/failed
	$(BIN)/python -m bench failback

clean: ## Remove the virtualenv, caches and local databases
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis dev.db* test.db* fallback.db*
