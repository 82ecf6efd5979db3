"""Burn-down: burn rate, projected spend at period end and exhaustion date, with intervals.

The daily spend of the trailing window (the last `trailing_days` days of the period up to
as_of) is modelled as y_t = a + b t + e_t, e_t iid with variance s^2 (method "linear", by
ordinary least squares), or y_t = a + e_t (method "mean"). The spend of the next d days is
predicted as S_d = sum of the fitted means, with prediction variance
    Var = c' (X'X)^-1 c s^2 + d s^2,   c = sum of the future rows of X,
the first term the uncertainty of the fitted line, the second the day-to-day variation.
Projected spend at period end = spent + max(S_D, 0) with the 95% interval
S_D +- z sqrt(Var) (never below what is already spent). The exhaustion date is the first
day on which spent + S_d reaches the budget; its interval comes from the days on which the
upper and the lower prediction bound reach it (None: not within the horizon).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from auditor.budget.events import to_money
from auditor.metrics.estimate import Z95, Estimate

METHODS = ("linear", "mean")
HORIZON_DAYS = 366


@dataclass(frozen=True)
class Forecast:
    """as_of: the last day counted; spent: exact spend in the period up to as_of;
    burn_rate: mean spend per day over the trailing window (95% interval of that mean;
    undefined when the period has no spend yet); trend_per_day: the fitted slope (0 for
    "mean"); projected: spend at period end (95% prediction interval); exhaustion*: the
    projected day the budget runs out (None: not within the horizon, or never);
    exhausted_on: the day cumulative spend reached the amount, if it already has."""

    as_of: dt.date
    amount: Decimal
    spent: Decimal
    days_elapsed: int
    days_left: int
    burn_rate: Estimate
    trend_per_day: float
    projected: Estimate
    exhaustion: dt.date | None
    exhaustion_earliest: dt.date | None
    exhaustion_latest: dt.date | None
    exhausted_on: dt.date | None
    method: str

    @property
    def overrun(self) -> bool:
        """Projected spend at period end exceeds the budget (or spend already does)."""
        return self.spent > self.amount or (
            self.projected.defined and self.projected.value > float(self.amount)
        )


def daily_spend(
    days: np.ndarray, cost_e4: np.ndarray, *, start: dt.date, end: dt.date
) -> list[Decimal]:
    """Exact spend per day from start to end (both included); events outside are ignored.
    days: datetime64[D] (n,) the day of each cost; cost_e4: int64 (n,) ten-thousandths."""
    n_days = max((end - start).days + 1, 0)
    offset = (np.asarray(days, dtype="datetime64[D]") - np.datetime64(start, "D")).astype(int)
    inside = (offset >= 0) & (offset < n_days)
    sums = np.zeros(n_days, dtype=np.int64)
    np.add.at(sums, offset[inside], np.asarray(cost_e4, dtype=np.int64)[inside])
    return [to_money(v) for v in sums]


def forecast(
    daily: list[Decimal],
    *,
    amount: Decimal,
    period_start: dt.date,
    period_end: dt.date,
    as_of: dt.date,
    trailing_days: int = 14,
    method: str = "mean",
    z: float = Z95,
) -> Forecast:
    """Forecast from daily: exact spend per day from period_start to as_of (one entry per
    day; as_of is clipped into the period)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if trailing_days < 1:
        raise ValueError(f"trailing_days must be >= 1, got {trailing_days}")
    as_of = min(as_of, period_end)
    elapsed = (as_of - period_start).days + 1
    if elapsed < 0:
        elapsed = 0
    if len(daily) < elapsed:
        raise ValueError(f"daily has {len(daily)} days, the period to as_of has {elapsed}")
    daily = daily[:elapsed]
    spent = sum(daily, Decimal(0))
    days_left = (period_end - as_of).days if elapsed else (period_end - period_start).days + 1
    cumulative = np.cumsum([float(d) for d in daily]) if daily else np.array([])
    reached = np.flatnonzero(cumulative >= float(amount)) if amount > 0 else np.array([0])
    exhausted_on = (
        period_start + dt.timedelta(days=int(reached[0])) if daily and reached.size else None
    )

    def build(**rest: Any) -> Forecast:
        return Forecast(
            as_of=as_of,
            amount=amount,
            spent=spent,
            days_elapsed=elapsed,
            days_left=days_left,
            exhausted_on=exhausted_on,
            method=method,
            **rest,
        )

    if spent == 0:
        reason = "the period has not started" if elapsed == 0 else "no spend in the period yet"
        return build(
            burn_rate=Estimate.undefined(reason),
            trend_per_day=0.0,
            projected=Estimate.undefined(reason),
            exhaustion=None,
            exhaustion_earliest=None,
            exhaustion_latest=None,
        )
    y = np.array([float(d) for d in daily[-trailing_days:]])
    line = _fit(y, method)
    rate = _rate_estimate(y, z)
    remaining = float(amount - spent)
    horizon = max(days_left, HORIZON_DAYS)
    d = np.arange(1, horizon + 1)
    mean, sd = line.predict_sums(d)
    projected = _projected(float(spent), mean, sd, days_left, z)
    if remaining <= 0:
        when = early = late = None
    else:
        when = _first_day(mean >= remaining, as_of)
        early = _first_day(mean + z * sd >= remaining, as_of)
        late = _first_day(mean - z * sd >= remaining, as_of)
    return build(
        burn_rate=rate,
        trend_per_day=line.slope,
        projected=projected,
        exhaustion=when,
        exhaustion_earliest=early,
        exhaustion_latest=late,
    )


@dataclass(frozen=True)
class _Line:
    """A fitted daily-spend line over window days t = 0..w-1: coefficients, (X'X)^-1, s."""

    coef: np.ndarray
    xtx_inv: np.ndarray
    sigma: float
    w: int

    @property
    def slope(self) -> float:
        return float(self.coef[1]) if self.coef.size > 1 else 0.0

    def predict_sums(self, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each horizon d (int (h,)): predicted spend of the next d days and its sd."""
        d = d.astype(float)
        # sum over t = w .. w + d - 1 of (1, t)
        sum_t = d * self.w + d * (d - 1) / 2
        c = np.stack([d, sum_t], axis=1)[:, : self.coef.size]
        mean = c @ self.coef
        fitted_var = np.einsum("hi,ij,hj->h", c, self.xtx_inv, c)
        sd = self.sigma * np.sqrt(fitted_var + d) if math.isfinite(self.sigma) else d * np.nan
        return mean, sd


def _fit(y: np.ndarray, method: str) -> _Line:
    w = y.size
    use_trend = method == "linear" and w >= 3
    X = np.stack([np.ones(w), np.arange(w, dtype=float)], axis=1)[:, : 2 if use_trend else 1]
    xtx_inv = np.linalg.inv(X.T @ X)
    coef = xtx_inv @ X.T @ y
    dof = w - X.shape[1]
    sigma = float(np.sqrt(((y - X @ coef) ** 2).sum() / dof)) if dof > 0 else math.nan
    return _Line(coef, xtx_inv, sigma, w)


def _rate_estimate(y: np.ndarray, z: float) -> Estimate:
    mean = float(y.mean())
    if y.size < 2:
        return Estimate(mean, n=int(y.size), details={"days": int(y.size)})
    half = z * float(y.std(ddof=1)) / math.sqrt(y.size)
    return Estimate(
        mean, max(mean - half, 0.0), mean + half, n=int(y.size), details={"days": int(y.size)}
    )


def _projected(
    spent: float, mean: np.ndarray, sd: np.ndarray, days_left: int, z: float
) -> Estimate:
    if days_left == 0:
        return Estimate(spent, spent, spent, details={"days_left": 0})
    m, s = float(mean[days_left - 1]), float(sd[days_left - 1])
    return Estimate(
        spent + max(m, 0.0),
        spent + max(m - z * s, 0.0),
        spent + max(m + z * s, 0.0),
        details={"days_left": days_left},
    )


def _first_day(reached: np.ndarray, as_of: dt.date) -> dt.date | None:
    hits = np.flatnonzero(reached)
    return as_of + dt.timedelta(days=int(hits[0]) + 1) if hits.size else None
