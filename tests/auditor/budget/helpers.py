"""Build Events from short literal lists (tests only)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import numpy as np

from auditor.budget.events import Events, to_e4


def events(rows: Sequence[tuple[str, str, str, float, str, str]]) -> Events:
    """rows: (kind, annotator, subtask, seconds, cost, day ISO)."""
    if not rows:
        return Events.empty()
    kind, annotator, subtask, seconds, cost, day = zip(*rows, strict=True)
    return Events(
        kind=np.array(kind, dtype=object),
        annotator=np.array(annotator, dtype=object),
        subtask=np.array(subtask, dtype=object),
        item_id=np.arange(len(rows), dtype=np.int64),
        seconds=np.array(seconds, dtype=float),
        cost_e4=np.array([to_e4(Decimal(c)) for c in cost], dtype=np.int64),
        day=np.array(day, dtype="datetime64[D]"),
    )
