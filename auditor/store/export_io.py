"""Read the latest fused labels for export (auditor corrections override, marked)."""

from __future__ import annotations

import pyarrow as pa

from auditor.store.connection import Connection

LATEST_LABELS = """
WITH latest AS (SELECT subtask_id, max(fusion_run_id) AS run FROM fusion_runs GROUP BY ALL),
audited AS (SELECT item_id, subtask_id, label FROM audited_labels WHERE label IS NOT NULL)
SELECT t.name AS task, s.name AS subtask, i.external_id AS item, i.split,
       coalesce(a.label, f.label) AS label_code, ls.name AS label,
       CASE WHEN a.label IS NULL THEN list_max(f.probabilities) ELSE 1.0 END AS confidence,
       f.probabilities, f.entropy, f.uncovered,
       CASE WHEN a.label IS NULL THEN 'fused' ELSE 'auditor' END AS source,
       i.attributes
FROM fused_labels f
JOIN latest l ON l.run = f.fusion_run_id
JOIN items i ON i.item_id = f.item_id
JOIN subtasks s ON s.subtask_id = f.subtask_id
JOIN tasks t ON t.task_id = s.task_id
LEFT JOIN audited a ON a.item_id = f.item_id AND a.subtask_id = f.subtask_id
JOIN label_sets ls ON ls.subtask_id = f.subtask_id AND ls.code = coalesce(a.label, f.label)
WHERE (CAST($task AS VARCHAR) IS NULL OR t.name = $task)
  AND (CAST($subtask AS VARCHAR) IS NULL OR s.name = $subtask)
  AND (a.label IS NOT NULL OR list_max(f.probabilities) >= $min_confidence)
ORDER BY task, subtask, item
"""


def latest_labels(
    con: Connection, *, task: str | None, subtask: str | None, min_confidence: float
) -> pa.Table:
    """One row per item x subtask of the newest fusion run, filtered by confidence."""
    params = {"task": task, "subtask": subtask, "min_confidence": min_confidence}
    return con.sql(LATEST_LABELS, params=params).to_arrow_table()


def label_names(con: Connection, *, task: str, subtask: str) -> list[str]:
    rows = con.execute(
        "SELECT l.name FROM label_sets l JOIN subtasks s USING (subtask_id) "
        "JOIN tasks t ON t.task_id = s.task_id WHERE t.name = ? AND s.name = ? ORDER BY l.code",
        [task, subtask],
    ).fetchall()
    return [name for (name,) in rows]
