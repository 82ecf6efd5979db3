"""The budget state as metric rows (history) and as alert conditions.

Rows (scope "task" or a subtask name; window None = all time, else one UTC day):
- cost.spend, effort.hours, effort.labels: per day and all time, keys "all", "kind:<k>",
  "annotator:<a>" (spend also per subtask); cost.spend_cumulative per day;
- effort.labels_per_hour, effort.seconds_mean, effort.seconds_median, effort.rework_share,
  effort.audit_acceptance; cost.per_human_label, cost.per_weak_label,
  cost.per_correct_label, cost.per_correct_label_jump; savings.amount, savings.hours;
  coverage.items (per subtask, keys human, audited, weak_only, uncovered, delivered);
  coverage.human_share per day (cumulative share of items labeled by a person);
- per budget (key its name): budget.spent_cumulative per day of its period; and for the
  day of as_of, budget.spent, budget.burn_rate, budget.projected_spend,
  budget.days_to_exhaustion; goal.status (0 on_track, 1 at_risk, 2 off_track) per goal.
Money values are floats in `value`; the exact Decimal is in details["amount"].
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from decimal import Decimal

import numpy as np

from auditor.budget.effort import Effort, effort_by
from auditor.budget.events import Events
from auditor.budget.inputs import BudgetInputs
from auditor.budget.money import spend_by, total
from auditor.budget.state import BudgetState
from auditor.metrics.estimate import Estimate
from auditor.metrics.rows import MetricRow

Window = tuple[dt.datetime | None, dt.datetime | None]
ALL_TIME: Window = (None, None)


def budget_rows(inputs: BudgetInputs, state: BudgetState) -> list[MetricRow]:
    """Every metric row of the budget job for one task."""
    rows: list[MetricRow] = []
    events = inputs.events.select(inputs.events.day <= np.datetime64(state.as_of, "D"))
    rows += _spend_and_effort(events, ALL_TIME)
    for day in sorted(set(events.day.tolist())):
        rows += _spend_and_effort(events.select(events.day == np.datetime64(day, "D")), _day(day))
    rows += _cumulative(events)
    rows += _human_share(inputs)
    everything = state.effort
    rows += [
        _row(
            "effort.labels_per_hour",
            "task",
            "all",
            ALL_TIME,
            Estimate(everything.labels_per_hour, n=everything.labels),
        ),
        _row(
            "effort.seconds_mean",
            "task",
            "all",
            ALL_TIME,
            Estimate(everything.mean_seconds, n=everything.labels),
        ),
        _row(
            "effort.seconds_median",
            "task",
            "all",
            ALL_TIME,
            Estimate(everything.median_seconds, n=everything.labels),
        ),
        _row("effort.rework_share", "task", "all", ALL_TIME, state.rework),
        _row("effort.audit_acceptance", "task", "all", ALL_TIME, state.acceptance),
        _row("cost.per_human_label", "task", "all", ALL_TIME, Estimate(state.unit.per_human_label)),
        _row("cost.per_weak_label", "task", "all", ALL_TIME, Estimate(state.unit.per_weak_label)),
        _row("cost.per_correct_label", "task", "all", ALL_TIME, state.unit.per_correct_label),
        _row("cost.per_correct_label_jump", "task", "all", ALL_TIME, state.cost_jump),
    ]
    for kind, work in state.effort_by_kind.items():
        rows += _rates(work, f"kind:{kind}")
    for annotator, work in state.effort_by_annotator.items():
        rows += _rates(work, f"annotator:{annotator}")
    s = state.savings
    rows.append(
        _row(
            "savings.amount",
            "task",
            "all",
            ALL_TIME,
            _money(
                s.amount,
                manual_cost=_str(s.manual_cost),
                spent=str(s.spent),
                assumptions=list(s.assumptions),
                currency=state.currency,
            ),
        )
    )
    rows.append(
        _row(
            "savings.hours",
            "task",
            "all",
            ALL_TIME,
            Estimate(s.hours_saved, details={"manual_hours": s.manual_hours, "hours": s.hours}),
        )
    )
    for subtask, counts in state.labels.items():
        for key in ("human", "audited", "weak_only", "uncovered", "delivered"):
            value = getattr(counts, key)
            rows.append(
                _row("coverage.items", subtask, key, ALL_TIME, Estimate(float(value), n=value))
            )
    rows += _budget_rows(state)
    return rows


def _spend_and_effort(events: Events, window: Window) -> list[MetricRow]:
    rows = [
        _row("cost.spend", "task", "all", window, _money(total(events))),
        _row(
            "effort.hours",
            "task",
            "all",
            window,
            Estimate(float(events.seconds.sum()) / 3600, n=len(events)),
        ),
    ]
    for by in ("kind", "annotator"):
        for key, amount in spend_by(events, by=by).items():
            rows.append(_row("cost.spend", "task", f"{by}:{key}", window, _money(amount)))
        for key, work in effort_by(events, by=by).items():
            rows.append(
                _row(
                    "effort.hours",
                    "task",
                    f"{by}:{key}",
                    window,
                    Estimate(work.hours, n=work.events),
                )
            )
            rows.append(
                _row(
                    "effort.labels",
                    "task",
                    f"{by}:{key}",
                    window,
                    Estimate(float(work.labels), n=work.labels),
                )
            )
    for subtask, amount in spend_by(events, by="subtask").items():
        if subtask:
            rows.append(_row("cost.spend", subtask, "all", window, _money(amount)))
    return rows


def _rates(work: Effort, key: str) -> list[MetricRow]:
    return [
        _row(
            "effort.labels_per_hour",
            "task",
            key,
            ALL_TIME,
            Estimate(work.labels_per_hour, n=work.labels),
        ),
        _row(
            "effort.seconds_mean", "task", key, ALL_TIME, Estimate(work.mean_seconds, n=work.labels)
        ),
        _row(
            "effort.seconds_median",
            "task",
            key,
            ALL_TIME,
            Estimate(work.median_seconds, n=work.labels),
        ),
    ]


def _cumulative(events: Events) -> list[MetricRow]:
    rows, running = [], Decimal(0)
    for day in sorted(set(events.day.tolist())):
        running += total(events.select(events.day == np.datetime64(day, "D")))
        rows.append(_row("cost.spend_cumulative", "task", "all", _day(day), _money(running)))
    return rows


def _human_share(inputs: BudgetInputs) -> list[MetricRow]:
    day, created, labeled = inputs.daily_items
    items, human = np.cumsum(created), np.cumsum(labeled)
    return [
        _row(
            "coverage.human_share",
            "task",
            "all",
            _day(d.item()),
            Estimate(h / n if n else math.nan, n=int(n), details={"human": int(h)}),
        )
        for d, n, h in zip(day, items, human, strict=True)
    ]


def _budget_rows(state: BudgetState) -> list[MetricRow]:
    rows = []
    today = _day(state.as_of)
    for item in state.forecasts:
        f, b = item.forecast, item.budget
        running = Decimal(0)
        for offset, amount in enumerate(item.daily):
            running += amount
            day = b.period_start + dt.timedelta(days=offset)
            rows.append(
                _row(
                    "budget.spent_cumulative",
                    "task",
                    b.name,
                    _day(day),
                    _money(running, budget=str(b.amount)),
                )
            )
        days_to = (f.exhaustion - f.as_of).days if f.exhaustion else math.nan
        rows += [
            _row("budget.spent", "task", b.name, today, _money(f.spent, budget=str(b.amount))),
            _row("budget.burn_rate", "task", b.name, today, f.burn_rate),
            _row(
                "budget.projected_spend",
                "task",
                b.name,
                today,
                Estimate(
                    f.projected.value,
                    f.projected.low,
                    f.projected.high,
                    reason=f.projected.reason,
                    details={
                        "budget": str(b.amount),
                        "overrun": f.overrun,
                        "period_end": b.period_end,
                        "trend_per_day": f.trend_per_day,
                        "method": f.method,
                    },
                ),
            ),
            _row(
                "budget.days_to_exhaustion",
                "task",
                b.name,
                today,
                Estimate(
                    float(days_to),
                    reason=None if f.exhaustion else "not within the horizon",
                    details={
                        "date": f.exhaustion,
                        "earliest": f.exhaustion_earliest,
                        "latest": f.exhaustion_latest,
                        "exhausted_on": f.exhausted_on,
                    },
                ),
            ),
        ]
    for goal, status in state.goals:
        rows.append(
            _row(
                "goal.status",
                "task",
                goal.key,
                today,
                Estimate(
                    float(status.code),
                    details={
                        "status": status.status,
                        "reason": status.reason,
                        "measured": status.value,
                        "target": goal.target,
                    },
                ),
            )
        )
    return rows


def _row(metric: str, scope: str, key: str, window: Window, estimate: Estimate) -> MetricRow:
    return MetricRow(metric, scope, key, window[0], window[1], estimate)


def _money(amount: Decimal | None, **details: object) -> Estimate:
    if amount is None:
        return Estimate(
            math.nan, reason="no manual cost per label for some subtask", details=details
        )
    return Estimate(float(amount), details={"amount": str(amount), **details})


def _str(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _day(day: dt.date) -> Window:
    start = dt.datetime.combine(day, dt.time())
    return start, start + dt.timedelta(days=1)


def identities(rows: Iterable[MetricRow]) -> set[tuple[str, str, str]]:
    return {(r.metric, r.scope, r.key) for r in rows}
