from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np
import pytest

from auditor.metrics.calibration import (
    adaptive_ece,
    brier_score,
    classwise_ece,
    confidence_calibration,
    debiased_l2_calibration_error,
    negative_log_likelihood,
    reliability_bins,
    top_label_ece,
)
from auditor.metrics.estimate import Estimate

# Four items, two classes. conf = 0.9, 0.8, 0.7, 0.6; argmax = 0, 0, 1, 1; correct = 1, 0, 1, 1.
P4 = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]])
Y4 = np.array([0, 1, 1, 1])


def loop_ece(conf: np.ndarray, outcome: np.ndarray, n_bins: int) -> float:
    """Guo et al.'s loop: bins (lo, hi] over linspace edges, 0 counted in the first bin."""
    total = 0.0
    for b in range(n_bins):
        lo, hi = b / n_bins, (b + 1) / n_bins
        members = [i for i, c in enumerate(conf) if (lo < c or (b == 0 and c == 0)) and c <= hi]
        if members:
            gap = np.mean([outcome[i] for i in members]) - np.mean([conf[i] for i in members])
            total += len(members) / len(conf) * abs(gap)
    return total


def loop_debiased_squared(conf: np.ndarray, correct: np.ndarray, n_bins: int) -> float:
    """Kumar et al.'s estimator over np.array_split groups of the sorted items (untied data)."""
    order = np.argsort(conf)
    total = 0.0
    for group in np.array_split(order, n_bins):
        m, c, a = len(group), conf[group].mean(), correct[group].mean()
        total += m / len(conf) * ((c - a) ** 2 - a * (1 - a) / (m - 1))
    return total


def random_posteriors(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    return rng.dirichlet(np.full(k, 0.7), size=n)


def sample_labels(rng: np.random.Generator, P: np.ndarray) -> np.ndarray:
    """y_i ~ Categorical(P_i): the posteriors are then perfectly calibrated."""
    u = rng.random((P.shape[0], 1))
    return np.minimum((P.cumsum(axis=1) < u).sum(axis=1), P.shape[1] - 1)


def test_top_label_ece_by_hand() -> None:
    # 15 bins: every item alone in its bin (0.8 = 12/15 and 0.6 = 9/15 close their bins), so
    # ECE = (|1 - .9| + |0 - .8| + |1 - .7| + |1 - .6|) / 4 = 1.6 / 4 = 0.4.
    e = top_label_ece(P4, Y4)
    assert e.value == pytest.approx(0.4, abs=1e-12) and e.n == 4 and e.reason is None
    assert e.details["accuracy"] == 0.75 and e.details["mean_confidence"] == pytest.approx(0.75)
    # 5 bins (.2 wide, right-closed): .9 -> (.8, 1]; .8 and .7 -> (.6, .8]; .6 -> (.4, .6].
    # 1/4 |1 - .9| + 2/4 |1/2 - .75| + 1/4 |1 - .6| = .025 + .125 + .1 = 0.25
    # (left-closed bins would give .35: .8 joins .9 and .6 joins .7).
    assert top_label_ece(P4, Y4, n_bins=5).value == pytest.approx(0.25, abs=1e-12)
    # 2 bins: all four in (.5, 1]: |3/4 - 3/4| = 0.
    assert top_label_ece(P4, Y4, n_bins=2).value == pytest.approx(0.0, abs=1e-12)


def test_adaptive_ece_by_hand_and_ties_share_a_bin() -> None:
    # 2 equal-mass bins: {.6, .7} (both right: |1 - .65|) and {.8, .9} (one right: |.5 - .85|)
    # -> 2/4 * .35 + 2/4 * .35 = 0.35.
    assert adaptive_ece(P4, Y4, n_bins=2).value == pytest.approx(0.35, abs=1e-12)
    # conf .6, .6, .6, .9: array_split gives {.6, .6}, {.6, .9}; the boundary (.6 + .6) / 2
    # keeps every .6 in bin 0, so the result does not depend on item order:
    # bin 0 = three .6 items with 2 right -> 3/4 |2/3 - .6| = .05; bin 1 = .9 right -> 1/4 * .1.
    P = np.array([[0.6, 0.4]] * 3 + [[0.9, 0.1]])
    y = np.array([0, 1, 0, 0])
    e = adaptive_ece(P, y, n_bins=2)
    assert e.value == pytest.approx(0.075, abs=1e-12) and e.details["bins_used"] == 2
    for perm in ([3, 2, 1, 0], [1, 3, 0, 2]):
        assert adaptive_ece(P[perm], y[perm], n_bins=2).value == pytest.approx(e.value, abs=1e-15)


def test_classwise_ece_by_hand() -> None:
    # 5 bins. Class 0: P[:, 0] = .9, .8, .3, .4 vs [y == 0] = 1, 0, 0, 0; .3 and .4 share
    # (.2, .4]: (|1 - .9| + |0 - .8| + |0 - .7|) / 4 = 1.6 / 4 = .4.
    # Class 1: .1, .2, .7, .6 vs 0, 1, 1, 1; .1 and .2 share (0, .2]:
    # (|1 - .3| + |1 - .7| + |1 - .6|) / 4 = 1.4 / 4 = .35.  Mean: .375.
    e = classwise_ece(P4, Y4, n_bins=5)
    assert e.value == pytest.approx(0.375, abs=1e-12)
    assert e.details["per_class"] == pytest.approx([0.4, 0.35], abs=1e-12)


def test_debiased_l2_by_hand() -> None:
    # Binary, 2 equal-mass bins. Bin 0: conf .6, .6, .7, all right: gap 1 - 19/30 = 11/30,
    # acc (1 - acc) = 0 -> 121/900. Bin 1: conf .9 x3, one right: gap .9 - 1/3 = 17/30,
    # correction (1/3)(2/3) / (3 - 1) = 1/9 = 100/900 -> 289/900 - 100/900 = 189/900.
    # E^2 = 1/2 (121 + 189) / 900 = 155/900; plug-in 1/2 (121 + 289) / 900 = 205/900.
    conf = np.array([0.6, 0.6, 0.7, 0.9, 0.9, 0.9])
    P = np.column_stack([conf, 1 - conf])
    y = np.array([0, 0, 0, 0, 1, 1])
    e = debiased_l2_calibration_error(P, y, n_bins=2)
    assert e.details["squared_estimate"] == pytest.approx(155 / 900, abs=1e-12)
    assert e.details["plugin_squared"] == pytest.approx(205 / 900, abs=1e-12)
    assert e.value == pytest.approx(math.sqrt(155 / 900), abs=1e-12) and e.n == 6
    assert e.low <= e.high


def test_debiased_reports_zero_when_the_correction_exceeds_the_gap() -> None:
    # Bins {.6, .6, .7} with 2 right and {.9 x3} with 2 right: both corrections (1/9) exceed
    # the squared gaps (1/900 and 49/900), so E^2 < 0 and the L2 value is 0.
    conf = np.array([0.6, 0.6, 0.7, 0.9, 0.9, 0.9])
    y = np.array([0, 0, 1, 0, 0, 1])
    e = debiased_l2_calibration_error(np.column_stack([conf, 1 - conf]), y, n_bins=2)
    assert e.details["squared_estimate"] == pytest.approx((1 + 49 - 200) / 1800, abs=1e-12)
    assert e.value == 0.0


def test_brier_and_nll_by_hand() -> None:
    # Brier: .1^2 * 2 = .02, .8^2 * 2 = 1.28, .3^2 * 2 = .18, .4^2 * 2 = .32 -> 1.8 / 4 = .45.
    b = brier_score(P4, Y4)
    assert b.value == pytest.approx(0.45, abs=1e-12) and b.low <= b.value <= b.high
    # NLL: -(ln .9 + ln .2 + ln .7 + ln .6) / 4.
    nll = negative_log_likelihood(P4, Y4)
    expected = -(math.log(0.9) + math.log(0.2) + math.log(0.7) + math.log(0.6)) / 4
    assert nll.value == pytest.approx(expected, abs=1e-12) and nll.low <= nll.value <= nll.high
    # A zero probability on the true class costs -ln(eps).
    zero = negative_log_likelihood(np.array([[1.0, 0.0]]), np.array([1]))
    assert zero.value == pytest.approx(-math.log(1e-12)) and math.isnan(zero.low)


def test_reliability_bins_by_hand() -> None:
    d = reliability_bins(P4, Y4, n_bins=5)
    np.testing.assert_allclose(d.lower, [0, 0.2, 0.4, 0.6, 0.8])
    np.testing.assert_allclose(d.upper, [0.2, 0.4, 0.6, 0.8, 1.0])
    assert d.count.tolist() == [0, 0, 1, 2, 1]
    np.testing.assert_allclose(d.mean_confidence, [np.nan, np.nan, 0.6, 0.75, 0.9])
    np.testing.assert_allclose(d.accuracy, [np.nan, np.nan, 1.0, 0.5, 1.0])
    assert d.as_lists()["accuracy"] == [None, None, 1.0, 0.5, 1.0]
    empty = reliability_bins(np.zeros((0, 2)), np.zeros(0, dtype=int))
    assert empty.count.sum() == 0 and np.isnan(empty.accuracy).all()


def test_confidence_calibration_by_hand() -> None:
    # NaN dropped; 5 bins: .9, .9 (1 of 2 right) -> |1 - 1.8|; .2, .2 (none right) -> |0 - .4|:
    # (.8 + .4) / 4 = .3. A confidence below .5 is a forecast like any other.
    conf = np.array([0.9, 0.9, 0.2, np.nan, 0.2])
    right = np.array([True, False, False, True, False])
    e = confidence_calibration(conf, right, n_bins=5)
    assert e.value == pytest.approx(0.3, abs=1e-12) and e.n == 4
    assert e.details["not_reported"] == 1
    bins = e.details["bins"]
    assert isinstance(bins, dict) and bins["count"] == [2, 0, 0, 0, 2]


@pytest.mark.parametrize("n_bins", [1, 5, 15])
def test_equal_width_metrics_match_loop_implementations(n_bins: int) -> None:
    rng = np.random.default_rng(n_bins)
    for n, k in [(7, 2), (300, 3), (1000, 5)]:
        P = random_posteriors(rng, n, k)
        y = rng.integers(0, k, n)
        conf, correct = P.max(axis=1), (P.argmax(axis=1) == y).astype(float)
        assert top_label_ece(P, y, n_bins=n_bins).value == pytest.approx(
            loop_ece(conf, correct, n_bins), abs=1e-12
        )
        expected = np.mean([loop_ece(P[:, c], (y == c).astype(float), n_bins) for c in range(k)])
        assert classwise_ece(P, y, n_bins=n_bins).value == pytest.approx(expected, abs=1e-12)
        edges = [b / n_bins for b in range(n_bins + 1)]
        binned = np.array([sum(lo < c <= hi for c in conf) for lo, hi in itertools.pairwise(edges)])
        assert reliability_bins(P, y, n_bins=n_bins).count.tolist() == binned.tolist()


def test_equal_mass_metrics_match_loop_implementations_on_untied_data() -> None:
    rng = np.random.default_rng(7)
    for n, k in [(40, 2), (301, 4)]:
        P = random_posteriors(rng, n, k)
        y = rng.integers(0, k, n)
        conf, correct = P.max(axis=1), (P.argmax(axis=1) == y).astype(float)
        order = np.argsort(conf)
        expected = sum(
            len(g) / n * abs(correct[g].mean() - conf[g].mean()) for g in np.array_split(order, 15)
        )
        assert adaptive_ece(P, y).value == pytest.approx(expected, abs=1e-12)
        e = debiased_l2_calibration_error(P, y, n_boot=20)
        squared = loop_debiased_squared(conf, correct, 15)
        assert e.details["squared_estimate"] == pytest.approx(squared, abs=1e-12)
        assert e.value == pytest.approx(math.sqrt(max(squared, 0.0)), abs=1e-12)


def test_agrees_with_uncertainty_calibration_package() -> None:
    """Kumar et al.'s own code (pip uncertainty-calibration), on continuous and tied data."""
    import calibration as cal  # uncertainty-calibration, the reference (a dev dependency)

    rng = np.random.default_rng(3)
    for trial in range(6):
        n, k = int(rng.integers(20, 400)), int(rng.integers(2, 5))
        P = random_posteriors(rng, n, k)
        if trial % 2:  # few distinct values: many ties across equal-mass groups
            P = np.round(P, 1)
            P /= P.sum(axis=1, keepdims=True)
        y = rng.integers(0, k, n)
        expected = cal.lower_bound_scaling_top_ce(
            P, y, p=2, debias=True, num_bins=15, binning_scheme=cal.get_equal_bins
        )
        got = debiased_l2_calibration_error(P, y, n_boot=2)
        assert got.value == pytest.approx(expected, abs=1e-9)
        assert top_label_ece(P, y).value == pytest.approx(cal.get_ece(P, y), abs=1e-9)
        assert adaptive_ece(P, y).value == pytest.approx(cal.get_ece_em(P, y), abs=1e-9)
        marginal = cal.get_ece(P, y, mode="marginal")
        assert classwise_ece(P, y).value == pytest.approx(marginal, abs=1e-9)


def test_calibrated_data_has_small_error_and_debiasing_helps() -> None:
    # n = 20000, 3 classes, y ~ P. Plug-in ECE noise is about sum_b p_b E|acc_b - conf_b| ~
    # 0.8 sqrt(.25 / 1333) ~ .01 with 15 bins; tolerance .02.
    rng = np.random.default_rng(11)
    P = random_posteriors(rng, 20_000, 3)
    y = sample_labels(rng, P)
    for metric in (top_label_ece, adaptive_ece, classwise_ece):
        assert metric(P, y).value < 0.02, metric.__name__
    e = debiased_l2_calibration_error(P, y, n_boot=20)
    plugin, squared = e.details["plugin_squared"], e.details["squared_estimate"]
    assert isinstance(plugin, float) and isinstance(squared, float)
    assert e.value < math.sqrt(plugin) and e.value < 0.02 and abs(squared) < 1e-4


def test_over_confident_posteriors_have_clearly_positive_error() -> None:
    rng = np.random.default_rng(12)
    truth = random_posteriors(rng, 5000, 3)
    y = sample_labels(rng, truth)
    sharp = truth**4 / (truth**4).sum(axis=1, keepdims=True)  # temperature 1/4
    assert top_label_ece(sharp, y).value > 0.1
    assert adaptive_ece(sharp, y).value > 0.1
    assert debiased_l2_calibration_error(sharp, y, n_boot=20).low > 0.1
    assert brier_score(sharp, y).value > brier_score(truth, y).value


def test_bootstrap_intervals_are_seeded() -> None:
    rng = np.random.default_rng(5)
    P = random_posteriors(rng, 200, 3)
    y = sample_labels(rng, P)
    bootstrapped: list[Callable[..., Estimate]] = [
        debiased_l2_calibration_error,
        brier_score,
        negative_log_likelihood,
    ]
    for metric in bootstrapped:
        a, b = metric(P, y, n_boot=50, seed=1), metric(P, y, n_boot=50, seed=1)
        assert (a.low, a.high) == (b.low, b.high) and a.low < a.high
        assert metric(P, y, n_boot=50, seed=2).low != a.low


CALIBRATION_ERRORS: list[Callable[..., Estimate]] = [
    top_label_ece,
    adaptive_ece,
    classwise_ece,
    debiased_l2_calibration_error,
]


@pytest.mark.parametrize("metric", CALIBRATION_ERRORS)
@pytest.mark.parametrize(
    ("P", "y", "reason"),
    [
        (np.zeros((0, 3)), np.array([]), "no labelled items"),
        (P4, np.full(4, -1), "no labelled items"),
        (np.full((2, 2), np.nan), np.array([0, 1]), "no labelled items"),
        (P4[:1], Y4[:1], "needs at least 2 labelled items"),
        (P4, np.array([-1, -1, 1, -1]), "needs at least 2 labelled items"),
    ],
)
def test_degenerate_inputs_give_nan_with_a_reason(
    metric: Callable[..., Estimate], P: np.ndarray, y: np.ndarray, reason: str
) -> None:
    e = metric(P, y)
    assert math.isnan(e.value) and e.reason is not None and reason in e.reason


def test_unknown_and_posterior_less_rows_are_dropped_and_counted() -> None:
    P = np.vstack([P4, [[np.nan, np.nan]], [[0.5, 0.5]]])
    y = np.append(Y4, [1, -1])
    e = top_label_ece(P, y)
    assert e.value == pytest.approx(0.4) and e.n == 4
    assert (e.details["unlabelled"], e.details["no_posterior"]) == (1, 1)


def test_brier_and_nll_degenerate_inputs() -> None:
    for metric in (brier_score, negative_log_likelihood):
        assert metric(np.zeros((0, 2)), np.array([], dtype=int)).reason == "no labelled items"
        assert math.isnan(metric(P4, np.full(4, -1)).value)
        single = metric(P4[:1], Y4[:1])  # a value, but no interval from one item
        assert single.defined and math.isnan(single.low) and single.n == 1


def test_confidence_calibration_degenerate_inputs() -> None:
    none = confidence_calibration(np.full(3, np.nan), np.ones(3, dtype=bool))
    assert math.isnan(none.value) and none.reason == "no reported confidences"
    assert none.details["not_reported"] == 3
    one = confidence_calibration(np.array([0.7, np.nan]), np.array([True, False]))
    assert math.isnan(one.value) and one.reason is not None and "needs at least 2" in one.reason
    empty = confidence_calibration(np.array([]), np.array([], dtype=bool))
    assert math.isnan(empty.value)


@pytest.mark.parametrize(
    ("P", "y", "message"),
    [
        (P4, Y4[:3], r"y must have shape \(4,\)"),
        (P4[:, 0], Y4, "must be 2-D"),
        (np.array([[1.2, -0.2]]), np.array([0]), r"outside \[0, 1\]"),
        (np.array([[0.5, 0.4]]), np.array([0]), "sum to 1"),
        (np.array([[0.5, np.nan]]), np.array([0]), "partly NaN"),
        (P4, np.array([0, 1, 2, 1]), r"y\[2\] = 2 is neither -1"),
        (P4, np.array([0, 1, -2, 1]), r"y\[2\] = -2"),
        (P4, np.array([0, 1, 0.5, 1]), "integer labels"),
    ],
)
def test_programmer_errors_raise(P: np.ndarray, y: np.ndarray, message: str) -> None:
    metrics: list[Callable[..., object]] = [*CALIBRATION_ERRORS, brier_score, reliability_bins]
    for metric in [*metrics, negative_log_likelihood]:
        with pytest.raises(ValueError, match=message):
            metric(P, y)


def test_bad_options_and_confidences_raise() -> None:
    with pytest.raises(ValueError, match="n_bins"):
        top_label_ece(P4, Y4, n_bins=0)
    with pytest.raises(ValueError, match="n_bins"):
        adaptive_ece(P4, Y4, n_bins=2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        confidence_calibration(np.array([0.5, 1.5]), np.array([True, True]))
    with pytest.raises(ValueError, match="must be equal"):
        confidence_calibration(np.array([0.5, 0.5]), np.array([True]))
    with pytest.raises(ValueError, match="boolean"):
        confidence_calibration(np.array([0.5, 0.5]), np.array([1, 2]))
