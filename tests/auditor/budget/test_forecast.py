"""The burn-down forecast on synthetic spend series with known trend."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import numpy as np
import pytest

from auditor.budget.forecast import daily_spend, forecast

START = dt.date(2026, 1, 1)
END = dt.date(2026, 1, 31)  # 31 days


def series(values: list[float]) -> list[Decimal]:
    return [Decimal(str(round(v, 4))) for v in values]


def test_constant_spend_projects_exactly_with_a_zero_width_interval() -> None:
    # 10 days at 100/day, 21 days left: 1000 + 2100 = 3100; budget 2000 runs out on day 20
    f = forecast(
        series([100.0] * 10),
        amount=Decimal(2000),
        period_start=START,
        period_end=END,
        as_of=START + dt.timedelta(days=9),
    )
    assert (f.spent, f.days_elapsed, f.days_left) == (Decimal(1000), 10, 21)
    assert f.burn_rate.value == pytest.approx(100.0)
    assert f.projected.value == pytest.approx(3100.0)
    assert f.projected.low == pytest.approx(3100.0) and f.projected.high == pytest.approx(3100.0)
    assert f.overrun
    assert f.exhaustion == f.exhaustion_earliest == f.exhaustion_latest == dt.date(2026, 1, 20)


def test_linear_trend_is_recovered_exactly_by_the_linear_method() -> None:
    # y_t = 50 + 5 t over days 0..29 of a 31-day period; the last 14 days fit the line
    y = [50 + 5 * t for t in range(30)]
    f = forecast(
        series(y),
        amount=Decimal(10**6),
        period_start=START,
        period_end=END,
        as_of=START + dt.timedelta(days=29),
        method="linear",
    )
    assert f.trend_per_day == pytest.approx(5.0)
    assert f.projected.value == pytest.approx(sum(y) + 50 + 5 * 30)
    mean_only = forecast(
        series(y),
        amount=Decimal(10**6),
        period_start=START,
        period_end=END,
        as_of=START + dt.timedelta(days=29),
        method="mean",
    )
    assert mean_only.projected.value < f.projected.value  # the mean lags a rising trend


@pytest.mark.parametrize(("method", "slope"), [("mean", 0.0), ("linear", 2.0)])
def test_prediction_interval_covers_the_realised_spend_about_95_percent(
    method: str, slope: float
) -> None:
    rng = np.random.default_rng(7)
    days, elapsed, hits = 31, 21, 0
    reps = 400
    for _ in range(reps):
        y = 100 + slope * np.arange(days) + rng.normal(0, 20, days)
        f = forecast(
            series(list(y[:elapsed])),
            amount=Decimal(10**6),
            period_start=START,
            period_end=END,
            as_of=START + dt.timedelta(days=elapsed - 1),
            method=method,
            trailing_days=elapsed,
        )
        hits += f.projected.low <= float(sum(series(list(y)))) <= f.projected.high
    assert 0.91 <= hits / reps <= 0.985


def test_no_spend_gives_zero_and_an_undefined_rate_never_infinite() -> None:
    f = forecast(
        series([0.0] * 5),
        amount=Decimal(100),
        period_start=START,
        period_end=END,
        as_of=START + dt.timedelta(days=4),
    )
    assert f.spent == 0 and not f.burn_rate.defined and not f.projected.defined
    assert math.isnan(f.burn_rate.value) and f.burn_rate.reason == "no spend in the period yet"
    assert f.exhaustion is None and not f.overrun
    before = forecast(
        [],
        amount=Decimal(100),
        period_start=START,
        period_end=END,
        as_of=START - dt.timedelta(days=3),
    )
    assert before.days_elapsed == 0 and before.burn_rate.reason == "the period has not started"


def test_after_the_period_the_projection_is_what_was_spent() -> None:
    y = series([10.0] * 31)
    f = forecast(
        y, amount=Decimal(500), period_start=START, period_end=END, as_of=dt.date(2026, 3, 1)
    )
    assert (f.as_of, f.days_left) == (END, 0)
    assert f.projected.value == f.projected.low == f.projected.high == 310.0


def test_an_exhausted_budget_names_the_day_it_ran_out() -> None:
    f = forecast(
        series([40.0] * 10),
        amount=Decimal(100),
        period_start=START,
        period_end=END,
        as_of=START + dt.timedelta(days=9),
    )
    assert f.exhausted_on == dt.date(2026, 1, 3)  # 40, 80, 120
    assert f.exhaustion is None and f.overrun


def test_daily_spend_sums_exactly_per_day_and_ignores_other_days() -> None:
    days = np.array(["2026-01-01", "2026-01-01", "2026-01-03", "2025-12-31"], "datetime64[D]")
    costs = np.array([1000, 2000, 15000, 90000])  # 0.1, 0.2, 1.5, 9 in ten-thousandths
    assert daily_spend(days, costs, start=START, end=dt.date(2026, 1, 3)) == [
        Decimal("0.3"),
        Decimal(0),
        Decimal("1.5"),
    ]


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="method"):
        forecast(
            [], amount=Decimal(1), period_start=START, period_end=END, as_of=START, method="prophet"
        )
    with pytest.raises(ValueError, match="daily has"):
        forecast(
            [Decimal(1)],
            amount=Decimal(1),
            period_start=START,
            period_end=END,
            as_of=START + dt.timedelta(days=3),
        )
