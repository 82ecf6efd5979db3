# labelwatch: `make demo` sets up and runs everything; `make test` sets up and runs the checks.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The CPU wheel; plain `torch` would pull a multi-GB CUDA build. On a GPU host use e.g.
#   make setup TORCH_SPEC="torch==2.13.0" TORCH_INDEX=https://download.pytorch.org/whl/cu128
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX ?=
PIP := $(BIN)/python -m pip --disable-pip-version-check --no-input -q
# This machine's pip config names local indexes that warn once per package; hide only those.
QUIET := { grep -v "is ignored: it is neither a file nor a directory" || true; }

.PHONY: setup demo test lint typecheck unit bench-ingest clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "labelwatch needs Python 3.11+"'
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	@$(BIN)/python -c 'import torch' 2>/dev/null || { \
	  echo "installing $(TORCH_SPEC) first (no torch in $(VENV))"; \
	  $(PIP) install "$(TORCH_SPEC)" $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) 2>&1 | $(QUIET); }
	$(PIP) install -e ".[dev]" 2>&1 | $(QUIET)
	$(BIN)/python -c 'import auditor, fusion, dashboard, duckdb, evidently, streamlit, apscheduler, torch, pytest'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/labelwatch demo --if-missing
	$(BIN)/labelwatch run all
	$(BIN)/labelwatch status
	$(BIN)/labelwatch serve

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy fusion auditor dashboard

unit: setup
	$(BIN)/python -m pytest -q

test: lint unit

bench-ingest: setup
	$(BIN)/python bench/ingest_votes.py --rows 10000000 --repeat 3 --csv

clean:
	rm -rf $(VENV) labelwatch-data
