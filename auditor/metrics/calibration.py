"""Calibration of fused posteriors, and of LF-reported confidences, against gold labels.

Inputs: P float (n, k), one posterior row per item (rows sum to 1; an all-NaN row means
"no posterior" and is dropped); y int (n,), the gold or audited label, -1 = unknown
(dropped). Every metric works on the remaining labelled rows; Estimate.n is their count.
Top-label: conf_i = max_c P_ic, pred_i = argmax_c P_ic (ties: lowest index),
correct_i = [pred_i == y_i].

Bins. Equal-width: bin b = (b/B, (b+1)/B] for b = 0..B-1, with 0 in bin 0 (right-closed,
as Guo et al. 2017; torchmetrics closes bins on the left, which differs only for a
confidence exactly on an edge). Equal-mass: sort the confidences, split them into
min(B, n) nearly equal groups with np.array_split, put the boundary between neighbouring
groups at the midpoint of the last value of one and the first of the next, and assign each
item to the first boundary >= its confidence; tied confidences therefore share a bin (the
result does not depend on item order) and a bin can absorb a neighbour, so fewer than B
bins may be used. This is the binning of Kumar et al.'s `uncertainty-calibration`
(`get_equal_bins`); on untied data it is exactly the np.array_split grouping.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from auditor.metrics.estimate import Estimate, bootstrap_interval

PROBABILITY_TOLERANCE = 1e-9  # entries in [-tol, 1 + tol] are accepted, then clipped
ROW_SUM_TOLERANCE = 1e-6


def check_posteriors(P: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """(P as float64 clipped to [0, 1], mask of all-NaN rows). ValueError when P is not 2-D
    with k >= 1 columns, a row is partly NaN, an entry is outside [0, 1] or a row does not
    sum to 1 within 1e-6."""
    P = np.asarray(P, dtype=np.float64)
    if P.ndim != 2 or P.shape[1] < 1:
        raise ValueError(f"P must be 2-D (n, k) with k >= 1, got shape {P.shape}")
    missing = np.isnan(P).all(axis=1)
    rows = P[~missing]
    if np.isnan(rows).any():
        raise ValueError("P has a row that is partly NaN (all-NaN means no posterior)")
    bad = np.argwhere((rows < -PROBABILITY_TOLERANCE) | (rows > 1 + PROBABILITY_TOLERANCE))
    if bad.size:
        raise ValueError(f"P has an entry outside [0, 1]: {rows[tuple(bad[0])]!r}")
    off = np.flatnonzero(np.abs(rows.sum(axis=1) - 1) > ROW_SUM_TOLERANCE)
    if off.size:
        raise ValueError(f"P rows must sum to 1: a row sums to {rows[off[0]].sum()!r}")
    return np.clip(P, 0.0, 1.0), np.asarray(missing)


def check_labels(y: ArrayLike, n: int, *, k: int | None = None, name: str = "y") -> np.ndarray:
    """y as int64 (n,) with values -1 (unknown) or in [0, k) (k=None: any >= 0); ValueError
    otherwise. Floats are accepted when every value is a whole number."""
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(f"{name} must have shape ({n},), got {y.shape}")
    whole = np.issubdtype(y.dtype, np.floating) and bool(np.all(np.isfinite(y) & (y % 1 == 0)))
    if not (np.issubdtype(y.dtype, np.integer) or y.dtype == bool or whole):
        raise ValueError(f"{name} must hold integer labels, got dtype {y.dtype}")
    y = y.astype(np.int64)
    upper = np.iinfo(np.int64).max if k is None else k
    bad = np.flatnonzero((y < -1) | (y >= upper))
    if bad.size:
        raise ValueError(f"{name}[{bad[0]}] = {y[bad[0]]} is neither -1 nor a class in [0, {k})")
    return y


def labelled_rows(P: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Validated (P, y) restricted to rows with a posterior and a known label, and the
    counts dropped (details)."""
    P, missing = check_posteriors(P)
    y = check_labels(y, P.shape[0], k=P.shape[1])
    keep = ~missing & (y != -1)
    dropped = {"unlabelled": int((y == -1).sum()), "no_posterior": int((missing & (y != -1)).sum())}
    return P[keep], y[keep], dropped


def _check_bins(n_bins: int) -> None:
    if not isinstance(n_bins, int | np.integer) or isinstance(n_bins, bool) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")


def equal_width_bin(conf: np.ndarray, n_bins: int) -> np.ndarray:
    """Bin index b of each confidence: conf in (b/B, (b+1)/B], 0 -> bin 0."""
    edges = np.arange(n_bins + 1) / n_bins
    return np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, n_bins - 1)


def equal_mass_bin(conf: np.ndarray, n_bins: int) -> np.ndarray:
    """Bin index of each confidence under the tie-respecting equal-mass binning (module
    docstring); the indices used are 0..m-1, m <= min(B, n)."""
    ordered = np.sort(conf)
    if ordered.size == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum([len(g) for g in np.array_split(ordered, min(n_bins, ordered.size))])
    bounds = np.unique(np.append((ordered[ends[:-1] - 1] + ordered[ends[:-1]]) / 2.0, 1.0))
    return np.searchsorted(bounds, conf, side="left")


def _bin_sums(index: np.ndarray, conf: np.ndarray, outcome: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per bin: count n_b, sum of confidences, sum of outcomes (empty bins dropped)."""
    size = int(index.max()) + 1 if index.size else 0
    count = np.bincount(index, minlength=size)
    sums = (np.bincount(index, weights=w, minlength=size) for w in (conf, outcome))
    used = count > 0
    return (count[used], *(s[used] for s in sums))


def binned_ece(conf: np.ndarray, outcome: np.ndarray, index: np.ndarray) -> float:
    """sum_b |B_b|/n |acc_b - conf_b| = sum_b |sum_{i in B_b} (outcome_i - conf_i)| / n."""
    _, conf_sum, outcome_sum = _bin_sums(index, conf, outcome.astype(np.float64))
    return float(np.abs(outcome_sum - conf_sum).sum() / conf.size)


def _top_label(P: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return P.max(axis=1), (P.argmax(axis=1) == y).astype(np.float64)


def _too_few(n: int, dropped: dict[str, int], what: str = "labelled items") -> Estimate:
    if n == 0:
        return Estimate.undefined(f"no {what}", **dropped)
    return Estimate.undefined(f"a calibration error needs at least 2 {what}, got 1", n=n, **dropped)


def _ece(P: ArrayLike, y: ArrayLike, n_bins: int, binning: str) -> Estimate:
    _check_bins(n_bins)
    P, y, dropped = labelled_rows(P, y)
    if y.size < 2:
        return _too_few(y.size, dropped)
    conf, correct = _top_label(P, y)
    index = equal_width_bin(conf, n_bins) if binning == "width" else equal_mass_bin(conf, n_bins)
    return Estimate(
        binned_ece(conf, correct, index),
        n=int(y.size),
        details={
            "n_bins": n_bins,
            "bins_used": int(np.unique(index).size),
            "accuracy": float(correct.mean()),
            "mean_confidence": float(conf.mean()),
            **dropped,
        },
    )


def top_label_ece(P: ArrayLike, y: ArrayLike, *, n_bins: int = 15) -> Estimate:
    """Expected calibration error of the top label (Guo et al. 2017), equal-width bins:
    ECE = sum_b |B_b|/n |acc(B_b) - conf(B_b)|, acc(B) = mean_{i in B} correct_i,
    conf(B) = mean_{i in B} conf_i, B_b = {i : conf_i in (b/B, (b+1)/B]}. NaN when fewer
    than 2 labelled items."""
    return _ece(P, y, n_bins, "width")


def adaptive_ece(P: ArrayLike, y: ArrayLike, *, n_bins: int = 15) -> Estimate:
    """Top-label ECE over equal-mass bins (module docstring), same formula as
    top_label_ece. NaN when fewer than 2 labelled items."""
    return _ece(P, y, n_bins, "mass")


def classwise_ece(P: ArrayLike, y: ArrayLike, *, n_bins: int = 15) -> Estimate:
    """Classwise ECE (Kull et al. 2019): (1/k) sum_c ECE_c, where ECE_c is the equal-width
    binned ECE of the forecasts P[:, c] against the outcomes [y == c] (all k columns, also
    classes absent from y). details["per_class"] lists the ECE_c."""
    _check_bins(n_bins)
    P, y, dropped = labelled_rows(P, y)
    if y.size < 2:
        return _too_few(y.size, dropped)
    per_class = [
        binned_ece(P[:, c], (y == c).astype(np.float64), equal_width_bin(P[:, c], n_bins))
        for c in range(P.shape[1])
    ]
    details = {"n_bins": n_bins, "per_class": per_class, **dropped}
    return Estimate(float(np.mean(per_class)), n=int(y.size), details=details)


def _debiased_squared(conf: np.ndarray, correct: np.ndarray, n_bins: int) -> tuple[float, float]:
    """(debiased, plug-in) squared top-label L2 calibration error over equal-mass bins."""
    count, conf_sum, acc_sum = _bin_sums(equal_mass_bin(conf, n_bins), conf, correct)
    weight, conf_b, acc_b = count / conf.size, conf_sum / count, acc_sum / count
    plugin = weight * (conf_b - acc_b) ** 2
    variance = acc_b * (1 - acc_b) / np.maximum(count - 1, 1)
    debiased = np.where(count >= 2, plugin - weight * variance, 0.0)
    return float(debiased.sum()), float(plugin.sum())


def debiased_l2_calibration_error(
    P: ArrayLike, y: ArrayLike, *, n_bins: int = 15, n_boot: int = 200, seed: int = 0
) -> Estimate:
    """Debiased top-label L2 calibration error (Kumar, Liang & Ma, "Verified Uncertainty
    Calibration", NeurIPS 2019), equal-mass bins (module docstring), p_b = n_b / n:
    E^2 = sum_{b : n_b >= 2} p_b [(conf_b - acc_b)^2 - acc_b (1 - acc_b) / (n_b - 1)]
    (bins with a single item contribute 0, as in their `unbiased_square_ce`);
    value = sqrt(max(E^2, 0)), the L2 CE; details hold E^2 ("squared_estimate") and the
    plug-in sum_b p_b (conf_b - acc_b)^2 over all bins ("plugin_squared"). Interval: the
    percentile bootstrap of value over items (n_boot resamples, seeded). Equals
    `calibration.lower_bound_scaling_top_ce(P, y, p=2, debias=True, num_bins=n_bins,
    binning_scheme=calibration.get_equal_bins)`. NaN when fewer than 2 labelled items."""
    _check_bins(n_bins)
    P, y, dropped = labelled_rows(P, y)
    if y.size < 2:
        return _too_few(y.size, dropped)
    conf, correct = _top_label(P, y)
    squared, plugin = _debiased_squared(conf, correct, n_bins)

    def statistic(idx: np.ndarray) -> float:
        return max(_debiased_squared(conf[idx], correct[idx], n_bins)[0], 0.0) ** 0.5

    low, high = bootstrap_interval(statistic, int(y.size), n_boot=n_boot, seed=seed)
    details: dict[str, object] = {"n_bins": n_bins, "squared_estimate": squared}
    details |= {"plugin_squared": plugin, **dropped}
    return Estimate(max(squared, 0.0) ** 0.5, low, high, int(y.size), None, details)


def _mean_with_interval(
    scores: np.ndarray, dropped: dict[str, int], n_boot: int, seed: int
) -> Estimate:
    if scores.size == 0:
        return Estimate.undefined("no labelled items", **dropped)
    low, high = bootstrap_interval(
        lambda idx: float(scores[idx].mean()), int(scores.size), n_boot=n_boot, seed=seed
    )
    return Estimate(float(scores.mean()), low, high, int(scores.size), None, dict(dropped))


def brier_score(P: ArrayLike, y: ArrayLike, *, n_boot: int = 200, seed: int = 0) -> Estimate:
    """Multiclass Brier score (1/n) sum_i sum_c (P_ic - [y_i == c])^2, in [0, 2]; interval:
    percentile bootstrap over items. A single item gives a value without an interval."""
    P, y, dropped = labelled_rows(P, y)
    onehot = np.arange(P.shape[1]) == y[:, None]
    return _mean_with_interval(((P - onehot) ** 2).sum(axis=1), dropped, n_boot, seed)


def negative_log_likelihood(
    P: ArrayLike, y: ArrayLike, *, eps: float = 1e-12, n_boot: int = 200, seed: int = 0
) -> Estimate:
    """Mean negative log-likelihood (1/n) sum_i -ln max(P_{i, y_i}, eps), in nats; interval:
    percentile bootstrap over items. A single item gives a value without an interval."""
    P, y, dropped = labelled_rows(P, y)
    scores = -np.log(np.maximum(P[np.arange(y.size), y], eps))
    return _mean_with_interval(scores, dropped, n_boot, seed)


@dataclass(frozen=True, eq=False)
class ReliabilityDiagram:
    """Equal-width bins b = 0..B-1: edges (lower, upper] = (b/B, (b+1)/B]; count n_b; the
    mean confidence and the accuracy (mean outcome) of each bin, NaN for an empty bin."""

    lower: np.ndarray
    upper: np.ndarray
    count: np.ndarray
    mean_confidence: np.ndarray
    accuracy: np.ndarray

    def as_lists(self) -> dict[str, list[float | int | None]]:
        """JSON-ready columns; an empty bin's NaNs become None."""
        out: dict[str, list[float | int | None]] = {}
        for name in ("lower", "upper", "count", "mean_confidence", "accuracy"):
            values = getattr(self, name).tolist()
            out[name] = [None if v != v else v for v in values]
        return out


def _reliability(conf: np.ndarray, outcome: np.ndarray, n_bins: int) -> ReliabilityDiagram:
    index = equal_width_bin(conf, n_bins)
    count = np.bincount(index, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(index, weights=conf, minlength=n_bins) / count
        accuracy = np.bincount(index, weights=outcome, minlength=n_bins) / count
    edges = np.arange(n_bins + 1) / n_bins
    return ReliabilityDiagram(edges[:-1], edges[1:], count, mean_conf, accuracy)


def reliability_bins(P: ArrayLike, y: ArrayLike, *, n_bins: int = 15) -> ReliabilityDiagram:
    """Top-label reliability diagram of the labelled rows (empty bins when there are none)."""
    _check_bins(n_bins)
    P, y, _ = labelled_rows(P, y)
    return _reliability(*_top_label(P, y), n_bins)


def confidence_calibration(
    confidence: ArrayLike, correct: ArrayLike, *, n_bins: int = 15
) -> Estimate:
    """Calibration of LF-reported confidences, read as the forecast "this vote is right with
    probability c_i": ECE = sum_b |B_b|/n |acc(B_b) - conf(B_b)| over equal-width bins of
    c_i (NaN = not reported: dropped), acc = mean of correct_i. details: the reliability
    bins as lists (as_lists) and the count not reported. NaN when fewer than 2 reported."""
    _check_bins(n_bins)
    conf = np.asarray(confidence, dtype=np.float64)
    right = np.asarray(correct)
    if conf.ndim != 1 or right.shape != conf.shape:
        raise ValueError(f"confidence {conf.shape} and correct {right.shape} must be equal (n,)")
    if right.dtype != bool and not np.isin(right, (0, 1)).all():
        raise ValueError("correct must be boolean (or 0/1)")
    reported = ~np.isnan(conf)
    conf, outcome = conf[reported], right[reported].astype(np.float64)
    if ((conf < -PROBABILITY_TOLERANCE) | (conf > 1 + PROBABILITY_TOLERANCE)).any():
        raise ValueError("confidence values must lie in [0, 1]")
    conf = np.clip(conf, 0.0, 1.0)
    dropped: dict[str, int] = {"not_reported": int((~reported).sum())}
    if conf.size < 2:
        return _too_few(int(conf.size), dropped, "reported confidences")
    diagram = _reliability(conf, outcome, n_bins)
    details = {"n_bins": n_bins, **dropped, "bins": diagram.as_lists()}
    value = binned_ece(conf, outcome, equal_width_bin(conf, n_bins))
    return Estimate(value, n=int(conf.size), details=details)
