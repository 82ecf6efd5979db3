"""The label model's small frozen types: its settings, LF structure and explanations."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LabelModelConfig:
    cardinality: int
    seed: int = 0
    max_iter: int = 100
    # EM stops when no emission probability moves by tol: 1e-4 is far below the sampling
    # error of any estimate (about 3e-3 on 100k items) and halves the iterations of 1e-6
    # at the same accuracy on every benchmark set (bench/RESULTS.md)
    tol: float = 1e-4
    prior_accuracy: float = 0.7
    prior_strength: float = 20.0
    confusion_prior_diagonal: float = 1.1
    confusion_prior_off_diagonal: float = 0.1
    class_prior_strength: float = 1.0
    fit_sample: int = 100_000
    float32_from_rows: int = 50_000
    calibrate: bool = True
    min_gold_for_calibration: int = 30


@dataclass(frozen=True)
class Explanation:
    """Why one item got its posterior. log_prior: (k,); contributions: (n_lfs, k) each LF's
    log-likelihood term (0 where it abstained); posterior: (k,)."""

    log_prior: np.ndarray
    contributions: np.ndarray
    posterior: np.ndarray

    def log_odds(self) -> np.ndarray:
        """(n_lfs,) each LF's push toward the predicted label vs the runner-up."""
        top = np.argsort(self.posterior)[::-1]
        return self.contributions[:, top[0]] - self.contributions[:, top[1]]


@dataclass(frozen=True)
class LFStructure:
    """How each LF's votes relate to the latent classes.

    consistent: bool (n_lfs, K, n_out): vote o of LF j is the right one for class c (no
    True in a row: LF j's subtask does not apply to class c). n_labels: int (n_lfs,) the
    size of LF j's label set. Flat tasks: the identity for every LF.
    """

    consistent: np.ndarray
    n_labels: np.ndarray

    @classmethod
    def flat(cls, n_lfs: int, k: int) -> LFStructure:
        eye = np.broadcast_to(np.eye(k, dtype=bool), (n_lfs, k, k)).copy()
        return cls(eye, np.full(n_lfs, k, dtype=np.int64))
