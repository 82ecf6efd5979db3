"""MetricRow: one computed metric for one scope, key and window (a `metrics` table row)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from auditor.metrics.estimate import Estimate


@dataclass(frozen=True)
class MetricRow:
    """metric: dotted family.name ("lf.coverage", "calibration.ece", "drift.lf_votes");
    scope: the subtask name ("topic"), or "task" for task-wide metrics; key: the entity
    measured (an LF name, "fused", an annotator, "lf_a|lf_b", a class name, "all");
    window: [start, end) in UTC, or None for all time."""

    metric: str
    scope: str
    key: str
    window_start: dt.datetime | None
    window_end: dt.datetime | None
    estimate: Estimate

    @property
    def value(self) -> float:
        return self.estimate.value

    def details(self) -> dict[str, object]:
        """The JSON details column: the estimate's counts, n, and the reason for a NaN."""
        out: dict[str, object] = {"n": self.estimate.n, **self.estimate.details}
        if self.estimate.reason is not None:
            out["reason"] = self.estimate.reason
        return out


def finite_or_none(value: float) -> float | None:
    """NaN -> None (SQL NULL), so that NULL means 'undefined' in the metrics table."""
    return None if math.isnan(value) else float(value)
