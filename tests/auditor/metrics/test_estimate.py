"""Estimate, the Wilson interval and the (m-out-of-n) bootstrap, with checked numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from auditor.metrics.estimate import Estimate, bootstrap_interval, proportion, wilson_interval


def test_wilson_interval_by_hand() -> None:
    # 8 of 10, z = 1.96: centre = (0.8 + 0.19208) / 1.38416 = 0.71680,
    # half = 1.96 / 1.38416 * sqrt(0.016 + 0.0096040) = 0.22661 -> (0.4902, 0.9434)
    low, high = wilson_interval(8, 10)
    assert (low, high) == pytest.approx((0.4902, 0.9434), abs=1e-4)
    assert wilson_interval(0, 0) == (pytest.approx(math.nan, nan_ok=True),) * 2
    low, high = wilson_interval(0, 5)
    assert low == 0.0 and 0 < high < 0.5


def test_proportion_and_undefined() -> None:
    estimate = proportion(3, 4, what="votes")
    assert (estimate.value, estimate.n, estimate.details) == (
        0.75,
        4,
        {"successes": 3, "trials": 4},
    )
    empty = proportion(0, 0, what="votes with gold")
    assert not empty.defined and empty.reason == "no votes with gold"
    assert Estimate.undefined("why", n=3, a=1).details == {"a": 1}


def test_bootstrap_of_a_mean_matches_the_normal_interval() -> None:
    x = np.random.default_rng(0).normal(0.0, 1.0, 5_000)
    low, high = bootstrap_interval(lambda i: float(x[i].mean()), x.size, n_boot=400)
    half = 1.96 * x.std() / math.sqrt(x.size)  # 0.0277
    assert (high - low) / 2 == pytest.approx(half, rel=0.15)
    assert low < x.mean() < high


def test_m_out_of_n_bootstrap_rescales_to_the_full_sample() -> None:
    # 1M items, resamples of 20k: the rescaled interval has the full-sample width
    x = np.random.default_rng(1).exponential(1.0, 1_000_000)
    low, high = bootstrap_interval(lambda i: float(x[i].mean()), x.size, n_boot=300)
    half = 1.96 * x.std() / math.sqrt(x.size)  # about 0.00196
    assert (high - low) / 2 == pytest.approx(half, rel=0.2)
    assert low < x.mean() < high


def test_bootstrap_degenerate_cases() -> None:
    assert all(math.isnan(v) for v in bootstrap_interval(lambda i: 1.0, 1))
    assert all(math.isnan(v) for v in bootstrap_interval(lambda i: math.nan, 50))
    assert bootstrap_interval(lambda i: float(i.size), 10, seed=3) == (10.0, 10.0)
