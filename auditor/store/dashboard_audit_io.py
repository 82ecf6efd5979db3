"""Reads for the dashboard's audit pages (bound parameters only): the next open queue item
of a task for an auditor, one item with everything an auditor needs to judge it, the
auditor's progress, each subtask's label names.

`audit_item` explains one item for every subtask of its task (queued or not, so that a
stage-2 subtask can be offered when the auditor's stage-1 choice calls for it): the fused
label and probabilities of the subtask's latest fusion run and each LF vote's
contribution to the posterior log-odds of the fused label over the runner-up, the same
numbers as `audit_queue_io.list_queue` (see its module doc for the formula). It reads one
item's votes, never a whole vote table.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from auditor.store.audit_queue_io import (
    dicts,
    label_name,
    label_names,
    runner_up_of,
    vote_contributions,
)
from auditor.store.connection import Connection

_NEXT = """
SELECT q.item_id, count(*) OVER () AS open_items
FROM audit_queue q
JOIN subtasks s ON s.subtask_id = q.subtask_id
JOIN tasks t ON t.task_id = s.task_id
JOIN items i ON i.item_id = q.item_id
WHERE q.state = 'open' AND t.name = ?
  AND (q.assigned_to IS NULL OR q.assigned_to = ?)
  AND NOT list_contains(CAST(? AS BIGINT[]), q.item_id)
  AND NOT EXISTS (SELECT 1 FROM corrections c WHERE c.item_id = q.item_id
                  AND c.auditor = ? AND c.submitted_at >= q.created_at)
GROUP BY q.item_id, i.external_id
ORDER BY max(q.round_id) DESC, max(q.score) DESC, i.external_id
LIMIT 1"""
_ITEM = """
SELECT i.item_id, i.external_id AS item, t.name AS task, i.attributes
FROM items i JOIN tasks t ON t.task_id = i.task_id WHERE i.item_id = ?"""
_SUBTASKS = """
WITH latest AS (SELECT subtask_id, max(fusion_run_id) AS run FROM fusion_runs GROUP BY ALL)
SELECT s.subtask_id, s.name AS subtask, s.description, p.name AS parent, s.parent_label,
       s.parent_subtask_id, f.label AS fused_code, f.probabilities, r.fusion_run_id,
       r.model, r.temperature
FROM items i
JOIN subtasks s ON s.task_id = i.task_id
LEFT JOIN subtasks p ON p.subtask_id = s.parent_subtask_id
LEFT JOIN latest l ON l.subtask_id = s.subtask_id
LEFT JOIN fusion_runs r ON r.fusion_run_id = l.run
LEFT JOIN fused_labels f ON f.fusion_run_id = l.run AND f.item_id = i.item_id
    AND f.subtask_id = s.subtask_id
WHERE i.item_id = ?
ORDER BY s.parent_subtask_id NULLS FIRST, s.subtask_id"""
_ENTRIES = """
SELECT subtask_id, round_id, state, fused_label, strategy, score, stratum, assigned_to
FROM audit_queue WHERE item_id = ? AND state IN ('open', 'done')
ORDER BY state = 'open' DESC, round_id DESC"""
_VOTES = """
SELECT v.subtask_id, v.lf_id, f.name AS lf, v.label, v.confidence
FROM votes v JOIN labeling_functions f USING (lf_id)
WHERE v.item_id = ? ORDER BY f.name"""
_ESTIMATES = """
SELECT fusion_run_id, lf_id, confusion FROM lf_estimates
WHERE list_contains(CAST(? AS BIGINT[]), fusion_run_id)
  AND list_contains(CAST(? AS BIGINT[]), lf_id)"""
_PROGRESS = """
WITH task AS (SELECT task_id FROM tasks WHERE name = ?),
round AS (SELECT max(round_id) AS round_id FROM audit_rounds WHERE task_id = (FROM task)),
mine AS (
    SELECT c.item_id, c.round_id, c.seconds FROM corrections c
    JOIN items i ON i.item_id = c.item_id
    WHERE i.task_id = (FROM task) AND c.auditor = ?),
queued AS (
    SELECT q.item_id, bool_or(q.state = 'open') AS open FROM audit_queue q
    WHERE q.round_id = (FROM round) GROUP BY q.item_id)
SELECT (FROM round) AS round_id,
       (SELECT count(*) FROM queued) AS round_items,
       (SELECT count(*) FILTER (WHERE open) FROM queued) AS round_open_items,
       (SELECT count(DISTINCT item_id) FROM mine WHERE round_id = (FROM round))
           AS audited_this_round,
       (SELECT count(DISTINCT item_id) FROM mine) AS audited_total,
       (SELECT count(*) FROM mine) AS corrections_total,
       (SELECT coalesce(sum(seconds), 0) FROM mine) AS seconds_total"""


def next_open_item(
    con: Connection, *, task: str, auditor: str, exclude: list[int] | None = None
) -> dict[str, Any] | None:
    """{item_id, open_items} of the item to audit next in task: the newest round's open
    entries first, highest score first, leaving out entries assigned to someone else,
    items the auditor corrected since the entry was queued (an open entry can outlive a
    submission: a stage-2 entry whose refinement the auditor's stage-1 label rules out)
    and the item ids in exclude; open_items counts the items left. None when none is."""
    rows = dicts(con.execute(_NEXT, [task, auditor, sorted(exclude or []), auditor]))
    return rows[0] if rows else None


def audit_item(con: Connection, item_id: int) -> dict[str, Any] | None:
    """One item for an auditor, or None when there is no such item.

    {item_id, item, task, attributes (dict), text (attributes['text'] or None), subtasks:
    [...]} with subtasks parents first, each {subtask, subtask_id, description, parent
    (name or None), parent_label (the parent's label name it refines, or None), labels
    (names by code), fused_label (name or None), probabilities ({name: p} or None),
    runner_up, model, entry (the item's queue entry for the subtask: {round_id, state,
    strategy, score, stratum, assigned_to}; open ones first, else the newest done one;
    None when not queued), votes ([{lf, label, confidence, log_likelihood_ratio,
    contribution}])}.
    """
    items = dicts(con.execute(_ITEM, [item_id]))
    if not items:
        return None
    item = items[0]
    attributes = json.loads(item["attributes"]) if item["attributes"] else {}
    subtasks = dicts(con.execute(_SUBTASKS, [item_id]))
    names = label_names(con)
    entries: dict[int, dict[str, Any]] = {}
    for entry in dicts(con.execute(_ENTRIES, [item_id])):
        entries.setdefault(entry.pop("subtask_id"), entry)
    votes: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for vote in dicts(con.execute(_VOTES, [item_id])):
        votes[vote["subtask_id"]].append(vote)
    runs = sorted({s["fusion_run_id"] for s in subtasks if s["fusion_run_id"] is not None})
    lfs = sorted({v["lf_id"] for rows in votes.values() for v in rows})
    confusion = {
        (run, lf): json.loads(matrix)
        for run, lf, matrix in con.execute(_ESTIMATES, [runs, lfs]).fetchall()
    }
    shown = [
        _subtask(s, names, entries.get(s["subtask_id"]), votes[s["subtask_id"]], confusion)
        for s in subtasks
    ]
    return {
        "item_id": item["item_id"],
        "item": item["item"],
        "task": item["task"],
        "attributes": attributes,
        "text": attributes.get("text") if isinstance(attributes, dict) else None,
        "subtasks": shown,
    }


def _subtask(
    row: dict[str, Any],
    names: dict[int, list[str]],
    entry: dict[str, Any] | None,
    votes: list[dict[str, Any]],
    confusion: dict[tuple[int, int], list[list[float]]],
) -> dict[str, Any]:
    labels = names.get(row["subtask_id"], [])
    parent_labels = names.get(row["parent_subtask_id"], []) if row["parent"] else []
    proba, fused = row["probabilities"], row["fused_code"]
    if fused is None and entry is not None:
        fused = entry["fused_label"]
    runner_up = runner_up_of(proba, fused)
    run = row["fusion_run_id"]
    shown = vote_contributions(
        votes,
        labels,
        {lf: matrix for (r, lf), matrix in confusion.items() if r == run},
        fused=fused,
        runner_up=runner_up,
        temperature=row["temperature"] or 1.0,
    )
    if entry is not None:
        entry = {k: v for k, v in entry.items() if k != "fused_label"}
    return {
        "subtask": row["subtask"],
        "subtask_id": row["subtask_id"],
        "description": row["description"],
        "parent": row["parent"],
        "parent_label": None
        if row["parent_label"] is None
        else label_name(parent_labels, row["parent_label"]),
        "labels": labels,
        "fused_label": None if fused is None else label_name(labels, fused),
        "probabilities": None
        if proba is None
        else {label_name(labels, c): p for c, p in enumerate(proba)},
        "runner_up": None if runner_up is None else label_name(labels, runner_up),
        "model": row["model"],
        "entry": entry,
        "votes": shown,
    }


def audit_progress(con: Connection, *, task: str, auditor: str) -> dict[str, Any]:
    """{round_id (the task's newest round, None before any), round_items (items queued in
    it), round_open_items, audited_this_round, audited_total (distinct items the auditor
    corrected), corrections_total, seconds_total}."""
    return dicts(con.execute(_PROGRESS, [task, auditor]))[0]


def subtask_labels(con: Connection, task: str) -> dict[str, list[str]]:
    """{subtask: label names by code} of task."""
    rows = con.execute(
        "SELECT s.name, l.name FROM label_sets l JOIN subtasks s USING (subtask_id) "
        "JOIN tasks t USING (task_id) WHERE t.name = ? ORDER BY s.subtask_id, l.code",
        [task],
    ).fetchall()
    out: dict[str, list[str]] = {}
    for subtask, label in rows:
        out.setdefault(subtask, []).append(label)
    return out
