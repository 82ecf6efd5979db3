"""Budgets and goals: define, change (with history), and read them (bound parameters only).

A budget is (task, name): amount, currency and period. Setting an existing one updates it
and appends the new values to budget_history; its currency must equal the task's event
currency (one currency per budget and per task). A goal replaces the active goal of the
same task, kind and budget, which stays in `goals` as inactive history.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from auditor.budget.specs import GOAL_KINDS, Budget, Goal
from auditor.store.connection import Connection

__all__ = ["GOAL_KINDS", "Budget", "Goal", "add_budget", "add_goal", "read_budgets", "read_goals"]


def add_budget(
    con: Connection,
    *,
    task: str,
    name: str,
    amount: Decimal,
    currency: str,
    period_start: date,
    period_end: date,
    changed_by: str = "cli",
) -> int:
    """Create or update the budget (task, name); returns its id. Caller's transaction.
    ValueError for a bad period, a negative amount, an unknown task or a currency that
    differs from the task's events."""
    currency = currency.strip().upper()
    if period_end < period_start:
        raise ValueError(f"budget {name!r}: period_end {period_end} is before {period_start}")
    if amount < 0:
        raise ValueError(f"budget {name!r}: amount must be >= 0, got {amount}")
    if not currency:
        raise ValueError(f"budget {name!r}: currency is required")
    task_id = _task_id(con, task)
    used = [
        c
        for (c,) in con.execute(
            "SELECT DISTINCT currency FROM annotation_events WHERE task_id = ?", [task_id]
        ).fetchall()
    ]
    if used and used != [currency]:
        raise ValueError(
            f"budget {name!r}: currency {currency} differs from task {task!r}'s annotation "
            f"costs in {', '.join(sorted(used))} (one currency per budget and task)"
        )
    now = _now()
    existing = con.execute(
        "SELECT budget_id FROM budgets WHERE task_id = ? AND name = ?", [task_id, name]
    ).fetchall()
    if existing:
        budget_id = int(existing[0][0])
        con.execute(
            "UPDATE budgets SET amount = ?, currency = ?, period_start = ?, period_end = ? "
            "WHERE budget_id = ?",
            [amount, currency, period_start, period_end, budget_id],
        )
    else:
        budget_id = int(
            con.execute(
                "INSERT INTO budgets (task_id, name, amount, currency, period_start, "
                "period_end, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING budget_id",
                [task_id, name, amount, currency, period_start, period_end, now],
            ).fetchall()[0][0]
        )
    con.execute(
        "INSERT INTO budget_history VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [budget_id, task_id, name, amount, currency, period_start, period_end, now, changed_by],
    )
    return budget_id


def add_goal(
    con: Connection,
    *,
    task: str,
    kind: str,
    target: float,
    budget_id: int | None = None,
    params: Mapping[str, Any] | None = None,
) -> int:
    """Add a goal, deactivating the active goal of the same task, kind and budget."""
    if kind not in GOAL_KINDS:
        raise ValueError(f"goal kind {kind!r} is not one of {', '.join(GOAL_KINDS)}")
    if kind == "reduce_hours":
        missing = {"baseline_start", "baseline_end"} - set(params or {})
        if missing:
            raise ValueError(f"goal reduce_hours needs params {', '.join(sorted(missing))}")
        if not 0 < target < 1:
            raise ValueError(f"goal reduce_hours: target is a share in (0, 1), got {target}")
    if kind == "accuracy_within_budget" and budget_id is None:
        raise ValueError("goal accuracy_within_budget needs a budget")
    task_id = _task_id(con, task)
    con.execute(
        "UPDATE goals SET active = FALSE WHERE task_id = ? AND kind = ? "
        "AND budget_id IS NOT DISTINCT FROM ? AND active",
        [task_id, kind, budget_id],
    )
    rows = con.execute(
        "INSERT INTO goals (task_id, budget_id, kind, target, params, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?) RETURNING goal_id",
        [task_id, budget_id, kind, target, json.dumps(params or {}, default=str), _now()],
    ).fetchall()
    return int(rows[0][0])


def read_budgets(con: Connection, task: str | None = None) -> list[Budget]:
    rows = con.execute(
        "SELECT b.budget_id, t.name, b.name, b.amount, b.currency, b.period_start, "
        "b.period_end FROM budgets b JOIN tasks t USING (task_id) "
        "WHERE ? IS NULL OR t.name = ? ORDER BY b.budget_id",
        [task, task],
    ).fetchall()
    return [Budget(int(r[0]), r[1], r[2], Decimal(r[3]), r[4], r[5], r[6]) for r in rows]


def budget_by_name(con: Connection, task: str, name: str) -> Budget:
    for budget in read_budgets(con, task):
        if budget.name == name:
            return budget
    raise ValueError(f"task {task!r} has no budget {name!r}")


def read_goals(con: Connection, task: str | None = None) -> list[Goal]:
    """The active goals (of one task, or all)."""
    rows = con.execute(
        "SELECT g.goal_id, t.name, g.kind, g.target, g.budget_id, g.params, g.created_at "
        "FROM goals g JOIN tasks t USING (task_id) WHERE g.active AND (? IS NULL OR t.name = ?) "
        "ORDER BY g.goal_id",
        [task, task],
    ).fetchall()
    return [
        Goal(int(r[0]), r[1], r[2], float(r[3]), r[4], json.loads(r[5] or "{}"), r[6]) for r in rows
    ]


def budget_history(con: Connection, budget_id: int) -> list[dict[str, Any]]:
    rows = con.execute(
        "SELECT amount, currency, period_start, period_end, changed_at, changed_by "
        "FROM budget_history WHERE budget_id = ? ORDER BY changed_at, rowid",
        [budget_id],
    ).fetchall()
    keys = ("amount", "currency", "period_start", "period_end", "changed_at", "changed_by")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def _task_id(con: Connection, task: str) -> int:
    rows = con.execute("SELECT task_id FROM tasks WHERE name = ?", [task]).fetchall()
    if not rows:
        raise ValueError(f"unknown task {task!r}")
    return int(rows[0][0])


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
