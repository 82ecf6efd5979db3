"""Reads for the dashboard's quality pages: the audit queue by strategy (bound values only).

Metric history is read by `dashboard_io.read_metrics`; this module adds what the metrics
table does not hold: how many queued items each sampling strategy brought, how many of
them have an audited label (the `audited_labels` view) and how many of those differ from
the fused label recorded when the item was queued (the strategy's error yield).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from auditor.store.connection import Connection

_ERROR_YIELD = """
SELECT q.strategy,
       count(*) AS queued,
       count(*) FILTER (WHERE q.state = 'open') AS open,
       count(a.label) AS audited,
       count(*) FILTER (WHERE a.label IS NOT NULL AND a.label <> q.fused_label) AS errors,
       count(*) FILTER (WHERE a.needs_adjudication) AS disputed
FROM audit_queue q
JOIN audit_rounds r USING (round_id)
JOIN tasks t ON t.task_id = r.task_id
JOIN subtasks s ON s.subtask_id = q.subtask_id
LEFT JOIN audited_labels a ON a.item_id = q.item_id AND a.subtask_id = q.subtask_id
WHERE t.name = ? AND (? IS NULL OR s.name = ?) AND (? IS NULL OR r.created_at >= ?)
GROUP BY q.strategy
ORDER BY q.strategy
"""


def error_yield_by_strategy(
    con: Connection, *, task: str, subtask: str | None = None, since: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Per sampling strategy of the task's audit rounds (created at or after `since` when
    given; one subtask when given): queued, open, audited (items with an audited label),
    errors (audited label != the fused label at queueing), disputed (waiting for an
    adjudication) and error_share = errors / audited (None when nothing is audited).
    [] when the task has no audit round."""
    cursor = con.execute(_ERROR_YIELD, [task, subtask, subtask, since, since])
    names = [d[0] for d in cursor.description or []]
    out = []
    for row in cursor.fetchall():
        record = dict(zip(names, row, strict=True))
        audited = int(record["audited"])
        record["error_share"] = int(record["errors"]) / audited if audited else None
        out.append(record)
    return out
