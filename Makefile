# data_platform: `make` lists the targets. The README's two commands are `make demo`
# and `make test`; each installs what it needs first.
.DEFAULT_GOAL := help
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BYTECODE := $(VENV)/.bytecode
PYTEST_ARGS ?=


.PHONY: help install system-deps demo dev test test-cluster screenshots test-fast lint format bench-ingest bench-profiles bench-smoke cluster-up cluster-down stack-up stack-down stack-status clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[1m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

install: $(STAMP) $(BYTECODE) ## Create .venv with the pinned dependencies (torch: CPU build)

$(STAMP): pyproject.toml
	@echo "install: .venv (torch CPU with pip, the rest with uv), .venv-dvc and Label Studio side by side"
	@$(PYTHON) -m venv $(VENV)
	@# (sed drops pip's notes about this machine's local wheel folders; pipefail keeps errors)
	@$(PY) -m pip install -q --upgrade pip uv==0.13.9 2>&1 | sed '/^WARNING: Location/d'
	@# torch first, pinned, with pip: pip takes the machine's CPU wheel, uv would download CUDA
	@$(PY) -m pip install -q torch==2.13.0 2>&1 | sed '/^WARNING: Location/d'
	@# the rest with uv: the same pins, resolved and installed several times faster than pip
	@$(VENV)/bin/uv pip install -q --python $(PY) -e '.[dev]'
	@# DVC in a venv of its own (its hydra-core pins antlr4 4.9, which breaks Dagster's
	@# selections) and Label Studio in its own cached one (~1 GB, pins Django), in parallel
	@( $(PYTHON) -m venv .venv-dvc && \
	   $(VENV)/bin/uv pip install -q --python .venv-dvc/bin/python dvc==3.67.1 dvc-s3==3.3.0 ) & \
	 dvc=$$!; $(VENV)/bin/data-platform labeling install; wait $$dvc
	@touch $(STAMP)

# .pyc files for the whole venv, once. uv installs none, and where PYTHONDONTWRITEBYTECODE
# is set (as on our CI machines) Python never writes them, so every process the tests
# start (dagster dev, its runs, each Dagster instance's Alembic scripts, Ray workers)
# compiled dagster, torch and polars from source again: about twice the CPU per import
# (and Ray 2.60's dashboard agent, which must be up within 15 s, missed that on a busy machine).
# compileall writes them whatever that variable says; it exits 1 on the one file torch
# ships for a newer Python (testing/_internal/py312_intrinsics.py), hence the `|| true`.
$(BYTECODE): $(STAMP)
	@echo "install: compiling .venv's bytecode (once)"
	@$(PY) -m compileall -q -j 0 $(VENV)/lib > /dev/null || true
	@touch $(BYTECODE)

demo: install ## Main job: stack up, sample data uploaded, every asset materialised, summary
	$(VENV)/bin/data-platform demo

dev: install ## Dagster UI + daemon on the same stack, at http://127.0.0.1:3000
	$(VENV)/bin/data-platform dev

system-deps: ## Chromium (UI tests) and PostgreSQL's server programs (the tests start their own), apt-get only when missing
	bash scripts/install_system_deps.sh

test: install system-deps lint ## Lint, then every test but the Ray cluster ones (real S3, PostgreSQL, Label Studio, Chromium)
	$(PY) -m pytest -n 2 --dist loadfile --no-loadscope-reorder -m "not cluster" $(PYTEST_ARGS)

test-cluster: install ## The Ray cluster tests (`cluster` marker): one 3-node cluster for them all; CI runs them
	$(PY) -m pytest -m cluster $(PYTEST_ARGS)

test-fast: install ## Tests without the slow ones
	$(PY) -m pytest -n 2 --dist loadfile --no-loadscope-reorder -m "not slow" $(PYTEST_ARGS)

lint: install ## ruff check, format check, and mypy (config: pyproject.toml)
	$(VENV)/bin/ruff check data_platform data_platform_tests scripts
	$(VENV)/bin/ruff format --check data_platform data_platform_tests scripts
	$(VENV)/bin/mypy

format: install ## ruff format and autofix
	$(VENV)/bin/ruff check --fix data_platform data_platform_tests scripts
	$(VENV)/bin/ruff format data_platform data_platform_tests scripts

bench-ingest: install ## Ingestion targets side by side: end-to-end, re-run, memory, growth, sensor
	$(PY) scripts/bench_ingest.py --repeats 7 --layer-costs

bench-profiles: install ## Profiles and drift: profile-merge of 1,000 uploads, drift-check of 1M rows
	$(PY) scripts/bench_profiles.py

bench-smoke: install ## Every benchmark script at a small size: PASS/FAIL lines; fails only on a crash
	$(PY) scripts/bench_ingest.py --rows 20000 --repeats 1 --memory-gb 0.01,0.02 --uploads 12 --sensor-objects 300 --feed-uploads 100 --feed-latency 3
	$(PY) scripts/bench_keys.py --sizes 100000 --changed 1000 --events 100000 --append-table 200000 --append-rows 10000 --repeats 1
	$(PY) scripts/bench_profiles.py --uploads 50 --upload-rows 500 --drift-rows 20000 --repeats 1
	$(PY) scripts/bench_inference.py --seed-rows 200k --seed-workers 4 --rows 20k --train-rows 5k --chunk-sizes 5k,10k --repeats 1 --executors single thread process-fork ray --cpu-executors thread --out .data_platform/benchmarks/smoke/inference
	$(PY) scripts/bench_formats.py --rows 10k --repeats 5 --no-memory --out .data_platform/benchmarks/smoke/formats
	$(PY) scripts/bench_embed.py --texts 64 --repeats 2 --rows 2000 --queries 10 --backends torch onnx --out .data_platform/benchmarks/smoke/embedding
	$(PY) scripts/bench_training.py --rows 200000 --files 4 --repeats 3

screenshots: install system-deps ## Regenerate docs/images/asset-graph.png and asset-page.png
	$(PY) -m data_platform_tests.ui.screenshots

stack-up: install ## Start the embedded S3 store (SeaweedFS on 127.0.0.1)
	$(VENV)/bin/data-platform stack up

stack-down: install ## Stop the embedded S3 store
	$(VENV)/bin/data-platform stack down

cluster-up: install ## A local 3-node Ray cluster on 127.0.0.1 (head and two workers, token auth)
	$(VENV)/bin/data-platform cluster up

cluster-down: install ## Stop the local Ray cluster (by PID)
	$(VENV)/bin/data-platform cluster down

stack-status: install ## Where the store is, and whether it is up
	$(VENV)/bin/data-platform stack status

clean: ## Stop the stack and remove local state (.data_platform), keep .venv
	-$(VENV)/bin/data-platform stack down
	rm -rf .data_platform
