"""subtask_rows and drift_rows on bad input (empty windows, no gold, a single class, an
all-abstain LF, no fused labels): every metric is a number or NaN with a reason, and
nothing raises."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from auditor.jobs.drift_frames import drift_rows
from auditor.metrics.families import subtask_rows
from auditor.metrics.inputs import LFCounts, RaterLabels, SubtaskInputs
from auditor.metrics.rows import MetricRow

DAY = dt.datetime(2026, 10, 1)
LABELS = ("a", "b", "c")


def lf_counts(L: np.ndarray, gold: np.ndarray, window: np.ndarray, k: int) -> LFCounts:
    """What LF_COUNTS_SQL returns, computed in numpy (per window and LF)."""
    voted = L != -1
    n_votes = voted.sum(axis=1)
    hi = np.where(voted, L, -1).max(axis=1)
    lo = np.where(voted, L, k).min(axis=1)
    out: dict[str, list[object]] = {name: [] for name in LFCounts.__dataclass_fields__}
    for w in np.unique(window):
        for j in range(L.shape[1]):
            mine = (window == w) & voted[:, j]
            if not mine.any():
                continue
            out["window"].append(int(w))
            out["lf"].append(j)
            out["votes"].append(int(mine.sum()))
            out["overlaps"].append(int((mine & (n_votes > 1)).sum()))
            out["conflicts"].append(int((mine & (lo != hi)).sum()))
            out["gold_n"].append(int((mine & (gold >= 0)).sum()))
            out["gold_right"].append(int((mine & (gold == L[:, j])).sum()))
            out["labels"].append(np.bincount(L[mine, j], minlength=k))
    arrays = {name: np.asarray(values, dtype=np.int64) for name, values in out.items()}
    if not out["labels"]:
        arrays["labels"] = np.zeros((0, k), dtype=np.int64)
    return LFCounts(**arrays)


def inputs(
    L: np.ndarray,
    window: np.ndarray,
    *,
    n_windows: int,
    gold: np.ndarray | None = None,
    fused: np.ndarray | None = None,
    human: np.ndarray | None = None,
    **extra: object,
) -> SubtaskInputs:
    n, m = L.shape
    k = len(LABELS)
    gold = np.full(n, -1) if gold is None else gold
    fused = np.full(n, -1) if fused is None else fused
    proba = np.full((n, k), np.nan)
    proba[fused >= 0] = np.eye(k)[fused[fused >= 0]] * 0.8 + 0.2 / k
    fields: dict[str, object] = {
        "task": "t",
        "subtask": "s",
        "labels": LABELS,
        "lf_names": tuple(f"lf_{j}" for j in range(m)),
        "windows": tuple(
            (DAY + dt.timedelta(days=w), DAY + dt.timedelta(days=w + 1)) for w in range(n_windows)
        ),
        "window": window,
        "L": L.astype(np.int8),
        "confidence": np.full((n, m), np.nan),
        "gold": gold,
        "audited": np.full(n, -1),
        "fused": fused,
        "proba": proba,
        "human": np.zeros(m, dtype=bool) if human is None else human,
        "model_accuracy": np.full(m, np.nan),
        "model_propensity": np.full(m, np.nan),
        "log_pi": None,
        "log_emission": None,
        "parent": None,
        "parent_fused": np.full(n, -1),
        "lf_counts": lf_counts(L, gold, window, k),
        "n_items_per_window": np.bincount(window, minlength=n_windows),
    }
    fields.update(extra)
    return SubtaskInputs(**fields)  # type: ignore[arg-type]


def assert_all_defined_or_explained(rows: list[MetricRow]) -> None:
    assert rows
    for row in rows:
        if math.isnan(row.value):
            assert row.estimate.reason, f"{row.metric} {row.key} is NaN without a reason"
        else:
            assert math.isfinite(row.value), row


def messy() -> SubtaskInputs:
    """Four windows: 0 normal, 1 empty, 2 a single class everywhere, 3 one item. lf_2
    never votes; lf_0 and lf_1 are human; lf_0 reports confidences; no gold on 2-3."""
    rng = np.random.default_rng(0)
    window = np.repeat([0, 2, 3], [30, 12, 1])
    n = window.size
    L = np.where(rng.random((n, 3)) < 0.6, rng.integers(0, 3, (n, 3)), -1)
    L[:, 2] = -1
    L[window == 2] = np.where(L[window == 2] >= 0, 1, -1)
    gold = np.where((window == 0) & (rng.random(n) < 0.5), rng.integers(0, 3, n), -1)
    fused = np.where((L >= 0).any(axis=1), np.where(L[:, 0] >= 0, L[:, 0], L[:, 1]), -1)
    confidence = np.full((n, 3), np.nan)
    confidence[:, 0] = np.where(L[:, 0] >= 0, rng.uniform(0.5, 1, n), np.nan)
    annotators = RaterLabels(
        rows=np.arange(0, 8), names=("ana", "bo"), labels=np.tile([[0, 0]], (8, 1))
    )
    return inputs(
        L,
        window,
        n_windows=4,
        gold=gold,
        fused=fused,
        human=np.array([True, True, False]),
        confidence=confidence,
        parent=("topic", 0),
        parent_fused=np.where(rng.random(n) < 0.5, 0, 1),
        annotators=annotators,
        log_pi=np.log(np.full(3, 1 / 3)),
        log_emission=np.log(np.broadcast_to(np.eye(3) * 0.7 + 0.1, (3, 3, 3))),
    )


def test_messy_subtask_gives_numbers_or_reasons_in_every_window() -> None:
    rows = subtask_rows(messy(), reference_windows=1, current_windows=2, n_boot=20)
    assert_all_defined_or_explained(rows)
    by = {(r.metric, r.key, r.window_start): r.estimate for r in rows}
    empty = DAY + dt.timedelta(days=1)
    assert by[("lf.coverage", "lf_0", empty)].reason == "no items in the window (coverage)"
    assert by[("agreement.lf_kappa_mean", "lfs", empty)].reason
    # the all-abstain LF: coverage 0, no gold accuracy, no kappa with anyone
    assert by[("lf.coverage", "lf_2", DAY)].value == 0.0
    assert by[("lf.accuracy_gold", "lf_2", None)].reason == "no gold among the LF's votes"
    # a single class in window 2: the human LFs' kappa is undefined, with the reason
    single = DAY + dt.timedelta(days=2)
    assert "same category" in str(by[("agreement.fleiss_kappa", "humans", single)].reason)
    # no gold in windows 2-3 (calibration spans 2 windows: window 3 covers 2 and 3)
    last = DAY + dt.timedelta(days=3)
    assert by[("calibration.ece", "fused", last)].reason == "no labelled items"
    # both annotators always say a: agreement undefined, spot checks have no audits
    assert "same category" in str(
        by[("agreement.annotator_fleiss_kappa", "annotators", None)].reason
    )
    assert by[("annotator.spot_check_accuracy", "ana", None)].reason


def test_no_items_no_fit_no_gold() -> None:
    empty = inputs(np.zeros((0, 2), dtype=int), np.zeros(0, dtype=int), n_windows=0)
    assert_all_defined_or_explained(
        subtask_rows(empty, reference_windows=1, n_boot=10)
    )  # all-time rows only


def test_all_abstain_and_unfused_subtask() -> None:
    L = np.full((10, 2), -1)
    data = inputs(L, np.repeat([0, 1], 5), n_windows=2)
    rows = subtask_rows(data, reference_windows=1, n_boot=10)
    assert_all_defined_or_explained(rows)
    reasons = {r.metric: r.estimate.reason for r in rows if not r.estimate.defined}
    assert reasons["calibration.ece"] == "no fused labels in the window"
    assert reasons["lf.coverage_change"] == "coverage was 0 in the reference window"
    assert reasons["agreement.lf_pair_kappa"] is not None


@pytest.mark.parametrize("sample_rows", [5, 1000])
def test_drift_rows_on_degenerate_windows(sample_rows: int) -> None:
    data = messy()
    rows = drift_rows(data, reference_windows=1, current_windows=2, sample_rows=sample_rows)
    assert_all_defined_or_explained(rows)
    by = {(r.metric, r.key): r.estimate for r in rows}
    # lf_2 never votes in either window: constant and identical, so undefined
    assert "constant" in str(by[("drift.lf_coverage", "lf_2")].reason)
    assert by[("drift.lf_votes", "lf_0")].details["n_reference"] == min(30, sample_rows)
    assert by[("drift.lf_votes", "lf_0")].details["sampled_from"] == [30, 13]
