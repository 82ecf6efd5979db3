"""The value type every metric returns, and the two intervals they share.

Metrics never raise on degenerate input (empty window, no gold, one class, an LF that
never votes): they return an Estimate whose value is NaN and whose reason says why.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

Z95 = 1.959963984540054  # two-sided 95% normal quantile


@dataclass(frozen=True)
class Estimate:
    """value with an optional interval [low, high]; n = the count it rests on (items,
    votes, pairs); reason explains a NaN value; details holds the counts behind it."""

    value: float
    low: float = math.nan
    high: float = math.nan
    n: int = 0
    reason: str | None = None
    details: dict[str, object] = field(default_factory=dict)

    @classmethod
    def undefined(cls, reason: str, *, n: int = 0, **details: object) -> Estimate:
        return cls(math.nan, n=n, reason=reason, details=dict(details))

    @property
    def defined(self) -> bool:
        return not math.isnan(self.value)


def wilson_interval(successes: int, trials: int, *, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion; (nan, nan) when trials == 0.

    centre = (p + z^2 / 2n) / (1 + z^2 / n),
    half = z / (1 + z^2 / n) * sqrt(p (1 - p) / n + z^2 / 4n^2), p = successes / trials.
    """
    if trials <= 0:
        return math.nan, math.nan
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return max(0.0, centre - half), min(1.0, centre + half)


def proportion(successes: int, trials: int, *, what: str) -> Estimate:
    """successes / trials with its Wilson 95% interval; NaN with a reason when trials == 0."""
    if trials <= 0:
        return Estimate.undefined(f"no {what}")
    low, high = wilson_interval(successes, trials)
    return Estimate(
        successes / trials,
        low,
        high,
        n=trials,
        details={"successes": int(successes), "trials": int(trials)},
    )


def bootstrap_interval(
    statistic: Callable[[np.ndarray], float],
    n_items: int,
    *,
    n_boot: int = 200,
    seed: int = 0,
    level: float = 0.95,
    max_items: int = 20_000,
) -> tuple[float, float]:
    """Percentile bootstrap interval of statistic(indices) over items resampled with
    replacement; statistic receives an int array of row indices. (nan, nan) when
    n_items < 2 or every resample is undefined.

    Above max_items, each resample draws m = max_items items (the m-out-of-n bootstrap)
    and the interval is rescaled to n: theta + sqrt(m / n) * (q - theta), theta the
    statistic on all items. For the root-n statistics used here (means, Brier, NLL) this
    gives the same width at a fixed cost: 200 resamples of a million items would cost a
    thousand times more for no better interval.
    """
    if n_items < 2:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    m = min(n_items, max_items)
    values = np.array([statistic(rng.integers(0, n_items, m)) for _ in range(n_boot)], dtype=float)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return math.nan, math.nan
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    if m < n_items:
        theta = statistic(np.arange(n_items))
        scale = math.sqrt(m / n_items)
        low, high = theta + scale * (low - theta), theta + scale * (high - theta)
    return float(low), float(high)
