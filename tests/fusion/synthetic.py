"""Synthetic label matrices with known LF accuracies, for recovery tests (no ../shared)."""

from __future__ import annotations

import numpy as np


def unipolar_matrix(
    n: int,
    *,
    k: int,
    accuracies: list[float],
    coverage: float,
    balance: list[float] | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(L, y, polarity): LF j votes polarity[j] = j % k; fires with prob coverage when
    y == polarity and with a rate that makes its accuracy accuracies[j] otherwise."""
    rng = np.random.default_rng(seed)
    pi = np.full(k, 1 / k) if balance is None else np.asarray(balance)
    y = rng.choice(k, size=n, p=pi)
    m = len(accuracies)
    L = np.full((n, m), -1)
    polarity = np.arange(m) % k
    for j, acc in enumerate(accuracies):
        p = polarity[j]
        # P(fire|y=p) = coverage; P(fire|y!=p) = r solves acc = pi_p c / (pi_p c + (1-pi_p) r)
        r = pi[p] * coverage * (1 - acc) / (acc * (1 - pi[p]))
        fire = np.where(y == p, rng.random(n) < coverage, rng.random(n) < r)
        L[fire, j] = p
    return L, y, polarity


def confusion_matrix_votes(
    n: int, *, k: int, m: int, coverage: float, accuracy: float, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(L, y): Dawid-Skene annotators, right with prob accuracy, else a uniform other label."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, size=n)
    right = rng.random((n, m)) < accuracy
    other = (y[:, None] + rng.integers(1, k, size=(n, m))) % k
    L = np.where(right, y[:, None], other)
    L[rng.random((n, m)) >= coverage] = -1
    return L, y
