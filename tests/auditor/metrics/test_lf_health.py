"""LF health: the contribution (decisive votes) against a brute-force loop and a worked
example; share, gold accuracy and relative change on ordinary and degenerate counts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from auditor.metrics.lf_health import decisive_votes, gold_accuracy, relative_change, share


def brute_force_decisive(
    L: np.ndarray, fused: np.ndarray, log_pi: np.ndarray, log_emission: np.ndarray
) -> np.ndarray:
    """One item and one LF at a time: the argmax of log pi + sum of the other LFs' log
    P(vote | y) differs from the fused label, and the LF voted that label."""
    n, m = L.shape
    out = np.zeros((n, m), dtype=bool)
    for i in range(n):
        for j in range(m):
            if fused[i] < 0 or L[i, j] != fused[i]:
                continue
            score = log_pi.copy()
            for other in range(m):
                if other != j and L[i, other] >= 0:
                    score += log_emission[other, :, L[i, other]]
            out[i, j] = int(np.argmax(score)) != fused[i]
    return out


def test_decisive_votes_worked_example() -> None:
    # k = 2, uniform prior; LF 0 is 90% accurate, LF 1 60%: log P(o | y) from those.
    emission = np.log(np.array([[[0.9, 0.1], [0.1, 0.9]], [[0.6, 0.4], [0.4, 0.6]]]))
    log_pi = np.log([0.5, 0.5])
    L = np.array(
        [
            [0, 1],  # LF 0 outweighs LF 1: fused 0; without LF 0, LF 1 says 1 -> LF 0 decisive
            [0, 0],  # both say 0: without either the other still says 0 -> none decisive
            [-1, 1],  # LF 1 alone: without it the prior ties, argmax -> 0 != 1 -> decisive
            [1, 1],  # fused 1 but the item is marked not fused (-1): nobody counts
        ]
    )
    fused = np.array([0, 0, 1, -1])
    expected = np.array([[True, False], [False, False], [False, True], [False, False]])
    np.testing.assert_array_equal(decisive_votes(L, fused, log_pi, emission), expected)


@pytest.mark.parametrize(("seed", "k", "m"), [(0, 2, 3), (1, 3, 6), (2, 5, 8)])
def test_decisive_votes_equal_a_brute_force_loop(seed: int, k: int, m: int) -> None:
    rng = np.random.default_rng(seed)
    n = 300
    L = np.where(rng.random((n, m)) < 0.5, rng.integers(0, k, (n, m)), -1).astype(np.int8)
    log_pi = np.log(rng.dirichlet(np.ones(k)))
    confusion = rng.dirichlet(np.ones(k), size=(m, k)) + 2 * np.eye(k)
    log_emission = np.log(confusion / confusion.sum(axis=2, keepdims=True))
    table = np.concatenate([np.zeros((m, 1, k)), log_emission.transpose(0, 2, 1)], axis=1)
    logits = log_pi + table[np.arange(m), L.astype(int) + 1].sum(axis=1)
    fused = np.where(rng.random(n) < 0.9, logits.argmax(axis=1), -1)
    got = decisive_votes(L, fused, log_pi, log_emission)
    np.testing.assert_array_equal(got, brute_force_decisive(L, fused, log_pi, log_emission))
    assert got.any() and not got.all()


def test_decisive_votes_empty_inputs() -> None:
    log_pi, emission = np.log([0.5, 0.5]), np.log(np.full((0, 2, 2), 0.5))
    assert decisive_votes(
        np.zeros((0, 0), dtype=np.int8), np.zeros(0, int), log_pi, emission
    ).shape == (0, 0)
    all_abstain = np.full((4, 2), -1, dtype=np.int8)
    two = np.log(np.full((2, 2, 2), 0.5))
    assert not decisive_votes(all_abstain, np.zeros(4, int), log_pi, two).any()


def test_share_and_empty_window() -> None:
    estimate = share(3, 12, what="coverage")
    assert estimate.value == 0.25 and estimate.n == 12
    assert estimate.low < 0.25 < estimate.high
    empty = share(0, 0, what="coverage")
    assert math.isnan(empty.value) and empty.reason == "no items in the window (coverage)"


def test_gold_accuracy_records_chance_even_without_gold() -> None:
    estimate = gold_accuracy(7, 10, n_classes=4)
    assert estimate.value == 0.7 and estimate.details["chance"] == 0.25
    assert estimate.details["successes"] == 7 and estimate.details["trials"] == 10
    none = gold_accuracy(0, 0, n_classes=4)
    assert math.isnan(none.value) and none.reason == "no gold among the LF's votes"
    assert none.details["chance"] == 0.25


def test_relative_change() -> None:
    change = relative_change(0.1, 0.4, what="coverage")
    assert change.value == pytest.approx(-0.75)
    assert change.details == {"reference": 0.4, "current": 0.1}
    zero = relative_change(0.1, 0.0, what="coverage")
    assert math.isnan(zero.value) and "0 in the reference window" in str(zero.reason)
    assert "undefined" in str(relative_change(math.nan, 0.3, what="coverage").reason)
