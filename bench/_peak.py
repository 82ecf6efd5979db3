"""Peak memory of a benchmark child: its own VmHWM, printed by the child at its end.

os.wait4's ru_maxrss is not the child's own peak: a forked child starts with the
parent's resident pages, and Linux keeps that high-water mark across execve, so a parent
holding a large matrix inflates every child's figure. VmHWM belongs to the address space
that execve creates, so it starts afresh.
"""

from __future__ import annotations

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
