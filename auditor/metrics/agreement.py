"""Chance-corrected agreement between raters: Cohen's kappa, Fleiss' kappa, Krippendorff's
alpha and percent agreement.

Labels are ints 0..k-1 and -1 marks a missing rating (an abstain). Every function returns
an Estimate and never raises on degenerate data (nothing co-labelled, a single category):
the value is NaN and the reason says why. ValueError is kept for programmer errors
(mismatched shapes, labels below -1 or outside 0..n_classes-1, non-integer labels).

Per-LF and per-annotator metrics (pairwise LF agreement, accuracy against truth,
cross-subtask consistency) are in `auditor.metrics.annotators`.
"""

from __future__ import annotations

import math

import numpy as np

from auditor.metrics.estimate import Z95, Estimate

MISSING = -1


def as_labels(values: object, *, name: str, ndim: int, n_classes: int | None = None) -> np.ndarray:
    """values as an int64 array of ndim dimensions (an empty input of another ndim, such
    as [], becomes shape (0,) * ndim); ValueError for non-integer values, labels < -1
    or >= n_classes."""
    array = np.asarray(values)
    if array.size == 0:
        array = array.reshape((0,) * ndim) if array.ndim != ndim else array
    if array.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {array.shape}")
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array) & (array == np.round(array))):
            raise ValueError(f"{name} must hold integer labels (-1 = missing, not NaN)")
    elif array.dtype.kind not in "iub":
        raise ValueError(f"{name} must hold integer labels, got dtype {array.dtype}")
    array = array.astype(np.int64)
    if n_classes is not None and n_classes < 1:
        raise ValueError(f"n_classes must be at least 1, got {n_classes}")
    high = n_classes if n_classes is not None else np.iinfo(np.int64).max
    bad = (array < MISSING) | (array >= high)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        allowed = f"a label in 0..{high - 1}" if n_classes is not None else "a label >= 0"
        raise ValueError(f"{name}{list(where)} = {array[where]} is neither -1 nor {allowed}")
    return array


def category_counts(ratings: np.ndarray, n_classes: int) -> np.ndarray:
    """int64 (n_items, n_classes): how many raters gave item i category j (n_ij).
    ratings: validated int (n_items, n_raters), -1 = missing."""
    items, _ = np.nonzero(ratings != MISSING)
    flat = items * n_classes + ratings[ratings != MISSING]
    counts = np.bincount(flat, minlength=ratings.shape[0] * n_classes)
    return counts.reshape(ratings.shape[0], n_classes).astype(np.int64)


def cohen_kappa(a: object, b: object, *, n_classes: int | None = None) -> Estimate:
    """Cohen's kappa between two raters over the items both rated.

    a, b: int arrays (n,), -1 = missing; n (the Estimate's n) = items with both present.
    kappa = (p_o - p_e) / (1 - p_e), p_o = share of those items where a == b,
    p_e = sum_c p_a(c) p_b(c) from each rater's label shares on those items.
    The interval is Cohen's (1960) large-sample one, kappa +- z sqrt(p_o (1 - p_o) /
    (n (1 - p_e)^2)), clipped to [-1, 1]. Undefined without co-rated items, or when
    p_e = 1 (both raters used the same single category, so chance explains everything).
    """
    x = as_labels(a, name="a", ndim=1, n_classes=n_classes)
    y = as_labels(b, name="b", ndim=1, n_classes=n_classes)
    if x.shape != y.shape:
        raise ValueError(f"a and b must have the same shape, got {x.shape} and {y.shape}")
    both = (x != MISSING) & (y != MISSING)
    n = int(both.sum())
    if n == 0:
        return Estimate.undefined("no items rated by both raters")
    x, y = x[both], y[both]
    if n_classes is None:  # number the labels seen 0..k-1
        values, codes = np.unique(np.concatenate([x, y]), return_inverse=True)
        x, y, k = codes[:n].reshape(-1), codes[n:].reshape(-1), len(values)
    else:
        k = n_classes
    agree = int((x == y).sum())
    chance = int(np.bincount(x, minlength=k) @ np.bincount(y, minlength=k))  # n^2 p_e
    details: dict[str, object] = {"agree": agree, "items": n}
    if chance == n * n:
        return Estimate.undefined(
            "expected agreement is 1: both raters used a single category", n=n, **details
        )
    p_o, p_e = agree / n, chance / (n * n)
    kappa = (p_o - p_e) / (1 - p_e)
    half = Z95 * math.sqrt(p_o * (1 - p_o) / n) / (1 - p_e)
    details |= {"observed": p_o, "expected": p_e}
    return Estimate(kappa, max(-1.0, kappa - half), min(1.0, kappa + half), n, None, details)


def _rated_items(ratings: object, n_classes: int | None) -> np.ndarray:
    """category_counts (n_kept, k) of the items with >= 2 ratings; ratings: int
    (n_items, n_raters), -1 = missing, validated here."""
    r = as_labels(ratings, name="ratings", ndim=2, n_classes=n_classes)
    if n_classes is None:  # number the labels seen 0..k-1, so k is never larger than needed
        present = r != MISSING
        values, codes = np.unique(r[present], return_inverse=True)
        r = r.copy()
        r[present] = codes.reshape(-1)
        n_classes = max(len(values), 1)
    counts = category_counts(r, n_classes)
    return counts[counts.sum(axis=1) >= 2]


def fleiss_kappa(ratings: object, *, n_classes: int) -> Estimate:
    """Fleiss' kappa, generalised to a varying number of raters per item.

    ratings: int array (n_items, n_raters), -1 = missing. Items with fewer than 2 ratings
    are dropped; n = items kept. With n_ij = raters giving item i category j and
    n_i = sum_j n_ij:
    P_i = sum_j n_ij (n_ij - 1) / (n_i (n_i - 1)), P_bar = mean_i P_i,
    p_j = sum_i n_ij / sum_i n_i, P_e = sum_j p_j^2, kappa = (P_bar - P_e) / (1 - P_e).
    With the same number of raters on every item this is Fleiss' (1971) kappa.
    Undefined with no item rated twice, or when P_e = 1 (a single category used).
    """
    counts = _rated_items(ratings, n_classes)
    n = counts.shape[0]
    if n == 0:
        return Estimate.undefined("no item has at least 2 ratings")
    per_item = counts.sum(axis=1)
    total = int(per_item.sum())
    details: dict[str, object] = {
        "ratings": total,
        "min_raters": int(per_item.min()),
        "max_raters": int(per_item.max()),
    }
    per_class = counts.sum(axis=0)
    if int(per_class.max()) == total:
        return Estimate.undefined(
            "expected agreement is 1: every rating is the same category", n=n, **details
        )
    p_i = (counts * (counts - 1)).sum(axis=1) / (per_item * (per_item - 1))
    p_bar = float(p_i.mean())
    p_e = float(((per_class / total) ** 2).sum())
    details |= {"observed": p_bar, "expected": p_e}
    return Estimate((p_bar - p_e) / (1 - p_e), n=n, details=details)


def krippendorff_alpha(ratings: object, *, level: str = "nominal") -> Estimate:
    """Krippendorff's alpha (nominal) from the coincidence matrix.

    ratings: int array (n_items, n_raters), -1 = missing. Items (units) with fewer than
    2 ratings are not pairable and dropped; n = units kept. With n_uc = ratings of
    category c in unit u, m_u = sum_c n_uc, n_c = sum_u n_uc, n.. = sum_c n_c:
    D_o = sum_u (m_u^2 - sum_c n_uc^2) / (m_u - 1)   (= sum_{c != k} o_ck),
    D_e = n..^2 - sum_c n_c^2,  alpha = 1 - (n.. - 1) D_o / D_e.
    Only level="nominal" is supported. Undefined with no pairable unit, or when every
    pairable value is the same category (D_e = 0).
    """
    if level != "nominal":
        raise ValueError(f"only level='nominal' is supported, got {level!r}")
    counts = _rated_items(ratings, None)
    n = counts.shape[0]
    if n == 0:
        return Estimate.undefined("no item has at least 2 ratings (no pairable values)")
    m_u = counts.sum(axis=1)
    per_class = counts.sum(axis=0)
    total = int(per_class.sum())
    details: dict[str, object] = {"pairable_values": total}
    expected = total * total - int((per_class * per_class).sum())
    if expected == 0:
        return Estimate.undefined(
            "every pairable value is the same category: no expected disagreement", n=n, **details
        )
    observed = float(((m_u * m_u - (counts * counts).sum(axis=1)) / (m_u - 1)).sum())
    details |= {"observed_disagreement": observed / total}
    details |= {"expected_disagreement": expected / (total * (total - 1))}
    return Estimate(1 - (total - 1) * observed / expected, n=n, details=details)


def percent_agreement(ratings: object, *, n_classes: int) -> Estimate:
    """Mean over items with >= 2 ratings of the share of rater pairs that agree.

    ratings: int array (n_items, n_raters), -1 = missing; n = items counted.
    a_i = sum_j n_ij (n_ij - 1) / (n_i (n_i - 1)) (Fleiss' P_i), value = mean_i a_i, with
    a normal 95% interval mean +- z sd / sqrt(n) clipped to [0, 1] (none when n < 2).
    """
    counts = _rated_items(ratings, n_classes)
    n = counts.shape[0]
    if n == 0:
        return Estimate.undefined("no item has at least 2 ratings")
    per_item = counts.sum(axis=1)
    shares = (counts * (counts - 1)).sum(axis=1) / (per_item * (per_item - 1))
    value = float(shares.mean())
    details: dict[str, object] = {"unanimous_items": int((shares == 1).sum())}
    if n < 2:
        return Estimate(value, n=n, details=details)
    half = Z95 * float(shares.std(ddof=1)) / math.sqrt(n)
    return Estimate(value, max(0.0, value - half), min(1.0, value + half), n, None, details)


def human_agreement(ratings: object, *, n_classes: int) -> dict[str, Estimate]:
    """Inter-annotator agreement where items carry several human labels.

    ratings: int array (n_items, n_annotators), -1 = not labelled by that annotator.
    Returns {"fleiss_kappa", "krippendorff_alpha", "percent_agreement"} (see each).
    """
    r = as_labels(ratings, name="ratings", ndim=2, n_classes=n_classes)
    return {
        "fleiss_kappa": fleiss_kappa(r, n_classes=n_classes),
        "krippendorff_alpha": krippendorff_alpha(r),
        "percent_agreement": percent_agreement(r, n_classes=n_classes),
    }
