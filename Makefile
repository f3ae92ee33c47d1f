# mlops_assets — the same commands for people and CI.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
# uv on PATH if there is one, else the uv that `make uv` installs into this Python (python -m uv).
UV ?= $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
export MLOPS_DATA_DIR ?= $(CURDIR)/.mlops_data
export DAGSTER_HOME ?= $(MLOPS_DATA_DIR)/dagster_home
export MLFLOW_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1
export MLFLOW_SERVER_ENABLE_JOB_EXECUTION := false
# Small models on a 2-core box: OpenMP busy-waiting next to other processes (MLflow servers,
# Dagster) made a 150-tree fit 10x slower; one thread per process is faster here. Override freely.
export OMP_NUM_THREADS ?= 1
# `install` syncs .venv from uv.lock once per change of the lock (the stamp), so RUN needn't sync.
INSTALL_STAMP := .venv/.mlops-assets-installed
RUN := $(UV) run --frozen --no-sync
# Long-running servers start from the environment directly: make passes a SIGTERM to its child
# only, and every launcher between make and the server is one more hop that must forward it.
SERVE := .venv/bin/
# Two jobs: independent prerequisites run side by side (for `make test`, the browser's download
# next to the Python install, ruff and mypy next to the dg checks). Recipes stay sequential.
MAKEFLAGS += --jobs=2
DEV_HOST ?= 127.0.0.1
DEV_PORT ?= 3000

.PHONY: help uv install sail browser demo demo-drift dev dagster-home check-defs lint typecheck test test-fast test-durations test-databricks bench schema mlflow-ui clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

uv: ## install uv (with pip) when it is missing
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv

install: $(INSTALL_STAMP) ## create .venv from uv.lock (all extras); again only when the lock changes

$(INSTALL_STAMP): uv.lock pyproject.toml | uv
	$(UV) sync --frozen --all-extras --compile-bytecode --python $(PYTHON)
	@touch $@

demo: install ## simulate the 7 days ending yesterday, launch every job on them through the code location (monitoring too), print a summary
	$(RUN) mlops-assets demo --days 7

demo-drift: install ## two simulated weeks, drift from day 8: detect, explain, retrain (jobs in process; --launch via the code location)
	$(RUN) mlops-assets demo-drift --days 14 --drift-from 8

dev: install ## the Dagster UI (location mlops_assets) on http://127.0.0.1:3000, partitions from the demo's first day; Ctrl-C stops it
	$(SERVE)mlops-assets dev --host $(DEV_HOST) --port $(DEV_PORT)

dagster-home: install
	@$(RUN) python -c "from mlops_assets.cli.instance import ensure_dagster_home; import os, pathlib; ensure_dagster_home(pathlib.Path(os.environ['DAGSTER_HOME']))"

check-defs: install dagster-home ## dg check defs, then dg list defs compared with the in-process build
	$(RUN) dg check defs
	@mkdir -p $(MLOPS_DATA_DIR)
	$(RUN) dg list defs --json > $(MLOPS_DATA_DIR)/dg_list_defs.json
	$(RUN) mlops-assets check-defs $(MLOPS_DATA_DIR)/dg_list_defs.json

lint: install ## ruff
	$(RUN) ruff check .
	$(RUN) ruff format --check .

typecheck: install ## mypy --strict
	$(RUN) mypy

sail: uv ## the pinned Sail Spark Connect server (tools/sail/.venv) for the Unity Catalog tests
	$(UV) sync --frozen --project tools/sail --python $(PYTHON) --quiet

browser: ## install Debian's chromium for the UI test when possible (root + apt); else it is skipped
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
	  echo "chromium not installed: the browser test will be skipped"; }

# Both cores, whole test files per worker (module fixtures build once), and a temp root of our
# own so pytest sessions of other checkouts on this machine never prune it. Local Spark Connect
# servers take an ephemeral port (engines/spark.py), so two workers can each run one.
# Slowest files first, from measured durations (mlops_assets_tests/scheduling.py); xdist must
# not re-sort them by test count. PYTEST_ARGS="--basetemp=/tmp/x" runs serially.
PYTEST_ARGS ?= -n 2 --dist loadfile --no-loadscope-reorder --basetemp=$(MLOPS_DATA_DIR)/pytest-tmp

test: install sail browser lint typecheck check-defs ## lint, type-check, check the dg project, run every test
	$(RUN) pytest $(PYTEST_ARGS)

DATABRICKS_TESTS := mlops_assets_tests/databricks mlops_assets_tests/storage/test_storage_unity_catalog.py \
	mlops_assets_tests/engines/test_engines_remote.py mlops_assets_tests/engines/test_engines_drift.py \
	mlops_assets_tests/monitoring/test_monitoring_spark_drift.py \
	mlops_assets_tests/monitoring/test_monitoring_checks_on_spark.py mlops_assets_tests/resources/test_resources_factory.py

test-databricks: install sail ## the Databricks environment without a workspace (fake REST, Unity Catalog on Sail, Spark)
	$(RUN) pytest $(DATABRICKS_TESTS)

test-fast: install ## tests only
	$(RUN) pytest $(PYTEST_ARGS)

test-durations: install ## run the tests and re-measure the per-file durations that order them
	$(RUN) pytest $(PYTEST_ARGS) --junitxml=$(MLOPS_DATA_DIR)/junit.xml
	$(RUN) python -m mlops_assets_tests.scheduling $(MLOPS_DATA_DIR)/junit.xml

bench: install ## benchmarks (ratios against the peers they replace)
	$(RUN) python -m benchmarks.run_all

schema: install ## regenerate configs/schema/*.schema.json
	$(RUN) mlops-assets schema

mlflow-ui: install ## MLflow UI over the local store on http://127.0.0.1:5000
	$(SERVE)mlflow ui --backend-store-uri sqlite:///$(MLOPS_DATA_DIR)/mlflow/mlflow.db --host 127.0.0.1 --port 5000

clean: ## remove local data (landing files, tables, MLflow store, Dagster history)
	rm -rf $(MLOPS_DATA_DIR)
