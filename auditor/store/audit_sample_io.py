"""Reads and writes of the audit-sample job: who is eligible, what to score, the round."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from auditor.store.connection import Connection
from auditor.store.fusion_io import read_subtask_matrix
from auditor.store.metrics_io import latest_fusion_run, read_fused

N_CONFIDENCE_BINS = 100
DEFAULT_AUDIT_SECONDS = 30.0

ELIGIBILITY_SQL = """
WITH last_vote AS (
    SELECT item_id, max(voted_at) AS t FROM votes WHERE subtask_id = $s GROUP BY item_id),
last_audit AS (
    SELECT item_id, max(submitted_at) AS t FROM corrections WHERE subtask_id = $s
    GROUP BY item_id)
SELECT item_id FROM audit_queue WHERE subtask_id = $s AND state = 'open'
UNION
SELECT a.item_id FROM last_audit a LEFT JOIN last_vote v USING (item_id)
WHERE v.t IS NULL OR a.t >= v.t
"""


@dataclass(frozen=True)
class SamplingInputs:
    """One subtask's items for a round. item_ids int (n,); L int8 (n, m), -1 abstain;
    fused int (n,), -1 = not fused; proba float (n, k); eligible bool (n,): fused, not
    open in a queue, not audited since its last vote; rules / improbable bool (n,): the
    latest rules run flagged it; window int (n,) day index since the first item."""

    subtask_id: int
    subtask: str
    item_ids: np.ndarray
    L: np.ndarray
    fused: np.ndarray
    proba: np.ndarray
    eligible: np.ndarray
    rules: np.ndarray
    improbable: np.ndarray
    window: np.ndarray
    audit_seconds: float


def read_sampling_inputs(con: Connection, task_id: int, subtask_id: int) -> SamplingInputs:
    matrix = read_subtask_matrix(con, task_id, subtask_id)
    k = len(matrix.labels)
    fused, proba = read_fused(con, latest_fusion_run(con, subtask_id), matrix.item_ids, k)
    blocked = np.asarray(
        con.execute(ELIGIBILITY_SQL, {"s": subtask_id}).fetchnumpy()["item_id"], dtype=np.int64
    )
    flags = con.execute(
        "SELECT item_id, bool_or(kind = 'improbable') AS improbable, "
        "bool_or(kind <> 'improbable') AS rules FROM rule_violations "
        "WHERE task_id = ? AND item_id IS NOT NULL GROUP BY item_id",
        [task_id],
    ).fetchnumpy()
    flagged_ids = np.asarray(flags["item_id"], dtype=np.int64)
    rules = np.zeros(len(matrix.item_ids), dtype=bool)
    improbable = np.zeros(len(matrix.item_ids), dtype=bool)
    hit = np.isin(flagged_ids, matrix.item_ids)
    rows = np.searchsorted(matrix.item_ids, flagged_ids[hit])
    rules[rows] = np.asarray(flags["rules"], dtype=bool)[hit]
    improbable[rows] = np.asarray(flags["improbable"], dtype=bool)[hit]
    created = con.execute(
        "SELECT item_id, epoch(created_at) // 86400 AS day FROM items WHERE task_id = ? "
        "ORDER BY item_id",
        [task_id],
    ).fetchnumpy()
    day = np.asarray(created["day"], dtype=np.int64)[
        np.searchsorted(np.asarray(created["item_id"]), matrix.item_ids)
    ]
    (seconds,) = con.execute(
        "SELECT median(seconds) FROM annotation_events WHERE kind = 'audit' AND subtask_id = ?",
        [subtask_id],
    ).fetchall()[0]
    return SamplingInputs(
        subtask_id=subtask_id,
        subtask=matrix.name,
        item_ids=matrix.item_ids,
        L=matrix.L,
        fused=fused,
        proba=proba,
        eligible=(fused >= 0) & ~np.isin(matrix.item_ids, blocked),
        rules=rules,
        improbable=improbable,
        window=day - (day.min() if day.size else 0),
        audit_seconds=float(seconds) if seconds is not None else DEFAULT_AUDIT_SECONDS,
    )


@dataclass(frozen=True)
class RoundRecord:
    """What write_round stores; the arrays are aligned over the sampled (subtask, item)s."""

    task_id: int
    job_run_id: int | None
    created_at: dt.datetime
    budget_items: float | None
    budget_cost: float | None
    random_share: float
    strategy_weights: dict[str, float]
    stratify_by: str | None
    population: int
    expected_size: float
    seed: int


def write_round(
    con: Connection, record: RoundRecord, *, population: pa.Table, queue: pa.Table
) -> int:
    """audit_rounds, audit_population and audit_queue rows of one round; caller's
    transaction. population: subtask_id, label, confidence_bin, n_items, sum_confidence;
    queue: item_id, subtask_id, fused_label, confidence, strategy, score, stratum,
    inclusion_probability, from_random."""
    (round_id,) = con.execute(
        "INSERT INTO audit_rounds (task_id, job_run_id, created_at, budget_items, budget_cost, "
        "random_share, strategy_weights, stratify_by, population, expected_size, seed) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING round_id",
        [
            record.task_id,
            record.job_run_id,
            record.created_at,
            record.budget_items,
            record.budget_cost,
            record.random_share,
            json.dumps(record.strategy_weights),
            record.stratify_by,
            record.population,
            record.expected_size,
            record.seed,
        ],
    ).fetchall()[0]
    con.register("round_population", population)
    con.execute(
        "INSERT INTO audit_population SELECT ?, subtask_id, label, confidence_bin, n_items, "
        "sum_confidence FROM round_population",
        [round_id],
    )
    con.unregister("round_population")
    con.register("round_queue", queue)
    con.execute(
        "INSERT INTO audit_queue (round_id, item_id, subtask_id, fused_label, confidence, "
        "strategy, score, stratum, inclusion_probability, from_random, state, created_at) "
        "SELECT ?, item_id, subtask_id, fused_label, confidence, strategy, score, stratum, "
        "inclusion_probability, from_random, 'open', ? FROM round_queue",
        [round_id, record.created_at],
    )
    con.unregister("round_queue")
    return int(round_id)


def population_table(subtask_id: int, fused: np.ndarray, confidence: np.ndarray) -> pa.Table:
    """Counts and confidence sums per (fused label, confidence bin) of eligible items."""
    bins = np.minimum((confidence * N_CONFIDENCE_BINS).astype(np.int64), N_CONFIDENCE_BINS - 1)
    keys = fused.astype(np.int64) * N_CONFIDENCE_BINS + bins
    unique, inverse = np.unique(keys, return_inverse=True)
    return pa.table(
        {
            "subtask_id": pa.array(np.full(len(unique), subtask_id, dtype=np.int32)),
            "label": pa.array((unique // N_CONFIDENCE_BINS).astype(np.int16)),
            "confidence_bin": pa.array((unique % N_CONFIDENCE_BINS).astype(np.int16)),
            "n_items": pa.array(np.bincount(inverse, minlength=len(unique)).astype(np.int64)),
            "sum_confidence": pa.array(
                np.bincount(inverse, weights=confidence, minlength=len(unique))
            ),
        }
    )
