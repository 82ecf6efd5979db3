"""Money, exactly: spend by kind and annotator, unit costs, cost per correct label, savings.

Totals are Decimal sums of the events' DECIMAL(18, 4) costs, so they reconcile with the
events table to the cent; ratios (cost per label) are floats for display.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from auditor.budget.events import Events, to_money
from auditor.metrics.estimate import Estimate

ZERO = Decimal(0)
HUMAN_KINDS = ("human_label", "review")  # the cost of labeling by hand
WEAK_KINDS = ("lf_development", "audit")  # the cost of weak supervision and its checks


def total(events: Events) -> Decimal:
    """Exact sum of the events' costs, with 4 places (0.0000 for no events)."""
    return to_money(events.cost_e4.sum(dtype=np.int64))


def spend_by(events: Events, *, by: str) -> dict[str, Decimal]:
    """Exact spend per value of "kind", "annotator" or "subtask" ("" = no subtask)."""
    values = np.asarray(getattr(events, by), dtype=object).astype(str)
    if not len(values):
        return {}
    keys, inverse = np.unique(values, return_inverse=True)
    sums = np.zeros(len(keys), dtype=np.int64)
    np.add.at(sums, inverse, events.cost_e4)
    return {str(k): to_money(v) for k, v in zip(keys, sums, strict=True)}


def ratio(amount: Decimal, count: float) -> float:
    """amount / count as a float; NaN (undefined, never infinite) when count is 0."""
    return float(amount) / count if count > 0 else math.nan


@dataclass(frozen=True)
class UnitCosts:
    """per_human_label = (human_label + review spend) / human labels; per_weak_label =
    (lf_development + audit spend) / weak labels (fused labels of items no human labeled);
    per_correct_label = total spend / expected correct labels (see cost_per_correct_label).
    NaN where the count is 0."""

    per_human_label: float
    per_weak_label: float
    per_correct_label: Estimate


def unit_costs(
    spend_by_kind: Mapping[str, Decimal], *, human_labels: int, weak_labels: int, correct: Estimate
) -> UnitCosts:
    """Unit costs from exact spend per kind and label counts; correct from correct_labels."""
    human = sum((spend_by_kind.get(k, ZERO) for k in HUMAN_KINDS), ZERO)
    weak = sum((spend_by_kind.get(k, ZERO) for k in WEAK_KINDS), ZERO)
    spent = sum(spend_by_kind.values(), ZERO)
    return UnitCosts(
        per_human_label=ratio(human, human_labels),
        per_weak_label=ratio(weak, weak_labels),
        per_correct_label=cost_per_correct_label(spent, correct),
    )


def correct_labels(labels: Mapping[str, int], accuracy: Mapping[str, Estimate]) -> Estimate:
    """Expected correct labels: sum over subtasks s of n_s * acc_s, interval sum n_s low_s ..
    sum n_s high_s (each subtask's 95% interval at its end: conservative for the sum).

    labels: labels delivered per subtask; accuracy: the audited accuracy per subtask.
    Subtasks without a defined accuracy are left out and named in details["excluded"];
    undefined when none has one.
    """
    value = low = high = 0.0
    used, excluded = 0, []
    for subtask, n in sorted(labels.items()):
        acc = accuracy.get(subtask)
        if acc is None or not acc.defined or n <= 0:
            if n > 0:
                excluded.append(subtask)
            continue
        value += n * acc.value
        low += n * (acc.low if not math.isnan(acc.low) else acc.value)
        high += n * (acc.high if not math.isnan(acc.high) else acc.value)
        used += n
    if used == 0:
        return Estimate.undefined("no audited accuracy for any labeled subtask", excluded=excluded)
    return Estimate(value, low, high, n=used, details={"labels": used, "excluded": excluded})


def cost_per_correct_label(spent: Decimal, correct: Estimate) -> Estimate:
    """spent / correct labels; interval spent / high .. spent / low (undefined when the
    correct count is undefined or 0)."""
    if not correct.defined or correct.value <= 0:
        return Estimate.undefined(correct.reason or "no correct labels", n=correct.n)
    amount = float(spent)
    return Estimate(
        amount / correct.value,
        amount / correct.high if correct.high > 0 else math.nan,
        amount / correct.low if correct.low > 0 else math.inf,
        n=correct.n,
        details={"spent": str(spent), "correct": correct.value},
    )


@dataclass(frozen=True)
class ManualRate:
    """What one label of a subtask would cost by hand, and where that number comes from:
    source = "configured" (the subtask's manual_cost_per_label) or "observed" (mean of
    this task's human labels of the subtask); seconds: mean seconds per human label."""

    cost: Decimal | None
    seconds: float
    source: str


@dataclass(frozen=True)
class Savings:
    """manual_cost = sum_s labels_s * rate_s.cost; amount = manual_cost - spent (negative:
    weak supervision cost more); hours likewise. assumptions: one line per subtask."""

    manual_cost: Decimal | None
    spent: Decimal
    amount: Decimal | None
    manual_hours: float
    hours: float
    hours_saved: float
    assumptions: tuple[str, ...] = field(default_factory=tuple)


def savings(
    labels: Mapping[str, int],
    rates: Mapping[str, ManualRate],
    *,
    spent: Decimal,
    hours: float,
    currency: str,
) -> Savings:
    """Savings of weak supervision against labeling the same labels fully by hand.

    labels: labels delivered per subtask (item x subtask pairs with a final label); rates:
    the manual rate per subtask. A subtask without a cost rate makes the money figure
    undefined (None), and without observed seconds the hours figure NaN; the assumptions
    say which.
    """
    manual: Decimal | None = ZERO
    manual_hours = 0.0
    lines = []
    for subtask, n in sorted(labels.items()):
        rate = rates.get(subtask)
        if rate is None or rate.cost is None:
            manual = None
            lines.append(f"{subtask}: {n:,} labels, no manual cost per label known")
        elif manual is not None:
            manual += rate.cost * n
        if rate is not None and rate.cost is not None:
            lines.append(
                f"{subtask}: {n:,} labels x {rate.cost} {currency} per label ({rate.source})"
                + (f", {rate.seconds:.1f} s per label" if not math.isnan(rate.seconds) else "")
            )
        manual_hours += n * (rate.seconds if rate is not None else math.nan) / 3600.0
    return Savings(
        manual_cost=manual,
        spent=spent,
        amount=None if manual is None else manual - spent,
        manual_hours=manual_hours,
        hours=hours,
        hours_saved=manual_hours - hours,
        assumptions=tuple(lines),
    )
