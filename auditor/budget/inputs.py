"""Everything the budget measures read for one task, as plain values and arrays."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from auditor.budget.events import Events
from auditor.budget.money import ManualRate
from auditor.budget.specs import Budget, Goal
from auditor.metrics.estimate import Estimate


@dataclass(frozen=True)
class LabelCounts:
    """(item, subtask) pairs of one subtask: human-labeled, audited, weak only (a covered
    fused label, no human label or audit), uncovered, and delivered (any final label)."""

    human: int
    audited: int
    weak_only: int
    uncovered: int
    delivered: int


@dataclass(frozen=True)
class BudgetInputs:
    """One task's inputs. rework: (human label, audited label) int (n,) pairs of human
    labels audited afterwards; acceptance: (fused label, audited label) int (m,) pairs of
    audited queue items; audited_accuracy: the headline audited accuracy per subtask;
    daily_items: (day datetime64[D] (d,), items created, items first human-labeled)."""

    task: str
    currency: str
    as_of: dt.date
    events: Events
    budgets: tuple[Budget, ...]
    goals: tuple[Goal, ...]
    label_counts: Mapping[str, LabelCounts]
    manual_rates: Mapping[str, ManualRate]
    rework: tuple[np.ndarray, np.ndarray]
    acceptance: tuple[np.ndarray, np.ndarray]
    audited_accuracy: Mapping[str, Estimate]
    daily_items: tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class BudgetOptions:
    """trailing_days: the burn-rate window (and the goal comparison window); method:
    "linear" or "mean" (see forecast); cost_jump_relative: a rise of the cost per correct
    label over the trailing window vs the window before it above this share alerts."""

    trailing_days: int = 14
    method: str = "mean"
    cost_jump_relative: float = 0.5
