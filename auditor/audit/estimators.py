"""Accuracy of the fused labels, estimated from one audit round.

Notation: N eligible items; the round samples S by Poisson sampling with inclusion
probabilities pi_i (auditor.audit.sampling); y_i = 1 when the audit finds the fused label
correct; f_i = predicted P(correct) (the cross-fitted map of auditor.audit.calibration_map,
or the raw max posterior); w_i = 1 / pi_i. Every estimate reports n = audited items and
details: estimator, ess = (sum w)^2 / sum w^2 (Kish's effective sample size), N, needs.
Intervals are value +- 1.96 sd, clipped to [0, 1]; the value is clipped too (details keeps
the raw one). Nothing audited or N = 0 gives a NaN estimate with its reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from auditor.metrics.estimate import Z95, Estimate, proportion


def _unit(values: ArrayLike, name: str, *, binary: bool = False) -> np.ndarray:
    a = np.asarray(values, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {a.shape}")
    ok = (a == 0) | (a == 1) if binary else (a >= 0) & (a <= 1)
    if not np.all(ok):
        raise ValueError(f"{name} must be {'0/1' if binary else 'in [0, 1]'}")
    return a


def _probabilities(pi: ArrayLike, n: int) -> np.ndarray:
    p = np.asarray(pi, dtype=np.float64)
    if p.shape != (n,):
        raise ValueError(f"pi must have shape ({n},), got {p.shape}")
    if not np.all((p > 0) & (p <= 1)):
        raise ValueError("inclusion probabilities must be in (0, 1]")
    return p


def _ess(w: np.ndarray) -> float:
    return float(w.sum() ** 2 / (w**2).sum()) if w.size else 0.0


def _normal(value: float, variance: float, n: int, details: dict[str, object]) -> Estimate:
    sd = math.sqrt(max(variance, 0.0))
    clip = min(1.0, max(0.0, value))
    low, high = max(0.0, value - Z95 * sd), min(1.0, value + Z95 * sd)
    if not math.isfinite(variance):
        low = high = math.nan
    return Estimate(clip, low, high, n, None, {**details, "raw_value": value, "sd": sd})


def horvitz_thompson(y: ArrayLike, pi: ArrayLike, *, N: int) -> Estimate:
    """Hajek (ratio) estimator: theta = sum_S w y / sum_S w, w = 1 / pi; y 0/1 (n,) and pi
    (n,) for the n audited items. Variance by linearisation under Poisson sampling:
    sum_S (1 - pi) / pi^2 (y - theta)^2 / (sum_S w)^2. Needs only the audited items and
    their pi (N is reported, not used: sum_S w estimates it)."""
    y = _unit(y, "y", binary=True)
    pi = _probabilities(pi, y.size)
    details: dict[str, object] = {
        "estimator": "horvitz_thompson",
        "N": N,
        "needs": "audited items and their pi",
    }
    if N <= 0:
        return Estimate(math.nan, reason="no eligible items", details=details)
    if y.size == 0:
        return Estimate(math.nan, reason="no audited items", details=details)
    w = 1 / pi
    theta = float((w * y).sum() / w.sum())
    variance = float(((1 - pi) * w**2 * (y - theta) ** 2).sum() / w.sum() ** 2)
    return _normal(theta, variance, y.size, {**details, "ess": _ess(w)})


def active_inference(
    y: ArrayLike, pi: ArrayLike, f_sampled: ArrayLike, *, f_sum_all: float, N: int
) -> Estimate:
    """IPW-corrected prediction (Zrnic and Candes 2024, "Active Statistical Inference",
    the active mean estimator with Poisson sampling): y, pi, f_sampled (n,) for the audited
    items, f_sum_all = sum of f over all N items.
    theta = (f_sum_all + sum_S (y - f) / pi) / N.
    Variance: the larger of two Horvitz-Thompson estimates of the correction term's
    variance (the f-sum is known exactly),
        residual = sum_S (1 - pi) / pi^2 (y - f)^2 / N^2   (unbiased for any f),
        model    = sum_S (1 - pi) / pi^2 f (1 - f) / N^2   (its expectation when f is
                                                            calibrated),
    Var = max(residual, model); details keep sd_residual and sd_model. Under skewed
    weights the residual estimate alone is too small in most rounds: the rare confident
    error that carries a weight of 1 / pi ~ 100 is usually not drawn, and its absence is
    what makes the point estimate too high. The model term stays put in those rounds (every
    sampled item contributes f (1 - f) > 0), and it adds nothing once the residuals show
    that f predicts worse than it claims.
    Unbiased for any f fixed before the draw (use cross-fitted f); the better f predicts y,
    the smaller both terms."""
    y = _unit(y, "y", binary=True)
    pi = _probabilities(pi, y.size)
    f = _unit(f_sampled, "f_sampled")
    if f.shape != y.shape:
        raise ValueError(f"f_sampled must have shape {y.shape}, got {f.shape}")
    details: dict[str, object] = {
        "estimator": "active_inference",
        "N": N,
        "needs": "audited items, their pi and predicted P(correct) for all N items",
    }
    if N <= 0:
        return Estimate(math.nan, reason="no eligible items", details=details)
    if y.size == 0:
        return Estimate(math.nan, reason="no audited items", details=details)
    w = 1 / pi
    theta = float((f_sum_all + (w * (y - f)).sum()) / N)
    residual = float(((1 - pi) * w**2 * (y - f) ** 2).sum() / N**2)
    model = float(((1 - pi) * w**2 * f * (1 - f)).sum() / N**2)
    extra = {"ess": _ess(w), "sd_residual": math.sqrt(residual), "sd_model": math.sqrt(model)}
    return _normal(theta, max(residual, model), y.size, {**details, **extra})


def ppi_plus_plus(
    y_labeled: ArrayLike,
    f_labeled: ArrayLike,
    f_unlabeled_mean: float,
    f_unlabeled_var: float,
    *,
    N: int,
) -> Estimate:
    """PPI++ mean (Angelopoulos, Duchi and Zrnic 2023, "PPI++") for a UNIFORM labelled
    sample of n items (the random share): y_labeled 0/1 and f_labeled (n,); f over the N
    items has mean f_unlabeled_mean and variance Var_N(f) = f_unlabeled_var.
    lambda = Cov_n(y, f) / ((1 + n / N) Var_N(f)), clipped to [0, 1] (0 when Var_N(f) = 0),
    theta = lambda mean_N(f) + mean_n(y - lambda f),
    Var = Var_n(y - lambda f) / n + lambda^2 Var_N(f) / N (sample variances, ddof = 1).
    lambda = 0 is the classical mean; lambda = 1 is PPI. When the N items are the whole
    population (the labelled ones included) mean_N(f) is known exactly and the second term
    is conservative. No interval for n < 2."""
    y = _unit(y_labeled, "y_labeled", binary=True)
    f = _unit(f_labeled, "f_labeled")
    if f.shape != y.shape:
        raise ValueError(f"f_labeled must have shape {y.shape}, got {f.shape}")
    details: dict[str, object] = {
        "estimator": "ppi_plus_plus",
        "N": N,
        "needs": "a uniform audited sample and predicted P(correct) for all N items",
    }
    if N <= 0:
        return Estimate(math.nan, reason="no eligible items", details=details)
    n = y.size
    if n == 0:
        return Estimate(math.nan, reason="no audited items in the random share", details=details)
    lam = 0.0
    if n >= 2 and f_unlabeled_var > 0:
        cov = float(np.cov(y, f, ddof=1)[0, 1])
        lam = min(1.0, max(0.0, cov / ((1 + n / N) * f_unlabeled_var)))
    residual = y - lam * f
    theta = lam * f_unlabeled_mean + float(residual.mean())
    variance = math.nan
    if n >= 2:
        variance = float(residual.var(ddof=1)) / n + lam**2 * f_unlabeled_var / N
    return _normal(theta, variance, n, {**details, "ess": float(n), "lambda": lam})


def random_share_wilson(y_random: ArrayLike) -> Estimate:
    """Share correct among the random-share audits (a simple random sample), with its
    Wilson 95% interval (auditor.metrics.estimate.proportion); ignores f and the targeted
    items, so it is the check that needs no model at all."""
    y = _unit(y_random, "y_random", binary=True)
    e = proportion(int(y.sum()), y.size, what="audited items in the random share")
    details = {
        **e.details,
        "estimator": "random_share_wilson",
        "ess": float(y.size),
        "needs": "the random-share audits only",
    }
    return Estimate(e.value, e.low, e.high, e.n, e.reason, details)


ESTIMATORS = ("active_inference", "horvitz_thompson", "ppi_plus_plus", "random_share_wilson")
WHY = {
    "active_inference": "predicted P(correct) is available for every item: active inference "
    "starts from it and corrects it with the 1/pi-weighted audit residuals, so it stays "
    "unbiased whatever f's quality and is the narrowest when f predicts well",
    "horvitz_thompson": "no predicted P(correct): the Hajek-weighted audit (1/pi) is the "
    "unbiased estimate that uses every audited item",
}


@dataclass(frozen=True)
class AccuracyReport:
    """overall / by_group[g]: estimator name (ESTIMATORS) -> Estimate; headline: the
    estimator to show, headline_reason: why."""

    overall: dict[str, Estimate]
    headline: str
    headline_reason: str
    by_group: dict[int, dict[str, Estimate]] = field(default_factory=dict)

    @property
    def headline_estimate(self) -> Estimate:
        return self.overall[self.headline]


def _all_four(
    y: np.ndarray,
    pi: np.ndarray,
    rand: np.ndarray,
    f: np.ndarray | None,
    f_all: np.ndarray | None,
    N: int,
) -> dict[str, Estimate]:
    out = {
        "horvitz_thompson": horvitz_thompson(y, pi, N=N),
        "random_share_wilson": random_share_wilson(y[rand]),
    }
    if f is None or f_all is None:
        why = "no predicted P(correct)"
        out["active_inference"] = Estimate.undefined(why, estimator="active_inference", N=N)
        out["ppi_plus_plus"] = Estimate.undefined(why, estimator="ppi_plus_plus", N=N)
    else:
        out["active_inference"] = active_inference(y, pi, f, f_sum_all=float(f_all.sum()), N=N)
        mean, var = (float(f_all.mean()), float(f_all.var())) if N else (math.nan, math.nan)
        out["ppi_plus_plus"] = ppi_plus_plus(y[rand], f[rand], mean, var, N=N)
    return {name: out[name] for name in ESTIMATORS}


def accuracy_report(
    y: ArrayLike,
    pi: ArrayLike,
    from_random: ArrayLike,
    f_sampled: ArrayLike | None = None,
    *,
    f_all: ArrayLike | None = None,
    N: int | None = None,
    groups: ArrayLike | None = None,
    groups_all: ArrayLike | None = None,
) -> AccuracyReport:
    """All four estimators, overall and per group.

    Audited items (n,): y 0/1, pi, from_random bool (drawn by the uniform stream),
    f_sampled (cross-fitted) predicted P(correct). Population (N,): f_all. N defaults to
    len(f_all), else len(groups_all); pass it when neither is given. groups int (n,) and
    groups_all int (N,) (subtask or fused class, known for every item) give by_group, each
    group a domain of N_g items estimated alone. Without f the predictor-based estimators are
    NaN and the headline is horvitz_thompson (WHY says why)."""
    y_ = _unit(y, "y", binary=True)
    n = y_.size
    pi_ = _probabilities(pi, n)
    rand = np.asarray(from_random, dtype=bool)
    if rand.shape != (n,):
        raise ValueError(f"from_random must have shape ({n},), got {rand.shape}")
    has_f = f_sampled is not None and f_all is not None
    f = _unit(f_sampled, "f_sampled") if f_sampled is not None and has_f else None
    fa = _unit(f_all, "f_all") if f_all is not None else None
    if f is not None and f.shape != (n,):
        raise ValueError(f"f_sampled must have shape ({n},), got {f.shape}")
    g_all = None if groups_all is None else np.asarray(groups_all)
    sizes = [a.size for a in (fa, g_all) if a is not None] + ([N] if N is not None else [])
    if not sizes or len(set(sizes)) != 1:
        raise ValueError(f"N must be given or agree with len(f_all), len(groups_all): {sizes}")
    total = int(sizes[0])
    headline = "active_inference" if has_f else "horvitz_thompson"
    fa = fa if has_f else None  # f_all alone still gives N
    overall = _all_four(y_, pi_, rand, f, fa, total)
    by_group: dict[int, dict[str, Estimate]] = {}
    if groups is not None or g_all is not None:
        g = np.asarray(groups)
        if g_all is None or g.shape != (n,) or g_all.ndim != 1:
            raise ValueError("groups (n,) and groups_all (N,) must be given together")
        for label in np.unique(np.concatenate([g_all, g])).tolist():
            s, a = g == label, g_all == label
            f_g = None if f is None else f[s]
            fa_g = None if fa is None else fa[a]
            by_group[int(label)] = _all_four(y_[s], pi_[s], rand[s], f_g, fa_g, int(a.sum()))
    return AccuracyReport(overall, headline, WHY[headline], by_group)
