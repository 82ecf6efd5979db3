"""Reads and writes of the metrics job: per-subtask inputs (counting in SQL), metric rows.

Windows: items fall into fixed windows of `width` by their creation time, aligned to the
Unix epoch (so daily windows start at 00:00 UTC); a subtask's windows run from its first
to its last item's window, empty ones included.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from auditor.metrics.inputs import LFCounts, RaterLabels, SubtaskInputs
from auditor.metrics.rows import MetricRow, finite_or_none
from auditor.store.audit_queue_io import auditor_agreement_pairs
from auditor.store.connection import Connection
from auditor.store.fusion_io import read_subtask_matrix

EPOCH = dt.datetime(1970, 1, 1)
US = 1_000_000

LF_COUNTS_SQL = """
WITH v AS (
    SELECT v.item_id, v.lf_id, v.label, (epoch_us(i.created_at) - ?) // ? AS w
    FROM votes v JOIN items i USING (item_id) WHERE v.subtask_id = ?),
per_item AS (
    SELECT item_id, count(*) AS n, min(label) AS lo, max(label) AS hi FROM v GROUP BY item_id),
c AS (SELECT item_id, label, 0 AS rank FROM audited_labels
      WHERE subtask_id = ? AND label IS NOT NULL),
g AS (SELECT item_id, arg_max(label, gold_id) AS label, 1 AS rank
      FROM gold_labels WHERE subtask_id = ? GROUP BY item_id),
gold AS (SELECT item_id, arg_min(label, rank) AS label
         FROM (SELECT * FROM c UNION ALL SELECT * FROM g) GROUP BY item_id)
SELECT v.w, v.lf_id, v.label, count(*) AS votes,
       count(*) FILTER (WHERE p.n > 1) AS overlaps,
       count(*) FILTER (WHERE p.lo <> p.hi) AS conflicts,
       count(gold.label) AS gold_n,
       count(*) FILTER (WHERE gold.label = v.label) AS gold_right
FROM v JOIN per_item p USING (item_id) LEFT JOIN gold USING (item_id)
GROUP BY ALL ORDER BY 1, 2, 3
"""


def read_subtask_inputs(
    con: Connection, task_id: int, subtask_id: int, *, width: dt.timedelta
) -> SubtaskInputs:
    """Everything the metrics of one subtask need, windows of the given width."""
    matrix = read_subtask_matrix(con, task_id, subtask_id, use_benchmark_gold=True)
    task, parent_id, parent_label = con.execute(
        "SELECT t.name, s.parent_subtask_id, s.parent_label FROM subtasks s "
        "JOIN tasks t USING (task_id) WHERE s.subtask_id = ?",
        [subtask_id],
    ).fetchall()[0]
    width_us = int(width / dt.timedelta(microseconds=1))
    created = con.execute(
        "SELECT item_id, epoch_us(created_at) AS t FROM items WHERE task_id = ? ORDER BY item_id",
        [task_id],
    ).fetchnumpy()
    created_ids, created_at = np.asarray(created["item_id"]), np.asarray(created["t"])
    at = created_at[np.searchsorted(created_ids, matrix.item_ids)].astype(np.int64)
    origin = int(at.min() // width_us * width_us) if at.size else 0
    window = (at - origin) // width_us
    n_windows = int(window.max()) + 1 if at.size else 0
    windows = tuple(
        (
            EPOCH + dt.timedelta(microseconds=origin + w * width_us),
            EPOCH + dt.timedelta(microseconds=origin + (w + 1) * width_us),
        )
        for w in range(n_windows)
    )
    lf_names = tuple(
        name
        for (name,) in con.execute(
            "SELECT name FROM labeling_functions WHERE list_contains(?, lf_id) ORDER BY lf_id",
            [matrix.lf_ids.tolist()],
        ).fetchall()
    )
    k = len(matrix.labels)
    run = latest_fusion_run(con, subtask_id)
    fused, proba = read_fused(con, run, matrix.item_ids, k)
    accuracy, propensity, log_pi, log_emission = _estimates(con, run, matrix.lf_ids, k)
    parent_fused = np.full(len(matrix.item_ids), -1, dtype=np.int64)
    parent = None
    if parent_id is not None:
        (parent_name,) = con.execute(
            "SELECT name FROM subtasks WHERE subtask_id = ?", [parent_id]
        ).fetchall()[0]
        parent = (str(parent_name), int(parent_label))
        parent_fused, _ = read_fused(con, latest_fusion_run(con, parent_id), matrix.item_ids, None)
    return SubtaskInputs(
        task=str(task),
        subtask=matrix.name,
        labels=matrix.labels,
        lf_names=lf_names,
        windows=windows,
        window=window,
        L=matrix.L,
        confidence=matrix.confidence,
        gold=matrix.gold,
        audited=_audited(con, subtask_id, matrix.item_ids),
        fused=fused,
        proba=proba,
        human=matrix.human,
        model_accuracy=accuracy,
        model_propensity=propensity,
        log_pi=log_pi,
        log_emission=log_emission,
        parent=parent,
        parent_fused=parent_fused,
        lf_counts=_lf_counts(con, subtask_id, matrix.lf_ids, k, origin, width_us),
        n_items_per_window=np.bincount(window, minlength=n_windows),
        attributes=read_item_attributes(con, task_id, matrix.item_ids),
        auditor_labels=_auditor_labels(con, subtask_id, matrix.item_ids),
        annotators=read_annotator_labels(con, subtask_id, matrix.item_ids),
    )


def _auditor_labels(con: Connection, subtask_id: int, item_ids: np.ndarray) -> np.ndarray | None:
    """(n_items, n_auditors) latest label per auditor on items two or more auditors did."""
    pairs = auditor_agreement_pairs(con, subtask_id)
    if not pairs.auditors:
        return None
    labels = np.full((len(item_ids), len(pairs.auditors)), -1, dtype=np.int64)
    keep = np.isin(pairs.item_ids, item_ids)
    labels[np.searchsorted(item_ids, pairs.item_ids[keep])] = pairs.labels[keep]
    return labels


ANNOTATOR_LABELS_SQL = """
SELECT item_id, annotator, arg_max(label, gold_id) AS label FROM gold_labels
WHERE subtask_id = ? AND annotator IS NOT NULL GROUP BY ALL ORDER BY item_id, annotator
"""


def read_annotator_labels(
    con: Connection, subtask_id: int, item_ids: np.ndarray
) -> RaterLabels | None:
    """Each gold annotator's latest label per item of the subtask (items outside item_ids
    are left out); None when no gold row of the subtask names its annotator."""
    fetched = con.execute(ANNOTATOR_LABELS_SQL, [subtask_id]).fetchnumpy()
    ids = np.asarray(fetched["item_id"], dtype=np.int64)
    keep = np.isin(ids, item_ids)
    if not keep.any():
        return None
    ids = ids[keep]
    names, column = np.unique(
        np.asarray(fetched["annotator"], dtype=object)[keep], return_inverse=True
    )
    unique_ids, row = np.unique(ids, return_inverse=True)
    labels = np.full((len(unique_ids), len(names)), -1, dtype=np.int64)
    labels[row.reshape(-1), column.reshape(-1)] = np.asarray(fetched["label"])[keep]
    return RaterLabels(
        rows=np.searchsorted(item_ids, unique_ids),
        names=tuple(str(n) for n in names),
        labels=labels,
    )


ATTRIBUTE_STATS_SQL = """
SELECT count(v), count(TRY_CAST(v AS DOUBLE)), count(DISTINCT v)
FROM (SELECT json_extract_string(attributes, ?) AS v FROM items WHERE task_id = ?)
"""


ATTRIBUTE_NUMBERS_SQL = """
SELECT item_id, TRY_CAST(json_extract_string(attributes, ?) AS DOUBLE) AS v
FROM items WHERE task_id = ? ORDER BY item_id
"""
ATTRIBUTE_STRINGS_SQL = """
SELECT item_id, json_extract_string(attributes, ?) AS v FROM items WHERE task_id = ?
ORDER BY item_id
"""


def read_item_attributes(
    con: Connection,
    task_id: int,
    item_ids: np.ndarray,
    *,
    max_attributes: int = 10,
    max_categories: int = 50,
) -> dict[str, tuple[str, np.ndarray]]:
    """name -> (kind, values aligned with item_ids) for the items' JSON attributes: numbers
    are "numerical" (float, NaN where missing); strings with at most max_categories
    distinct values "categorical" (object, None where missing); free text is left out."""
    keys = sorted(
        str(key)
        for (key,) in con.execute(
            "SELECT DISTINCT unnest(json_keys(attributes)) FROM (SELECT attributes FROM items "
            "WHERE task_id = ? AND attributes IS NOT NULL ORDER BY item_id LIMIT 1000)",
            [task_id],
        ).fetchall()
    )[:max_attributes]
    out: dict[str, tuple[str, np.ndarray]] = {}
    for key in keys:
        path = "$." + json.dumps(key)
        present, numeric, distinct = con.execute(ATTRIBUTE_STATS_SQL, [path, task_id]).fetchall()[0]
        if present == 0 or (numeric < present and distinct > max_categories):
            continue
        kind = "numerical" if numeric == present else "categorical"
        # numbers are cast by DuckDB (NULL -> NaN below), never by a Python loop over rows
        sql = ATTRIBUTE_NUMBERS_SQL if kind == "numerical" else ATTRIBUTE_STRINGS_SQL
        fetched = con.execute(sql, [path, task_id]).fetchnumpy()
        ids = np.asarray(fetched["item_id"])
        at = np.searchsorted(ids, item_ids)
        if kind == "numerical":
            values = np.ma.filled(np.ma.asarray(fetched["v"]).astype(np.float64), np.nan)[at]
        else:
            values = np.asarray(fetched["v"], dtype=object)[at]
        out[key] = (kind, values)
    return out


def latest_fusion_run(con: Connection, subtask_id: int) -> tuple[int, str, list[float]] | None:
    rows = con.execute(
        "SELECT fusion_run_id, model, class_balance FROM fusion_runs WHERE subtask_id = ? "
        "ORDER BY fusion_run_id DESC LIMIT 1",
        [subtask_id],
    ).fetchall()
    return None if not rows else (int(rows[0][0]), str(rows[0][1]), list(rows[0][2] or []))


def read_fused(
    con: Connection, run: tuple[int, str, list[float]] | None, item_ids: np.ndarray, k: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """(label int (n,), -1 = not fused; proba float (n, k), NaN rows where not fused)."""
    fused = np.full(len(item_ids), -1, dtype=np.int64)
    proba = np.full((len(item_ids), k or 1), np.nan)
    if run is None:
        return fused, proba
    table = con.sql(
        "SELECT item_id, label, probabilities FROM fused_labels WHERE fusion_run_id = ?",
        params=[run[0]],
    ).to_arrow_table()
    ids = table["item_id"].to_numpy()
    keep = np.isin(ids, item_ids)
    rows = np.searchsorted(item_ids, ids[keep])
    fused[rows] = table["label"].to_numpy()[keep]
    if k is not None and len(ids):
        flat = pa.chunked_array(table["probabilities"]).combine_chunks().flatten().to_numpy()
        proba[rows] = flat.reshape(len(ids), -1)[keep]
    return fused, proba


def _estimates(
    con: Connection, run: tuple[int, str, list[float]] | None, lf_ids: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    m = len(lf_ids)
    accuracy, propensity = np.full(m, np.nan), np.full(m, np.nan)
    if run is None:
        return accuracy, propensity, None, None
    rows = con.execute(
        "SELECT lf_id, accuracy, propensity, confusion FROM lf_estimates "
        "WHERE fusion_run_id = ? ORDER BY lf_id",
        [run[0]],
    ).fetchall()
    log_emission = np.full((m, k, k), np.log(1.0 / k))
    for lf_id, acc, prop, confusion in rows:
        j = int(np.searchsorted(lf_ids, lf_id))
        if j < m and lf_ids[j] == lf_id:
            accuracy[j], propensity[j] = acc, prop
            log_emission[j] = np.log(np.clip(np.asarray(json.loads(confusion))[:k, :k], 1e-12, 1))
    if run[1] == "MajorityVote":  # every vote counts the same: equal-accuracy emissions
        equal = np.full((k, k), 0.1 / max(k - 1, 1))
        np.fill_diagonal(equal, 0.9)
        return (
            accuracy,
            propensity,
            np.full(k, -np.log(k)),
            np.broadcast_to(np.log(equal), (m, k, k)),
        )
    pi = np.asarray(run[2], dtype=float) if len(run[2]) == k else np.full(k, 1.0 / k)
    return accuracy, propensity, np.log(np.clip(pi, 1e-12, 1)), log_emission


def _audited(con: Connection, subtask_id: int, item_ids: np.ndarray) -> np.ndarray:
    rows = con.execute(
        "SELECT item_id, label FROM audited_labels WHERE subtask_id = ? AND label IS NOT NULL",
        [subtask_id],
    ).fetchnumpy()
    audited = np.full(len(item_ids), -1, dtype=np.int64)
    keep = np.isin(rows["item_id"], item_ids)
    audited[np.searchsorted(item_ids, rows["item_id"][keep])] = rows["label"][keep]
    return audited


def _lf_counts(
    con: Connection, subtask_id: int, lf_ids: np.ndarray, k: int, origin: int, width_us: int
) -> LFCounts:
    """Per (window, LF) counts, computed by DuckDB over the votes table."""
    fetched = con.execute(
        LF_COUNTS_SQL, [origin, width_us, subtask_id, subtask_id, subtask_id]
    ).fetchnumpy()
    r = {name: np.asarray(values) for name, values in fetched.items()}
    keys = np.stack([r["w"].astype(np.int64), np.searchsorted(lf_ids, r["lf_id"])], axis=1)
    unique, inverse = (
        np.unique(keys, axis=0, return_inverse=True) if len(keys) else (keys, np.zeros(0, int))
    )
    inverse = inverse.reshape(-1)

    def total(column: str) -> np.ndarray:
        return np.bincount(inverse, weights=r[column], minlength=len(unique)).astype(np.int64)

    labels = np.zeros((len(unique), k), dtype=np.int64)
    np.add.at(labels, (inverse, r["label"].astype(np.int64)), r["votes"].astype(np.int64))
    return LFCounts(
        window=unique[:, 0],
        lf=unique[:, 1],
        votes=total("votes"),
        overlaps=total("overlaps"),
        conflicts=total("conflicts"),
        gold_n=total("gold_n"),
        gold_right=total("gold_right"),
        labels=labels,
    )


def latest_window_start(con: Connection, task: str) -> dt.datetime | None:
    """Start of the newest window stored for the task (None before the first run)."""
    return con.execute("SELECT max(window_start) FROM metrics WHERE task = ?", [task]).fetchall()[
        0
    ][0]


def replace_window_metrics(
    con: Connection,
    task: str,
    rows: Sequence[MetricRow],
    *,
    job_run_id: int | None,
    computed_at: dt.datetime,
) -> int:
    """Replace, for each (window, metric) in rows, the task's stored rows by rows;
    caller's transaction. Other windows and metrics (history, drift of past windows) stay."""
    table = pa.table(
        {
            "job_run_id": pa.array([job_run_id] * len(rows), pa.int64()),
            "computed_at": pa.array([computed_at] * len(rows), pa.timestamp("us")),
            "metric": [r.metric for r in rows],
            "scope": [r.scope for r in rows],
            "key": [r.key for r in rows],
            "window_start": pa.array([r.window_start for r in rows], pa.timestamp("us")),
            "window_end": pa.array([r.window_end for r in rows], pa.timestamp("us")),
            "value": pa.array([finite_or_none(r.value) for r in rows], pa.float64()),
            "ci_low": pa.array([finite_or_none(r.estimate.low) for r in rows], pa.float64()),
            "ci_high": pa.array([finite_or_none(r.estimate.high) for r in rows], pa.float64()),
            "details": [json.dumps(_clean(r.details()), default=_json_default) for r in rows],
            "task": [task] * len(rows),
        }
    )
    con.register("metric_batch", table)
    con.execute(
        "DELETE FROM metrics USING (SELECT DISTINCT task, metric, window_start, window_end "
        "FROM metric_batch) AS b WHERE metrics.task = b.task AND metrics.metric = b.metric "
        "AND metrics.window_start IS NOT DISTINCT FROM b.window_start "
        "AND metrics.window_end IS NOT DISTINCT FROM b.window_end"
    )
    con.execute(
        "INSERT INTO metrics (job_run_id, computed_at, metric, scope, key, window_start, "
        "window_end, value, ci_low, ci_high, details, task) SELECT job_run_id, computed_at, "
        "metric, scope, key, window_start, window_end, value, ci_low, ci_high, "
        "CAST(details AS JSON), task FROM metric_batch"
    )
    con.unregister("metric_batch")
    return len(rows)


def _clean(value: object) -> object:
    """NaN / inf -> None, recursively: JSON has no NaN."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return _clean(value.tolist())
    if isinstance(value, float | np.floating) and not np.isfinite(value):
        return None
    return value


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)
