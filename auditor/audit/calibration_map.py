"""P(fused label correct | confidence), fitted on audited items and cross-fitted.

The map turns each item's confidence (its max posterior) into f_i = predicted P(correct),
the predictor the active-inference and PPI++ estimators correct with the audit. Fitting it
on the same labels it is then judged against would bias those estimators; cross-fitting
(Zrnic and Candes 2024, "Active Statistical Inference") gives every audited item an f
fitted on the other folds only.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

EDGE = 1e-6  # predictions are clipped to [EDGE, 1 - EDGE], strictly inside (0, 1)


@dataclass(frozen=True, eq=False)
class CorrectnessMap:
    """Monotone map from confidence to P(correct): linear interpolation between the knots
    (knots float (b,) increasing bin mean confidences, values float (b,) non-decreasing),
    flat beyond the end knots. Without knots (nothing audited) it is the prior itself,
    P(correct | confidence) = confidence. n = audited items it was fitted on."""

    knots: np.ndarray
    values: np.ndarray
    n: int

    def predict(self, confidence: ArrayLike) -> np.ndarray:
        """f float (n,) in (0, 1) for confidence float (n,)."""
        x = np.asarray(confidence, dtype=np.float64)
        f = np.interp(x, self.knots, self.values) if self.knots.size else x
        return np.clip(f, EDGE, 1 - EDGE)


def _pool_adjacent_violators(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted least-squares non-decreasing fit: merge neighbouring blocks whose means
    decrease, each merged block taking the weighted mean of its members."""
    means: list[float] = []
    masses: list[float] = []
    sizes: list[int] = []
    for value, weight in zip(values.tolist(), weights.tolist(), strict=True):
        means.append(value)
        masses.append(weight)
        sizes.append(1)
        while len(means) > 1 and means[-2] > means[-1]:
            mass = masses[-2] + masses[-1]
            means[-2] = (means[-2] * masses[-2] + means[-1] * masses[-1]) / mass
            masses[-2] = mass
            sizes[-2] += sizes[-1]
            del means[-1], masses[-1], sizes[-1]
    return np.repeat(means, sizes)


def _check(confidence: ArrayLike, correct: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    conf = np.asarray(confidence, dtype=np.float64)
    y = np.asarray(correct, dtype=np.float64)
    if conf.ndim != 1 or y.shape != conf.shape:
        raise ValueError(
            f"confidence and correct must be 1-D of one length: {conf.shape}, {y.shape}"
        )
    if not np.all((conf >= 0) & (conf <= 1)):
        raise ValueError("confidence must be in [0, 1]")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("correct must be 0/1 or bool")
    return conf, y


def fit_correctness_map(
    confidence: ArrayLike,
    correct: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    n_bins: int = 10,
    prior_strength: float = 2.0,
) -> CorrectnessMap:
    """Fit P(correct | confidence) on n audited items: confidence float (n,) in [0, 1],
    correct bool (n,), weights float (n,) > 0 (1 / pi for sampled items, so the fit targets
    the population rather than the over-sampled uncertain items; None = 1).

    Bins: equal-mass over the sorted confidences (min(n_bins, n) groups by
    np.array_split, boundaries at the midpoints between groups, tied confidences in one
    bin). Weights are rescaled to mean 1, so a bin's mass W_b = sum w is in units of items.
    Each bin gets the posterior mean under a Beta(a m_b, a (1 - m_b)) prior, a =
    prior_strength, m_b = the bin's weighted mean confidence (the calibrated guess):
    v_b = (sum_b w y + a m_b) / (W_b + a), so a sparse bin is shrunk toward "calibrated".
    Then the v_b are made non-decreasing by pooling adjacent violators (weights W_b + a).
    predict interpolates linearly between (m_b, v_b); see CorrectnessMap.
    """
    conf, y = _check(confidence, correct)
    n = conf.shape[0]
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (n,) or not np.all(np.isfinite(w) & (w > 0)):
        raise ValueError(f"weights must be finite and > 0 with shape ({n},)")
    if n_bins < 1 or prior_strength < 0:
        raise ValueError("n_bins must be >= 1 and prior_strength >= 0")
    if n == 0:
        return CorrectnessMap(np.zeros(0), np.zeros(0), 0)
    w = w * n / w.sum()
    order = np.argsort(conf, kind="stable")
    groups = [g for g in np.array_split(conf[order], min(n_bins, n)) if g.size]
    edges = np.array([(a[-1] + b[0]) / 2 for a, b in itertools.pairwise(groups)])
    edges = np.unique(edges)
    bins = np.searchsorted(edges, conf, side="left")
    used, bins = np.unique(bins, return_inverse=True)
    mass = np.bincount(bins, weights=w, minlength=used.size)
    hits = np.bincount(bins, weights=w * y, minlength=used.size)
    m = np.bincount(bins, weights=w * conf, minlength=used.size) / mass
    v = (hits + prior_strength * m) / (mass + prior_strength)
    return CorrectnessMap(m, _pool_adjacent_violators(v, mass + prior_strength), n)


def cross_fitted(
    confidence_all: ArrayLike,
    audited_index: ArrayLike,
    correct: ArrayLike,
    *,
    weights: ArrayLike | None,
    n_folds: int = 5,
    seed: int,
    n_bins: int = 10,
    prior_strength: float = 2.0,
) -> tuple[np.ndarray, np.ndarray]:
    """(f_all float (N,), f_audited float (n_audited,)).

    confidence_all float (N,); audited_index int (n_audited,) distinct rows of it;
    correct bool and weights float (n_audited,) as in fit_correctness_map. The audited items
    are split at random (seeded) into K = min(n_folds, n_audited) folds; map_j is fitted on
    every fold but j. f_audited[i] = map_j(conf_i) for i in fold j, so no audited item's f
    depends on its own label; f_all = (1/K) sum_j map_j(confidence_all). With fewer than two
    audited items there is nothing to cross-fit: both are the prior, f = confidence.
    """
    conf_all = np.asarray(confidence_all, dtype=np.float64)
    index = np.asarray(audited_index)
    if conf_all.ndim != 1 or index.ndim != 1:
        raise ValueError("confidence_all and audited_index must be 1-D")
    if index.size and (
        not np.issubdtype(index.dtype, np.integer)
        or index.min() < 0
        or index.max() >= conf_all.size
        or np.unique(index).size != index.size
    ):
        raise ValueError("audited_index must hold distinct integer rows of confidence_all")
    conf, y = _check(conf_all[index.astype(np.int64)], correct)
    w = np.ones(conf.size) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != conf.shape:
        raise ValueError(f"weights must have shape {conf.shape}, got {w.shape}")
    if n_folds < 2:
        raise ValueError(f"n_folds must be >= 2, got {n_folds}")
    k = min(n_folds, conf.size)
    if k < 2:
        prior = CorrectnessMap(np.zeros(0), np.zeros(0), 0)
        return prior.predict(conf_all), prior.predict(conf)
    folds = np.random.default_rng(seed).permutation(conf.size) % k
    f_all = np.zeros(conf_all.size)
    f_audited = np.zeros(conf.size)
    for j in range(k):
        rest = folds != j
        fold_map = fit_correctness_map(
            conf[rest], y[rest], weights=w[rest], n_bins=n_bins, prior_strength=prior_strength
        )
        f_audited[~rest] = fold_map.predict(conf[~rest])
        f_all += fold_map.predict(conf_all) / k
    return f_all, f_audited
