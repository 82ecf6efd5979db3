#!/usr/bin/env bash
# GPU check of the label model, for a machine with CUDA (never needed for CI):
#   1. the CPU/GPU parity tests (pytest -m gpu),
#   2. the speed benchmark with device="cuda" at 100M items x 50 LFs x 3 classes.
# Skips with a message, exit 0, where there is no CUDA device.
# Usage: bash bench/gpu_check.sh      (SIZES=10000000 for a shorter run)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
if ! "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)'; then
  echo "gpu_check: no CUDA device on this machine; skipped (run it on a GPU host)"
  exit 0
fi
"$PY" -c 'import torch; print("gpu_check on", torch.cuda.get_device_name(0))'
"$PY" -m pytest -q -m gpu tests/fusion
"$PY" bench/label_model_speed.py --sizes "${SIZES:-100000000}" --lfs 50 \
  --methods labelwatch --device cuda --repeat "${REPEAT:-1}"
