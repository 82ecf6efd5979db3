"""The budget job: per task, effort, spend, unit costs, savings, burn-down and goal status
into the metrics history, and the budget alerts, in one transaction per task.

Budgets and goals defined in settings (`[budget.<task>]`) are synced into the database
first; a change is recorded in budget_history, an unchanged definition writes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from auditor.budget.alerts import budget_conditions
from auditor.budget.inputs import BudgetOptions
from auditor.budget.rows import budget_rows
from auditor.budget.state import BudgetState, compute_state
from auditor.jobs import JobOutcome
from auditor.settings import Settings, SettingsError
from auditor.store import Store
from auditor.store.alerts_io import apply_conditions
from auditor.store.budget_io import read_budget_inputs
from auditor.store.budgets import add_budget, add_goal, read_budgets, read_goals
from auditor.store.connection import Connection
from auditor.store.metrics_io import replace_window_metrics

log = logging.getLogger(__name__)


def budget_options(settings: Settings) -> BudgetOptions:
    return BudgetOptions(
        trailing_days=settings.budget_trailing_days,
        method=settings.budget_forecast_method,
        cost_jump_relative=float(settings.thresholds["cost_per_correct_jump_relative"]),
    )


def as_of_setting(settings: Settings) -> dt.date | None:
    if not settings.budget_as_of:
        return None
    try:
        return dt.date.fromisoformat(settings.budget_as_of)
    except ValueError as exc:
        raise SettingsError(f"budget_as_of {settings.budget_as_of!r} is not an ISO date") from exc


def budget_state(con: Connection, task: str, settings: Settings) -> tuple[Any, BudgetState]:
    """(inputs, state) of one task now (read-only; what `labelwatch report budget` shows)."""
    inputs = read_budget_inputs(
        con, task, as_of=as_of_setting(settings), default_currency=settings.currency
    )
    return inputs, compute_state(inputs, options=budget_options(settings))


def run_budget(
    store: Store, settings: Settings, *, job_run_id: int | None = None, task: str | None = None
) -> JobOutcome:
    with store.transaction() as con:
        sync_settings_budgets(con, settings.budget)
    with store.connect() as con:
        tasks = [
            name
            for (name,) in con.execute(
                "SELECT t.name FROM tasks t WHERE (? IS NULL OR t.name = ?) AND ("
                "EXISTS (SELECT 1 FROM annotation_events e WHERE e.task_id = t.task_id) OR "
                "EXISTS (SELECT 1 FROM budgets b WHERE b.task_id = t.task_id)) ORDER BY 1",
                [task, task],
            ).fetchall()
        ]
    if not tasks:
        return JobOutcome(skipped_reason="no task has annotation events or a budget")
    read = written = 0
    for name in tasks:
        with store.connect() as con:
            inputs, state = budget_state(con, name, settings)
        rows = budget_rows(inputs, state)
        conditions, evaluated = budget_conditions(
            state, cost_jump_relative=budget_options(settings).cost_jump_relative
        )
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        with store.transaction() as con:
            written += replace_window_metrics(
                con, name, rows, job_run_id=job_run_id, computed_at=now
            )
            changes = apply_conditions(con, conditions, evaluated=evaluated, now=now, task=name)
        read += len(inputs.events)
        if changes.new and settings.alert_webhook_url:
            from auditor.webhook import post_alerts

            result = post_alerts(settings.alert_webhook_url, changes.new)
            if not result.ok:
                log.warning("alert webhook failed: %s", result.error)
    return JobOutcome(rows_read=read, rows_written=written)


def sync_settings_budgets(con: Connection, budgets: Mapping[str, Any]) -> int:
    """Write the budgets and goals of settings ({task: {name, amount, currency,
    period_start, period_end, goals: [{kind, target, params}]}}) where they differ from the
    database; returns how many definitions changed. SettingsError names a bad entry."""
    changed = 0
    for task, spec in budgets.items():
        if not isinstance(spec, Mapping):
            raise SettingsError(f"budget.{task} must be a table")
        try:
            name = str(spec["name"])
            amount = Decimal(str(spec["amount"]))
            currency = str(spec["currency"]).upper()
            start = dt.date.fromisoformat(str(spec["period_start"]))
            end = dt.date.fromisoformat(str(spec["period_end"]))
        except (KeyError, ValueError, ArithmeticError) as exc:
            raise SettingsError(
                f"budget.{task}: needs name, amount, currency, period_start, period_end "
                f"(ISO dates): {exc}"
            ) from exc
        current = {b.name: b for b in read_budgets(con, task)}.get(name)
        wanted = (amount, currency, start, end)
        if (
            current is None
            or (current.amount, current.currency, current.period_start, current.period_end)
            != wanted
        ):
            add_budget(
                con,
                task=task,
                name=name,
                amount=amount,
                currency=currency,
                period_start=start,
                period_end=end,
                changed_by="settings",
            )
            changed += 1
        budget_id = {b.name: b for b in read_budgets(con, task)}[name].budget_id
        active = read_goals(con, task)
        for goal in spec.get("goals", []):
            kind, target = str(goal["kind"]), float(goal["target"])
            params = dict(goal.get("params", {}))
            same = [
                g
                for g in active
                if (g.kind, g.budget_id, g.target, g.params) == (kind, budget_id, target, params)
            ]
            if not same:
                add_goal(
                    con, task=task, kind=kind, target=target, budget_id=budget_id, params=params
                )
                changed += 1
    return changed


def with_as_of(settings: Settings, as_of: dt.date) -> Settings:
    return replace(settings, budget_as_of=as_of.isoformat())
