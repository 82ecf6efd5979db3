"""The fuse job: per subtask, fit the label model on votes and gold, store fused labels.

Model choice: when a subtask has at least MIN_GOLD_FOR_SELECTION gold items, the label
model and majority vote are compared by 2-fold cross-validation on that gold (each fold
fitted without its own gold) and the better one is used; fusion_runs.model records which.
The label model is not yet better than majority vote on every kind of LF set (see the
benchmarks), so this keeps fused labels at least as good as the baseline where gold can
tell. Without enough gold, the label model is used.

Gold = audited labels (view audited_labels: adjudicated, or agreed by every auditor)
over imported gold; benchmark gold only when settings.fuse_use_benchmark_gold. LFs of
kind 'human' get a full confusion matrix. Items with no votes get the class prior and are
marked uncovered. Every subtask is fitted first; then all their results (fusion_runs,
fused_labels, lf_estimates, tagged with the job run id) land in one transaction, so a run
killed at any point leaves either all of them or none.
"""

from __future__ import annotations

import time

import numpy as np

from auditor.jobs import JobOutcome
from auditor.settings import Settings
from auditor.store import Store
from auditor.store.fusion_io import FusionFit, list_subtasks, read_subtask_matrix, write_fusion_runs
from fusion import LabelModel, MajorityVote
from fusion.base import Labeler

MIN_GOLD_FOR_SELECTION = 40


def run_fuse(
    store: Store, settings: Settings, *, job_run_id: int | None = None, task: str | None = None
) -> JobOutcome:
    """Fit and write every subtask's fused labels (of one task, when task is given)."""
    read = written = 0
    with store.connect() as con:
        subtasks = [s for s in list_subtasks(con) if task is None or s[2] == task]
    if not subtasks:
        return JobOutcome(skipped_reason="no subtasks defined yet")
    fits: list[FusionFit] = []
    for task_id, subtask_id, _task, _subtask in subtasks:
        with store.connect() as con:
            matrix = read_subtask_matrix(
                con, task_id, subtask_id, use_benchmark_gold=settings.fuse_use_benchmark_gold
            )
        votes = int((matrix.L != -1).sum())
        if votes == 0 or len(matrix.labels) < 2:
            continue
        clock = time.perf_counter()
        confidence = matrix.confidence.astype(np.float64)
        model = LabelModel(len(matrix.labels), seed=0)
        has_gold = bool((matrix.gold >= 0).any())
        model.fit(
            matrix.L,
            gold=matrix.gold if has_gold else None,
            confidence=confidence,
            full_confusion=matrix.human,
        )
        chosen: Labeler = model
        if choose_majority_vote(matrix.L, matrix.gold, confidence, matrix.human):
            chosen = MajorityVote(len(matrix.labels)).fit(matrix.L)
        proba = chosen.predict_proba(matrix.L, confidence=confidence)
        seconds = time.perf_counter() - clock
        summary = model.lf_summary()
        lf_rows = [
            {
                "lf_id": int(lf_id),
                "accuracy": float(summary["accuracy"][j]),
                "propensity": float(summary["propensity"][j]),
                "model": str(summary["model"][j]),
                "confusion": model.confusion_[j].round(6).tolist(),
            }
            for j, lf_id in enumerate(matrix.lf_ids)
        ]
        fits.append(
            FusionFit(
                matrix,
                proba=proba,
                model=type(chosen).__name__,
                config={"seed": 0, "n_iter": model.n_iter_},
                lf_rows=lf_rows,
                class_balance=model.class_balance_,
                temperature=model.temperature_,
                seconds=seconds,
            )
        )
        read += votes
        written += len(proba)
    if fits:  # every subtask's results in one transaction: a killed run leaves none
        with store.connect() as con:
            write_fusion_runs(con, fits, job_run_id=job_run_id)
    return JobOutcome(rows_read=read, rows_written=written)


def choose_majority_vote(
    L: np.ndarray, gold: np.ndarray, confidence: np.ndarray, human: np.ndarray
) -> bool:
    """True when 2-fold cross-validation on gold shows majority vote beating the label model.

    L: int (n_items, n_lfs); gold: int (n_items,), -1 = unknown. Needs at least
    MIN_GOLD_FOR_SELECTION gold items on covered rows; otherwise False (keep the model).
    """
    known = np.flatnonzero((gold >= 0) & (L != -1).any(axis=1))
    if len(known) < MIN_GOLD_FOR_SELECTION:
        return False
    k = int(max(L.max(), gold.max())) + 1
    folds = np.array_split(np.random.default_rng(0).permutation(known), 2)
    model_hits = vote_hits = 0.0
    for held in folds:
        train_gold = gold.copy()
        train_gold[held] = -1
        fitted = LabelModel(k, seed=0).fit(
            L,
            gold=train_gold if (train_gold >= 0).any() else None,
            confidence=confidence,
            full_confusion=human,
        )
        model_hits += float(
            (fitted.predict(L[held], confidence=confidence[held]) == gold[held]).sum()
        )
        vote = MajorityVote(k).predict_proba(L[held], confidence=confidence[held])
        best = np.isclose(vote, vote.max(axis=1, keepdims=True))
        vote_hits += float((best[np.arange(len(held)), gold[held]] / best.sum(axis=1)).sum())
    return vote_hits > model_hits
