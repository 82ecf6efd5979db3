"""Read-side queries for `labelwatch status` and the dashboard (bound parameters only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from auditor.store.connection import Connection
from auditor.store.migrations import current_version

_COUNTS = """
SELECT 'tasks' AS name, count(*) AS n FROM tasks
UNION ALL SELECT 'subtasks', count(*) FROM subtasks
UNION ALL SELECT 'items', count(*) FROM items
UNION ALL SELECT 'labeling_functions', count(*) FROM labeling_functions
UNION ALL SELECT 'votes', count(*) FROM votes
UNION ALL SELECT 'gold_labels', count(*) FROM gold_labels
UNION ALL SELECT 'corrections', count(*) FROM corrections
UNION ALL SELECT 'annotation_events', count(*) FROM annotation_events
UNION ALL SELECT 'budgets', count(*) FROM budgets
UNION ALL SELECT 'goals', count(*) FROM goals
UNION ALL SELECT 'fusion_runs', count(*) FROM fusion_runs
UNION ALL SELECT 'fused_labels', count(*) FROM fused_labels
UNION ALL SELECT 'metrics', count(*) FROM metrics
UNION ALL SELECT 'alerts', count(*) FROM alerts
UNION ALL SELECT 'job_runs', count(*) FROM job_runs
UNION ALL SELECT 'ingestions', count(*) FROM ingestions
UNION ALL SELECT 'quarantine', count(*) FROM quarantine
"""

_TASK_SUMMARY = """
WITH covered AS (SELECT DISTINCT item_id FROM votes)
SELECT t.name AS task,
       count(DISTINCT i.item_id) AS items,
       count(DISTINCT c.item_id) AS covered_items,
       (SELECT count(*) FROM labeling_functions f WHERE f.task_id = t.task_id) AS lfs,
       (SELECT count(*) FROM subtasks s WHERE s.task_id = t.task_id) AS subtasks,
       min(i.created_at) AS first_item, max(i.created_at) AS last_item
FROM tasks t
LEFT JOIN items i ON i.task_id = t.task_id
LEFT JOIN covered c ON c.item_id = i.item_id
GROUP BY t.task_id, t.name ORDER BY t.name
"""


@dataclass(frozen=True)
class Status:
    schema_version: int
    counts: dict[str, int]
    tasks: list[dict[str, Any]]
    last_job_runs: list[dict[str, Any]]
    open_alerts: list[dict[str, Any]]
    recent_ingestions: list[dict[str, Any]]
    quarantine_reasons: list[dict[str, Any]]
    recent_failures: list[dict[str, Any]] = field(default_factory=list)
    scheduler: dict[str, Any] = field(default_factory=dict)


def _dicts(con: Connection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def read_status(con: Connection, *, limit: int = 10) -> Status:
    """Everything `labelwatch status` shows, read in one connection."""
    version = current_version(con)
    if version == 0:
        return Status(0, {}, [], [], [], [], [])
    counts = {row["name"]: int(row["n"]) for row in _dicts(con, _COUNTS)}
    tasks = _dicts(con, _TASK_SUMMARY)
    for task in tasks:
        task["coverage"] = task["covered_items"] / task["items"] if task["items"] else None
    last_runs = _dicts(
        con,
        """
        SELECT job, task, status, started_at, finished_at, duration_s, rows_written, error
        FROM job_runs QUALIFY row_number() OVER (PARTITION BY job, task
                                                 ORDER BY started_at DESC) = 1
        ORDER BY job""",
    )
    alerts = _dicts(
        con,
        """
        SELECT alert_id, severity, metric, scope, key, message, first_seen, last_seen
        FROM alerts WHERE state = 'open' ORDER BY last_seen DESC LIMIT ?""",
        [limit],
    )
    ingestions = _dicts(
        con,
        """
        SELECT ingestion_id, kind, task, source_file, finished_at, rows_read, inserted, updated,
               unchanged, quarantined
        FROM ingestions ORDER BY ingestion_id DESC LIMIT ?""",
        [limit],
    )
    reasons = _dicts(
        con,
        """
        SELECT kind, reason, count(*) AS rows FROM quarantine
        GROUP BY kind, reason ORDER BY rows DESC LIMIT ?""",
        [limit],
    )
    failures = _dicts(
        con,
        """
        SELECT job_run_id, job, task, attempt, started_at, error FROM job_runs
        WHERE status = 'failed' ORDER BY job_run_id DESC LIMIT ?""",
        [limit],
    )
    return Status(version, counts, tasks, last_runs, alerts, ingestions, reasons, failures)


def quarantine_rows(
    con: Connection, *, ingestion_id: int | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Quarantined rows, newest first, optionally of one ingestion."""
    return _dicts(
        con,
        """
        SELECT quarantine_id, ingestion_id, kind, source_file, row_number, reason, raw
        FROM quarantine WHERE ? IS NULL OR ingestion_id = ?
        ORDER BY quarantine_id DESC LIMIT ?""",
        [ingestion_id, ingestion_id, limit],
    )
