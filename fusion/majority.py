"""Majority vote: the baseline, with the label model's interface."""

from __future__ import annotations

import numpy as np

from fusion.base import Labeler
from fusion.matrix import ABSTAIN
from fusion.validation import check_fit_inputs


class MajorityVote(Labeler):
    """Each item's distribution of (confidence-weighted) votes; no votes -> class balance
    (uniform unless given). predict breaks exact ties toward the lowest label."""

    def __init__(self, cardinality: int) -> None:
        self.cardinality = cardinality
        self.class_balance_ = np.full(cardinality, 1.0 / cardinality)

    def fit(
        self,
        L: np.ndarray,
        gold: np.ndarray | None = None,
        class_balance: np.ndarray | None = None,
        confidence: np.ndarray | None = None,
    ) -> MajorityVote:
        _, _, balance, _ = check_fit_inputs(
            L,
            cardinality=self.cardinality,
            gold=gold,
            class_balance=class_balance,
            confidence=confidence,
            require_votes=False,
        )
        if balance is not None:
            self.class_balance_ = balance
        return self

    def predict_proba(self, L: np.ndarray, *, confidence: np.ndarray | None = None) -> np.ndarray:
        L, _, _, confidence = check_fit_inputs(
            L, cardinality=self.cardinality, confidence=confidence, require_votes=False
        )
        weights = np.ones(L.shape) if confidence is None else np.nan_to_num(confidence, nan=1.0)
        counts = np.zeros((L.shape[0], self.cardinality))
        for label in range(self.cardinality):
            counts[:, label] = (np.equal(L, label) * weights).sum(axis=1)
        totals = counts.sum(axis=1, keepdims=True)
        uncovered = (L == ABSTAIN).all(axis=1) | (totals[:, 0] <= 0)
        counts[uncovered] = self.class_balance_
        return counts / counts.sum(axis=1, keepdims=True)

    def expected_score(self, L: np.ndarray, y: np.ndarray) -> float:
        """Accuracy expected under uniformly random tie-breaking (as published MV numbers are
        single draws of it): each item scores 1/|tied labels| when y is among them."""
        proba = self.predict_proba(L)
        best = proba.max(axis=1, keepdims=True)
        tied = np.isclose(proba, best)
        known = np.asarray(y) >= 0
        rows = np.flatnonzero(known)
        hits = tied[rows, np.asarray(y)[known]] / tied[rows].sum(axis=1)
        return float(hits.mean()) if rows.size else float("nan")
