"""Pure chart builders of the budget page: the burn-down with its projection band, and
bars of hours or spend by kind and annotator. Frames in, Altair charts out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import altair as alt
import pandas as pd

from dashboard.charts import color_scale

OVER = "#e45756"


@dataclass(frozen=True)
class Projection:
    """The budget.projected_spend row: from (as_of, spent) to (period_end, value) with the
    95% prediction interval [low, high] at period end."""

    as_of: dt.datetime
    spent: float
    period_end: dt.datetime
    value: float
    low: float | None
    high: float | None


def burndown(
    spent: pd.DataFrame, *, budget: float, projection: Projection | None, currency: str
) -> alt.LayerChart:
    """Cumulative spend per day (columns day, spent), the budget as a horizontal rule, and
    the projection to period end with its band."""
    y_title = f"cumulative spend ({currency})"
    line = (
        alt.Chart(spent.assign(series="spent"))
        .mark_line(point=True)
        .encode(
            x=alt.X("day:T", title=None),
            y=alt.Y("spent:Q", title=y_title),
            color=alt.Color("series:N", scale=color_scale(["spent", "projected"]), title=None),
            tooltip=["day:T", alt.Tooltip("spent:Q", format=",.2f")],
        )
    )
    limit = (
        alt.Chart(pd.DataFrame({"budget": [budget], "label": [f"budget {budget:,.2f}"]}))
        .mark_rule(color=OVER, strokeDash=[6, 3], strokeWidth=2)
        .encode(y="budget:Q", tooltip=["label"])
    )
    layers: list[alt.Chart] = [limit, line]
    if projection is not None:
        p = projection
        low = p.value if p.low is None else p.low
        high = p.value if p.high is None else p.high
        ahead = pd.DataFrame(
            {
                "day": [p.as_of, p.period_end],
                "spent": [p.spent, p.value],
                "low": [p.spent, low],
                "high": [p.spent, high],
                "series": ["projected", "projected"],
            }
        )
        base = alt.Chart(ahead).encode(x="day:T")
        band = base.mark_area(opacity=0.2, color="#f58518").encode(
            y="low:Q", y2="high:Q", tooltip=["day:T", "low:Q", "high:Q"]
        )
        projected = base.mark_line(strokeDash=[4, 4], point=True).encode(
            y="spent:Q",
            color=alt.Color("series:N", scale=color_scale(["spent", "projected"]), title=None),
            tooltip=["day:T", alt.Tooltip("spent:Q", format=",.2f", title="projected")],
        )
        layers = [band, *layers, projected]
    return alt.layer(*layers).properties(height=320).interactive()  # type: ignore[return-value]


def breakdown(frame: pd.DataFrame, *, value: str, title: str, unit: str) -> alt.Chart:
    """Horizontal bars of `value` per name (columns name, group, value): one chart per
    group (kind, annotator), names coloured consistently."""
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("name:N", title=None, sort="-x"),
            x=alt.X(f"{value}:Q", title=unit),
            color=alt.Color("name:N", scale=color_scale(frame["name"].tolist()), legend=None),
            tooltip=["group", "name", alt.Tooltip(f"{value}:Q", format=",.2f")],
        )
        .properties(title=title, height=alt.Step(18))
    )
