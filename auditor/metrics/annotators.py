"""Per-labeler metrics: pairwise LF agreement, one annotator's accuracy against truth,
and cross-subtask consistency.

Labels are ints 0..k-1, -1 = missing / abstain. Degenerate data gives NaN with a reason
(never an exception); ValueError is kept for programmer errors. See
`auditor.metrics.agreement` for the rater-agreement coefficients themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from auditor.metrics.agreement import MISSING, as_labels
from auditor.metrics.estimate import Estimate, proportion

# Rows per block in pairwise_agreement: float32 sums of 0/1 stay exact below 2**24.
_BLOCK = 1 << 16


@dataclass(frozen=True, eq=False)
class PairwiseAgreement:
    """Agreement between every pair of LFs (columns of L), each pair on the items both
    label. agreement, kappa: float (m, m), NaN where undefined and on the diagonal;
    n_common: int (m, m) co-labelled items (the diagonal: items the LF labels);
    mean_kappa: n_common-weighted mean kappa over the defined pairs (i < j)."""

    agreement: np.ndarray
    kappa: np.ndarray
    n_common: np.ndarray
    mean_kappa: Estimate


def pairwise_agreement(L: object, *, n_classes: int) -> PairwiseAgreement:
    """Raw agreement and Cohen's kappa for every pair of LFs.

    L: int array (n_items, n_lfs), -1 = abstain. For LFs a, b with N = items both label:
    agreement = #(a == b) / N; kappa = (p_o - p_e) / (1 - p_e) with p_o = agreement and
    p_e = sum_c #(a = c, b votes) #(b = c, a votes) / N^2 (equal to cohen_kappa on the
    pair). kappa is NaN when N = 0 or p_e = 1 (both used one and the same category).
    Computed as matrix products over blocks of items (a loop over classes and blocks,
    none over items or pairs): O(n m^2 k) work, O(block m) memory.
    """
    votes = as_labels(L, name="L", ndim=2, n_classes=n_classes)
    n, m = votes.shape
    votes = votes.astype(np.int8 if n_classes <= 127 else np.int32)
    agree = np.zeros((m, m), dtype=np.int64)
    chance = np.zeros((n_classes, m, m), dtype=np.int64)  # [c, a, b] = #(a = c, b votes)
    for start in range(0, n, _BLOCK):
        block = votes[start : start + _BLOCK]
        # columns [is_c | present]: one product gives #(a = b = c) and #(a = c, b votes)
        indicators = np.empty((block.shape[0], 2 * m), dtype=np.float32)
        np.not_equal(block, MISSING, out=indicators[:, m:])
        for c in range(n_classes):
            np.equal(block, c, out=indicators[:, :m])
            counts = np.rint(indicators[:, :m].T @ indicators).astype(np.int64)
            agree += counts[:, :m]
            chance[c] += counts[:, m:]
    n_common = chance.sum(axis=0)
    expected = (chance * chance.transpose(0, 2, 1)).sum(axis=0)  # N^2 p_e
    squared = n_common * n_common
    off_diagonal = ~np.eye(m, dtype=bool)
    has_items = (n_common > 0) & off_diagonal
    defined = has_items & (expected != squared)
    with np.errstate(divide="ignore", invalid="ignore"):
        agreement = np.where(has_items, agree / n_common, np.nan)
        kappa = np.where(defined, (agree * n_common - expected) / (squared - expected), np.nan)
    return PairwiseAgreement(agreement, kappa, n_common, _mean_kappa(kappa, n_common))


def _mean_kappa(kappa: np.ndarray, n_common: np.ndarray) -> Estimate:
    """sum w_ab kappa_ab / sum w_ab over defined pairs a < b, w_ab = n_common[a, b]."""
    upper = np.triu(np.ones_like(kappa, dtype=bool), k=1)
    pairs = upper & ~np.isnan(kappa)
    n_pairs = int(pairs.sum())
    if n_pairs == 0:
        return Estimate.undefined(
            "no pair of LFs has a defined kappa", pairs=int(upper.sum()), defined_pairs=0
        )
    weights = n_common[pairs].astype(np.float64)
    value = float((kappa[pairs] * weights).sum() / weights.sum())
    details: dict[str, object] = {
        "pairs": int(upper.sum()),
        "defined_pairs": n_pairs,
        "co_labelled": int(weights.sum()),
    }
    return Estimate(value, n=n_pairs, details=details)


@dataclass(frozen=True, eq=False)
class AnnotatorAccuracy:
    """accuracy: share of items both labelled and with truth where label == truth
    (Wilson 95% interval; details hold successes / trials);
    confusion: int (n_classes, n_classes) counts indexed [true, given]."""

    accuracy: Estimate
    confusion: np.ndarray


def annotator_accuracy(labels: object, truth: object, *, n_classes: int) -> AnnotatorAccuracy:
    """Accuracy of ONE annotator (or LF) against truth.

    labels, truth: int arrays (n,), -1 = missing in either (such items are not counted).
    accuracy = #(labels == truth) / #(both present), with its Wilson interval;
    confusion[t, g] = #(truth = t, labels = g). The caller loops over annotators.
    """
    given = as_labels(labels, name="labels", ndim=1, n_classes=n_classes)
    true = as_labels(truth, name="truth", ndim=1, n_classes=n_classes)
    if given.shape != true.shape:
        raise ValueError(
            f"labels and truth must have the same shape, got {given.shape} and {true.shape}"
        )
    both = (given != MISSING) & (true != MISSING)
    flat = true[both] * n_classes + given[both]
    confusion = np.bincount(flat, minlength=n_classes * n_classes).reshape(n_classes, n_classes)
    accuracy = proportion(
        int(np.trace(confusion)), int(both.sum()), what="items with both a label and the truth"
    )
    return AnnotatorAccuracy(accuracy, confusion.astype(np.int64))


def cross_subtask_consistency(
    parent_labels: object, child_present: object, *, applies_under: int
) -> Estimate:
    """Share of items whose stage-2 (refinement) label is allowed by their stage-1 label.

    parent_labels: int (n,), the fused stage-1 label, -1 = unknown.
    child_present: bool (n,), whether the item has a label for the refinement subtask.
    applies_under: the stage-1 label under which the refinement exists.
    Counted: items with a known parent label and a child label; consistent: counted items
    whose parent label == applies_under. value = consistent / counted with its Wilson
    interval; undefined when nothing is counted.
    """
    parent = as_labels(parent_labels, name="parent_labels", ndim=1)
    child = np.asarray(child_present)
    if child.size == 0:
        child = np.zeros(child.shape, dtype=bool)
    if child.dtype.kind != "b" and not (child.dtype.kind in "iu" and np.isin(child, [0, 1]).all()):
        raise ValueError(f"child_present must be a bool array, got dtype {child.dtype}")
    if child.shape != parent.shape:
        raise ValueError(
            f"parent_labels and child_present must have the same shape, "
            f"got {parent.shape} and {child.shape}"
        )
    if applies_under < 0:
        raise ValueError(f"applies_under must be a label >= 0, got {applies_under}")
    counted = (parent != MISSING) & child.astype(bool)
    consistent = counted & (parent == applies_under)
    return proportion(
        int(consistent.sum()),
        int(counted.sum()),
        what="items with both a known parent label and a child label",
    )
