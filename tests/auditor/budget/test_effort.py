"""Effort measures on hand-checked event lists."""

from __future__ import annotations

import math

import numpy as np
import pytest

from auditor.budget.effort import audit_acceptance, effort, effort_by, rework_share
from auditor.budget.events import Events
from tests.auditor.budget.helpers import events

ROWS = [
    ("human_label", "ana", "topic", 30.0, "0.25", "2026-10-01"),
    ("human_label", "ana", "topic", 90.0, "0.75", "2026-10-01"),
    ("human_label", "bo", "topic", 60.0, "0.50", "2026-10-02"),
    ("audit", "cy", "topic", 120.0, "1.00", "2026-10-02"),
    ("lf_development", "dev", "", 7200.0, "100.00", "2026-10-02"),
]


def test_effort_of_all_events_by_hand() -> None:
    e = effort(events(ROWS))
    # 30 + 90 + 60 + 120 + 7200 = 7500 s; 4 label events (LF development is not a label)
    assert e.events == 5 and e.labels == 4
    assert e.hours == pytest.approx(7500 / 3600)
    assert e.labels_per_hour == pytest.approx(4 / (7500 / 3600))
    assert e.mean_seconds == pytest.approx((30 + 90 + 60 + 120) / 4)
    assert e.median_seconds == pytest.approx(75.0)


def test_effort_by_kind_and_annotator() -> None:
    by_kind = effort_by(events(ROWS), by="kind")
    assert list(by_kind) == ["audit", "human_label", "lf_development"]
    human = by_kind["human_label"]
    assert human.hours == pytest.approx(180 / 3600)
    assert human.labels_per_hour == pytest.approx(3 / (180 / 3600))  # 60 labels per hour
    assert human.median_seconds == 60.0
    lf = by_kind["lf_development"]
    assert lf.labels == 0 and math.isnan(lf.labels_per_hour) and math.isnan(lf.mean_seconds)
    assert effort_by(events(ROWS), by="annotator")["ana"].mean_seconds == 60.0
    assert "" not in effort_by(events(ROWS), by="subtask")


def test_no_events_give_zero_hours_and_undefined_rates() -> None:
    e = effort(Events.empty())
    assert (e.events, e.hours, e.labels) == (0, 0.0, 0)
    assert math.isnan(e.labels_per_hour) and math.isnan(e.median_seconds)


def test_rework_and_acceptance_are_proportions_with_wilson_intervals() -> None:
    rework = rework_share(np.array([0, 1, 2, 2]), np.array([0, 2, 2, 1]))
    assert rework.value == 0.5 and rework.n == 4
    assert rework.low < 0.5 < rework.high
    accepted = audit_acceptance(np.array([1, 1, 0]), np.array([1, 1, 1]))
    assert accepted.value == pytest.approx(2 / 3)
    assert not audit_acceptance(np.array([], int), np.array([], int)).defined


def test_events_refuse_negative_seconds_and_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="seconds must be >= 0"):
        events([("audit", "a", "", -1.0, "0", "2026-10-01")])
    good = events(ROWS)
    with pytest.raises(ValueError, match="has 4 entries"):
        Events(
            good.kind[:4],
            good.annotator,
            good.subtask,
            good.item_id,
            good.seconds,
            good.cost_e4,
            good.day,
        )
