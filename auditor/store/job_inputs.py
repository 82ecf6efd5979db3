"""Input fingerprints of the jobs: what each reads, as counts and newest ids per task.

A downstream job's fingerprint includes its upstream's newest result (the latest fusion
run), so it runs again exactly when the upstream produced something new. None: the job
has no fingerprint and always runs (ingest-watch, alerts).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from auditor.store.connection import Connection

_VOTES = """SELECT count(*), max(v.ingestion_id), max(v.voted_at) FROM votes v
    JOIN subtasks s USING (subtask_id) WHERE s.task_id = $task_id"""
_GOLD = """SELECT count(*), max(g.gold_id) FROM gold_labels g
    JOIN subtasks s USING (subtask_id) WHERE s.task_id = $task_id"""
_AUDITS = """SELECT (SELECT max(c.correction_id) FROM corrections c JOIN subtasks s
        USING (subtask_id) WHERE s.task_id = $task_id),
    (SELECT max(a.adjudication_id) FROM adjudications a JOIN subtasks s USING (subtask_id)
        WHERE s.task_id = $task_id)"""
_FUSED = """SELECT max(f.fusion_run_id) FROM fusion_runs f WHERE f.task_id = $task_id"""
_ITEMS = """SELECT count(*), max(item_id) FROM items WHERE task_id = $task_id"""
_EVENTS = """SELECT count(*), max(event_id), sum(cost) FROM annotation_events
    WHERE task_id = $task_id"""
_BUDGETS = """SELECT (SELECT count(*) FROM budget_history WHERE task_id = $task_id),
    (SELECT max(changed_at) FROM budget_history WHERE task_id = $task_id),
    (SELECT count(*) FROM goals WHERE task_id = $task_id AND active),
    (SELECT max(goal_id) FROM goals WHERE task_id = $task_id)"""
_AUDIT_ESTIMATES = """SELECT max(computed_at) FROM metrics
    WHERE task = $task AND metric LIKE 'accuracy.audit_%'"""
_QUEUE = """SELECT count(*) FILTER (WHERE q.state = 'open'), max(r.round_id)
    FROM audit_queue q JOIN audit_rounds r USING (round_id) WHERE r.task_id = $task_id"""

PARTS: dict[str, tuple[str, ...]] = {
    "fuse": (_VOTES, _GOLD, _AUDITS),
    "rules": (_FUSED, _VOTES),
    "metrics": (_FUSED, _VOTES, _GOLD, _AUDITS, _ITEMS),
    "budget": (_EVENTS, _BUDGETS, _FUSED, _AUDITS, _AUDIT_ESTIMATES, _ITEMS),
    "audit-sample": (_FUSED, _AUDITS, _QUEUE),
}


def input_fingerprint(
    con: Connection, job: str, task: str, *, rules_file: Path | None = None
) -> str | None:
    """A JSON string of what `job` reads for `task`; None when the job has none."""
    parts = PARTS.get(job)
    if parts is None:
        return None
    rows = con.execute("SELECT task_id FROM tasks WHERE name = ?", [task]).fetchall()
    if not rows:
        return None
    params = {"task_id": rows[0][0], "task": task}
    values: list[object] = []
    for sql in parts:
        used = {k: params[k] for k in set(re.findall(r"\$(\w+)", sql))}
        values.append(list(con.execute(sql, used).fetchall()[0]))
    if job == "rules" and rules_file is not None:
        values.append(_file_stamp(rules_file))
    if job == "budget":  # "as of" moves with the calendar even when no row changes
        values.append(dt.datetime.now(dt.UTC).date().isoformat())
    return json.dumps(values, default=str)


def last_succeeded_inputs(con: Connection, job: str, task: str | None) -> tuple[int, str] | None:
    """(job_run_id, inputs) of the newest succeeded run of job for task with a fingerprint."""
    rows = con.execute(
        "SELECT job_run_id, inputs FROM job_runs WHERE job = ? AND task IS NOT DISTINCT FROM ? "
        "AND status = 'succeeded' AND inputs IS NOT NULL ORDER BY job_run_id DESC LIMIT 1",
        [job, task],
    ).fetchall()
    return (int(rows[0][0]), rows[0][1]) if rows else None


def _file_stamp(path: Path) -> list[object]:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return ["absent"]
    return [stat.st_size, stat.st_mtime_ns]
