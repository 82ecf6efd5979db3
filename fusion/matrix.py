"""The label-matrix contract shared by every model and converter."""

from __future__ import annotations

import numpy as np

ABSTAIN = -1


def check_label_matrix(L: np.ndarray, *, cardinality: int | None = None) -> np.ndarray:
    """Validate L: int array (n_items, n_lfs), -1 = abstain, votes in 0..cardinality-1.

    Returns L itself when it already has an integer dtype (no copy: a 10M x 20 int8 matrix
    stays 200 MB), else an int64 copy. Raises ValueError naming the first offending entry.
    """
    L = np.asarray(L)
    if L.ndim != 2:
        raise ValueError(f"L must be 2-D (n_items, n_lfs), got shape {L.shape}")
    if L.size and not np.issubdtype(L.dtype, np.integer) and not np.all(np.mod(L, 1) == 0):
        raise ValueError("L must hold integer labels")
    if not np.issubdtype(L.dtype, np.integer):
        L = L.astype(np.int64)
    elif np.issubdtype(L.dtype, np.unsignedinteger):
        raise ValueError("L must be a signed integer array (-1 = abstain)")
    # two whole-array reductions (about 2 ms for 10M x 20 int8); the per-entry mask is
    # built only to name the first offending entry
    if L.size and (L.min() < ABSTAIN or (cardinality is not None and L.max() >= cardinality)):
        bad = L < ABSTAIN
        if cardinality is not None:
            bad |= cardinality <= L
        row, col = (int(v) for v in np.argwhere(bad)[0])
        limit = f"0..{cardinality - 1}" if cardinality is not None else ">= 0"
        raise ValueError(
            f"L[{row}, {col}] = {L[row, col]} is neither -1 (abstain) nor a label in {limit}"
        )
    return L
