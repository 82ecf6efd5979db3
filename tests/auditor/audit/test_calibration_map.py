from __future__ import annotations

import numpy as np
import pytest

from auditor.audit.calibration_map import EDGE, cross_fitted, fit_correctness_map

CONF = np.array([0.1, 0.2, 0.8, 0.9])


def test_binned_beta_shrinkage_by_hand() -> None:
    # 2 equal-mass bins {.1, .2}, {.8, .9} (edge .5); prior a = 2 toward the bin's mean
    # confidence m: bin 0: m = .15, (1 + 2 * .15) / (2 + 2) = .325;
    # bin 1: m = .85, (2 + 2 * .85) / (2 + 2) = .925.
    fitted = fit_correctness_map(CONF, [0, 1, 1, 1], n_bins=2, prior_strength=2.0)
    assert fitted.knots == pytest.approx([0.15, 0.85])
    assert fitted.values == pytest.approx([0.325, 0.925]) and fitted.n == 4
    # linear between the knots, flat outside: .325 + (.35 / .7) * .6 = .625
    assert fitted.predict([0.0, 0.5, 1.0]) == pytest.approx([0.325, 0.625, 0.925])


def test_weights_are_rescaled_to_mean_one() -> None:
    # weights (3, 1, 1, 1) -> (2, 2/3, 2/3, 2/3). bin 0: mass 8/3, hits 2/3,
    # m = (2 * .1 + 2/3 * .2) / (8/3) = .125, v = (2/3 + 2 * .125) / (8/3 + 2) = .196429.
    fitted = fit_correctness_map(CONF, [0, 1, 1, 1], weights=[3, 1, 1, 1], n_bins=2)
    assert fitted.knots[0] == pytest.approx(0.125)
    assert fitted.values[0] == pytest.approx((2 / 3 + 0.25) / (8 / 3 + 2))
    same = fit_correctness_map(CONF, [0, 1, 1, 1], weights=[30, 10, 10, 10], n_bins=2)
    assert same.values == pytest.approx(fitted.values)


def test_adjacent_violators_are_pooled() -> None:
    # without a prior the bins are 1 and 0: pooled (weights 2, 2) into .5 and .5
    fitted = fit_correctness_map(CONF, [True, True, False, False], n_bins=2, prior_strength=0)
    assert fitted.values == pytest.approx([0.5, 0.5])
    # all correct without a prior -> 1, clipped inside (0, 1)
    top = fit_correctness_map(CONF, [1, 1, 1, 1], prior_strength=0).predict(CONF)
    assert np.all(top == 1 - EDGE)


def test_map_is_monotone_and_inside_the_unit_interval() -> None:
    rng = np.random.default_rng(5)
    for _ in range(20):
        conf = rng.uniform(0.3, 1, 300)
        correct = rng.random(300) < rng.random()  # unrelated to conf: violators everywhere
        fitted = fit_correctness_map(conf, correct, weights=rng.uniform(1, 20, 300), n_bins=15)
        f = fitted.predict(np.linspace(0, 1, 201))
        assert np.all(np.diff(f) >= -1e-12) and np.all((f > 0) & (f < 1))


def test_recovers_a_known_curve() -> None:
    # P(correct | c) = .2 + .7 c (over-confident) on 20,000 items in 20 bins of 1,000:
    # binomial sd per bin ~ .014, so every grid point inside the knots is within .04.
    rng = np.random.default_rng(11)
    conf = rng.uniform(0.4, 1.0, 20_000)
    correct = rng.random(20_000) < 0.2 + 0.7 * conf
    grid = np.linspace(0.45, 0.95, 51)
    fitted = fit_correctness_map(conf, correct, n_bins=20)
    assert np.abs(fitted.predict(grid) - (0.2 + 0.7 * grid)).max() < 0.04
    # the over-sampled uncertain half, weighted by 1/pi, recovers the same curve
    pi = np.where(conf < 0.7, 0.9, 0.1)
    kept = rng.random(20_000) < pi
    weighted = fit_correctness_map(conf[kept], correct[kept], weights=1 / pi[kept], n_bins=20)
    assert np.abs(weighted.predict(grid) - (0.2 + 0.7 * grid)).max() < 0.06


def test_without_audits_the_map_is_the_calibrated_prior() -> None:
    empty = fit_correctness_map([], [])
    assert empty.n == 0 and empty.predict([0.0, 0.3, 1.0]) == pytest.approx([EDGE, 0.3, 1 - EDGE])
    f_all, f_audited = cross_fitted([0.3, 0.6], [1], [True], weights=None, seed=0)
    assert f_all == pytest.approx([0.3, 0.6]) and f_audited == pytest.approx([0.6])


def test_cross_fitting_keeps_each_audited_f_free_of_its_own_label() -> None:
    rng = np.random.default_rng(2)
    conf_all = rng.uniform(0.4, 1, 2_000)
    audited = rng.choice(2_000, 200, replace=False)
    correct = rng.random(200) < conf_all[audited]
    w = rng.uniform(1, 5, 200)
    f_all, f_audited = cross_fitted(conf_all, audited, correct, weights=w, seed=4)
    assert f_all.shape == (2_000,) and f_audited.shape == (200,)
    again = cross_fitted(conf_all, audited, correct, weights=w, seed=4)
    assert np.array_equal(again[0], f_all) and np.array_equal(again[1], f_audited)
    for i in (0, 57, 199):  # flipping item i's label leaves its own f unchanged
        flipped = correct.copy()
        flipped[i] = not flipped[i]
        other_all, other = cross_fitted(conf_all, audited, flipped, weights=w, seed=4)
        assert other[i] == f_audited[i]
        assert not np.array_equal(other, f_audited) and not np.array_equal(other_all, f_all)
    # an in-sample fit would differ from the cross-fitted f
    in_sample = fit_correctness_map(conf_all[audited], correct, weights=w).predict(
        conf_all[audited]
    )
    assert not np.allclose(in_sample, f_audited)
    assert np.all(np.diff(f_all[np.argsort(conf_all)]) >= -1e-12)  # mean of monotone maps


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"audited_index": [0, 0], "correct": [1, 1]}, "distinct"),
        ({"audited_index": [0, 5], "correct": [1, 1]}, "distinct"),
        ({"audited_index": [0, 1], "correct": [1]}, "one length"),
        ({"audited_index": [0, 1], "correct": [1, 2]}, "0/1"),
        ({"audited_index": [0, 1], "correct": [1, 0], "n_folds": 1}, "n_folds"),
    ],
)
def test_cross_fitted_programmer_errors(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"weights": None, "seed": 0, **kwargs}
    with pytest.raises(ValueError, match=message):
        cross_fitted([0.5, 0.6, 0.7], **args)  # type: ignore[arg-type]


def test_fit_programmer_errors() -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        fit_correctness_map([1.5], [1])
    with pytest.raises(ValueError, match="weights"):
        fit_correctness_map([0.5], [1], weights=[0.0])
    with pytest.raises(ValueError, match="n_bins"):
        fit_correctness_map([0.5], [1], n_bins=0)
