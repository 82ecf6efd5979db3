"""What every labeler shares: predict from predict_proba, and scoring."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np


class Labeler(ABC):
    """A model from a label matrix to probabilistic labels (Snorkel's contract).

    L: int array (n_items, n_lfs), values in {-1, 0, ..., k-1}, -1 = abstain.
    predict_proba returns float (n_items, k), rows summing to 1.
    """

    cardinality: int

    @abstractmethod
    def fit(
        self,
        L: np.ndarray,
        gold: np.ndarray | None = None,
        class_balance: np.ndarray | None = None,
        confidence: np.ndarray | None = None,
    ) -> Labeler: ...

    @abstractmethod
    def predict_proba(
        self, L: np.ndarray, *, confidence: np.ndarray | None = None
    ) -> np.ndarray: ...

    def predict(self, L: np.ndarray, *, confidence: np.ndarray | None = None) -> np.ndarray:
        """int (n_items,): the most probable label; exact ties go to the lowest label."""
        return np.argmax(self.predict_proba(L, confidence=confidence), axis=1)

    def score(self, L: np.ndarray, y: np.ndarray, *, metric: str = "accuracy") -> float:
        """accuracy, or f1 (of label 1, binary tasks) on items with y >= 0."""
        known = np.asarray(y) >= 0
        pred = self.predict(L)[known]
        truth = np.asarray(y)[known]
        if metric == "accuracy":
            return float((pred == truth).mean()) if truth.size else float("nan")
        if metric == "f1":
            tp = int(((pred == 1) & (truth == 1)).sum())
            wrong = int((pred != truth).sum())
            return 2 * tp / (2 * tp + wrong) if tp + wrong else 0.0
        raise ValueError(f"unknown metric {metric!r}; use one of accuracy, f1")
