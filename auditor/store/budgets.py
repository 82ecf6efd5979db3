"""Budgets and goals (the budget issue builds forecasting on these rows)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from auditor.store.connection import Connection

GOAL_KINDS = ("reduce_hours", "accuracy_within_budget", "max_cost_per_correct_label")


def add_budget(
    con: Connection,
    *,
    task: str,
    name: str,
    amount: Decimal,
    currency: str,
    period_start: date,
    period_end: date,
) -> int:
    """Insert a budget for a task; returns its id. ValueError for a bad period or amount."""
    if period_end < period_start:
        raise ValueError(f"budget {name!r}: period_end {period_end} is before {period_start}")
    if amount < 0:
        raise ValueError(f"budget {name!r}: amount must be >= 0")
    rows = con.execute(
        "INSERT INTO budgets (task_id, name, amount, currency, period_start, period_end, "
        "created_at) SELECT task_id, ?, ?, ?, ?, ?, ? FROM tasks WHERE name = ? "
        "RETURNING budget_id",
        [name, amount, currency.upper(), period_start, period_end, _now(), task],
    ).fetchall()
    if not rows:
        raise ValueError(f"unknown task {task!r}")
    return int(rows[0][0])


def add_goal(
    con: Connection,
    *,
    task: str,
    kind: str,
    target: float,
    budget_id: int | None = None,
    params: Mapping[str, Any] | None = None,
) -> int:
    if kind not in GOAL_KINDS:
        raise ValueError(f"goal kind {kind!r} is not one of {', '.join(GOAL_KINDS)}")
    rows = con.execute(
        "INSERT INTO goals (task_id, budget_id, kind, target, params, created_at) "
        "SELECT task_id, ?, ?, ?, ?, ? FROM tasks WHERE name = ? RETURNING goal_id",
        [budget_id, kind, target, json.dumps(params or {}, default=str), _now(), task],
    ).fetchall()
    if not rows:
        raise ValueError(f"unknown task {task!r}")
    return int(rows[0][0])


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
