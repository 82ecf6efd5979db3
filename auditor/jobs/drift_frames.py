"""Drift rows of one subtask: Evidently, the latest windows against the reference windows.

Reference: the first reference_windows windows. Current: the current_windows windows up to
the latest one (never overlapping the reference); the rows are stored under the latest
window, so the drift history grows by one window per run. (An Evidently report costs 2-3 s
whatever the window count, so recomputing every past window on each run would dominate
the job.)

Columns compared (scope = subtask): per LF its vote with "abstain" as a category
(drift.lf_votes) and whether it fired (drift.lf_coverage); the fused label
(drift.fused_class, key "fused"); each item attribute (drift.attribute, key = its name:
numbers, and strings with few distinct values; free text is left out). Each frame is
sampled to settings.drift_sample_rows inside column_drift, which records both sizes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from auditor.metrics.drift import column_drift, drift_estimate
from auditor.metrics.inputs import SubtaskInputs
from auditor.metrics.rows import MetricRow


def drift_rows(
    data: SubtaskInputs, *, reference_windows: int, current_windows: int, sample_rows: int
) -> list[MetricRow]:
    """Rows for the latest window; none while the data do not reach past the reference."""
    last = len(data.windows) - 1
    if last < reference_windows:
        return []
    first = max(reference_windows, last - current_windows + 1)
    frame, columns, metric_of = _frame(data)
    reference = frame[data.window < reference_windows]
    current = frame[(data.window >= first) & (data.window <= last)]
    start, end = data.windows[last]
    rows: list[MetricRow] = []
    for result in column_drift(
        reference, current, columns=columns, sample_rows=sample_rows, seed=last
    ):
        metric, key = metric_of[result.column]
        estimate = drift_estimate(result)
        estimate.details["current_from"] = data.windows[first][0].isoformat()
        rows.append(MetricRow(metric, data.subtask, key, start, end, estimate))
    return rows


def _frame(data: SubtaskInputs) -> tuple[pd.DataFrame, dict[str, str], dict[str, tuple[str, str]]]:
    names = np.array([*data.labels, "abstain"], dtype=object)
    columns: dict[str, str] = {}
    metric_of: dict[str, tuple[str, str]] = {}
    values: dict[str, object] = {}
    for j, lf in enumerate(data.lf_names):
        votes = data.L[:, j].astype(np.int64)
        values[f"vote:{lf}"] = pd.Categorical(names[np.where(votes < 0, len(data.labels), votes)])
        values[f"fired:{lf}"] = pd.Categorical(np.where(votes >= 0, "fired", "abstain"))
        columns[f"vote:{lf}"] = columns[f"fired:{lf}"] = "categorical"
        metric_of[f"vote:{lf}"] = ("drift.lf_votes", lf)
        metric_of[f"fired:{lf}"] = ("drift.lf_coverage", lf)
    for name, (kind, attribute) in data.attributes.items():
        values[f"attr:{name}"] = attribute
        columns[f"attr:{name}"] = kind
        metric_of[f"attr:{name}"] = ("drift.attribute", name)
    if (data.fused >= 0).any():
        fused = np.where(data.fused >= 0, data.fused, len(data.labels))
        values["fused"] = pd.Categorical(np.array([*data.labels, "none"], dtype=object)[fused])
        columns["fused"] = "categorical"
        metric_of["fused"] = ("drift.fused_class", "fused")
    return pd.DataFrame(values), columns, metric_of
