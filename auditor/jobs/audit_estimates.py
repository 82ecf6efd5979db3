"""Accuracy estimates of an audit round: per subtask (the report), and as metric rows.

The audit-sample job writes the rows for the task's newest audited round before it draws
the next one: metric "accuracy.audit_<estimator>" (active_inference, horvitz_thompson,
ppi_plus_plus, random_share_wilson), scope the subtask, key "fused" or "class:<label>",
window starting at the round's creation, details with the round, ess and headline.
"""

from __future__ import annotations

import datetime as dt

from auditor.audit.report import SubtaskAccuracy, round_accuracy
from auditor.metrics.estimate import Estimate
from auditor.metrics.rows import MetricRow
from auditor.store.audit_report_io import RoundData


def accuracy_by_subtask(data: RoundData) -> list[SubtaskAccuracy]:
    out = []
    for subtask_id, name in sorted(data.subtask_names.items()):
        here, bins = data.subtask_id == subtask_id, data.bin_subtask == subtask_id
        if not here.any():
            continue
        out.append(
            round_accuracy(
                subtask=name,
                classes=data.labels.get(subtask_id, ()),
                fused=data.fused_label[here],
                confidence=data.confidence[here],
                pi=data.pi[here],
                from_random=data.from_random[here],
                audited=data.audited[here],
                bin_label=data.bin_label[bins],
                bin_items=data.bin_items[bins],
                bin_confidence=data.bin_confidence[bins],
                seed=data.round_id,
            )
        )
    return out


def estimate_rows(data: RoundData, results: list[SubtaskAccuracy]) -> list[MetricRow]:
    """Metric rows for every estimator, overall and per fused class, of each subtask."""
    start: dt.datetime = data.created_at
    rows: list[MetricRow] = []
    for result in results:
        if result.report is None:
            continue
        keyed = [("fused", result.report.overall)] + [
            (f"class:{result.classes[g]}", by) for g, by in result.report.by_group.items()
        ]
        for key, estimates in keyed:
            for name, estimate in estimates.items():
                details = {
                    **estimate.details,
                    "round_id": data.round_id,
                    "headline": name == result.report.headline,
                    "audited": result.audited,
                    "sampled": result.sampled,
                }
                tagged = Estimate(
                    estimate.value,
                    estimate.low,
                    estimate.high,
                    n=estimate.n,
                    reason=estimate.reason,
                    details=details,
                )
                rows.append(
                    MetricRow(f"accuracy.audit_{name}", result.subtask, key, start, None, tagged)
                )
    return rows
