"""Pairwise LF agreement, one annotator's accuracy, cross-subtask consistency."""

from __future__ import annotations

import math

import numpy as np
import pytest

from auditor.metrics import annotators
from auditor.metrics.agreement import cohen_kappa
from auditor.metrics.annotators import (
    annotator_accuracy,
    cross_subtask_consistency,
    pairwise_agreement,
)
from auditor.metrics.estimate import wilson_interval

M = -1  # abstain / missing


def random_votes(seed: int, n: int, m: int, k: int, abstain: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, n)
    votes = np.where(rng.random((n, m)) < 0.6, truth[:, None], rng.integers(0, k, (n, m)))
    return np.where(rng.random((n, m)) < abstain, M, votes)


# --- pairwise_agreement -------------------------------------------------------------


def test_pairwise_agreement_worked_example() -> None:
    # LF0 vs LF1 on the 4 items both vote on (rows 0-3): agree on rows 0, 1, 3 -> 3/4.
    # LF0 = (0,1,1,0), LF1 = (0,1,0,0): p_o = 3/4, p_LF0 = (1/2, 1/2), p_LF1 = (3/4, 1/4),
    # p_e = 1/2*3/4 + 1/2*1/4 = 1/2, kappa = (3/4 - 1/2) / (1/2) = 0.5.
    # LF2 only votes on row 4 (where LF0 abstains, LF1 votes): nothing shared with LF0.
    # LF3 always says 1 and LF1 says 1 on the one shared row -> agreement 1, kappa NaN.
    L = np.array(
        [[0, 0, M, M], [1, 1, M, M], [1, 0, M, M], [0, 0, M, M], [M, 1, 1, 1], [M, M, M, 1]]
    )
    out = pairwise_agreement(L, n_classes=2)
    assert out.n_common[0, 1] == out.n_common[1, 0] == 4
    assert out.agreement[0, 1] == pytest.approx(0.75)
    assert out.kappa[0, 1] == pytest.approx(0.5) == out.kappa[1, 0]
    assert out.n_common[0, 2] == 0
    assert math.isnan(out.agreement[0, 2]) and math.isnan(out.kappa[0, 2])
    assert out.n_common[1, 3] == 1 and out.agreement[1, 3] == 1.0
    assert math.isnan(out.kappa[1, 3])
    assert np.isnan(np.diag(out.agreement)).all() and np.isnan(np.diag(out.kappa)).all()
    assert list(np.diag(out.n_common)) == [4, 5, 1, 2]  # votes per LF
    # defined pairs: only (0,1), kappa 0.5 on 4 items; (1,2), (1,3), (2,3) share just row
    # 4, where all vote "1" -> p_e = 1 -> NaN. So the mean is 0.5 over one pair.
    assert out.mean_kappa.value == pytest.approx(0.5)
    assert out.mean_kappa.n == 1
    assert out.mean_kappa.details == {"pairs": 6, "defined_pairs": 1, "co_labelled": 4}


def test_mean_kappa_is_weighted_by_co_labelled_items() -> None:
    # Pair (0,1): 4 items, kappa 1 (perfect, two classes). Pair (0,2): 2 items,
    # LF0 = (0,1), LF2 = (1,0): p_o = 0, p_e = 1/2 -> kappa = -1. Pair (1,2): none shared.
    # weighted mean = (4*1 + 2*(-1)) / 6 = 1/3.
    L = np.array([[0, 0, M], [1, 1, M], [0, 0, M], [1, 1, M], [0, M, 1], [1, M, 0]])
    out = pairwise_agreement(L, n_classes=2)
    assert out.kappa[0, 1] == pytest.approx(1.0)
    assert out.kappa[0, 2] == pytest.approx(-1.0)
    assert out.mean_kappa.value == pytest.approx(1 / 3)
    assert out.mean_kappa.n == 2


@pytest.mark.parametrize(
    ("seed", "n", "m", "k", "abstain", "block"),
    [
        (0, 300, 4, 2, 0.3, 1 << 16),
        (1, 500, 6, 3, 0.6, 37),  # several blocks, a ragged last one
        (2, 200, 9, 5, 0.8, 64),
        (3, 1000, 3, 4, 0.0, 1 << 16),
    ],
)
def test_pairwise_agreement_matches_sklearn_per_pair(
    monkeypatch: pytest.MonkeyPatch, seed: int, n: int, m: int, k: int, abstain: float, block: int
) -> None:
    from sklearn.metrics import cohen_kappa_score

    monkeypatch.setattr(annotators, "_BLOCK", block)
    L = random_votes(seed, n, m, k, abstain)
    out = pairwise_agreement(L, n_classes=k)
    for matrix in (out.agreement, out.kappa, out.n_common):
        np.testing.assert_array_equal(matrix, matrix.T)  # symmetric, NaN == NaN here
    weights, weighted = 0, 0.0
    for a in range(m):
        assert out.n_common[a, a] == (L[:, a] != M).sum()
        for b in range(a + 1, m):
            both = (L[:, a] != M) & (L[:, b] != M)
            assert out.n_common[a, b] == both.sum()
            x, y = L[both, a], L[both, b]
            assert out.agreement[a, b] == pytest.approx((x == y).mean(), abs=1e-12)
            assert out.kappa[a, b] == pytest.approx(cohen_kappa_score(x, y), abs=1e-9)
            assert out.kappa[a, b] == pytest.approx(cohen_kappa(x, y).value, abs=1e-12)
            weights += both.sum()
            weighted += both.sum() * out.kappa[a, b]
    assert out.mean_kappa.value == pytest.approx(weighted / weights, abs=1e-12)


@pytest.mark.parametrize(
    "L", [np.zeros((0, 3), dtype=int), np.full((10, 3), M), np.zeros((5, 1), dtype=int), []]
)
def test_pairwise_agreement_degenerate_never_raises(L: object) -> None:
    out = pairwise_agreement(L, n_classes=2)
    assert np.isnan(out.kappa).all() and np.isnan(out.agreement).all()
    assert (out.n_common[~np.eye(out.n_common.shape[0], dtype=bool)] == 0).all()
    assert math.isnan(out.mean_kappa.value)
    assert out.mean_kappa.reason is not None and "no pair" in out.mean_kappa.reason


def test_pairwise_agreement_validates() -> None:
    with pytest.raises(ValueError):
        pairwise_agreement(np.array([[0, 2]]), n_classes=2)
    with pytest.raises(ValueError):
        pairwise_agreement(np.array([0, 1]), n_classes=2)


# --- annotator_accuracy -------------------------------------------------------------


def test_annotator_accuracy_worked_example() -> None:
    # counted rows (both present): 0, 1, 2, 5 -> correct 0, 1, 5 -> 3/4.
    labels = np.array([0, 1, 1, M, 2, 0])
    truth = np.array([0, 1, 0, 1, M, 0])
    out = annotator_accuracy(labels, truth, n_classes=3)
    assert out.accuracy.value == 0.75
    assert out.accuracy.n == 4
    assert out.accuracy.details == {"successes": 3, "trials": 4}
    # Wilson, p = 3/4, n = 4, z^2 = 3.8415: centre = (0.75 + 0.4802) / 1.9604 = 0.6275,
    # half = 0.9998 * sqrt(0.1875/4 + 3.8415/64) = 0.3269 -> (0.3006, 0.9544).
    assert (out.accuracy.low, out.accuracy.high) == pytest.approx((0.3006, 0.9544), abs=1e-4)
    # confusion[true, given]: (0,0) rows 0, 5; (1,1) row 1; (0,1) row 2.
    assert out.confusion.tolist() == [[2, 1, 0], [0, 1, 0], [0, 0, 0]]
    assert out.confusion.dtype == np.int64


def test_annotator_accuracy_wilson_matches_statsmodels() -> None:
    from statsmodels.stats.proportion import proportion_confint

    rng = np.random.default_rng(5)
    truth = rng.integers(0, 3, 400)
    labels = np.where(rng.random(400) < 0.8, truth, rng.integers(0, 3, 400))
    labels[rng.random(400) < 0.3] = M
    out = annotator_accuracy(labels, truth, n_classes=3)
    both = labels != M
    hits = int((labels[both] == truth[both]).sum())
    assert out.accuracy.value == hits / both.sum()
    low, high = proportion_confint(hits, int(both.sum()), alpha=0.05, method="wilson")
    assert (out.accuracy.low, out.accuracy.high) == pytest.approx((low, high), abs=1e-9)
    assert out.confusion.sum() == both.sum()
    assert np.trace(out.confusion) == hits


@pytest.mark.parametrize(("labels", "truth"), [([], []), ([0, M, 1], [M, 1, M]), ([M, M], [M, M])])
def test_annotator_accuracy_without_overlap_is_nan(labels: list[int], truth: list[int]) -> None:
    out = annotator_accuracy(labels, truth, n_classes=2)
    assert math.isnan(out.accuracy.value)
    assert out.accuracy.reason is not None and "truth" in out.accuracy.reason
    assert out.confusion.tolist() == [[0, 0], [0, 0]]


def test_annotator_accuracy_bounds_at_the_extremes() -> None:
    all_right = annotator_accuracy([1, 1, 0], [1, 1, 0], n_classes=2).accuracy
    assert all_right.value == 1.0 and all_right.high == 1.0 and 0 < all_right.low < 1
    all_wrong = annotator_accuracy([0, 0, 1], [1, 1, 0], n_classes=2).accuracy
    assert all_wrong.value == 0.0 and all_wrong.low == 0.0 and 0 < all_wrong.high < 1
    assert (all_right.low, all_right.high) == pytest.approx(wilson_interval(3, 3))


def test_annotator_accuracy_validates() -> None:
    with pytest.raises(ValueError):
        annotator_accuracy([0, 1], [0], n_classes=2)
    with pytest.raises(ValueError):
        annotator_accuracy([0, 2], [0, 1], n_classes=2)
    with pytest.raises(ValueError):
        annotator_accuracy([0, -3], [0, 1], n_classes=2)


# --- cross_subtask_consistency ------------------------------------------------------


def test_cross_subtask_consistency_worked_example() -> None:
    # counted: rows 0, 1, 2 (row 3 parent unknown; rows 4, 5 have no child label);
    # consistent: rows 0, 1 (parent == 2) -> 2/3.
    parent = np.array([2, 2, 0, M, 2, 1])
    child = np.array([True, True, True, True, False, False])
    est = cross_subtask_consistency(parent, child, applies_under=2)
    assert est.value == pytest.approx(2 / 3)
    assert est.n == 3
    assert est.details == {"successes": 2, "trials": 3}
    assert (est.low, est.high) == pytest.approx(wilson_interval(2, 3))
    assert 0 < est.low < 2 / 3 < est.high < 1


@pytest.mark.parametrize(
    ("parent", "child"), [([], []), ([M, M, 1], [True, True, False]), ([0, 1], [False, False])]
)
def test_cross_subtask_consistency_nothing_counted_is_nan(
    parent: list[int], child: list[bool]
) -> None:
    est = cross_subtask_consistency(parent, child, applies_under=0)
    assert math.isnan(est.value)
    assert est.reason is not None and "child label" in est.reason


def test_cross_subtask_consistency_accepts_0_1_ints_and_validates() -> None:
    assert cross_subtask_consistency([1, 0], [1, 1], applies_under=1).value == 0.5
    with pytest.raises(ValueError):
        cross_subtask_consistency([1, 0], [True], applies_under=1)
    with pytest.raises(ValueError):
        cross_subtask_consistency([1, 0], [2, 1], applies_under=1)
    with pytest.raises(ValueError):
        cross_subtask_consistency([1, -2], [True, True], applies_under=1)
    with pytest.raises(ValueError):
        cross_subtask_consistency([1, 0], [True, True], applies_under=-1)
