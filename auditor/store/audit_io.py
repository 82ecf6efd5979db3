"""Auditors' corrections and admins' adjudications (bound parameters only).

submit_corrections and adjudicate run in their own transaction (BEGIN ... COMMIT, like
``loading.load``): call them with a connection from ``Store.connect()``, not inside
``Store.transaction()``. Everything is validated before anything is written; any
problem raises SubmissionError listing them all and rolls back.

A submission is accepted for an item and subtask that has an audit queue entry that is
open, or done (a second auditor's opinion, or an auditor re-submitting: both join that
round: the newest open one, else the newest done one); skipped entries and items never
queued need allow_outside_queue (round_id NULL). Every open entry of the item and subtask
is then marked done (closed_at = now). Each row also records an 'audit' annotation event
costing seconds / 3600 * hourly_rate in the given currency (a task keeps one currency).
Corrections and adjudications are appended, never updated: the audited_labels view
takes each auditor's latest correction, and the latest adjudication decides.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from auditor.audit.submissions import Submission, SubmissionError
from auditor.store.audit_queue_io import (
    QUEUE_STATES,
    AuditorLabels,
    auditor_agreement_pairs,
    disputes,
    list_queue,
    naive_utc,
    needs_adjudication,
)
from auditor.store.audit_resolve import Resolved, resolve
from auditor.store.connection import Connection

__all__ = [
    "QUEUE_STATES",
    "AuditorLabels",
    "SubmissionError",
    "SubmitReport",
    "adjudicate",
    "auditor_agreement_pairs",
    "list_queue",
    "needs_adjudication",
    "submit_corrections",
]

_CENT = Decimal("0.0001")
_QUEUED = """
SELECT item_id, subtask_id, state, max(round_id) AS round_id FROM audit_queue
WHERE state IN ('open', 'done') AND item_id IN (SELECT unnest(CAST(? AS BIGINT[])))
GROUP BY ALL"""
_FUSED = """
WITH latest AS (SELECT subtask_id, max(fusion_run_id) AS run FROM fusion_runs GROUP BY ALL)
SELECT f.item_id, f.subtask_id, f.label FROM fused_labels f
JOIN latest l ON l.run = f.fusion_run_id AND l.subtask_id = f.subtask_id
WHERE f.item_id IN (SELECT unnest(CAST(? AS BIGINT[])))"""
_INSERT_CORRECTION = """
INSERT INTO corrections (item_id, subtask_id, label, auditor, previous_label, seconds, note,
                         submitted_at, round_id)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"""
_CLOSE = """
UPDATE audit_queue SET state = 'done', closed_at = ?
WHERE item_id = ? AND subtask_id = ? AND state = 'open' RETURNING round_id"""
_INSERT_EVENT = """
INSERT INTO annotation_events (task_id, annotator, item_id, subtask_id, kind, label, seconds,
                               cost, currency, occurred_at)
VALUES (?, ?, ?, ?, 'audit', ?, ?, ?, ?, ?)"""


@dataclass(frozen=True)
class SubmitReport:
    """What a submission wrote. cost: the audit events' total, in currency.
    needs_adjudication: the submitted items whose auditors now disagree."""

    rows: int
    corrections: int
    queue_entries_closed: int
    outside_queue: int
    seconds: float
    cost: Decimal
    currency: str
    needs_adjudication: list[dict[str, Any]] = field(default_factory=list)


def audit_cost(seconds: float, hourly_rate: float) -> Decimal:
    """seconds / 3600 * hourly_rate, rounded half up to the store's 4 decimals."""
    amount = Decimal(repr(float(seconds))) / 3600 * Decimal(repr(float(hourly_rate)))
    return amount.quantize(_CENT, rounding=ROUND_HALF_UP)


def submit_corrections(
    con: Connection,
    rows: Sequence[Submission],
    *,
    allow_outside_queue: bool = False,
    now: datetime,
    hourly_rate: float,
    currency: str,
) -> SubmitReport:
    """Validate every row, then append corrections, close queue entries and record audit
    annotation events, in one transaction of its own (see the module doc)."""
    if hourly_rate < 0:
        raise ValueError(f"hourly_rate must be >= 0, got {hourly_rate}")
    moment, currency = naive_utc(now), currency.upper()
    con.execute("BEGIN TRANSACTION")
    try:
        resolved = _validate(con, rows, allow_outside_queue, currency)
        report = _write(con, resolved, moment, hourly_rate, currency)
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
    return report


def _validate(
    con: Connection, rows: Sequence[Submission], allow_outside_queue: bool, currency: str
) -> list[tuple[Resolved, int | None, int | None]]:
    """(resolved row, round_id, previous label) per row, or SubmissionError."""
    targets, problems = resolve(con, rows)
    for row in rows:
        if not row.auditor.strip():
            problems.append((row.row, "empty auditor name"))
        if not math.isfinite(row.seconds):
            problems.append((row.row, f"seconds {row.seconds} is not a number"))
        elif row.seconds < 0:
            problems.append((row.row, f"seconds {row.seconds:g} is negative"))
    item_ids = sorted({t.item_id for t in targets})
    queued: dict[tuple[int, int], dict[str, int]] = defaultdict(dict)
    for item_id, subtask_id, state, round_id in con.execute(_QUEUED, [item_ids]).fetchall():
        queued[(item_id, subtask_id)][state] = round_id
    out = []
    for target in targets:
        entry = queued.get((target.item_id, target.subtask_id), {})
        round_id = entry.get("open", entry.get("done"))
        if round_id is None and not allow_outside_queue:
            problems.append(
                (
                    target.row.row,
                    f"item {target.row.item} is not in an audit queue for subtask "
                    f"{target.subtask} (submit with --allow-outside-queue to add it anyway)",
                )
            )
        out.append((target, round_id))
    for task, used in _currencies(con, {t.task_id for t in targets}).items():
        if used != currency:
            problems.append((0, f"task {task} records costs in {used}, not {currency}"))
    if problems:
        raise SubmissionError(_lines(problems))
    fused = {
        (item_id, subtask_id): label
        for item_id, subtask_id, label in con.execute(_FUSED, [item_ids]).fetchall()
    }
    return [(t, r, fused.get((t.item_id, t.subtask_id))) for t, r in out]


def _write(
    con: Connection,
    resolved: list[tuple[Resolved, int | None, int | None]],
    now: datetime,
    hourly_rate: float,
    currency: str,
) -> SubmitReport:
    closed = 0
    total = Decimal(0)
    for target, round_id, previous in resolved:
        row = target.row
        con.execute(
            _INSERT_CORRECTION,
            [
                *(target.item_id, target.subtask_id, target.label),
                *(row.auditor.strip(), previous, row.seconds, row.note, now, round_id),
            ],
        )
        closed += len(con.execute(_CLOSE, [now, target.item_id, target.subtask_id]).fetchall())
        cost = audit_cost(row.seconds, hourly_rate)
        total += cost
        con.execute(
            _INSERT_EVENT,
            [
                *(target.task_id, row.auditor.strip(), target.item_id, target.subtask_id),
                *(target.label, row.seconds, cost, currency, now),
            ],
        )
    items = sorted({t.item_id for t, _, _ in resolved})
    return SubmitReport(
        rows=len(resolved),
        corrections=len(resolved),
        queue_entries_closed=closed,
        outside_queue=sum(round_id is None for _, round_id, _ in resolved),
        seconds=float(sum(t.row.seconds for t, _, _ in resolved)),
        cost=total,
        currency=currency,
        needs_adjudication=disputes(con, items=items) if items else [],
    )


def adjudicate(
    con: Connection,
    item: str,
    subtask: str | None,
    label: str,
    *,
    admin: str,
    note: str | None = None,
    now: datetime,
    task: str | None = None,
) -> dict[str, Any]:
    """Append an admin's decision for an item the auditors corrected (in its own
    transaction); the latest adjudication is the audited label. Returns the new row."""
    request = Submission(0, item, label, admin, 0.0, subtask=subtask, note=note, task=task)
    con.execute("BEGIN TRANSACTION")
    try:
        targets, problems = resolve(con, [request])
        if not admin.strip():
            problems.append((0, "empty admin name"))
        for target in targets:
            found = con.execute(
                "SELECT count(*) FROM corrections WHERE item_id = ? AND subtask_id = ?",
                [target.item_id, target.subtask_id],
            ).fetchall()[0][0]
            if not found:
                problems.append((0, f"item {item} has no corrections for subtask {target.subtask}"))
        if problems:
            raise SubmissionError(_lines(problems), what="adjudication")
        target = targets[0]
        adjudication_id = con.execute(
            "INSERT INTO adjudications (item_id, subtask_id, label, admin, note, decided_at) "
            "VALUES (?, ?, ?, ?, ?, ?) RETURNING adjudication_id",
            [target.item_id, target.subtask_id, target.label, admin.strip(), note, naive_utc(now)],
        ).fetchall()[0][0]
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
    return {
        "adjudication_id": adjudication_id,
        "task": target.task,
        "item": item,
        "subtask": target.subtask,
        "label": target.label_name,
        "admin": admin.strip(),
        "note": note,
        "decided_at": naive_utc(now),
    }


def _currencies(con: Connection, task_ids: set[int]) -> dict[str, str]:
    """The currency each task's annotation events already use (one per task)."""
    return {
        task: currency
        for task, currency in con.execute(
            "SELECT DISTINCT t.name, e.currency FROM annotation_events e JOIN tasks t "
            "USING (task_id) WHERE list_contains(?, e.task_id)",
            [sorted(task_ids)],
        ).fetchall()
    }


def _lines(problems: list[tuple[int, str]]) -> list[str]:
    """'row N: problem' in row order (row 0: not about one row)."""
    return [
        f"row {row}: {problem}" if row else problem
        for row, problem in sorted(problems, key=lambda p: p[0])
    ]
