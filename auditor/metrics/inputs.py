"""What the metrics of one subtask are computed from: arrays, filled by the store."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class LFCounts:
    """SQL-side counts per (window, LF), aligned arrays of shape (n_rows,).

    window: int window index; lf: int column of the LF in SubtaskInputs.L; votes: items it
    voted on; overlaps: of those, items where another LF also voted; conflicts: items where
    another LF voted a different label; gold_n / gold_right: its votes on items with gold,
    and how many matched; labels: int (n_rows, n_classes) its vote count per label."""

    window: np.ndarray
    lf: np.ndarray
    votes: np.ndarray
    overlaps: np.ndarray
    conflicts: np.ndarray
    gold_n: np.ndarray
    gold_right: np.ndarray
    labels: np.ndarray


@dataclass(frozen=True)
class RaterLabels:
    """Labels named people gave some of the subtask's items (e.g. the annotators behind
    imported gold): rows int (n,) indices into the subtask's items, each at most once;
    names (n_raters,); labels int (n, n_raters), each person's latest label, -1 = that
    person did not label the item. Kept compact: only items someone labelled."""

    rows: np.ndarray
    names: tuple[str, ...]
    labels: np.ndarray


@dataclass(frozen=True)
class SubtaskInputs:
    """One subtask's data for the metrics job.

    windows: [start, end) pairs, UTC; window: int (n_items,) window index of each item
    (by item creation time); L: int8 (n_items, n_lfs), -1 = abstain; confidence: float
    like L (NaN = none); gold: int (n_items,) gold or audited label, -1 = unknown (latest
    correction wins); audited: int (n_items,) auditors' corrections only, -1 = none;
    fused: int (n_items,) latest fused label, -1 = not fused; proba: float (n_items, k)
    fused posteriors (NaN rows where not fused); human: bool (n_lfs,) LFs of kind human;
    model_accuracy / model_propensity: float (n_lfs,) the label model's estimates (NaN
    when absent); log_pi (k,) and log_emission (n_lfs, k, k) of the latest fit, or None;
    parent: (parent subtask name, label code it refines) for a refinement, else None;
    parent_fused: int (n_items,) fused label of the parent subtask, -1 unknown;
    attributes: item attribute name -> ("numerical" | "categorical", values (n_items,));
    auditor_labels: int (n_items, n_auditors) each auditor's latest label, -1 = none
    (items at least two auditors labelled; None when there are none);
    annotators: the gold annotators' own labels (gold_labels.annotator), None when no gold
    row names its annotator."""

    task: str
    subtask: str
    labels: tuple[str, ...]
    lf_names: tuple[str, ...]
    windows: tuple[tuple[dt.datetime, dt.datetime], ...]
    window: np.ndarray
    L: np.ndarray
    confidence: np.ndarray
    gold: np.ndarray
    audited: np.ndarray
    fused: np.ndarray
    proba: np.ndarray
    human: np.ndarray
    model_accuracy: np.ndarray
    model_propensity: np.ndarray
    log_pi: np.ndarray | None
    log_emission: np.ndarray | None
    parent: tuple[str, int] | None
    parent_fused: np.ndarray
    lf_counts: LFCounts
    n_items_per_window: np.ndarray
    attributes: dict[str, tuple[str, np.ndarray]] = field(default_factory=dict)
    auditor_labels: np.ndarray | None = None
    annotators: RaterLabels | None = None

    @property
    def n_classes(self) -> int:
        return len(self.labels)
