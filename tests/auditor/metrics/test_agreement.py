"""Cohen's kappa, Fleiss' kappa, Krippendorff's alpha and percent agreement: worked
examples, equality with reference implementations, and NaN-with-a-reason on degenerate
input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from auditor.metrics.agreement import (
    cohen_kappa,
    fleiss_kappa,
    human_agreement,
    krippendorff_alpha,
    percent_agreement,
)
from auditor.metrics.estimate import Z95

M = -1  # missing


def random_ratings(seed: int, n: int, raters: int, k: int, missing: float) -> np.ndarray:
    """Raters that copy a per-item 'true' label 70% of the time, so kappa is not ~0."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, n)
    ratings = np.where(
        rng.random((n, raters)) < 0.7, truth[:, None], rng.integers(0, k, (n, raters))
    )
    return np.where(rng.random((n, raters)) < missing, M, ratings)


# --- Cohen's kappa ------------------------------------------------------------------


def test_cohen_kappa_worked_2x2_example() -> None:
    # 50 co-rated items:      b=1  b=0
    #                  a=1     20    5    (a says 1 on 25)
    #                  a=0     10   15    (b says 1 on 30)
    # p_o = 35/50 = 0.7; p_e = 0.5*0.6 + 0.5*0.4 = 0.5; kappa = 0.2/0.5 = 0.4.
    # Two extra items with a missing rating are not counted.
    a = np.array([1] * 20 + [1] * 5 + [0] * 10 + [0] * 15 + [M, 1])
    b = np.array([1] * 20 + [0] * 5 + [1] * 10 + [0] * 15 + [0, M])
    est = cohen_kappa(a, b)
    assert est.value == pytest.approx(0.4, abs=1e-12)
    assert est.n == 50
    assert est.details["observed"] == pytest.approx(0.7)
    assert est.details["expected"] == pytest.approx(0.5)
    # SE = sqrt(0.7 * 0.3 / 50) / (1 - 0.5) = 0.129615; half-width = 1.96 * SE = 0.254040
    half = Z95 * math.sqrt(0.7 * 0.3 / 50) / 0.5
    assert half == pytest.approx(0.254040, abs=1e-6)
    assert (est.low, est.high) == pytest.approx((0.4 - half, 0.4 + half))


def test_cohen_kappa_perfect_and_interval_clipped() -> None:
    est = cohen_kappa([0, 1, 2, 0, 1], [0, 1, 2, 0, 1])
    assert est.value == 1.0
    assert est.high == 1.0 and est.low == 1.0  # p_o = 1: zero-width interval


@pytest.mark.parametrize(
    ("seed", "n", "k", "missing", "given_k"),
    [
        (0, 30, 2, 0.0, False),
        (1, 200, 3, 0.2, True),
        (2, 1000, 5, 0.4, False),
        (3, 57, 7, 0.1, True),
        (4, 5000, 4, 0.6, True),
    ],
)
def test_cohen_kappa_matches_sklearn(
    seed: int, n: int, k: int, missing: float, given_k: bool
) -> None:
    from sklearn.metrics import cohen_kappa_score

    ratings = random_ratings(seed, n, 2, k, missing)
    a, b = ratings[:, 0], ratings[:, 1]
    both = (a != M) & (b != M)
    est = cohen_kappa(a, b, n_classes=k if given_k else None)
    assert est.n == int(both.sum())
    assert est.value == pytest.approx(cohen_kappa_score(a[both], b[both]), abs=1e-9)
    assert -1 <= est.low <= est.value <= est.high <= 1


@pytest.mark.parametrize(
    ("a", "b", "reason"),
    [
        ([], [], "no items rated by both"),
        ([0, M, 1], [M, 1, M], "no items rated by both"),
        ([M, M], [M, M], "no items rated by both"),
        ([2, 2, 2, M], [2, 2, 2, 1], "expected agreement is 1"),
    ],
)
def test_cohen_kappa_degenerate_is_nan_with_reason(a: list[int], b: list[int], reason: str) -> None:
    est = cohen_kappa(a, b, n_classes=3)
    assert math.isnan(est.value) and not est.defined
    assert est.reason is not None and reason in est.reason


def test_cohen_kappa_two_constant_raters_that_disagree_is_zero() -> None:
    # p_o = 0, p_e = 1*0 + 0*1 = 0 -> kappa = 0 (defined: chance does not explain it).
    assert cohen_kappa([0, 0, 0], [1, 1, 1]).value == 0.0


@pytest.mark.parametrize(
    ("a", "b", "kwargs"),
    [
        ([0, 1], [0, 1, 1], {}),  # shape mismatch
        ([0, -2], [0, 1], {}),  # below the missing marker
        ([0, 3], [0, 1], {"n_classes": 3}),  # outside 0..k-1
        ([0.0, math.nan], [0, 1], {}),  # NaN instead of -1
        ([0.5, 1], [0, 1], {}),  # not integers
        ([[0, 1]], [[0, 1]], {}),  # not 1-D
    ],
)
def test_cohen_kappa_programmer_errors_raise(a: object, b: object, kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        cohen_kappa(a, b, **kwargs)


# --- Fleiss' kappa ------------------------------------------------------------------


def test_fleiss_kappa_worked_equal_raters() -> None:
    # 3 items x 3 raters, k = 2; per-item counts (n_0, n_1): (3,0), (2,1), (0,3).
    # P_i = 1, (2*1 + 0) / (3*2) = 1/3, 1 -> P_bar = 7/9.
    # p = (5/9, 4/9) -> P_e = 25/81 + 16/81 = 41/81.
    # kappa = (63/81 - 41/81) / (40/81) = 22/40 = 0.55.
    ratings = np.array([[0, 0, 0], [0, 0, 1], [1, 1, 1]])
    est = fleiss_kappa(ratings, n_classes=2)
    assert est.value == pytest.approx(0.55, abs=1e-12)
    assert est.n == 3
    assert est.details["ratings"] == 9


def test_fleiss_kappa_worked_varying_raters() -> None:
    # counts: A (2,0) n=2, B (1,2) n=3, C one rating (dropped), D (0,3) n=3.
    # P_A = 2*1/(2*1) = 1, P_B = (0 + 2*1)/(3*2) = 1/3, P_D = 1 -> P_bar = 7/9.
    # p_0 = (2+1+0)/8 = 3/8, p_1 = 5/8 -> P_e = 9/64 + 25/64 = 17/32.
    # kappa = (7/9 - 17/32) / (15/32) = (71/288) * (32/15) = 71/135 = 0.525926.
    ratings = np.array([[0, 0, M], [0, 1, 1], [1, M, M], [1, 1, 1]])
    est = fleiss_kappa(ratings, n_classes=2)
    assert est.value == pytest.approx(71 / 135, abs=1e-12)
    assert est.n == 3
    assert (est.details["min_raters"], est.details["max_raters"]) == (2, 3)


@pytest.mark.parametrize(
    ("seed", "n", "raters", "k"), [(0, 20, 2, 2), (1, 100, 3, 3), (2, 500, 5, 4), (3, 64, 8, 6)]
)
def test_fleiss_kappa_matches_statsmodels_with_equal_raters(
    seed: int, n: int, raters: int, k: int
) -> None:
    from statsmodels.stats.inter_rater import aggregate_raters
    from statsmodels.stats.inter_rater import fleiss_kappa as reference

    ratings = random_ratings(seed, n, raters, k, 0.0)
    table, _ = aggregate_raters(ratings, n_cat=k)
    expected = reference(table, method="fleiss")
    # Items no-one rated, or rated once, are dropped and do not change the value.
    padded = np.vstack([ratings, np.full((3, raters), M), [[1] + [M] * (raters - 1)]])
    for data in (ratings, padded):
        est = fleiss_kappa(data, n_classes=k)
        assert est.value == pytest.approx(expected, abs=1e-9)
        assert est.n == n


@pytest.mark.parametrize(
    ("ratings", "reason"),
    [
        (np.zeros((0, 3), dtype=int), "no item has at least 2 ratings"),
        (np.full((4, 3), M), "no item has at least 2 ratings"),
        (np.array([[0, M, M], [M, 1, M]]), "no item has at least 2 ratings"),
        (np.array([[1, 1, M], [1, 1, 1], [0, M, M]]), "expected agreement is 1"),
    ],
)
def test_fleiss_kappa_degenerate_is_nan_with_reason(ratings: np.ndarray, reason: str) -> None:
    est = fleiss_kappa(ratings, n_classes=2)
    assert math.isnan(est.value)
    assert est.reason is not None and reason in est.reason


def test_fleiss_kappa_rejects_bad_labels() -> None:
    with pytest.raises(ValueError):
        fleiss_kappa(np.array([[0, 2]]), n_classes=2)
    with pytest.raises(ValueError):
        fleiss_kappa(np.array([0, 1]), n_classes=2)  # 1-D, not (n_items, n_raters)


# --- Krippendorff's alpha -----------------------------------------------------------


def test_krippendorff_alpha_worked_example() -> None:
    # units (n_0, n_1): u1 (2,0) m=2, u2 (1,1) m=2, u3 (0,3) m=3, u4 one value (dropped).
    # n_c = (3, 4), n.. = 7. D_o = sum_u (m_u^2 - sum_c n_uc^2) / (m_u - 1)
    #   = (4-4)/1 + (4-2)/1 + (9-9)/2 = 2.
    # D_e = 7^2 - (3^2 + 4^2) = 24. alpha = 1 - (7-1) * 2 / 24 = 0.5.
    ratings = np.array([[0, 0, M], [0, 1, M], [1, 1, 1], [M, M, 0]])
    est = krippendorff_alpha(ratings)
    assert est.value == pytest.approx(0.5, abs=1e-12)
    assert est.n == 3
    assert est.details["pairable_values"] == 7


@pytest.mark.parametrize(
    ("seed", "n", "raters", "k", "missing"),
    [
        (0, 20, 2, 2, 0.0),
        (1, 150, 3, 3, 0.2),
        (2, 400, 5, 4, 0.5),
        (3, 80, 10, 6, 0.7),
        (4, 300, 4, 2, 0.3),
    ],
)
def test_krippendorff_alpha_matches_reference_package(
    seed: int, n: int, raters: int, k: int, missing: float
) -> None:
    import krippendorff  # the reference implementation (a dev dependency)

    ratings = random_ratings(seed, n, raters, k, missing)
    reliability = np.where(ratings == M, np.nan, ratings).astype(float).T
    expected = krippendorff.alpha(reliability_data=reliability, level_of_measurement="nominal")
    assert krippendorff_alpha(ratings).value == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(
    ("ratings", "reason"),
    [
        (np.zeros((0, 0), dtype=int), "no item has at least 2 ratings"),
        (np.full((3, 2), M), "no item has at least 2 ratings"),
        (np.array([[2, M], [M, 1]]), "no item has at least 2 ratings"),
        (np.array([[2, 2], [2, M], [M, 0]]), "same category"),
    ],
)
def test_krippendorff_alpha_degenerate_is_nan_with_reason(ratings: np.ndarray, reason: str) -> None:
    est = krippendorff_alpha(ratings)
    assert math.isnan(est.value)
    assert est.reason is not None and reason in est.reason


def test_krippendorff_alpha_depends_only_on_which_labels_match() -> None:
    # Nominal: renaming categories (even to large, sparse codes) changes nothing.
    ratings = random_ratings(11, 60, 3, 3, 0.2)
    renamed = np.select([ratings == 0, ratings == 1, ratings == 2], [7, 1_000_000, 2], M)
    assert krippendorff_alpha(renamed).value == pytest.approx(
        krippendorff_alpha(ratings).value, abs=1e-12
    )


def test_krippendorff_alpha_only_nominal() -> None:
    with pytest.raises(ValueError, match="nominal"):
        krippendorff_alpha(np.array([[0, 1]]), level="interval")


# --- percent agreement and the human bundle -----------------------------------------


def test_percent_agreement_worked_example() -> None:
    # agreeing pairs / pairs: [0,0,-] 1/1, [0,1,-] 0/1, [1,1,1] 3/3, [0,0,1] 1/3; [-,-,0]
    # has one rating (dropped). mean = (1 + 0 + 1 + 1/3) / 4 = 7/12.
    ratings = np.array([[0, 0, M], [0, 1, M], [1, 1, 1], [0, 0, 1], [M, M, 0]])
    est = percent_agreement(ratings, n_classes=2)
    assert est.value == pytest.approx(7 / 12)
    assert est.n == 4
    shares = np.array([1, 0, 1, 1 / 3])
    half = Z95 * shares.std(ddof=1) / 2
    assert (est.low, est.high) == pytest.approx((max(0, 7 / 12 - half), min(1, 7 / 12 + half)))
    assert est.details["unanimous_items"] == 2


def test_percent_agreement_single_item_has_no_interval() -> None:
    est = percent_agreement(np.array([[1, 1]]), n_classes=2)
    assert est.value == 1.0 and est.n == 1
    assert math.isnan(est.low) and math.isnan(est.high)


def test_human_agreement_bundles_the_three() -> None:
    ratings = random_ratings(7, 120, 4, 3, 0.25)
    out = human_agreement(ratings, n_classes=3)
    assert set(out) == {"fleiss_kappa", "krippendorff_alpha", "percent_agreement"}
    assert out["fleiss_kappa"].value == fleiss_kappa(ratings, n_classes=3).value
    assert out["krippendorff_alpha"].value == krippendorff_alpha(ratings).value
    assert out["percent_agreement"].value == percent_agreement(ratings, n_classes=3).value
    assert all(est.defined for est in out.values())


@pytest.mark.parametrize(
    "ratings", [np.zeros((0, 3), dtype=int), np.full((5, 3), M), np.array([[0, M], [M, 1]]), []]
)
def test_human_agreement_degenerate_never_raises(ratings: object) -> None:
    out = human_agreement(ratings, n_classes=2)
    for est in out.values():
        assert math.isnan(est.value) and est.reason


def test_human_agreement_single_category_is_nan_except_percent() -> None:
    out = human_agreement(np.array([[1, 1], [1, 1]]), n_classes=2)
    assert math.isnan(out["fleiss_kappa"].value) and out["fleiss_kappa"].reason
    assert math.isnan(out["krippendorff_alpha"].value) and out["krippendorff_alpha"].reason
    assert out["percent_agreement"].value == 1.0


def test_human_agreement_validates_labels() -> None:
    with pytest.raises(ValueError):
        human_agreement(np.array([[0, 5]]), n_classes=2)
