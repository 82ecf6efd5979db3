"""Peak memory of a benchmark child: its own VmHWM, printed by the child at its end.

os.wait4's ru_maxrss is not the child's own peak: a forked child starts with the
parent's resident pages, and Linux keeps that high-water mark across execve, so a parent
holding a large matrix inflates every child's figure. VmHWM belongs to the address space
that execve creates, so it starts afresh.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

SNIPPET = """
with open("/proc/self/status") as _status:
    _line = next(_l for _l in _status if _l.startswith("VmHWM"))
print("peak_mib", int(_line.split()[1]) / 1024)
"""


def peak_mib(output: str) -> float:
    """The figure SNIPPET printed; NaN when the child printed none."""
    for line in reversed(output.splitlines()):
        if line.startswith("peak_mib "):
            return float(line.split()[1])
    return float("nan")


def results_line(output: str) -> str:
    """The child's last line that is not the peak line."""
    return [line for line in output.strip().splitlines() if not line.startswith("peak_mib ")][-1]


def run_child(code: str, *args: str, cwd: Path, name: str) -> dict[str, float]:
    """Run code (+ SNIPPET) in a fresh interpreter; its last JSON line, plus process_s
    (wall time with start-up and imports) and peak_mib (its own VmHWM)."""
    started = time.perf_counter()
    child = subprocess.run(
        [sys.executable, "-c", code + SNIPPET, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    if child.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{child.stderr[-3000:]}")
    result: dict[str, float] = json.loads(results_line(child.stdout))
    result["process_s"] = time.perf_counter() - started
    result["peak_mib"] = peak_mib(child.stdout)
    return result


def print_medians(results: dict[str, list[dict[str, float]]], *, floor: str) -> None:
    """One row per method: median seconds, process seconds, peak MiB, ratio to floor."""
    base = statistics.median(r["seconds"] for r in results[floor])
    print(f"{'method':<12}{'seconds':>10}{'process s':>11}{'peak MiB':>10}{'ratio':>8}")
    for method, runs in results.items():
        seconds = statistics.median(r["seconds"] for r in runs)
        process = statistics.median(r["process_s"] for r in runs)
        peak = statistics.median(r["peak_mib"] for r in runs)
        print(f"{method:<12}{seconds:>10.2f}{process:>11.2f}{peak:>10.0f}{seconds / base:>8.1f}")
