"""Human effort: hours, labels per hour and seconds per label; rework and audit acceptance.

A human_label, audit or review event is one label; lf_development events are time spent
writing labeling functions and produce no label of their own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from auditor.budget.events import Events
from auditor.metrics.estimate import Estimate, proportion

LABEL_KINDS = ("human_label", "audit", "review")


@dataclass(frozen=True)
class Effort:
    """events: count; hours = sum(seconds) / 3600 (never negative); labels: events that are
    labels; labels_per_hour = labels / hours (NaN when hours == 0 or no labels);
    mean_seconds / median_seconds per label event (NaN when there are none)."""

    events: int
    hours: float
    labels: int
    labels_per_hour: float
    mean_seconds: float
    median_seconds: float


def effort(events: Events) -> Effort:
    """Effort of all the given events."""
    seconds = np.asarray(events.seconds, dtype=float)
    is_label = np.isin(events.kind, LABEL_KINDS)
    hours = float(seconds.sum()) / 3600.0
    labels = int(is_label.sum())
    label_seconds = seconds[is_label]
    return Effort(
        events=len(events),
        hours=hours,
        labels=labels,
        labels_per_hour=labels / hours if hours > 0 and labels > 0 else math.nan,
        mean_seconds=float(label_seconds.mean()) if labels else math.nan,
        median_seconds=float(np.median(label_seconds)) if labels else math.nan,
    )


def effort_by(events: Events, *, by: str) -> dict[str, Effort]:
    """Effort per value of one Events field: "kind", "annotator" or "subtask" (events
    without a subtask are left out of the subtask grouping). Keys sorted."""
    if by not in ("kind", "annotator", "subtask"):
        raise ValueError(f"by must be kind, annotator or subtask, got {by!r}")
    return {key: effort(events.select(mask)) for key, mask in events.groups(by).items()}


def rework_share(human_label: np.ndarray, audited_label: np.ndarray) -> Estimate:
    """Share of human labels that an audit later changed, with its Wilson 95% interval.

    human_label, audited_label: int (n,) for the human labels that were audited afterwards
    (same item and subtask; audited_label is the audit's decision). rework = mean(h != a).
    """
    h, a = np.asarray(human_label), np.asarray(audited_label)
    if h.shape != a.shape:
        raise ValueError(f"human_label {h.shape} and audited_label {a.shape} differ in shape")
    return proportion(int((h != a).sum()), int(h.size), what="audited human labels")


def audit_acceptance(fused_label: np.ndarray, audited_label: np.ndarray) -> Estimate:
    """Share of audited fused labels the auditor kept: mean(fused == audited), Wilson 95%.

    fused_label, audited_label: int (n,) the fused label shown in the audit queue and the
    audited label of the same item and subtask.
    """
    f, a = np.asarray(fused_label), np.asarray(audited_label)
    if f.shape != a.shape:
        raise ValueError(f"fused_label {f.shape} and audited_label {a.shape} differ in shape")
    return proportion(int((f == a).sum()), int(f.size), what="audited fused labels")
