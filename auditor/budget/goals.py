"""Goal status: on_track / at_risk / off_track, each with the reason in words.

The three goal kinds the field uses:
- reduce_hours (target X, params baseline_start, baseline_end): reduction = 1 - current
  hours per day / baseline hours per day. on_track when reduction >= X; at_risk when
  hours fell but by less than X; off_track when they did not fall.
- accuracy_within_budget (target A, params budget): the audited accuracy's 95% lower bound
  L against A and the budget's forecast. off_track when spend already exceeds the budget
  or the upper bound is below A; on_track when L >= A and the projected spend (point) is
  within the budget; at_risk otherwise (including: no audited accuracy yet).
- max_cost_per_correct_label (target C): the cost per correct label's interval [lo, hi].
  on_track when hi <= C; off_track when lo > C; at_risk when the interval straddles C.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from auditor.budget.forecast import Forecast
from auditor.metrics.estimate import Estimate

STATUSES = ("on_track", "at_risk", "off_track")


@dataclass(frozen=True)
class GoalStatus:
    """status: one of STATUSES; value: the measured quantity the target is compared with
    (NaN when unknown); reason: why, with the numbers."""

    kind: str
    target: float
    status: str
    value: float
    reason: str

    @property
    def code(self) -> int:
        """0 on_track, 1 at_risk, 2 off_track (the metric value stored in history)."""
        return STATUSES.index(self.status)


def reduce_hours_status(
    baseline_hours_per_day: float, current_hours_per_day: float, *, target: float
) -> GoalStatus:
    """Status of 'reduce annotation hours by target (0.3 = 30%) against the baseline'."""
    kind = "reduce_hours"
    if not (baseline_hours_per_day > 0) or math.isnan(current_hours_per_day):
        return GoalStatus(kind, target, "at_risk", math.nan, "no hours in the baseline period")
    reduction = 1.0 - current_hours_per_day / baseline_hours_per_day
    text = (
        f"{current_hours_per_day:.1f} h/day now vs {baseline_hours_per_day:.1f} h/day in the "
        f"baseline: {reduction:+.0%} reduction, goal {target:.0%}"
    )
    if reduction >= target:
        return GoalStatus(kind, target, "on_track", reduction, text)
    status = "at_risk" if reduction > 0 else "off_track"
    return GoalStatus(kind, target, status, reduction, text)


def accuracy_within_budget_status(
    accuracy: Estimate | None, budget: Forecast, *, target: float, currency: str
) -> GoalStatus:
    """Status of 'reach audited accuracy target (lower bound) within the budget'."""
    kind = "accuracy_within_budget"
    money = f"spent {budget.spent:.2f} of {budget.amount:.2f} {currency}" + (
        f", projected {budget.projected.value:.2f}" if budget.projected.defined else ""
    )
    if budget.spent > budget.amount:
        value = accuracy.low if accuracy is not None and accuracy.defined else math.nan
        return GoalStatus(kind, target, "off_track", value, f"budget exhausted: {money}")
    if accuracy is None or not accuracy.defined:
        return GoalStatus(kind, target, "at_risk", math.nan, f"no audited accuracy yet; {money}")
    acc = (
        f"audited accuracy {accuracy.value:.3f} [{accuracy.low:.3f}, {accuracy.high:.3f}], "
        f"goal lower bound >= {target:.3f}"
    )
    if accuracy.high < target:
        return GoalStatus(kind, target, "off_track", accuracy.low, f"{acc}; {money}")
    within = not budget.overrun
    if accuracy.low >= target and within:
        return GoalStatus(kind, target, "on_track", accuracy.low, f"{acc}; {money}")
    why = [] if accuracy.low >= target else ["the lower bound is below the goal"]
    if not within:
        why.append("projected spend exceeds the budget")
    return GoalStatus(kind, target, "at_risk", accuracy.low, f"{'; '.join(why)}: {acc}; {money}")


def cost_per_correct_status(cost: Estimate, *, target: float, currency: str) -> GoalStatus:
    """Status of 'keep the cost per correct label under target'."""
    kind = "max_cost_per_correct_label"
    if not cost.defined:
        return GoalStatus(
            kind, target, "at_risk", math.nan, f"cost per correct label unknown: {cost.reason}"
        )
    text = (
        f"cost per correct label {cost.value:.4f} [{cost.low:.4f}, {cost.high:.4f}] "
        f"{currency}, goal <= {target:.4f}"
    )
    if cost.high <= target:
        return GoalStatus(kind, target, "on_track", cost.value, text)
    status = "off_track" if cost.low > target else "at_risk"
    return GoalStatus(kind, target, status, cost.value, text)
