"""The audit-sample job: one round per task of items for auditors to check.

Per subtask, every eligible item (fused, not open in a queue, not audited since its last
vote) gets strategy scores (uncertainty of the fused posterior, LF conflict, rule and
improbability flags of the latest rules run, disagreement with majority vote); the
combined score sets each item's targeted inclusion probability, and a uniform share
(settings.audit_random_share) is drawn beside it as the unbiased sentinel. The budget
(expected items, or expected cost) is split across strata (subtask by default; also
class and/or window). Each sampled item lands in audit_queue with its strategy, score,
stratum and inclusion probability; the population's confidence histogram lands in
audit_population, so that `labelwatch report accuracy` can weight every audit. The
accuracy estimates of the task's newest audited round (metric rows) and the new round land
in one transaction per task, tagged with the job run id.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa

from auditor.audit.sampling import (
    DEFAULT_WEIGHTS,
    combined_score,
    draw,
    inclusion_probabilities,
    strategy_scores,
)
from auditor.jobs import JobOutcome
from auditor.jobs.audit_estimates import accuracy_by_subtask, estimate_rows
from auditor.metrics.rows import MetricRow
from auditor.settings import Settings
from auditor.store import Store
from auditor.store.audit_report_io import latest_round_id, read_round
from auditor.store.audit_sample_io import (
    RoundRecord,
    SamplingInputs,
    population_table,
    read_sampling_inputs,
    write_round,
)
from auditor.store.fusion_io import list_subtasks
from auditor.store.metrics_io import replace_window_metrics
from fusion import MajorityVote

STRATA = ("subtask", "class", "window")


@dataclass(frozen=True)
class RoundOptions:
    """budget_items: expected sampled items; budget_cost: expected cost instead (currency
    of settings); stratify_by: a subset of STRATA; weights: strategy -> weight."""

    budget_items: float | None = None
    budget_cost: float | None = None
    random_share: float | None = None
    stratify_by: tuple[str, ...] = ("subtask",)
    weights: dict[str, float] | None = None
    seed: int | None = None
    task: str | None = None


def run_audit_sample(
    store: Store,
    settings: Settings,
    *,
    job_run_id: int | None = None,
    options: RoundOptions | None = None,
    task: str | None = None,
) -> JobOutcome:
    options = options or RoundOptions()
    if task is not None:
        options = replace(options, task=task)
    unknown = set(options.stratify_by) - set(STRATA)
    if unknown:
        raise ValueError(f"unknown strata {sorted(unknown)}; choose from {', '.join(STRATA)}")
    with store.connect() as con:
        subtasks = list_subtasks(con)
    tasks: dict[tuple[int, str], list[int]] = {}
    for task_id, subtask_id, task, _ in subtasks:
        if options.task is None or task == options.task:
            tasks.setdefault((task_id, task), []).append(subtask_id)
    read = written = 0
    for (task_id, task), subtask_ids in tasks.items():
        estimates = _estimate_rows(store, task)
        written += len(estimates)
        with store.connect() as con:
            parts = [read_sampling_inputs(con, task_id, s) for s in subtask_ids]
        parts = [p for p in parts if p.eligible.any()]
        if not parts:
            _write(store, task, estimates, job_run_id, round_rows=None)
            continue
        read += sum(int(p.eligible.sum()) for p in parts)
        record, population, queue = _round(settings, task_id, parts, options, job_run_id)
        _write(store, task, estimates, job_run_id, round_rows=(record, population, queue))
        written += queue.num_rows
    if not read:
        return JobOutcome(skipped_reason="no fused labels to audit yet (run fuse first)")
    return JobOutcome(rows_read=read, rows_written=written)


def _estimate_rows(store: Store, task: str) -> list[MetricRow]:
    """Metric rows of the task's newest audited round (they replace that round's rows)."""
    with store.connect() as con:
        round_id = latest_round_id(con, task)
        if round_id is None:
            return []
        data = read_round(con, round_id)
    return estimate_rows(data, accuracy_by_subtask(data))


def _write(
    store: Store,
    task: str,
    estimates: list[MetricRow],
    job_run_id: int | None,
    *,
    round_rows: tuple[RoundRecord, pa.Table, pa.Table] | None,
) -> None:
    """The task's estimate rows and its new round (record, population, queue), in one
    transaction: a run killed before it commits leaves neither."""
    if not estimates and round_rows is None:
        return
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with store.transaction() as con:
        if estimates:
            replace_window_metrics(con, task, estimates, job_run_id=job_run_id, computed_at=now)
        if round_rows is not None:
            record, population, queue = round_rows
            write_round(con, record, population=population, queue=queue)


def _round(
    settings: Settings,
    task_id: int,
    parts: list[SamplingInputs],
    options: RoundOptions,
    job_run_id: int | None,
) -> tuple[RoundRecord, pa.Table, pa.Table]:
    """The round to write: its record, population histogram and queue."""
    weights = dict(options.weights or DEFAULT_WEIGHTS)
    share = settings.audit_random_share if options.random_share is None else options.random_share
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    seed = options.seed if options.seed is not None else int(now.timestamp())
    columns: dict[str, list[np.ndarray]] = {
        name: []
        for name in ("item", "subtask", "fused", "confidence", "score", "dominant", "stratum")
    }
    cost: list[np.ndarray] = []
    populations = []
    for part in parts:
        keep = part.eligible
        P = part.proba[keep]
        L = part.L[keep]
        fused = part.fused[keep]
        vote = MajorityVote(P.shape[1]).predict_proba(L)
        top = np.isclose(vote, vote.max(axis=1, keepdims=True))
        mv_disagrees = (L != -1).any(axis=1) & ~top[np.arange(len(fused)), fused]
        scores = strategy_scores(
            P,
            L,
            rule_flags=part.rules[keep],
            improbable=part.improbable[keep],
            mv_disagrees=mv_disagrees,
        )
        score, dominant = combined_score(scores, weights)
        confidence = P.max(axis=1)
        columns["item"].append(part.item_ids[keep])
        columns["subtask"].append(np.full(len(fused), part.subtask_id))
        columns["fused"].append(fused)
        columns["confidence"].append(confidence)
        columns["score"].append(score)
        columns["dominant"].append(np.asarray(dominant, dtype=object))
        columns["stratum"].append(_strata(part, keep, fused, options.stratify_by))
        cost.append(np.full(len(fused), part.audit_seconds / 3600 * settings.audit_hourly_rate))
        populations.append(population_table(part.subtask_id, fused, confidence))
    joined = {name: np.concatenate(values) for name, values in columns.items()}
    stratum_names, stratum_index = np.unique(joined["stratum"], return_inverse=True)
    budget = options.budget_cost if options.budget_cost is not None else options.budget_items
    if budget is None:
        budget = settings.audit_round_items
    design = inclusion_probabilities(
        joined["score"],
        budget=float(budget),
        random_share=share,
        strata=stratum_index if len(stratum_names) > 1 else None,
        cost=np.concatenate(cost) if options.budget_cost is not None else None,
    )
    picked = draw(design, seed=seed)
    sampled = np.flatnonzero(picked.sampled)
    strategy = np.where(
        picked.from_random[sampled] & (design.pi_targeted[sampled] == 0),
        "random",
        joined["dominant"][sampled],
    )
    queue = pa.table(
        {
            "item_id": pa.array(joined["item"][sampled].astype(np.int64)),
            "subtask_id": pa.array(joined["subtask"][sampled].astype(np.int32)),
            "fused_label": pa.array(joined["fused"][sampled].astype(np.int16)),
            "confidence": pa.array(joined["confidence"][sampled]),
            "strategy": pa.array(strategy.astype(str)),
            "score": pa.array(joined["score"][sampled]),
            "stratum": pa.array(joined["stratum"][sampled].astype(str)),
            "inclusion_probability": pa.array(design.pi[sampled]),
            "from_random": pa.array(picked.from_random[sampled]),
        }
    )
    record = RoundRecord(
        task_id=task_id,
        job_run_id=job_run_id,
        created_at=now,
        budget_items=None if options.budget_cost is not None else float(budget or 0),
        budget_cost=options.budget_cost,
        random_share=share,
        strategy_weights=weights,
        stratify_by=",".join(options.stratify_by) or None,
        population=len(joined["item"]),
        expected_size=float(design.pi.sum()),
        seed=seed,
    )
    return record, pa.concat_tables(populations), queue


def _strata(
    part: SamplingInputs, keep: np.ndarray, fused: np.ndarray, by: tuple[str, ...]
) -> np.ndarray:
    """A stratum name per eligible item: 'topic', 'topic|class=2', 'topic|day=3', ..."""
    names = np.full(len(fused), part.subtask if "subtask" in by else "all", dtype=object)
    if "class" in by:
        names = names + np.char.add("|class=", fused.astype(str)).astype(object)
    if "window" in by:
        names = names + np.char.add("|day=", part.window[keep].astype(str)).astype(object)
    return names
