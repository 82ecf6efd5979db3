"""Checks at the boundary of every labeler: clear errors, then internal code trusts inputs."""

from __future__ import annotations

import numpy as np

from fusion.matrix import ABSTAIN, check_label_matrix

FOLD = 64


def check_fit_inputs(
    L: np.ndarray,
    *,
    cardinality: int,
    gold: np.ndarray | None = None,
    class_balance: np.ndarray | None = None,
    confidence: np.ndarray | None = None,
    require_votes: bool = True,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """Validated (L, gold, class_balance, confidence) as int64 / float64 arrays.

    L: int (n_items, n_lfs), -1 = abstain. gold: int (n_items,), -1 = unknown.
    class_balance: float (k,), positive, sums to 1. confidence: float like L in [0, 1],
    NaN where abstaining (a NaN on a vote means "no confidence reported": weight 1).
    """
    if cardinality < 2:
        raise ValueError(f"cardinality must be at least 2, got {cardinality}")
    L = check_label_matrix(L, cardinality=cardinality)
    if require_votes and (L.size == 0 or L.max() == ABSTAIN):
        raise ValueError("L has no votes: every entry is -1 (abstain)")
    if gold is not None:
        gold = np.asarray(gold)
        if gold.shape != (L.shape[0],):
            raise ValueError(
                f"gold must have shape ({L.shape[0]},) like L's rows, got {gold.shape}"
            )
        gold = gold.astype(np.int64)
        bad = (gold < ABSTAIN) | (gold >= cardinality)
        if bad.any():
            row = int(np.argmax(bad))
            raise ValueError(
                f"gold[{row}] = {gold[row]} is neither -1 nor a label in 0..{cardinality - 1}"
            )
    if class_balance is not None:
        class_balance = np.asarray(class_balance, dtype=np.float64)
        if class_balance.shape != (cardinality,) or (class_balance <= 0).any():
            raise ValueError(f"class_balance must be {cardinality} positive numbers")
        if not np.isclose(class_balance.sum(), 1.0, atol=1e-6):
            raise ValueError(f"class_balance must sum to 1, got {class_balance.sum():.6f}")
    if confidence is not None:
        confidence = np.asarray(confidence, dtype=np.float64)
        if confidence.shape != L.shape:
            raise ValueError(f"confidence must have L's shape {L.shape}, got {confidence.shape}")
        voted = L != ABSTAIN
        out = voted & ~np.isnan(confidence) & ((confidence < 0) | (confidence > 1))
        if out.any():
            row, col = (int(v) for v in np.argwhere(out)[0])
            raise ValueError(f"confidence[{row}, {col}] = {confidence[row, col]} is outside [0, 1]")
    return L, gold, class_balance, confidence


def lf_vote_summary(L: np.ndarray, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """(emitted bool (n_lfs, n_out): labels each LF voted; votes int (n_lfs,): its votes).

    A column reduction of an (n, m) matrix with m ~ 20 spends its time on per-row overhead;
    folding FOLD rows into one (n / FOLD, FOLD * m) row first makes it 3-4x faster."""
    n, m = L.shape
    head = n - n % FOLD
    body, tail = L[:head].reshape(-1, FOLD * m), L[head:]

    def per_lf(mask_body: np.ndarray, mask_tail: np.ndarray) -> np.ndarray:
        folded = np.count_nonzero(mask_body, axis=0).reshape(FOLD, m).sum(axis=0)
        return folded + np.count_nonzero(mask_tail, axis=0)

    emitted = np.stack([per_lf(body == label, tail == label) > 0 for label in range(n_out)], axis=1)
    return emitted, per_lf(body != ABSTAIN, tail != ABSTAIN)
