"""compute_state and the alert conditions on a small hand-made task."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest

from auditor.budget.alerts import budget_conditions
from auditor.budget.inputs import BudgetInputs, BudgetOptions, LabelCounts
from auditor.budget.money import ManualRate
from auditor.budget.rows import budget_rows
from auditor.budget.specs import Budget, Goal
from auditor.budget.state import compute_state
from auditor.metrics.estimate import Estimate
from tests.auditor.budget.helpers import events

START = dt.date(2026, 10, 1)


def inputs(last_week_cost: str, *, accuracy: Estimate | None) -> BudgetInputs:
    """14 days: 7 days at 10.00 then 7 days at last_week_cost a day; 100 items a day."""
    rows = [
        (
            "human_label",
            "ana",
            "topic",
            60.0,
            "10.00" if d < 7 else last_week_cost,
            (START + dt.timedelta(days=d)).isoformat(),
        )
        for d in range(14)
    ]
    days = np.array([START + dt.timedelta(days=d) for d in range(14)], "datetime64[D]")
    return BudgetInputs(
        task="t",
        currency="USD",
        as_of=START + dt.timedelta(days=13),
        events=events(rows),
        budgets=(Budget(1, "t", "b", Decimal("500"), "USD", START, dt.date(2026, 10, 31)),),
        goals=(Goal(1, "t", "max_cost_per_correct_label", 0.5, 1, {}),),
        label_counts={"topic": LabelCounts(14, 0, 1386, 0, 1400)},
        manual_rates={"topic": ManualRate(Decimal("0.40"), 60.0, "configured")},
        rework=(np.array([], int), np.array([], int)),
        acceptance=(np.array([], int), np.array([], int)),
        audited_accuracy={} if accuracy is None else {"topic": accuracy},
        daily_items=(days, np.full(14, 100), np.ones(14, int)),
    )


def test_a_cost_per_correct_label_jump_raises_a_warning() -> None:
    state = compute_state(
        inputs("25.00", accuracy=Estimate(0.8, 0.75, 0.85)), options=BudgetOptions(trailing_days=7)
    )
    # previous week: 10 / (100 x 0.8) = 0.125 per correct label; this week 25 / 80 = 0.3125
    assert state.cost_jump.value == pytest.approx(1.5)
    conditions, evaluated = budget_conditions(state, cost_jump_relative=0.5)
    jump = [c for c in conditions if c.metric == "cost.per_correct_label_jump"]
    assert len(jump) == 1 and "+150%" in jump[0].message
    assert ("cost.per_correct_label_jump", "t/task", "all") in evaluated
    flat = compute_state(
        inputs("10.00", accuracy=Estimate(0.8, 0.75, 0.85)), options=BudgetOptions(trailing_days=7)
    )
    assert flat.cost_jump.value == pytest.approx(0.0)
    assert not [
        c
        for c in budget_conditions(flat, cost_jump_relative=0.5)[0]
        if c.metric == "cost.per_correct_label_jump"
    ]


def test_state_by_hand() -> None:
    state = compute_state(
        inputs("10.00", accuracy=Estimate(0.8, 0.75, 0.85)), options=BudgetOptions(trailing_days=7)
    )
    assert state.spent == Decimal("140.0000")
    assert state.unit.per_human_label == pytest.approx(10.0)
    # 140 / (1400 x 0.8) = 0.125 per correct label, interval 140/(1400 x .85) .. /(.75)
    cpc = state.unit.per_correct_label
    assert cpc.value == pytest.approx(0.125)
    assert (cpc.low, cpc.high) == (pytest.approx(140 / 1190), pytest.approx(140 / 1050))
    assert state.savings.amount == Decimal("420.0000")  # 1400 x 0.40 - 140
    ((_goal, status),) = state.goals
    assert status.status == "on_track"  # 0.133 upper bound <= 0.5
    forecast = state.forecasts[0].forecast
    assert forecast.projected.value == pytest.approx(140 + 10 * 17)  # 17 days left at 10/day
    assert not forecast.overrun


def test_without_audits_cost_goals_are_at_risk_and_rows_are_undefined_not_infinite() -> None:
    state = compute_state(inputs("10.00", accuracy=None))
    assert not state.unit.per_correct_label.defined and not state.cost_jump.defined
    assert state.goals[0][1].status == "at_risk"
    rows = budget_rows(inputs("10.00", accuracy=None), state)
    values = np.array([r.value for r in rows], dtype=float)
    assert not np.isinf(values).any()
    human_share = [r for r in rows if r.metric == "coverage.human_share"]
    assert human_share[-1].value == pytest.approx(14 / 1400)
