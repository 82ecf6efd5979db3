"""Alert rules: each fires past its threshold and not at it; NaN never fires."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from auditor.metrics.alert_rules import Condition, evaluate, evaluated_keys
from auditor.metrics.estimate import Estimate, wilson_interval
from auditor.metrics.rows import MetricRow
from auditor.settings import DEFAULT_THRESHOLDS

DAY = dt.datetime(2026, 10, 1)


def row(
    metric: str,
    value: float,
    *,
    key: str = "kw_refund",
    scope: str = "topic",
    day: int = 0,
    low: float = math.nan,
    high: float = math.nan,
    n: int = 500,
    details: dict[str, object] | None = None,
    **extra: object,
) -> MetricRow:
    start = DAY + dt.timedelta(days=day)
    estimate = Estimate(value, low, high, n=n, details={**(details or {}), **extra})
    return MetricRow(metric, scope, key, start, start + dt.timedelta(days=1), estimate)


def fires(metric_row: MetricRow, **thresholds: float) -> Condition | None:
    conditions = evaluate([metric_row], {**DEFAULT_THRESHOLDS, **thresholds})
    assert len(conditions) <= 1
    return conditions[0] if conditions else None


def test_coverage_drop_fires_past_the_threshold_with_the_numbers() -> None:
    condition = fires(row("lf.coverage_change", -0.45, reference=0.40, current=0.22))
    assert condition is not None
    assert (condition.severity, condition.metric, condition.scope, condition.key) == (
        "warning",
        "lf.coverage_change",
        "topic",
        "kw_refund",
    )
    assert condition.message.startswith(
        "LF kw_refund coverage fell 45% vs the reference window (0.40 -> 0.22)"
    )
    assert "30%" in condition.message


def test_coverage_drop_boundary_and_rises_do_not_fire() -> None:
    assert fires(row("lf.coverage_change", -0.30)) is None
    assert fires(row("lf.coverage_change", -0.2999)) is None
    assert fires(row("lf.coverage_change", 0.9)) is None
    assert fires(row("lf.coverage_change", -0.3001)) is not None
    assert fires(row("lf.coverage_change", -0.2), coverage_drop_relative=0.1) is not None


def test_coverage_drop_without_reference_details_still_fires() -> None:
    condition = fires(row("lf.coverage_change", -0.5))
    assert condition is not None and "50%" in condition.message and "->" not in condition.message


def test_ece_fires_above_the_threshold_only() -> None:
    condition = fires(row("calibration.ece", 0.081, key="fused"))
    assert condition is not None and condition.severity == "warning"
    assert "0.081" in condition.message and "0.050" in condition.message
    assert "fused" in condition.message
    assert fires(row("calibration.ece", 0.05, key="fused")) is None
    assert fires(row("calibration.ece", 0.0501, key="fused")) is not None
    # only top-label ECE is thresholded, not other calibration metrics
    assert fires(row("calibration.brier", 0.9, key="fused")) is None


def test_ece_on_too_few_labelled_items_is_binning_noise_not_an_alert() -> None:
    assert fires(row("calibration.ece", 0.3, key="fused", n=99)) is None
    condition = fires(row("calibration.ece", 0.3, key="fused", n=100))
    assert condition is not None and "100 labelled items" in condition.message


@pytest.mark.parametrize(
    "metric",
    ["agreement.model_vs_audit_kappa", "agreement.fleiss_kappa", "agreement.krippendorff_alpha"],
)
def test_agreement_fires_below_the_kappa_threshold(metric: str) -> None:
    condition = fires(row(metric, 0.32, key="ann_a|ann_b"))
    assert condition is not None and condition.severity == "warning"
    assert "0.32" in condition.message and "0.40" in condition.message
    assert "ann_a|ann_b" in condition.message
    assert fires(row(metric, 0.40, key="ann_a|ann_b")) is None
    assert fires(row(metric, 0.3999, key="ann_a|ann_b")) is not None


def test_other_agreement_metrics_are_not_kappa() -> None:
    assert fires(row("agreement.pairwise_agreement", 0.1)) is None
    assert fires(row("agreement.kappa_n", 0.1)) is None
    # heuristic LFs of different labels have kappa 0 wherever they overlap: not an alert
    assert fires(row("agreement.lf_pair_kappa", 0.0, key="kw_a|kw_b")) is None
    assert fires(row("agreement.lf_kappa_mean", 0.1, key="lfs")) is None


def test_drift_fires_only_when_the_method_says_drifted() -> None:
    details = {"column": "channel", "method": "psi", "score": 0.31, "threshold": 0.2}
    condition = fires(row("drift.attributes", 0.31, key="channel", drifted=True, details=details))
    assert condition is not None and condition.severity == "warning"
    for part in ("channel", "psi", "0.31", "0.2"):
        assert part in condition.message
    assert (
        fires(row("drift.attributes", 0.31, key="channel", drifted=False, details=details)) is None
    )
    assert fires(row("drift.attributes", 0.31, key="channel", details=details)) is None
    # a truthy non-True flag is not a decision
    assert fires(row("drift.attributes", 0.31, key="channel", drifted="yes")) is None


def test_drift_message_says_when_the_score_is_a_p_value() -> None:
    details: dict[str, object] = {"method": "chisquare", "threshold": 0.05, "drifted": True}
    condition = fires(
        row("drift.fused_class", 0.001, key="fused", score_is_p_value=True, details=details)
    )
    assert (
        condition is not None and "chisquare p-value 0.001 vs threshold 0.05" in condition.message
    )


def test_drift_message_falls_back_to_key_and_value() -> None:
    condition = fires(row("drift.lf_votes", 0.012, key="kw_bill", drifted=True))
    assert condition is not None
    assert "kw_bill" in condition.message and "0.012" in condition.message


def gold_accuracy(correct: int, total: int, *, k: int | None) -> MetricRow:
    low, high = wilson_interval(correct, total)
    details: dict[str, object] = {"successes": correct, "trials": total}
    if k is not None:
        details["chance"] = 1 / k
    return row("lf.accuracy_gold", correct / total, low=low, high=high, n=total, details=details)


def test_worse_than_chance_on_gold_is_critical() -> None:
    condition = fires(gold_accuracy(10, 100, k=3))  # upper bound ~0.17 < 1/3
    assert condition is not None and condition.severity == "critical"
    assert "worse than chance on gold" in condition.message
    assert "0.10" in condition.message and "0.33" in condition.message
    assert "n=100" in condition.message


def test_worse_than_chance_critical_needs_the_upper_bound_below_chance() -> None:
    # accuracy below chance, but too few votes with gold for even a warning (5 < 20)
    assert fires(gold_accuracy(1, 5, k=3)) is None
    high = wilson_interval(10, 100)[1]
    exact = row("lf.accuracy_gold", 0.1, low=0.05, high=high, n=100, chance=high)
    at_bound = fires(exact)  # high == chance: not below it, so not beyond doubt
    assert at_bound is not None and at_bound.severity == "warning"
    critical = fires(exact, worse_than_chance_margin=0.001)
    assert critical is not None and critical.severity == "critical"
    # a margin of -0.2 puts the limit at 1/3 - 0.2 = 0.133 > 0.10, below the bound ~0.17
    lowered = fires(gold_accuracy(10, 100, k=3), worse_than_chance_margin=-0.2)
    assert lowered is not None and lowered.severity == "warning"
    assert fires(gold_accuracy(10, 100, k=3), worse_than_chance_margin=-0.25) is None


def test_below_chance_but_not_significant_is_a_warning() -> None:
    # 3 of 23 = 0.13 vs chance 0.2 (k = 5): Wilson upper bound 0.32 > 0.2, so not critical
    _, high = wilson_interval(3, 23)
    assert high == pytest.approx(0.3213, abs=1e-4)
    condition = fires(gold_accuracy(3, 23, k=5))
    assert condition is not None and condition.severity == "warning"
    assert "not yet significant" in condition.message and "n=23" in condition.message
    # at or above chance: nothing; and below min_gold_votes_for_chance votes: nothing
    assert fires(gold_accuracy(5, 25, k=5)) is None
    assert fires(gold_accuracy(3, 23, k=5), min_gold_votes_for_chance=24) is None


def test_worse_than_chance_is_skipped_without_a_chance_level() -> None:
    assert fires(gold_accuracy(0, 100, k=None)) is None


@pytest.mark.parametrize(
    "metric_row",
    [
        row("lf.coverage_change", math.nan),
        row("calibration.ece", math.nan),
        row("agreement.model_vs_audit_kappa", math.nan),
        row("agreement.krippendorff_alpha", math.nan),
        row("drift.attributes", math.nan, drifted=True),
        row("lf.accuracy_gold", math.nan, high=0.0, chance=0.5),
    ],
)
def test_nan_never_fires_and_is_not_evaluated(metric_row: MetricRow) -> None:
    assert fires(metric_row) is None
    assert evaluated_keys([metric_row]) == set()


def test_unknown_metrics_never_fire() -> None:
    assert fires(row("lf.coverage", 0.0)) is None


def test_evaluated_keys_are_the_defined_identities() -> None:
    rows = [
        row("lf.coverage_change", -0.1),
        row("calibration.ece", math.nan, key="fused"),
        row("agreement.cohen_kappa", 0.9, key="a|b", scope="task"),
    ]
    assert evaluated_keys(rows) == {
        ("lf.coverage_change", "topic", "kw_refund"),
        ("agreement.cohen_kappa", "task", "a|b"),
    }


def test_the_latest_defined_window_decides_one_condition_per_identity() -> None:
    older_bad = row("calibration.ece", 0.2, key="fused", day=0)
    newer_good = row("calibration.ece", 0.01, key="fused", day=1)
    newest_nan = row("calibration.ece", math.nan, key="fused", day=2)
    assert evaluate([newer_good, older_bad, newest_nan], DEFAULT_THRESHOLDS) == []
    assert evaluated_keys([newest_nan, older_bad]) == {("calibration.ece", "topic", "fused")}
    two_bad = [older_bad, row("calibration.ece", 0.3, key="fused", day=1)]
    [condition] = evaluate(two_bad, DEFAULT_THRESHOLDS)
    assert "0.300" in condition.message
    all_time = MetricRow("calibration.ece", "topic", "fused", None, None, Estimate(0.01))
    assert evaluate([all_time, *two_bad], DEFAULT_THRESHOLDS) == []


def test_conditions_keep_identity_order_and_expose_identity() -> None:
    rows = [
        row("calibration.ece", 0.2, key="fused"),
        row("lf.coverage_change", -0.9, key="kw_a"),
        row("lf.coverage_change", -0.9, key="kw_b"),
    ]
    assert [c.identity for c in evaluate(rows, DEFAULT_THRESHOLDS)] == [
        ("calibration.ece", "topic", "fused"),
        ("lf.coverage_change", "topic", "kw_a"),
        ("lf.coverage_change", "topic", "kw_b"),
    ]
