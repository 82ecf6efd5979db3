"""Alert rules: which metric rows are alert conditions, and how bad.

Pure: rows and thresholds in, conditions out; `auditor.store.alerts_io` turns them into
alert rows. An alert's identity is (metric, scope, key). Thresholds are the
``Settings.thresholds`` mapping (every key below must be present). The rules:

- ``lf.coverage_change`` (value = relative change of an LF's coverage vs the reference
  window; details may hold ``reference`` and ``current`` coverage): warning when
  value < -coverage_drop_relative (exactly -threshold does not fire).
- ``calibration.ece`` (top-label expected calibration error): warning when value > ece
  and it rests on at least min_items_for_ece labelled items (fewer: binning noise).
- agreement between people, or between the model and people: ``agreement.fleiss_kappa``,
  ``agreement.krippendorff_alpha`` (human LFs), the same among auditors
  (``agreement.auditor_*``) and among gold annotators (``agreement.annotator_*``), and
  ``agreement.model_vs_audit_kappa``:
  warning when value < kappa. Agreement among heuristic LFs (lf_pair_kappa,
  lf_kappa_mean) is reported, not alerted: two unipolar LFs of different labels have
  kappa 0 by construction wherever they overlap.
- ``drift.*``: warning when details["drifted"] is True (the drift method's own test
  decided; the message names the column, method, score and the method's threshold).
- ``lf.accuracy_gold``, chance = details["chance"] (1/k, set by the producer), limit =
  chance + worse_than_chance_margin: critical when the upper end of the LF's 95% Wilson
  interval is below the limit (worse than chance beyond doubt); warning when only the
  accuracy itself is below the limit, on at least min_gold_votes_for_chance votes with
  gold (default 20: fewer is noise); rows without a chance level are skipped.

A NaN value never fires: an undefined metric (no gold, an empty window) is not a bad one.
When several rows share an identity (one per window), the latest window with a defined
value decides (window_end, then window_start; an all-time window counts as the latest),
so each identity yields at most one condition.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from auditor.metrics.rows import MetricRow

Identity = tuple[str, str, str]
# used when thresholds has no min_gold_votes_for_chance (Settings predates the key)
MIN_GOLD_VOTES_FOR_CHANCE = 20


@dataclass(frozen=True)
class Condition:
    """One alert condition that holds now. severity: info | warning | critical."""

    severity: str
    metric: str
    scope: str
    key: str
    message: str

    @property
    def identity(self) -> Identity:
        return (self.metric, self.scope, self.key)


def evaluate(rows: Sequence[MetricRow], thresholds: Mapping[str, float]) -> list[Condition]:
    """The conditions that hold for rows, in the order their identities first appear."""
    conditions: list[Condition] = []
    for row in _latest_defined(rows).values():
        rule = _rule_for(row.metric)
        if rule is not None:
            condition = rule(row, thresholds)
            if condition is not None:
                conditions.append(condition)
    return conditions


def evaluated_keys(rows: Sequence[MetricRow]) -> set[Identity]:
    """The (metric, scope, key) identities rows cover with a defined (non-NaN) value: an
    open alert of such an identity without a condition now has cleared."""
    return set(_latest_defined(rows))


KAPPA_METRICS = frozenset(
    {
        "agreement.fleiss_kappa",
        "agreement.krippendorff_alpha",
        "agreement.model_vs_audit_kappa",
        "agreement.auditor_fleiss_kappa",
        "agreement.auditor_krippendorff_alpha",
        "agreement.annotator_fleiss_kappa",
        "agreement.annotator_krippendorff_alpha",
    }
)


def is_kappa_metric(metric: str) -> bool:
    return metric in KAPPA_METRICS


def _latest_defined(rows: Sequence[MetricRow]) -> dict[Identity, MetricRow]:
    latest: dict[Identity, MetricRow] = {}
    for row in rows:
        if not row.estimate.defined:
            continue
        identity = (row.metric, row.scope, row.key)
        current = latest.get(identity)
        if current is None or _window_order(row) >= _window_order(current):
            latest[identity] = row
    return latest


def _window_order(row: MetricRow) -> tuple[object, ...]:
    # None (all time) sorts after every bounded window; the flags keep None and datetimes
    # from ever being compared with each other.
    end, start = row.window_end, row.window_start
    return (end is None, end or 0, start is None, start or 0)


Rule = Callable[[MetricRow, Mapping[str, float]], Condition | None]


def _rule_for(metric: str) -> Rule | None:
    if metric == "lf.coverage_change":
        return _coverage_drop
    if metric == "calibration.ece":
        return _ece
    if is_kappa_metric(metric):
        return _low_agreement
    if metric.startswith("drift."):
        return _drift
    if metric == "lf.accuracy_gold":
        return _worse_than_chance
    return None


def _condition(row: MetricRow, severity: str, message: str) -> Condition:
    return Condition(severity, row.metric, row.scope, row.key, message)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) else float(value)


def _coverage_drop(row: MetricRow, thresholds: Mapping[str, float]) -> Condition | None:
    limit = thresholds["coverage_drop_relative"]
    if not row.value < -limit:
        return None
    message = f"LF {row.key} coverage fell {-row.value:.0%} vs the reference window"
    reference = _number(row.estimate.details.get("reference"))
    current = _number(row.estimate.details.get("current"))
    if reference is not None and current is not None:
        message += f" ({reference:.2f} -> {current:.2f})"
    return _condition(row, "warning", f"{message} in {row.scope}, beyond the {limit:.0%} allowed")


def _ece(row: MetricRow, thresholds: Mapping[str, float]) -> Condition | None:
    limit = thresholds["ece"]
    if not row.value > limit or row.estimate.n < thresholds.get("min_items_for_ece", 0):
        return None
    message = (
        f"top-label calibration error (ECE) of {row.key} in {row.scope} is "
        f"{row.value:.3f} on {row.estimate.n} labelled items, above {limit:.3f}"
    )
    return _condition(row, "warning", message)


def _low_agreement(row: MetricRow, thresholds: Mapping[str, float]) -> Condition | None:
    limit = thresholds["kappa"]
    if not row.value < limit:
        return None
    name = row.metric.rpartition(".")[2]
    message = f"{name} of {row.key} in {row.scope} is {row.value:.2f}, below {limit:.2f}"
    return _condition(row, "warning", message)


def _drift(row: MetricRow, thresholds: Mapping[str, float]) -> Condition | None:
    details = row.estimate.details
    if details.get("drifted") is not True:
        return None
    column = details.get("column", row.key)
    method = details.get("method", "drift test")
    score = _number(details.get("score"))
    score = row.value if score is None else score
    threshold = _number(details.get("threshold"))
    what = "p-value" if details.get("score_is_p_value") is True else "score"
    message = f"column {column} in {row.scope} drifted: {method} {what} {score:.3g}"
    if threshold is not None:
        message += f" vs threshold {threshold:.3g}"
    return _condition(row, "warning", f"{message} ({row.metric})")


def _worse_than_chance(row: MetricRow, thresholds: Mapping[str, float]) -> Condition | None:
    chance = _number(row.estimate.details.get("chance"))
    high = row.estimate.high
    if chance is None or math.isnan(high):
        return None
    margin = thresholds["worse_than_chance_margin"]
    limit = chance + margin
    min_votes = thresholds.get("min_gold_votes_for_chance", MIN_GOLD_VOTES_FOR_CHANCE)
    if high < limit:
        severity, verdict = "critical", "is worse than chance"
    elif row.value < limit and row.estimate.n >= min_votes:
        severity, verdict = "warning", "looks worse than chance (not yet significant)"
    else:
        return None
    message = (
        f"LF {row.key} {verdict} on gold in {row.scope}: accuracy "
        f"{row.value:.2f} (95% CI {row.estimate.low:.2f}-{high:.2f}, n={row.estimate.n}) "
        f"vs chance {chance:.2f}"
    )
    if margin:
        message += f" + margin {margin:.2f}"
    return _condition(row, severity, message)
