"""Reads and writes of the fuse job: label matrices out of votes, fused labels back in."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa

from auditor.store.connection import Connection


@dataclass(frozen=True)
class SubtaskMatrix:
    """One subtask's votes as a label matrix.

    item_ids: int64 (n_items,); lf_ids: int64 (n_lfs,); L: int8 (n_items, n_lfs), -1 =
    abstain; confidence: float32 like L, NaN where none; gold: int64 (n_items,), -1 =
    unknown (auditor corrections win over imported gold); human: bool (n_lfs,) LFs of
    kind human; labels: the label names by code.
    """

    task_id: int
    subtask_id: int
    name: str
    labels: tuple[str, ...]
    item_ids: np.ndarray
    lf_ids: np.ndarray
    L: np.ndarray
    confidence: np.ndarray
    gold: np.ndarray
    human: np.ndarray


def list_subtasks(con: Connection) -> list[tuple[int, int, str, str]]:
    """(task_id, subtask_id, task name, subtask name) of every subtask."""
    return con.execute(
        "SELECT s.task_id, s.subtask_id, t.name, s.name FROM subtasks s "
        "JOIN tasks t USING (task_id) ORDER BY s.task_id, s.subtask_id"
    ).fetchall()


def read_subtask_matrix(
    con: Connection, task_id: int, subtask_id: int, *, use_benchmark_gold: bool = False
) -> SubtaskMatrix:
    """Items: every item of the task for a top-level subtask, else the items with a vote or
    gold for this subtask (a refinement applies only under its parent label)."""
    name, parent = con.execute(
        "SELECT name, parent_subtask_id FROM subtasks WHERE subtask_id = ?", [subtask_id]
    ).fetchall()[0]
    labels = tuple(
        n
        for (n,) in con.execute(
            "SELECT name FROM label_sets WHERE subtask_id = ? ORDER BY code", [subtask_id]
        ).fetchall()
    )
    if parent is None:
        items = con.execute(
            "SELECT item_id FROM items WHERE task_id = ? ORDER BY item_id", [task_id]
        ).fetchnumpy()["item_id"]
    else:
        items = con.execute(
            "SELECT item_id FROM votes WHERE subtask_id = ? UNION "
            "SELECT item_id FROM gold_labels WHERE subtask_id = ? UNION "
            "SELECT item_id FROM corrections WHERE subtask_id = ? ORDER BY item_id",
            [subtask_id, subtask_id, subtask_id],
        ).fetchnumpy()["item_id"]
    lfs = con.execute(
        "SELECT lf_id, kind = 'human' AS human FROM labeling_functions WHERE lf_id IN "
        "(SELECT DISTINCT lf_id FROM votes WHERE subtask_id = ?) ORDER BY lf_id",
        [subtask_id],
    ).fetchnumpy()
    votes = con.execute(
        "SELECT item_id, lf_id, label, confidence FROM votes WHERE subtask_id = ?", [subtask_id]
    ).fetchnumpy()
    item_ids = np.asarray(items, dtype=np.int64)
    lf_ids = np.asarray(lfs["lf_id"], dtype=np.int64)
    L = np.full((len(item_ids), len(lf_ids)), -1, dtype=np.int8)
    confidence = np.full(L.shape, np.nan, dtype=np.float32)
    rows = np.searchsorted(item_ids, votes["item_id"])
    cols = np.searchsorted(lf_ids, votes["lf_id"])
    L[rows, cols] = votes["label"]
    confidence[rows, cols] = np.ma.filled(np.ma.asarray(votes["confidence"]), np.nan)
    sources = ["import", "benchmark"] if use_benchmark_gold else ["import"]
    gold_rows = con.execute(
        # audited labels (adjudicated, or agreed by the auditors) win over imported gold
        "WITH c AS (SELECT item_id, label, 0 AS rank FROM audited_labels "
        "  WHERE subtask_id = ? AND label IS NOT NULL), "
        "g AS (SELECT item_id, arg_max(label, gold_id) AS label, 1 AS rank FROM gold_labels "
        "  WHERE subtask_id = ? AND list_contains(?, source) GROUP BY item_id) "
        "SELECT item_id, arg_min(label, rank) AS label FROM (SELECT * FROM c UNION ALL "
        "SELECT * FROM g) GROUP BY item_id",
        [subtask_id, subtask_id, sources],
    ).fetchnumpy()
    gold = np.full(len(item_ids), -1, dtype=np.int64)
    known = np.isin(gold_rows["item_id"], item_ids)
    gold[np.searchsorted(item_ids, gold_rows["item_id"][known])] = gold_rows["label"][known]
    return SubtaskMatrix(
        task_id,
        subtask_id,
        name,
        labels,
        item_ids,
        lf_ids,
        L,
        confidence,
        gold,
        np.asarray(lfs["human"], dtype=bool),
    )


@dataclass(frozen=True)
class FusionFit:
    """One subtask's fit, ready to store: proba float (n_items, k) rows sum to 1; lf_rows:
    lf_id, accuracy, propensity, model, confusion per LF; class_balance float (k,)."""

    matrix: SubtaskMatrix
    proba: np.ndarray
    model: str
    config: dict[str, Any]
    lf_rows: list[dict[str, Any]]
    class_balance: np.ndarray
    temperature: float
    seconds: float


def write_fusion_runs(
    con: Connection, fits: Sequence[FusionFit], *, job_run_id: int | None = None
) -> list[int]:
    """fusion_runs, fused_labels and lf_estimates of every fit, all in one transaction
    (a run killed before COMMIT leaves none of them); returns the fusion_run_ids."""
    now = datetime.now(UTC).replace(tzinfo=None)
    con.execute("BEGIN TRANSACTION")
    try:
        run_ids = [_insert_fit(con, fit, now=now, job_run_id=job_run_id) for fit in fits]
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
    return run_ids


def _insert_fit(con: Connection, fit: FusionFit, *, now: datetime, job_run_id: int | None) -> int:
    """One fit's rows; caller's transaction."""
    matrix, proba = fit.matrix, fit.proba
    covered = (matrix.L != -1).any(axis=1)
    ordered = np.sort(proba, axis=1)
    entropy = -(proba * np.log(np.clip(proba, 1e-300, None))).sum(axis=1)
    run_id = con.execute(
        "INSERT INTO fusion_runs (task_id, subtask_id, model, config, n_items, n_votes, "
        "created_at, class_balance, temperature, n_gold, seconds, job_run_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING fusion_run_id",
        [
            matrix.task_id,
            matrix.subtask_id,
            fit.model,
            json.dumps(fit.config),
            len(matrix.item_ids),
            int((matrix.L != -1).sum()),
            now,
            fit.class_balance.tolist(),
            fit.temperature,
            int((matrix.gold >= 0).sum()),
            fit.seconds,
            job_run_id,
        ],
    ).fetchall()[0][0]
    k = proba.shape[1]
    fused = pa.table(
        {
            "fusion_run_id": pa.array(np.full(len(proba), run_id, dtype=np.int64)),
            "item_id": pa.array(matrix.item_ids),
            "subtask_id": pa.array(np.full(len(proba), matrix.subtask_id, dtype=np.int32)),
            "label": pa.array(proba.argmax(axis=1).astype(np.int16)),
            "probabilities": pa.FixedSizeListArray.from_arrays(pa.array(proba.ravel()), k),
            "entropy": pa.array(entropy),
            "margin": pa.array(ordered[:, -1] - ordered[:, -2]),
            "uncovered": pa.array(~covered),
        }
    )
    con.register("fused_batch", fused)
    con.execute(
        "INSERT INTO fused_labels SELECT fusion_run_id, item_id, subtask_id, label, "
        "CAST(probabilities AS DOUBLE[]), entropy, margin, uncovered FROM fused_batch"
    )
    con.unregister("fused_batch")
    con.executemany(
        "INSERT INTO lf_estimates VALUES (?, ?, ?, ?, ?, ?)",
        [
            [
                run_id,
                row["lf_id"],
                row["accuracy"],
                row["propensity"],
                row["model"],
                json.dumps(row["confusion"]),
            ]
            for row in fit.lf_rows
        ],
    )
    return int(run_id)
