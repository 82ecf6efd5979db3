"""Reads of the budget job: events, label counts, manual rates, rework, audited accuracy.

Counts happen in SQL; money comes back as Decimal (DECIMAL(18, 4) columns), so sums made
from these rows reconcile exactly with `SELECT sum(cost) FROM annotation_events`.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import numpy as np

from auditor.budget.events import Events
from auditor.budget.inputs import BudgetInputs, LabelCounts
from auditor.budget.money import ManualRate
from auditor.metrics.estimate import Estimate
from auditor.store.budgets import read_budgets, read_goals
from auditor.store.connection import Connection

EVENTS_SQL = """
SELECT e.kind, e.annotator, coalesce(s.name, '') AS subtask, coalesce(e.item_id, -1) AS item_id,
       e.seconds, CAST(e.cost * 10000 AS BIGINT) AS cost_e4,
       CAST(e.occurred_at AS DATE) AS day
FROM annotation_events e LEFT JOIN subtasks s USING (subtask_id)
WHERE e.task_id = ? ORDER BY e.occurred_at, e.event_id
"""

# Per subtask, (item, subtask) pairs by how they are labeled: by a human (imported gold or
# a human_label event), audited (an audited label), weakly (a covered fused label of the
# latest run) and uncovered (the latest run had no vote for it).
LABEL_COUNTS_SQL = """
WITH latest AS (SELECT subtask_id, max(fusion_run_id) AS run FROM fusion_runs GROUP BY ALL),
fused AS (
    SELECT f.item_id, f.subtask_id, f.uncovered FROM fused_labels f
    JOIN latest l ON l.subtask_id = f.subtask_id AND l.run = f.fusion_run_id),
human AS (
    SELECT DISTINCT item_id, subtask_id FROM gold_labels WHERE source = 'import'
    UNION SELECT DISTINCT item_id, subtask_id FROM annotation_events
          WHERE kind = 'human_label' AND item_id IS NOT NULL AND subtask_id IS NOT NULL),
audited AS (SELECT item_id, subtask_id FROM audited_labels WHERE label IS NOT NULL),
pairs AS (
    SELECT item_id, subtask_id FROM fused UNION SELECT * FROM human UNION SELECT * FROM audited)
SELECT s.name,
       count(h.item_id) AS human,
       count(a.item_id) AS audited,
       count(*) FILTER (WHERE h.item_id IS NULL AND a.item_id IS NULL AND NOT f.uncovered)
           AS weak_only,
       count(*) FILTER (WHERE h.item_id IS NULL AND a.item_id IS NULL AND f.uncovered)
           AS uncovered,
       count(*) FILTER (WHERE h.item_id IS NOT NULL OR a.item_id IS NOT NULL
                        OR NOT f.uncovered) AS delivered
FROM pairs p JOIN subtasks s ON s.subtask_id = p.subtask_id AND s.task_id = ?
LEFT JOIN human h ON h.item_id = p.item_id AND h.subtask_id = p.subtask_id
LEFT JOIN audited a ON a.item_id = p.item_id AND a.subtask_id = p.subtask_id
LEFT JOIN fused f ON f.item_id = p.item_id AND f.subtask_id = p.subtask_id
GROUP BY s.name ORDER BY s.name
"""

MANUAL_RATES_SQL = """
SELECT s.name, s.manual_cost_per_label,
       avg(e.cost) FILTER (WHERE e.kind = 'human_label') AS observed_cost,
       avg(e.seconds) FILTER (WHERE e.kind = 'human_label') AS observed_seconds
FROM subtasks s LEFT JOIN annotation_events e USING (subtask_id)
WHERE s.task_id = ? GROUP BY ALL ORDER BY s.name
"""

# Human labels that an audit decided afterwards: imported gold by a person, and the
# audited label of the same item and subtask from corrections made after it.
REWORK_SQL = """
SELECT g.label AS human, a.label AS audited
FROM gold_labels g JOIN subtasks s ON s.subtask_id = g.subtask_id AND s.task_id = ?
JOIN audited_labels a ON a.item_id = g.item_id AND a.subtask_id = g.subtask_id
WHERE g.source = 'import' AND a.label IS NOT NULL AND EXISTS (
    SELECT 1 FROM corrections c WHERE c.item_id = g.item_id AND c.subtask_id = g.subtask_id
      AND c.submitted_at >= g.submitted_at)
"""

ACCEPTANCE_SQL = """
SELECT q.fused_label, a.label FROM audit_queue q
JOIN audit_rounds r ON r.round_id = q.round_id AND r.task_id = ?
JOIN audited_labels a USING (item_id, subtask_id)
WHERE q.state = 'done' AND a.label IS NOT NULL
"""

# The headline audited accuracy of each subtask, from its newest audited round.
AUDITED_ACCURACY_SQL = """
SELECT scope, arg_max(value, window_start), arg_max(ci_low, window_start),
       arg_max(ci_high, window_start), arg_max(details, window_start)
FROM metrics
WHERE task = ? AND metric LIKE 'accuracy.audit_%' AND key = 'fused'
  AND CAST(json_extract(details, '$.headline') AS BOOLEAN)
GROUP BY scope ORDER BY scope
"""

# Per day: items created, and items human-labeled for the first time (either source).
DAILY_ITEMS_SQL = """
WITH human AS (
    SELECT item_id, min(t) AS t FROM (
        SELECT item_id, submitted_at AS t FROM gold_labels WHERE source = 'import'
        UNION ALL SELECT item_id, occurred_at FROM annotation_events
                  WHERE kind = 'human_label' AND item_id IS NOT NULL)
    GROUP BY item_id)
SELECT day, sum(created) AS created, sum(labeled) AS labeled FROM (
    SELECT CAST(created_at AS DATE) AS day, 1 AS created, 0 AS labeled
    FROM items WHERE task_id = ?
    UNION ALL SELECT CAST(h.t AS DATE), 0, 1 FROM human h JOIN items i USING (item_id)
    WHERE i.task_id = ?)
GROUP BY day ORDER BY day
"""


def tasks_with_data(con: Connection) -> list[str]:
    return [name for (name,) in con.execute("SELECT name FROM tasks ORDER BY name").fetchall()]


def task_id_of(con: Connection, task: str) -> int:
    rows = con.execute("SELECT task_id FROM tasks WHERE name = ?", [task]).fetchall()
    if not rows:
        raise ValueError(f"unknown task {task!r}")
    return int(rows[0][0])


def read_events(con: Connection, task_id: int) -> Events:
    cols = con.execute(EVENTS_SQL, [task_id]).fetchnumpy()
    if not len(cols["cost_e4"]):
        return Events.empty()
    return Events(
        kind=np.asarray(cols["kind"], dtype=object),
        annotator=np.asarray(cols["annotator"], dtype=object),
        subtask=np.asarray(cols["subtask"], dtype=object),
        item_id=np.asarray(cols["item_id"], dtype=np.int64),
        seconds=np.asarray(cols["seconds"], dtype=float),
        cost_e4=np.asarray(cols["cost_e4"], dtype=np.int64),
        day=np.asarray(cols["day"]).astype("datetime64[D]"),
    )


def sql_spend_total(con: Connection, task_id: int) -> Decimal:
    """The events table's own sum (the reconciliation reference)."""
    value = con.execute(
        "SELECT coalesce(sum(cost), 0) FROM annotation_events WHERE task_id = ?", [task_id]
    ).fetchall()[0][0]
    return Decimal(value)


def task_currency(con: Connection, task_id: int, *, default: str) -> str:
    rows = con.execute(
        "SELECT DISTINCT currency FROM annotation_events WHERE task_id = ?", [task_id]
    ).fetchall()
    return rows[0][0] if rows else default.upper()


def read_label_counts(con: Connection, task_id: int) -> dict[str, LabelCounts]:
    rows = con.execute(LABEL_COUNTS_SQL, [task_id]).fetchall()
    return {r[0]: LabelCounts(*(int(x) for x in r[1:])) for r in rows}


def read_manual_rates(con: Connection, task_id: int) -> dict[str, ManualRate]:
    """Per subtask: the configured manual cost per label, else the observed mean cost of
    its human labels; seconds from the observed human labels (NaN when there are none)."""
    out = {}
    for name, configured, observed, seconds in con.execute(MANUAL_RATES_SQL, [task_id]).fetchall():
        secs = float(seconds) if seconds is not None else float("nan")
        if configured is not None:
            out[name] = ManualRate(Decimal(configured), secs, "configured")
        elif observed is not None:
            out[name] = ManualRate(Decimal(observed).quantize(Decimal("0.0001")), secs, "observed")
        else:
            out[name] = ManualRate(None, secs, "unknown")
    return out


def read_rework(con: Connection, task_id: int) -> tuple[np.ndarray, np.ndarray]:
    """(human labels, audited labels) of human labels audited afterwards: int (n,) each."""
    rows = con.execute(REWORK_SQL, [task_id]).fetchall()
    return _pair(rows)


def read_acceptance(con: Connection, task_id: int) -> tuple[np.ndarray, np.ndarray]:
    """(fused label shown in the queue, audited label) of the task's audited queue items."""
    return _pair(con.execute(ACCEPTANCE_SQL, [task_id]).fetchall())


def read_audited_accuracy(con: Connection, task: str) -> dict[str, Estimate]:
    """The headline audited accuracy per subtask (the newest round's metric rows)."""
    out = {}
    for scope, value, low, high, details in con.execute(AUDITED_ACCURACY_SQL, [task]).fetchall():
        info = json.loads(details) if details else {}
        out[scope] = Estimate(
            float("nan") if value is None else float(value),
            float("nan") if low is None else float(low),
            float("nan") if high is None else float(high),
            n=int(info.get("n") or 0),
            reason=None if value is not None else str(info.get("reason") or "undefined"),
            details={"round_id": info.get("round_id")},
        )
    return out


def read_daily_items(con: Connection, task_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(day datetime64[D] (d,), items created that day, items first human-labeled that
    day): int (d,) each, days with neither left out."""
    rows = con.execute(DAILY_ITEMS_SQL, [task_id, task_id]).fetchall()
    if not rows:
        return np.array([], "datetime64[D]"), np.array([], int), np.array([], int)
    day, items, human = zip(*rows, strict=True)
    return np.array(day, "datetime64[D]"), np.array(items), np.array(human)


def data_clock(con: Connection, task_id: int) -> dt.datetime | None:
    """The newest timestamp of the task's items, votes and events (None: no data)."""
    value = con.execute(
        "SELECT greatest((SELECT max(created_at) FROM items WHERE task_id = ?), "
        "(SELECT max(occurred_at) FROM annotation_events WHERE task_id = ?))",
        [task_id, task_id],
    ).fetchall()[0][0]
    return value


def _pair(rows: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    if not rows:
        return np.array([], int), np.array([], int)
    a, b = zip(*rows, strict=True)
    return np.array(a, int), np.array(b, int)


def read_budget_inputs(
    con: Connection, task: str, *, as_of: dt.date | None, default_currency: str
) -> BudgetInputs:
    """Everything compute_state needs for one task. as_of None: the task's data clock
    (newest item or event), never after today (UTC)."""
    task_id = task_id_of(con, task)
    today = dt.datetime.now(dt.UTC).date()
    if as_of is None:
        clock = data_clock(con, task_id)
        as_of = min(clock.date(), today) if clock is not None else today
    return BudgetInputs(
        task=task,
        currency=task_currency(con, task_id, default=default_currency),
        as_of=as_of,
        events=read_events(con, task_id),
        budgets=tuple(read_budgets(con, task)),
        goals=tuple(read_goals(con, task)),
        label_counts=read_label_counts(con, task_id),
        manual_rates=read_manual_rates(con, task_id),
        rework=read_rework(con, task_id),
        acceptance=read_acceptance(con, task_id),
        audited_accuracy=read_audited_accuracy(con, task),
        daily_items=read_daily_items(con, task_id),
    )
