"""Reads and writes of the rules job: a task's shape, its latest fused labels aligned by
item, the votes of chosen LFs, and the task's rows in `rule_violations`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from auditor.rules.checks import CheckInputs, Violations
from auditor.rules.shape import LFShape, SubtaskShape, TaskShape
from auditor.store.connection import Connection


@dataclass(frozen=True)
class StoredShape:
    """A task's shape with the store ids its subtasks and LFs have (same order)."""

    task_id: int
    shape: TaskShape
    subtask_ids: np.ndarray  # int64, aligned with shape.subtasks
    lf_ids: np.ndarray  # int64, aligned with shape.lfs


def list_tasks(con: Connection) -> list[tuple[int, str]]:
    """(task_id, name) of every task."""
    return [
        (int(task_id), str(name))
        for task_id, name in con.execute(
            "SELECT task_id, name FROM tasks ORDER BY task_id"
        ).fetchall()
    ]


def has_fused_labels(con: Connection, task_id: int) -> bool:
    (found,) = con.execute(
        "SELECT EXISTS (SELECT 1 FROM fused_labels f JOIN fusion_runs r USING (fusion_run_id) "
        "WHERE r.task_id = ?)",
        [task_id],
    ).fetchall()[0]
    return bool(found)


def read_task_shape(con: Connection, task_id: int) -> StoredShape:
    """Subtasks (by id, with parent and parent label names and label sets) and LFs (by id,
    with their own subtask) of the task."""
    (name,) = con.execute("SELECT name FROM tasks WHERE task_id = ?", [task_id]).fetchall()[0]
    subtasks = con.execute(
        "SELECT s.subtask_id, s.name, p.name, l.name FROM subtasks s "
        "LEFT JOIN subtasks p ON p.subtask_id = s.parent_subtask_id "
        "LEFT JOIN label_sets l ON l.subtask_id = s.parent_subtask_id AND l.code = s.parent_label "
        "WHERE s.task_id = ? ORDER BY s.subtask_id",
        [task_id],
    ).fetchall()
    labels: dict[int, list[str]] = {int(row[0]): [] for row in subtasks}
    for subtask_id, label in con.execute(
        "SELECT l.subtask_id, l.name FROM label_sets l JOIN subtasks s USING (subtask_id) "
        "WHERE s.task_id = ? ORDER BY l.subtask_id, l.code",
        [task_id],
    ).fetchall():
        labels[int(subtask_id)].append(str(label))
    lfs = con.execute(
        "SELECT f.lf_id, f.name, s.name FROM labeling_functions f "
        "LEFT JOIN subtasks s ON s.subtask_id = f.subtask_id WHERE f.task_id = ? "
        "ORDER BY f.lf_id",
        [task_id],
    ).fetchall()
    shape = TaskShape(
        name=str(name),
        subtasks=tuple(
            SubtaskShape(str(sub), tuple(labels[int(sid)]), parent, parent_label)
            for sid, sub, parent, parent_label in subtasks
        ),
        lfs=tuple(LFShape(str(lf), subtask) for _, lf, subtask in lfs),
    )
    return StoredShape(
        task_id=task_id,
        shape=shape,
        subtask_ids=np.array([row[0] for row in subtasks], dtype=np.int64),
        lf_ids=np.array([row[0] for row in lfs], dtype=np.int64),
    )


def read_check_inputs(
    con: Connection, stored: StoredShape, *, vote_lfs: Sequence[str] = ()
) -> tuple[np.ndarray, CheckInputs]:
    """(item ids, inputs aligned with them): every item of the task, the latest fusion
    run's labels and probabilities per subtask (-1 / NaN where none), and the votes of the
    LFs named in vote_lfs (only those: votes are the largest table)."""
    item_ids = np.asarray(
        con.execute(
            "SELECT item_id FROM items WHERE task_id = ? ORDER BY item_id", [stored.task_id]
        ).fetchnumpy()["item_id"],
        dtype=np.int64,
    )
    fused: dict[str, np.ndarray] = {}
    proba: dict[str, np.ndarray] = {}
    for subtask, subtask_id in zip(stored.shape.subtasks, stored.subtask_ids, strict=True):
        fused[subtask.name], proba[subtask.name] = _latest_fused(
            con, int(subtask_id), item_ids, len(subtask.labels)
        )
    vote_item, vote_lf, vote_subtask, vote_label = _votes(con, stored, item_ids, vote_lfs)
    inputs = CheckInputs(fused, proba, vote_item, vote_lf, vote_subtask, vote_label)
    return item_ids, inputs


def _votes(
    con: Connection, stored: StoredShape, item_ids: np.ndarray, lfs: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(item index, LF index, subtask index, label) of the named LFs' votes."""
    if not lfs or not len(item_ids):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty
    wanted = [int(stored.lf_ids[stored.shape.lf_index(lf)]) for lf in lfs]
    votes = con.execute(
        "SELECT item_id, lf_id, subtask_id, label FROM votes WHERE list_contains(?, lf_id)",
        [wanted],
    ).fetchnumpy()
    vote_items = np.asarray(votes["item_id"], dtype=np.int64)
    rows = np.clip(np.searchsorted(item_ids, vote_items), 0, len(item_ids) - 1)
    keep = item_ids[rows] == vote_items
    return (
        rows[keep].astype(np.int64),
        np.searchsorted(stored.lf_ids, np.asarray(votes["lf_id"])[keep]).astype(np.int64),
        _positions(stored.subtask_ids, np.asarray(votes["subtask_id"])[keep]),
        np.asarray(votes["label"], dtype=np.int64)[keep],
    )


def _positions(ids: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Index of each value in ids (ids need not be sorted; every value is in ids)."""
    order = np.argsort(ids)
    return order[np.searchsorted(ids, values, sorter=order)].astype(np.int64)


def _latest_fused(
    con: Connection, subtask_id: int, item_ids: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    labels = np.full(len(item_ids), -1, dtype=np.int64)
    proba = np.full((len(item_ids), k), np.nan)
    table = con.sql(
        "SELECT item_id, label, probabilities FROM fused_labels WHERE fusion_run_id = "
        "(SELECT max(fusion_run_id) FROM fusion_runs WHERE subtask_id = ?) ORDER BY item_id",
        params=[subtask_id],
    ).to_arrow_table()
    if table.num_rows == 0 or len(item_ids) == 0:
        return labels, proba
    ids = table["item_id"].to_numpy()
    rows = np.clip(np.searchsorted(item_ids, ids), 0, len(item_ids) - 1)
    keep = item_ids[rows] == ids
    labels[rows[keep]] = table["label"].to_numpy()[keep]
    flat = pa.chunked_array(table["probabilities"]).combine_chunks().flatten().to_numpy()
    width = len(flat) // table.num_rows  # the run's label count (labels may be added later)
    if width * table.num_rows == len(flat):
        columns = min(width, k)
        proba[rows[keep], :columns] = flat.reshape(table.num_rows, width)[keep, :columns]
    return labels, proba


def replace_violations(
    con: Connection,
    task_id: int,
    violations: Violations,
    *,
    job_run_id: int | None,
    checked_at: dt.datetime,
) -> int:
    """Replace the task's rows in rule_violations by violations (item and lf as ids, lf -1
    = none); caller's transaction. Inserted from one Arrow table."""
    n = len(violations)
    lf = np.asarray(violations.lf, dtype=np.int64)
    table = pa.table(
        {
            "job_run_id": pa.array(
                np.full(n, job_run_id or 0), pa.int64(), mask=np.full(n, job_run_id is None)
            ),
            "checked_at": pa.array(np.full(n, np.datetime64(checked_at, "us"))),
            "task_id": pa.array(np.full(n, task_id, dtype=np.int32)),
            "rule": pa.array(violations.rule, pa.string()),
            "kind": pa.array(violations.kind, pa.string()),
            "item_id": pa.array(np.asarray(violations.item, dtype=np.int64)),
            "lf_id": pa.array(np.maximum(lf, 0).astype(np.int32), mask=lf < 0),
            "subtasks": pa.array(violations.subtasks, pa.string()),
            "labels": pa.array(violations.labels, pa.string()),
            "detail": pa.array(violations.detail, pa.string()),
        }
    )
    con.execute("DELETE FROM rule_violations WHERE task_id = ?", [task_id])
    con.register("violation_batch", table)
    con.execute(
        "INSERT INTO rule_violations (job_run_id, checked_at, task_id, rule, kind, item_id, "
        "lf_id, subtasks, labels, detail) SELECT job_run_id, checked_at, task_id, rule, kind, "
        "item_id, lf_id, subtasks, labels, detail FROM violation_batch"
    )
    con.unregister("violation_batch")
    return n


def read_violating_items(con: Connection, task_id: int) -> dict[int, list[str]]:
    """item_id -> the sorted names of the rules it violates (latest rules run)."""
    rows = con.execute(
        "SELECT item_id, list_sort(list(DISTINCT rule)) FROM rule_violations "
        "WHERE task_id = ? AND item_id IS NOT NULL GROUP BY item_id",
        [task_id],
    ).fetchall()
    return {int(item_id): list(rules) for item_id, rules in rows}
