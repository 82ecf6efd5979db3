from __future__ import annotations

import math

import numpy as np
import pytest

from auditor.metrics.accuracy_estimate import audited_accuracy, label_free_accuracy
from auditor.metrics.estimate import wilson_interval


def test_label_free_accuracy_by_hand() -> None:
    # max_c P_ic = .9, .6, .5, .8 -> 2.8 / 4 = .7
    P = np.array([[0.9, 0.1], [0.6, 0.4], [0.5, 0.5], [0.2, 0.8]])
    e = label_free_accuracy(P)
    assert e.value == pytest.approx(0.7, abs=1e-12) and e.n == 4
    assert 0.5 <= e.low <= e.value <= e.high <= 0.9
    assert label_free_accuracy(P) == e  # seeded bootstrap


def test_label_free_accuracy_tracks_true_accuracy_when_calibrated() -> None:
    # n = 20000, y ~ P: the true accuracy of argmax is within a few sampling sd (~.003) of
    # the estimate; tolerance .015.
    rng = np.random.default_rng(1)
    P = rng.dirichlet(np.full(3, 0.7), size=20_000)
    y = np.minimum((P.cumsum(axis=1) < rng.random(len(P))[:, None]).sum(axis=1), 2)
    truth = audited_accuracy(P.argmax(axis=1), y)
    assert label_free_accuracy(P, n_boot=50).value == pytest.approx(truth.value, abs=0.015)
    # Sharpened posteriors overstate it by exactly mean(conf) - mean(correct).
    sharp = P**4 / (P**4).sum(axis=1, keepdims=True)
    over = label_free_accuracy(sharp, n_boot=50).value - audited_accuracy(sharp.argmax(1), y).value
    assert over > 0.1


def test_label_free_accuracy_drops_rows_without_posterior() -> None:
    P = np.array([[0.9, 0.1], [np.nan, np.nan], [0.7, 0.3]])
    e = label_free_accuracy(P)
    assert e.value == pytest.approx(0.8) and e.n == 2 and e.details["no_posterior"] == 1
    none = label_free_accuracy(np.full((2, 2), np.nan))
    assert math.isnan(none.value) and none.reason == "no items with a posterior"
    assert math.isnan(label_free_accuracy(np.zeros((0, 3))).value)
    single = label_free_accuracy(np.array([[0.6, 0.4]]))
    assert single.value == pytest.approx(0.6) and math.isnan(single.low)


def test_label_free_accuracy_rejects_invalid_posteriors() -> None:
    with pytest.raises(ValueError, match="sum to 1"):
        label_free_accuracy(np.array([[0.6, 0.6]]))
    with pytest.raises(ValueError, match="2-D"):
        label_free_accuracy(np.array([0.6, 0.4]))


def test_audited_accuracy_by_hand() -> None:
    # audited items 0..3: hits at 0 and 1, 2 is wrong, 3 has no prediction (wrong) -> 2/4.
    e = audited_accuracy(np.array([0, 1, 1, -1, 2]), np.array([0, 1, 0, 2, -1]))
    assert e.value == 0.5 and e.n == 4
    assert (e.low, e.high) == pytest.approx(wilson_interval(2, 4))
    assert e.details == {"successes": 2, "trials": 4, "unpredicted": 1}


def test_audited_accuracy_without_audits_is_nan() -> None:
    e = audited_accuracy(np.array([0, 1]), np.array([-1, -1]))
    assert math.isnan(e.value) and e.reason == "no audited items"
    assert math.isnan(audited_accuracy(np.array([], dtype=int), np.array([])).value)


@pytest.mark.parametrize(
    ("predicted", "audited", "message"),
    [
        (np.array([0, 1]), np.array([0]), r"audited must have shape \(2,\)"),
        (np.array([[0, 1]]), np.array([0, 1]), "predicted must have shape"),
        (np.array([0, 1]), np.array([0, -2]), r"audited\[1\] = -2"),
        (np.array([0.5, 1]), np.array([0, 1]), "integer labels"),
    ],
)
def test_audited_accuracy_programmer_errors(
    predicted: np.ndarray, audited: np.ndarray, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        audited_accuracy(predicted, audited)
