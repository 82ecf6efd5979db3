"""Goal status rules, each branch with hand-picked numbers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from auditor.budget.forecast import forecast
from auditor.budget.goals import (
    accuracy_within_budget_status,
    cost_per_correct_status,
    reduce_hours_status,
)
from auditor.metrics.estimate import Estimate

START, END = dt.date(2026, 1, 1), dt.date(2026, 1, 31)


def budget(amount: int, per_day: float = 10.0, days: int = 10):  # type: ignore[no-untyped-def]
    daily = [Decimal(str(per_day))] * days
    return forecast(
        daily,
        amount=Decimal(amount),
        period_start=START,
        period_end=END,
        as_of=START + dt.timedelta(days=days - 1),
    )


@pytest.mark.parametrize(
    ("baseline", "current", "status", "value"),
    [(10.0, 6.0, "on_track", 0.4), (10.0, 8.0, "at_risk", 0.2), (10.0, 11.0, "off_track", -0.1)],
)
def test_reduce_hours(baseline: float, current: float, status: str, value: float) -> None:
    s = reduce_hours_status(baseline, current, target=0.3)
    assert (s.status, s.value) == (status, pytest.approx(value))
    assert "h/day" in s.reason


def test_reduce_hours_without_a_baseline_is_at_risk() -> None:
    assert reduce_hours_status(0.0, 3.0, target=0.3).status == "at_risk"


def test_accuracy_within_budget_branches() -> None:
    good = Estimate(0.92, 0.88, 0.95)
    # 10/day: 100 spent + 210 projected = 310
    assert (
        accuracy_within_budget_status(good, budget(400), target=0.85, currency="USD").status
        == "on_track"
    )
    over = accuracy_within_budget_status(good, budget(300), target=0.85, currency="USD")
    assert over.status == "at_risk" and "projected spend exceeds the budget" in over.reason
    low = accuracy_within_budget_status(
        Estimate(0.86, 0.80, 0.91), budget(400), target=0.85, currency="USD"
    )
    assert low.status == "at_risk" and "lower bound is below" in low.reason
    hopeless = accuracy_within_budget_status(
        Estimate(0.7, 0.6, 0.8), budget(400), target=0.85, currency="USD"
    )
    assert hopeless.status == "off_track"
    spent = accuracy_within_budget_status(good, budget(50), target=0.85, currency="USD")
    assert spent.status == "off_track" and "exhausted" in spent.reason
    unknown = accuracy_within_budget_status(None, budget(400), target=0.85, currency="USD")
    assert unknown.status == "at_risk" and "no audited accuracy" in unknown.reason


@pytest.mark.parametrize(
    ("cost", "status"),
    [
        (Estimate(0.04, 0.03, 0.05), "on_track"),
        (Estimate(0.045, 0.04, 0.06), "at_risk"),
        (Estimate(0.07, 0.06, 0.08), "off_track"),
    ],
)
def test_cost_per_correct_label(cost: Estimate, status: str) -> None:
    s = cost_per_correct_status(cost, target=0.05, currency="USD")
    assert s.status == status and s.code == ["on_track", "at_risk", "off_track"].index(status)


def test_unknown_cost_per_correct_label_is_at_risk_with_the_reason() -> None:
    s = cost_per_correct_status(Estimate.undefined("no audits"), target=0.05, currency="USD")
    assert s.status == "at_risk" and "no audits" in s.reason
