"""The budget state of one task: effort, spend, unit costs, savings, forecasts and goals.

`compute_state` is pure: BudgetInputs in, BudgetState out. The budget job turns the state
into metric rows and alerts (`auditor.budget.rows`); `labelwatch report budget` prints it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

import numpy as np

from auditor.budget.effort import Effort, audit_acceptance, effort, effort_by, rework_share
from auditor.budget.events import Events
from auditor.budget.forecast import Forecast, daily_spend, forecast
from auditor.budget.goals import (
    GoalStatus,
    accuracy_within_budget_status,
    cost_per_correct_status,
    reduce_hours_status,
)
from auditor.budget.inputs import BudgetInputs, BudgetOptions, LabelCounts
from auditor.budget.money import (
    Savings,
    UnitCosts,
    correct_labels,
    savings,
    spend_by,
    total,
    unit_costs,
)
from auditor.budget.specs import Budget, Goal
from auditor.metrics.estimate import Estimate


@dataclass(frozen=True)
class BudgetForecast:
    budget: Budget
    daily: tuple[Decimal, ...]  # exact spend per day, period_start .. as_of
    forecast: Forecast


@dataclass(frozen=True)
class BudgetState:
    """correct: expected correct labels (audited accuracy x labels delivered); accuracy:
    that pooled into one accuracy; cost_jump: relative change of the cost per correct label
    of the trailing window vs the one before it (NaN when either is undefined)."""

    task: str
    currency: str
    as_of: dt.date
    spent: Decimal
    spend_by_kind: Mapping[str, Decimal]
    spend_by_annotator: Mapping[str, Decimal]
    spend_by_subtask: Mapping[str, Decimal]
    effort: Effort
    effort_by_kind: Mapping[str, Effort]
    effort_by_annotator: Mapping[str, Effort]
    rework: Estimate
    acceptance: Estimate
    labels: Mapping[str, LabelCounts]
    correct: Estimate
    accuracy: Estimate
    unit: UnitCosts
    savings: Savings
    cost_jump: Estimate
    forecasts: tuple[BudgetForecast, ...]
    goals: tuple[tuple[Goal, GoalStatus], ...]


def compute_state(inputs: BudgetInputs, *, options: BudgetOptions | None = None) -> BudgetState:
    options = options or BudgetOptions()
    events = inputs.events.select(inputs.events.day <= np.datetime64(inputs.as_of, "D"))
    by_kind = spend_by(events, by="kind")
    labels = dict(inputs.label_counts)
    delivered = {s: c.delivered for s, c in labels.items()}
    correct = correct_labels(delivered, inputs.audited_accuracy)
    human_labels = int((events.kind == "human_label").sum())
    weak_labels = sum(c.weak_only for c in labels.values())
    unit = unit_costs(by_kind, human_labels=human_labels, weak_labels=weak_labels, correct=correct)
    spent = total(events)
    work = effort(events)
    forecasts = tuple(
        _budget_forecast(events, budget, inputs.as_of, options) for budget in inputs.budgets
    )
    state = BudgetState(
        task=inputs.task,
        currency=inputs.currency,
        as_of=inputs.as_of,
        spent=spent,
        spend_by_kind=by_kind,
        spend_by_annotator=spend_by(events, by="annotator"),
        spend_by_subtask={k: v for k, v in spend_by(events, by="subtask").items() if k},
        effort=work,
        effort_by_kind=effort_by(events, by="kind"),
        effort_by_annotator=effort_by(events, by="annotator"),
        rework=rework_share(*inputs.rework),
        acceptance=audit_acceptance(*inputs.acceptance),
        labels=labels,
        correct=correct,
        accuracy=_pooled(correct),
        unit=unit,
        savings=savings(
            delivered, inputs.manual_rates, spent=spent, hours=work.hours, currency=inputs.currency
        ),
        cost_jump=_cost_jump(events, inputs, correct, options.trailing_days),
        forecasts=forecasts,
        goals=(),
    )
    statuses = tuple((goal, goal_status(goal, state, inputs, options)) for goal in inputs.goals)
    return replace(state, goals=statuses)


def goal_status(
    goal: Goal, state: BudgetState, inputs: BudgetInputs, options: BudgetOptions
) -> GoalStatus:
    """The status of one goal from the computed state."""
    if goal.kind == "reduce_hours":
        start = dt.date.fromisoformat(str(goal.params["baseline_start"]))
        end = dt.date.fromisoformat(str(goal.params["baseline_end"]))
        baseline = _hours_per_day(inputs.events, start, end)
        since = max(
            end + dt.timedelta(days=1), state.as_of - dt.timedelta(days=options.trailing_days - 1)
        )
        current = _hours_per_day(inputs.events, since, state.as_of)
        return reduce_hours_status(baseline, current, target=goal.target)
    if goal.kind == "accuracy_within_budget":
        matching = [f for f in state.forecasts if f.budget.budget_id == goal.budget_id]
        if not matching:
            return GoalStatus(goal.kind, goal.target, "at_risk", math.nan, "its budget is gone")
        subtask = goal.params.get("subtask")
        accuracy = inputs.audited_accuracy.get(str(subtask)) if subtask else state.accuracy
        return accuracy_within_budget_status(
            accuracy, matching[0].forecast, target=goal.target, currency=state.currency
        )
    if goal.kind == "max_cost_per_correct_label":
        return cost_per_correct_status(
            state.unit.per_correct_label, target=goal.target, currency=state.currency
        )
    raise ValueError(f"unknown goal kind {goal.kind!r}")


def _budget_forecast(
    events: Events, budget: Budget, as_of: dt.date, options: BudgetOptions
) -> BudgetForecast:
    end = min(as_of, budget.period_end)
    daily = daily_spend(events.day, events.cost_e4, start=budget.period_start, end=end)
    result = forecast(
        daily,
        amount=budget.amount,
        period_start=budget.period_start,
        period_end=budget.period_end,
        as_of=as_of,
        trailing_days=options.trailing_days,
        method=options.method,
    )
    return BudgetForecast(budget, tuple(daily), result)


def _hours_per_day(events: Events, start: dt.date, end: dt.date) -> float:
    days = (end - start).days + 1
    if days <= 0:
        return math.nan
    part = events.between(np.datetime64(start, "D"), np.datetime64(end, "D"))
    return float(part.seconds.sum()) / 3600.0 / days


def _pooled(correct: Estimate) -> Estimate:
    if not correct.defined or correct.n == 0:
        return Estimate.undefined(correct.reason or "no audited accuracy")
    n = correct.n
    return Estimate(correct.value / n, correct.low / n, correct.high / n, n=n)


def _cost_jump(events: Events, inputs: BudgetInputs, correct: Estimate, days: int) -> Estimate:
    """Cost per correct label of the trailing window vs the window before it: labels of a
    window = items created in it x labels delivered per item; correct = x pooled accuracy."""
    accuracy = _pooled(correct)
    day, created, _ = inputs.daily_items
    n_items = int(np.sum(created))
    if not accuracy.defined or n_items == 0:
        return Estimate.undefined(accuracy.reason or "no items")
    per_item = sum(c.delivered for c in inputs.label_counts.values()) / n_items
    end = np.datetime64(inputs.as_of, "D")
    values = []
    for shift in (0, days):
        hi = end - np.timedelta64(shift, "D")
        lo = hi - np.timedelta64(days - 1, "D")
        spend = float(total(events.between(lo, hi)))
        items = int(created[(day >= lo) & (day <= hi)].sum())
        correct_n = items * per_item * accuracy.value
        values.append(spend / correct_n if correct_n > 0 else math.nan)
    current, previous = values
    if math.isnan(current) or math.isnan(previous) or previous <= 0:
        return Estimate.undefined("no cost per correct label in one of the windows")
    return Estimate(current / previous - 1, details={"current": current, "previous": previous})
