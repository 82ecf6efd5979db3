"""Reads for the dashboard's health pages (overview, labeling functions, agreement).

Bound values only. Everything is aggregated in SQL and bounded: metric rows are read per
(metric, scope, key), votes only for one LF at a time (grouped by day, or the 50 newest
disagreements), fused labels only as per-day counts. Every function takes an open
connection and returns plain rows (dicts).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from auditor.store.connection import Connection

LF_TABLE_METRICS = [
    "lf.coverage",
    "lf.overlap",
    "lf.conflict",
    "lf.accuracy_gold",
    "lf.contribution",
]


def _dicts(con: Connection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def latest_window(con: Connection, *, task: str, prefix: str) -> dt.datetime | None:
    """Start of the newest window of the task's metrics whose name starts with prefix
    (None before the first metrics run)."""
    row = con.execute(
        "SELECT max(window_start) FROM metrics WHERE task = ? AND starts_with(metric, ?)",
        [task, prefix],
    ).fetchall()
    return row[0][0] if row else None


def task_item_count(con: Connection, *, task: str) -> int:
    row = con.execute(
        "SELECT count(*) FROM items i JOIN tasks t USING (task_id) WHERE t.name = ?", [task]
    ).fetchall()
    return int(row[0][0])


def latest_metrics(
    con: Connection, *, task: str, metrics: list[str], scope: str | None = None
) -> list[dict[str, Any]]:
    """The newest row per (metric, scope, key) of the given metric names (all-time rows
    count only where no windowed row exists)."""
    return _dicts(
        con,
        "SELECT metric, scope, key, window_start, window_end, value, ci_low, ci_high, "
        "CAST(details AS VARCHAR) AS details FROM metrics "
        "WHERE task = ? AND list_contains(?, metric) AND (? IS NULL OR scope = ?) "
        "QUALIFY row_number() OVER (PARTITION BY metric, scope, key "
        "ORDER BY window_start DESC NULLS LAST, computed_at DESC) = 1 "
        "ORDER BY metric, scope, key",
        [task, metrics, scope, scope],
    )


_OPEN_COUNT = """
SELECT count(*) FROM alerts
WHERE task = ? AND state = 'open' AND (? IS NULL OR list_contains(?, scope))"""
_OPEN_LIST = """
SELECT severity, metric, scope, key, message, first_seen, last_seen FROM alerts
WHERE task = ? AND state = 'open' AND (? IS NULL OR list_contains(?, scope))
ORDER BY severity = 'critical' DESC, last_seen DESC, alert_id DESC LIMIT ?"""


def open_alerts(
    con: Connection, *, task: str, scopes: list[str] | None = None, limit: int = 50
) -> tuple[int, list[dict[str, Any]]]:
    """(how many alerts of the task are open, the newest `limit` of them, critical first);
    scopes (alert scopes like "task/subtask") restrict both when given."""
    params: list[Any] = [task, scopes, scopes]
    count = con.execute(_OPEN_COUNT, params).fetchall()[0][0]
    rows = _dicts(con, _OPEN_LIST, [*params, limit])
    return int(count), rows


def coverage_by_day(
    con: Connection, *, task: str, subtask: str | None = None, since: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Per subtask and day of item creation: items with a fused label from the latest
    fusion run, and how many of them had at least one vote (covered)."""
    return _dicts(
        con,
        """
        WITH runs AS (
            SELECT f.subtask_id, max(f.fusion_run_id) AS run, any_value(s.name) AS subtask
            FROM fusion_runs f JOIN subtasks s ON s.subtask_id = f.subtask_id
            JOIN tasks t ON t.task_id = s.task_id
            WHERE t.name = ? AND (? IS NULL OR s.name = ?) GROUP BY f.subtask_id)
        SELECT r.subtask AS scope, date_trunc('day', i.created_at) AS window_start,
               count(*) AS items, count(*) FILTER (WHERE NOT fl.uncovered) AS covered,
               count(*) FILTER (WHERE NOT fl.uncovered) / count(*) AS value
        FROM runs r
        JOIN fused_labels fl ON fl.fusion_run_id = r.run AND fl.subtask_id = r.subtask_id
        JOIN items i ON i.item_id = fl.item_id
        WHERE ? IS NULL OR i.created_at >= ?
        GROUP BY ALL ORDER BY scope, window_start""",
        [task, subtask, subtask, since, since],
    )


_LF_TABLE = """
WITH m AS (
    SELECT scope, key, metric, value, window_start, details FROM metrics
    WHERE task = ? AND (? IS NULL OR scope = ?)
      AND (starts_with(metric, 'lf.') OR starts_with(metric, 'drift.lf_'))),
windowed AS (
    SELECT scope, key, metric,
           sum(TRY_CAST(details->>'successes' AS BIGINT)) AS successes,
           sum(TRY_CAST(details->>'trials' AS BIGINT)) AS trials,
           max(TRY_CAST(details->>'chance' AS DOUBLE)) AS chance
    FROM m WHERE window_start IS NOT NULL AND (? IS NULL OR window_start >= ?)
      AND list_contains(?, metric)
    GROUP BY ALL),
spark AS (
    SELECT scope, key, list(coalesce(value, 0) ORDER BY window_start) AS coverage_trend,
           list_distinct(flatten(list(
               coalesce(TRY_CAST(details->'polarity' AS VARCHAR[]), [])))) AS polarity
    FROM m WHERE metric = 'lf.coverage' AND window_start IS NOT NULL
      AND (? IS NULL OR window_start >= ?)
    GROUP BY ALL),
model AS (
    SELECT scope, key, max(value) AS model_accuracy FROM m
    WHERE metric = 'lf.model_accuracy' AND window_start IS NULL GROUP BY ALL),
drift AS (
    SELECT scope, key, bool_or(drifted) AS drifted FROM (
        SELECT scope, key, TRY_CAST(details->>'drifted' AS BOOLEAN) AS drifted FROM m
        WHERE starts_with(metric, 'drift.lf_')
        QUALIFY window_start = max(window_start) OVER (PARTITION BY scope, key))
    GROUP BY ALL),
change AS (
    SELECT scope, key, arg_max(value, window_start) AS coverage_change FROM m
    WHERE metric = 'lf.coverage_change' GROUP BY ALL),
lfs AS (SELECT DISTINCT scope, key FROM m WHERE metric = 'lf.coverage')
SELECT l.scope AS subtask, l.key AS lf, s.polarity, s.coverage_trend,
       w.metric, w.successes, w.trials, w.chance,
       mo.model_accuracy, d.drifted, c.coverage_change
FROM lfs l
LEFT JOIN windowed w USING (scope, key)
LEFT JOIN spark s USING (scope, key)
LEFT JOIN model mo USING (scope, key)
LEFT JOIN drift d USING (scope, key)
LEFT JOIN change c USING (scope, key)
ORDER BY l.scope, l.key, w.metric
"""


def lf_table(
    con: Connection, *, task: str, scope: str | None = None, since: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Per (subtask, LF, metric of LF_TABLE_METRICS): successes and trials summed over the
    windows from `since` (all windows when None), chance (accuracy); per LF also its
    polarity and coverage per window (list, oldest first) over those windows, the label
    model's all-time accuracy, the drift flag of its newest drift rows, and its newest
    coverage change. One row per (subtask, LF, metric); the LF columns repeat."""
    return _dicts(
        con, _LF_TABLE, [task, scope, scope, since, since, LF_TABLE_METRICS, since, since]
    )


_LF = """
SELECT f.lf_id, s.subtask_id FROM labeling_functions f
JOIN tasks t ON t.task_id = f.task_id
JOIN subtasks s ON s.task_id = t.task_id
WHERE t.name = ? AND f.name = ? AND s.name = ?"""


def _lf_ids(con: Connection, task: str, subtask: str, lf: str) -> tuple[int, int] | None:
    rows = con.execute(_LF, [task, lf, subtask]).fetchall()
    return (int(rows[0][0]), int(rows[0][1])) if rows else None


def lf_votes_by_day(
    con: Connection, *, task: str, subtask: str, lf: str, since: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """The LF's votes on the subtask per day (of voted_at) and label name."""
    ids = _lf_ids(con, task, subtask, lf)
    if ids is None:
        return []
    return _dicts(
        con,
        "SELECT date_trunc('day', v.voted_at) AS day, coalesce(ls.name, CAST(v.label AS VARCHAR)) "
        "AS label, count(*) AS votes FROM votes v "
        "LEFT JOIN label_sets ls ON ls.subtask_id = v.subtask_id AND ls.code = v.label "
        "WHERE v.lf_id = ? AND v.subtask_id = ? AND (? IS NULL OR v.voted_at >= ?) "
        "GROUP BY ALL ORDER BY day, label",
        [*ids, since, since],
    )


_CONFUSION = """
WITH truth AS (
    SELECT coalesce(a.item_id, g.item_id) AS item_id, coalesce(a.label, g.label) AS label
    FROM (SELECT item_id, arg_max(label, gold_id) AS label FROM gold_labels
          WHERE subtask_id = ? GROUP BY item_id) g
    FULL JOIN (SELECT item_id, label FROM audited_labels
               WHERE subtask_id = ? AND label IS NOT NULL) a USING (item_id))
SELECT vs.name AS vote, gs.name AS gold, count(*) AS n FROM votes v
JOIN truth t ON t.item_id = v.item_id
LEFT JOIN label_sets vs ON vs.subtask_id = v.subtask_id AND vs.code = v.label
LEFT JOIN label_sets gs ON gs.subtask_id = v.subtask_id AND gs.code = t.label
WHERE v.lf_id = ? AND v.subtask_id = ? AND (? IS NULL OR v.voted_at >= ?)
GROUP BY ALL ORDER BY vote, gold"""
_DISAGREEMENTS = """
WITH run AS (SELECT max(fusion_run_id) AS id FROM fusion_runs WHERE subtask_id = ?),
truth AS (
    SELECT coalesce(a.item_id, g.item_id) AS item_id, coalesce(a.label, g.label) AS label
    FROM (SELECT item_id, arg_max(label, gold_id) AS label FROM gold_labels
          WHERE subtask_id = ? GROUP BY item_id) g
    FULL JOIN (SELECT item_id, label FROM audited_labels
               WHERE subtask_id = ? AND label IS NOT NULL) a USING (item_id))
SELECT i.external_id AS item, vs.name AS vote, fs.name AS fused,
       list_max(fl.probabilities) AS fused_confidence, gs.name AS truth, v.voted_at
FROM votes v
JOIN fused_labels fl ON fl.item_id = v.item_id AND fl.subtask_id = v.subtask_id
    AND fl.fusion_run_id = (SELECT id FROM run)
JOIN items i ON i.item_id = v.item_id
LEFT JOIN truth t ON t.item_id = v.item_id
LEFT JOIN label_sets vs ON vs.subtask_id = v.subtask_id AND vs.code = v.label
LEFT JOIN label_sets fs ON fs.subtask_id = v.subtask_id AND fs.code = fl.label
LEFT JOIN label_sets gs ON gs.subtask_id = v.subtask_id AND gs.code = t.label
WHERE v.lf_id = ? AND v.subtask_id = ? AND v.label <> fl.label
  AND (? IS NULL OR v.voted_at >= ?)
ORDER BY fused_confidence DESC, i.external_id LIMIT ?"""


def lf_confusion(
    con: Connection, *, task: str, subtask: str, lf: str, since: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Counts of (the LF's vote, the truth) over the items with truth: the audited label,
    else the newest imported or benchmark gold label. Label names, not codes."""
    ids = _lf_ids(con, task, subtask, lf)
    if ids is None:
        return []
    lf_id, subtask_id = ids
    return _dicts(con, _CONFUSION, [subtask_id, subtask_id, lf_id, subtask_id, since, since])


def lf_disagreements(
    con: Connection,
    *,
    task: str,
    subtask: str,
    lf: str,
    since: dt.datetime | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Up to `limit` items where the LF's vote differs from the latest fused label, the
    most confident fused labels first (the truth beside them where known)."""
    ids = _lf_ids(con, task, subtask, lf)
    if ids is None:
        return []
    lf_id, subtask_id = ids
    return _dicts(
        con,
        _DISAGREEMENTS,
        [subtask_id, subtask_id, subtask_id, lf_id, subtask_id, since, since, limit],
    )


READS = {
    f.__name__: f
    for f in (
        latest_window,
        task_item_count,
        latest_metrics,
        open_alerts,
        coverage_by_day,
        lf_table,
        lf_votes_by_day,
        lf_confusion,
        lf_disagreements,
    )
}
