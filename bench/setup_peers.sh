#!/usr/bin/env bash
# A separate environment for the peer libraries the benchmarks compare against (never
# project dependencies): snorkel 0.10 (LabelModel) and crowd-kit (DawidSkene), plus
# labelwatch itself so one script can time all of them side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=bench/.peers-venv
python3 -m venv "$VENV"
PIP="$VENV/bin/python -m pip --disable-pip-version-check --no-input -q"
# CPU torch first: snorkel asks for torch, and a bare torch requirement pulls a CUDA build.
$VENV/bin/python -c 'import torch' 2>/dev/null || $PIP install "torch==2.13.0" 2>&1 | { grep -v "is ignored" || true; }
$PIP install "snorkel==0.10.0" crowd-kit -e . 2>&1 | { grep -v "is ignored" || true; }
$VENV/bin/python -c 'import snorkel, crowdkit, fusion; print("peers ready:", snorkel.__version__)'
