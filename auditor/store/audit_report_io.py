"""Read one audit round for the accuracy report: its sampled items with their audits, and
the confidence histogram of the population it was drawn from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from auditor.store.connection import Connection


@dataclass(frozen=True)
class RoundData:
    """Sampled (n,): subtask_id, fused_label, confidence, pi, from_random, audited (the
    audited label, -1 = not audited yet or disputed). Population bins (b,): subtask_id,
    label, n_items, mean confidence. labels: subtask_id -> label names."""

    round_id: int
    task: str
    created_at: dt.datetime
    subtask_names: dict[int, str]
    labels: dict[int, tuple[str, ...]]
    subtask_id: np.ndarray
    fused_label: np.ndarray
    confidence: np.ndarray
    pi: np.ndarray
    from_random: np.ndarray
    audited: np.ndarray
    bin_subtask: np.ndarray
    bin_label: np.ndarray
    bin_items: np.ndarray
    bin_confidence: np.ndarray


def latest_round_id(con: Connection, task: str | None) -> int | None:
    """The newest round with at least one audited item (of the task, if given)."""
    rows = con.execute(
        "SELECT max(r.round_id) FROM audit_rounds r JOIN tasks t USING (task_id) "
        "WHERE (CAST(? AS VARCHAR) IS NULL OR t.name = ?) AND EXISTS (SELECT 1 FROM "
        "audit_queue q WHERE q.round_id = r.round_id AND q.state = 'done')",
        [task, task],
    ).fetchall()
    return None if rows[0][0] is None else int(rows[0][0])


def read_round(con: Connection, round_id: int) -> RoundData:
    found = con.execute(
        "SELECT t.name, r.created_at, r.task_id FROM audit_rounds r JOIN tasks t "
        "USING (task_id) WHERE r.round_id = ?",
        [round_id],
    ).fetchall()
    if not found:
        raise ValueError(f"no audit round {round_id}")
    task, created_at, task_id = found[0]
    sampled = con.execute(
        "SELECT q.subtask_id, q.fused_label, q.confidence, q.inclusion_probability AS pi, "
        "q.from_random, coalesce(a.label, -1) AS audited FROM audit_queue q "
        "LEFT JOIN audited_labels a ON a.item_id = q.item_id AND a.subtask_id = q.subtask_id "
        "WHERE q.round_id = ? ORDER BY q.subtask_id, q.item_id",
        [round_id],
    ).fetchnumpy()
    bins = con.execute(
        "SELECT subtask_id, label, n_items, sum_confidence / n_items AS mean_confidence "
        "FROM audit_population WHERE round_id = ? ORDER BY subtask_id, label, confidence_bin",
        [round_id],
    ).fetchnumpy()
    subtasks = con.execute(
        "SELECT subtask_id, name FROM subtasks WHERE task_id = ?", [task_id]
    ).fetchall()
    labels: dict[int, list[str]] = {}
    for subtask_id, name in con.execute(
        "SELECT subtask_id, name FROM label_sets WHERE subtask_id IN "
        "(SELECT subtask_id FROM subtasks WHERE task_id = ?) ORDER BY subtask_id, code",
        [task_id],
    ).fetchall():
        labels.setdefault(int(subtask_id), []).append(str(name))
    return RoundData(
        round_id=round_id,
        task=str(task),
        created_at=created_at,
        subtask_names={int(s): str(n) for s, n in subtasks},
        labels={s: tuple(names) for s, names in labels.items()},
        subtask_id=np.asarray(sampled["subtask_id"], dtype=np.int64),
        fused_label=np.asarray(sampled["fused_label"], dtype=np.int64),
        confidence=np.asarray(sampled["confidence"], dtype=float),
        pi=np.asarray(sampled["pi"], dtype=float),
        from_random=np.asarray(sampled["from_random"], dtype=bool),
        audited=np.asarray(sampled["audited"], dtype=np.int64),
        bin_subtask=np.asarray(bins["subtask_id"], dtype=np.int64),
        bin_label=np.asarray(bins["label"], dtype=np.int64),
        bin_items=np.asarray(bins["n_items"], dtype=np.int64),
        bin_confidence=np.clip(np.asarray(bins["mean_confidence"], dtype=float), 0, 1),
    )
