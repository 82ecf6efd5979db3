"""Exact money: spend sums, unit costs, cost per correct label and savings."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.budget.money import (
    ManualRate,
    correct_labels,
    cost_per_correct_label,
    savings,
    spend_by,
    total,
    unit_costs,
)
from auditor.metrics.estimate import Estimate
from tests.auditor.budget.helpers import events

ROWS = [
    ("human_label", "ana", "topic", 30.0, "0.10", "2026-10-01"),
    ("human_label", "ana", "topic", 30.0, "0.20", "2026-10-01"),
    ("review", "rev", "topic", 10.0, "0.05", "2026-10-02"),
    ("audit", "cy", "topic", 60.0, "0.50", "2026-10-02"),
    ("lf_development", "dev", "", 3600.0, "40.00", "2026-10-02"),
]

cents = st.decimals(min_value=0, max_value=10_000, places=4, allow_nan=False, allow_infinity=False)


@given(st.lists(cents, max_size=200))
@settings(max_examples=200, deadline=None)
def test_totals_are_exact_decimal_sums(costs: list[Decimal]) -> None:
    rows = [("audit", "a", "t", 1.0, str(c), "2026-10-01") for c in costs]
    assert total(events(rows)) == sum(costs, Decimal(0))
    assert sum(spend_by(events(rows), by="kind").values(), Decimal(0)) == sum(costs, Decimal(0))


def test_float_addition_would_drift_where_decimal_does_not() -> None:
    rows = [("audit", "a", "t", 1.0, "0.1000", "2026-10-01")] * 10
    assert total(events(rows)) == Decimal("1.0000")
    assert sum([0.1] * 10) != 1.0  # why money is never summed as float here


def test_spend_by_kind_annotator_subtask() -> None:
    e = events(ROWS)
    assert spend_by(e, by="kind") == {
        "audit": Decimal("0.50"),
        "human_label": Decimal("0.30"),
        "lf_development": Decimal("40.00"),
        "review": Decimal("0.05"),
    }
    assert spend_by(e, by="annotator")["ana"] == Decimal("0.30")
    assert spend_by(e, by="subtask") == {"": Decimal("40.00"), "topic": Decimal("0.85")}


def test_unit_costs_by_hand() -> None:
    acc = Estimate(0.9, 0.8, 0.95, n=100)
    correct = correct_labels({"topic": 100}, {"topic": acc})
    unit = unit_costs(
        spend_by(events(ROWS), by="kind"), human_labels=2, weak_labels=98, correct=correct
    )
    assert unit.per_human_label == pytest.approx((0.30 + 0.05) / 2)
    assert unit.per_weak_label == pytest.approx(40.50 / 98)
    cpc = unit.per_correct_label
    assert cpc.value == pytest.approx(40.85 / 90)
    assert (cpc.low, cpc.high) == (pytest.approx(40.85 / 95), pytest.approx(40.85 / 80))


def test_zero_counts_give_undefined_not_infinite_costs() -> None:
    unit = unit_costs({}, human_labels=0, weak_labels=0, correct=correct_labels({}, {}))
    assert math.isnan(unit.per_human_label) and math.isnan(unit.per_weak_label)
    assert not unit.per_correct_label.defined
    assert not cost_per_correct_label(Decimal(5), Estimate(0.0)).defined


def test_correct_labels_pool_subtasks_and_name_the_unaudited() -> None:
    c = correct_labels(
        {"topic": 100, "billing": 50, "tech": 10},
        {"topic": Estimate(0.9, 0.85, 0.95), "billing": Estimate(0.8, 0.7, 0.9)},
    )
    assert c.value == pytest.approx(90 + 40)
    assert (c.low, c.high) == (pytest.approx(85 + 35), pytest.approx(95 + 45))
    assert c.n == 150 and c.details["excluded"] == ["tech"]


def test_savings_against_manual_labeling_with_assumptions() -> None:
    rates = {
        "topic": ManualRate(Decimal("0.40"), 50.0, "configured"),
        "billing": ManualRate(Decimal("0.6000"), 70.0, "observed"),
    }
    s = savings(
        {"topic": 1000, "billing": 100}, rates, spent=Decimal("150.00"), hours=3.0, currency="USD"
    )
    assert s.manual_cost == Decimal("460.0000")  # 1000 x 0.40 + 100 x 0.60
    assert s.amount == Decimal("310.0000")
    assert s.manual_hours == pytest.approx((1000 * 50 + 100 * 70) / 3600)
    assert s.hours_saved == pytest.approx(s.manual_hours - 3.0)
    assert any("0.40 USD per label (configured)" in a for a in s.assumptions)
    unknown = savings({"x": 5}, {}, spent=Decimal(1), hours=0.0, currency="USD")
    assert unknown.amount is None and math.isnan(unknown.hours_saved)
    assert np.all([("no manual cost" in a) for a in unknown.assumptions])
