"""Reads for the dashboard: tasks and subtasks, metric history, job runs (bound values only).

The dashboard reads precomputed tables (metrics, job_runs, alerts, audit_queue); nothing
here computes a metric. Every function takes an open connection and returns plain rows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from auditor.store.connection import Connection


def task_subtasks(con: Connection) -> dict[str, list[str]]:
    """{task: [subtask names, parents first]}."""
    rows = con.execute(
        "SELECT t.name, s.name FROM tasks t JOIN subtasks s USING (task_id) "
        "ORDER BY t.name, s.parent_subtask_id NULLS FIRST, s.subtask_id"
    ).fetchall()
    out: dict[str, list[str]] = {}
    for task, subtask in rows:
        out.setdefault(task, []).append(subtask)
    return out


def read_metrics(
    con: Connection,
    *,
    task: str,
    metrics: list[str],
    scope: str | None = None,
    since: dt.datetime | None = None,
    all_time: bool | None = None,
) -> list[dict[str, Any]]:
    """Metric rows of task whose metric is in `metrics` (a name ending in '*' matches a
    prefix), of one scope when given, with window_start >= since when given; all_time:
    True only the all-time rows, False only windowed ones, None both. Newest window last."""
    exact = [m for m in metrics if not m.endswith("*")]
    prefixes = [m[:-1] for m in metrics if m.endswith("*")]
    cursor = con.execute(
        "SELECT metric, scope, key, window_start, window_end, value, ci_low, ci_high, details, "
        "computed_at FROM metrics WHERE task = ? "
        "AND (list_contains(?, metric) "
        "OR len([prefix FOR prefix IN ? IF starts_with(metric, prefix)]) > 0) "
        "AND (? IS NULL OR scope = ?) AND (? IS NULL OR window_start >= ?) "
        "AND (? IS NULL OR (window_start IS NULL) = ?) "
        "ORDER BY metric, scope, key, window_start NULLS FIRST",
        [task, exact, prefixes, scope, scope, since, since, all_time, all_time],
    )
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def read_job_runs(con: Connection, *, limit: int = 200) -> list[dict[str, Any]]:
    cursor = con.execute(
        "SELECT job_run_id, job, task, status, attempt, trigger_time, started_at, finished_at, "
        "duration_s, rows_read, rows_written, error, traceback FROM job_runs "
        "ORDER BY job_run_id DESC LIMIT ?",
        [limit],
    )
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
