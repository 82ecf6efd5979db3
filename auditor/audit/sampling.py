"""One audit round by Poisson sampling: per-item strategy scores, inclusion probabilities
that mix a uniform share with a score-targeted share, and a seeded draw.

Every item is drawn independently (Poisson sampling) with probability
pi_i = 1 - (1 - pi_random_i)(1 - pi_targeted_i): two independent Bernoulli streams, one
uniform and one proportional to the item's score. Because every pi_i is known and, with a
random share, positive, the audited items give unbiased population estimates when each is
weighted by 1 / pi_i (see auditor.audit.estimators), and the items from the uniform
stream alone form a simple random sample (for PPI++ and the Wilson check).

Eligibility is the caller's decision: items already open in a review queue, or audited
since their last vote change, are left out before `inclusion_probabilities` is called, so
its arrays hold only the N eligible items and every estimate is about that population.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from numpy.typing import ArrayLike

DEFAULT_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {
        "entropy": 1.0,
        "margin": 0.0,
        "least_confidence": 0.0,
        "vote_entropy": 0.5,
        "conflict": 0.5,
        "rules": 1.0,
        "improbable": 1.0,
        "model_vs_majority": 0.5,
    }
)


def _flag(values: ArrayLike | None, n: int, name: str) -> np.ndarray | None:
    if values is None:
        return None
    flags = np.asarray(values)
    if flags.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {flags.shape}")
    return flags.astype(bool).astype(np.float64)


def _normalised_entropy(counts: np.ndarray, k: int) -> np.ndarray:
    """Row entropy of counts (n, k) over log k, with 0 log 0 = 0; 0 for empty rows or k = 1."""
    total = counts.sum(axis=1, keepdims=True)
    if k < 2:
        return np.zeros(counts.shape[0])
    p = np.divide(counts, total, out=np.zeros_like(counts), where=total > 0)
    terms = np.where(p > 0, -p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    return np.clip(terms.sum(axis=1) / np.log(k), 0.0, 1.0)


def strategy_scores(
    P: ArrayLike,
    L: ArrayLike,
    *,
    rule_flags: ArrayLike | None = None,
    improbable: ArrayLike | None = None,
    mv_disagrees: ArrayLike | None = None,
) -> dict[str, np.ndarray]:
    """Per-item scores in [0, 1], float (n,), one per strategy.

    P float (n, k): fused posteriors (finite, in [0, 1]); L int (n, m): LF votes, -1 =
    abstain. With p1 >= p2 the two largest entries of a row (p2 = 0 when k = 1):
    entropy = -sum_c P_c log P_c / log k; margin = 1 - (p1 - p2);
    least_confidence = (1 - p1) k / (k - 1); vote_entropy = entropy of the item's vote
    histogram over the k classes / log k (0 without votes); conflict = 1 when the LFs voted
    >= 2 different labels; rules / improbable / model_vs_majority = the bool (n,) flags
    rule_flags / improbable / mv_disagrees. A strategy whose optional input is None is
    absent from the result. With k = 1 the posterior and vote scores are 0.
    """
    P = np.asarray(P, dtype=np.float64)
    L = np.asarray(L)
    if P.ndim != 2 or P.shape[1] < 1:
        raise ValueError(f"P must be 2-D (n, k) with k >= 1, got shape {P.shape}")
    n, k = P.shape
    if not np.all(np.isfinite(P)) or P.min(initial=0.0) < 0 or P.max(initial=0.0) > 1 + 1e-9:
        raise ValueError("P must be finite with entries in [0, 1]")
    if L.ndim != 2 or L.shape[0] != n:
        raise ValueError(f"L must be 2-D ({n}, m), got shape {L.shape}")
    if not np.issubdtype(L.dtype, np.integer) or ((L < -1) | (k <= L)).any():
        raise ValueError(f"L must hold integer labels in [-1, {k})")
    top = -np.sort(-P, axis=1)
    p1 = top[:, 0]
    p2 = top[:, 1] if k > 1 else np.zeros(n)
    rows, cols = np.nonzero(L >= 0)
    votes = np.bincount(rows * k + L[rows, cols], minlength=n * k).reshape(n, k).astype(float)
    scores = {
        "entropy": _normalised_entropy(P, k),
        "margin": np.clip(1.0 - (p1 - p2), 0.0, 1.0) if k > 1 else np.zeros(n),
        "least_confidence": np.clip((1.0 - p1) * k / (k - 1), 0, 1) if k > 1 else np.zeros(n),
        "vote_entropy": _normalised_entropy(votes, k),
        "conflict": ((votes > 0).sum(axis=1) >= 2).astype(np.float64),
    }
    for name, argument, values in (
        ("rules", "rule_flags", rule_flags),
        ("improbable", "improbable", improbable),
        ("model_vs_majority", "mv_disagrees", mv_disagrees),
    ):
        flags = _flag(values, n, argument)
        if flags is not None:
            scores[name] = flags
    return scores


def combined_score(
    scores: Mapping[str, np.ndarray], weights: Mapping[str, float] = DEFAULT_WEIGHTS
) -> tuple[np.ndarray, np.ndarray]:
    """(score float (n,), dominant str (n,)): the weighted mean of the present strategies,
    score_i = sum_s w_s x_si / sum_s w_s over the strategies s in `scores` (a strategy
    missing from `weights` has weight 0), so score is in [0, 1]; dominant_i = the strategy
    with the largest w_s x_si ("none" when every term is 0)."""
    if any(w < 0 or not np.isfinite(w) for w in weights.values()):
        raise ValueError("weights must be finite and >= 0")
    names = sorted(scores)
    if not names:
        return np.zeros(0), np.zeros(0, dtype=str)
    shapes = {np.shape(scores[s]) for s in names}
    if len(shapes) != 1 or len(next(iter(shapes))) != 1:
        raise ValueError(f"every score array must have the same shape (n,), got {shapes}")
    X = np.vstack([np.asarray(scores[s], dtype=np.float64) for s in names])
    w = np.array([weights.get(s, 0.0) for s in names])
    terms = w[:, None] * X
    total = w.sum()
    score = terms.sum(axis=0) / total if total > 0 else np.zeros(X.shape[1])
    dominant = np.array(names)[terms.argmax(axis=0)]
    return score, np.where(terms.max(axis=0) > 0, dominant, "none")


@dataclass(frozen=True, eq=False)
class Design:
    """Inclusion probabilities, float (n,) each: pi = 1 - (1 - pi_random)(1 - pi_targeted).
    expected_size = sum(pi); expected_cost = sum(pi * cost) (= expected_size without cost)."""

    pi_random: np.ndarray
    pi_targeted: np.ndarray
    pi: np.ndarray
    expected_size: float
    expected_cost: float


def _water_fill(score: np.ndarray, cost: np.ndarray, total: float) -> np.ndarray:
    """pt_i = min(1, c score_i) with c such that sum(pt * cost) = total, or every positive-
    score item at 1 when that is not enough. Each pass caps the items with c score_i >= 1 at
    1 and spreads what is left over the others in proportion to score; the capped set only
    grows, so this ends after at most n passes."""
    pt = np.zeros(score.shape)
    positive = score > 0
    if total <= 0 or not positive.any():
        return pt
    capped = np.zeros(score.shape, dtype=bool)
    while True:
        free = positive & ~capped
        left = total - cost[capped].sum()
        mass = (score[free] * cost[free]).sum()
        if left <= 0 or mass <= 0:
            break
        scale = left / mass
        newly = free & (scale * score >= 1)
        if not newly.any():
            pt[free] = scale * score[free]
            break
        capped |= newly
    pt[capped] = 1.0
    return pt


def inclusion_probabilities(
    score: ArrayLike,
    *,
    budget: float,
    random_share: float,
    strata: ArrayLike | None = None,
    cost: ArrayLike | None = None,
) -> Design:
    """Poisson design for the N eligible items (the caller drops the ineligible ones).

    score float (N,) >= 0 (e.g. combined_score); budget = expected items, or expected cost
    when cost float (N,) > 0 is given; random_share r in [0, 1]; strata int (N,) optional.
    Write c_i = cost_i (1 without cost) and C = sum c_i.

    Random stream: uniform, pi_random = r B / C for every item, so its items are a simple
    random sample of the population (also across strata).
    Targeted stream: stratum s gets B_s = B C_s / C (its share of items, or of cost), and
    pi_targeted = min(1, a_s score_i) within it, a_s chosen so that
    sum_s-items (pi_targeted c) = (1 - r) B_s / (1 - pi_random). The excess of a capped
    item is redistributed over the others in proportion to score, repeated until no item
    exceeds 1. Items with score 0 get pi_targeted = 0 (only the random stream can draw them).
    Dividing by 1 - pi_random makes up for the items both streams would draw, so the
    expected size (cost) is exactly the budget: sum(pi c) = r B + (1 - r) B = B.
    Cost choice: pi_targeted stays proportional to score (cost only sets the scale), so an
    expensive item is not skipped for being expensive; both streams are priced in cost.
    Budget the targeted stream cannot spend (every positive-score item already at 1) goes to
    the random stream: pi_random is raised uniformly until sum(pi c) = B. B >= C gives
    pi = 1 everywhere. With r > 0 and B > 0 every item has pi > 0, which unbiasedness needs.
    """
    s = np.asarray(score, dtype=np.float64)
    if s.ndim != 1 or not np.all(np.isfinite(s)) or (s < 0).any():
        raise ValueError("score must be a 1-D array of finite values >= 0")
    n = s.shape[0]
    if not (np.isfinite(budget) and budget >= 0):
        raise ValueError(f"budget must be finite and >= 0, got {budget!r}")
    if not 0 <= random_share <= 1:
        raise ValueError(f"random_share must be in [0, 1], got {random_share!r}")
    c = np.ones(n) if cost is None else np.asarray(cost, dtype=np.float64)
    if c.shape != (n,) or not np.all(np.isfinite(c)) or (c <= 0).any():
        raise ValueError(f"cost must be finite and > 0 with shape ({n},)")
    groups = np.zeros(n, dtype=np.int64) if strata is None else np.asarray(strata)
    if groups.shape != (n,):
        raise ValueError(f"strata must have shape ({n},), got {groups.shape}")
    C = float(c.sum())
    if n == 0 or budget >= C:
        full = np.ones(n) if n else np.zeros(0)
        return Design(full, (s > 0).astype(np.float64), full.copy(), float(n), C)
    pr = random_share * budget / C
    pt = np.zeros(n)
    for g in np.unique(groups):
        members = groups == g
        B_g = budget * c[members].sum() / C
        pt[members] = _water_fill(s[members], c[members], (1 - random_share) * B_g / (1 - pr))
    spent = float((pt * c).sum())
    if (1 - pr) * spent < (1 - random_share) * budget * (1 - 1e-12):
        pr = min(1.0, (budget - spent) / (C - spent))  # solves pr C + (1 - pr) spent = B
    pi_random = np.full(n, pr)
    pi = 1 - (1 - pi_random) * (1 - pt)
    return Design(pi_random, pt, pi, float(pi.sum()), float((pi * c).sum()))


@dataclass(frozen=True, eq=False)
class Draw:
    """bool (n,) each: sampled = from_random | from_targeted; from_random = the uniform
    stream drew the item (U1 < pi_random), from_targeted = U2 < pi_targeted."""

    sampled: np.ndarray
    from_random: np.ndarray
    from_targeted: np.ndarray


def draw(design: Design, *, seed: int) -> Draw:
    """One Poisson draw: independent U1, U2 ~ Uniform[0, 1) per item from
    numpy.random.default_rng(seed) (U1 for all items, then U2); the same seed and design
    give the same draw. P(sampled_i) = pi_i, independently across items."""
    rng = np.random.default_rng(seed)
    n = design.pi.shape[0]
    u1, u2 = rng.random(n), rng.random(n)
    from_random = u1 < design.pi_random
    from_targeted = u2 < design.pi_targeted
    return Draw(from_random | from_targeted, from_random, from_targeted)
