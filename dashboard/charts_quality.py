"""Pure helpers and chart builders of the calibration, drift and accuracy pages.

Frames come from `dashboard.data.load_metrics` (metric, scope, key, window_start,
window_end, value, ci_low, ci_high, details as JSON text); nothing here reads the store.
Colours of LFs, classes and subtasks come from `charts.color_scale`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt
import pandas as pd

from dashboard.charts import color_scale

DRIFTED = "#e45756"
STABLE = "#9d9d9d"


def as_float(value: object) -> float | None:
    """value as a finite float, or None (None, NaN, text that is not a number)."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def parse_details(frame: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """The frame with one column per details key (None where a row lacks it)."""
    out = frame.copy()
    parsed = [json.loads(d) if isinstance(d, str) and d else {} for d in frame["details"]]
    for key in keys:
        out[key] = [p.get(key) for p in parsed]
    return out


def window_since(frame: pd.DataFrame, days: int) -> dt.datetime | None:
    """The first window start a `days` window covers, counted back from the newest window
    in the frame (None: all time, or no windowed rows)."""
    starts = pd.to_datetime(frame["window_start"]).dropna() if len(frame) else pd.Series([])
    if days <= 0 or starts.empty:
        return None
    newest: dt.datetime = starts.max().to_pydatetime()
    return newest - dt.timedelta(days=days - 1)


def in_window(frame: pd.DataFrame, days: int) -> pd.DataFrame:
    """Windowed rows within the last `days` days of the newest window (0: every windowed
    row); all-time rows (window_start NULL) are dropped."""
    windowed = frame[frame["window_start"].notna()]
    since = window_since(windowed, days)
    if since is None:
        return windowed
    return windowed[pd.to_datetime(windowed["window_start"]) >= since]


def reliability_diagram(bins: Mapping[str, Sequence[Any]], *, title: str = "") -> alt.VConcatChart:
    """Accuracy against mean confidence per equal-width bin (point size = items), the
    diagonal of perfect calibration, and the bin counts below. `bins` holds the lists
    lower, upper, count, mean_confidence, accuracy (calibration.ece details["bins"])."""
    frame = pd.DataFrame({k: list(bins[k]) for k in ("lower", "upper", "count")})
    frame["mean_confidence"] = pd.to_numeric(pd.Series(bins["mean_confidence"]), errors="coerce")
    frame["accuracy"] = pd.to_numeric(pd.Series(bins["accuracy"]), errors="coerce")
    frame["gap"] = frame["accuracy"] - frame["mean_confidence"]
    x = alt.X("mean_confidence:Q", title="mean confidence", scale=alt.Scale(domain=[0, 1]))
    diagonal = (
        alt.Chart(pd.DataFrame({"p": [0.0, 1.0]}))
        .mark_line(strokeDash=[4, 4], color=STABLE)
        .encode(x=alt.X("p:Q", scale=alt.Scale(domain=[0, 1])), y="p:Q")
    )
    used = frame[frame["count"] > 0]
    points = (
        alt.Chart(used)
        .mark_circle(color="#4c78a8", opacity=0.85)
        .encode(
            x=x,
            y=alt.Y("accuracy:Q", title="accuracy", scale=alt.Scale(domain=[0, 1])),
            size=alt.Size("count:Q", title="items"),
            tooltip=["lower", "upper", "count", "mean_confidence", "accuracy", "gap"],
        )
    )
    counts = (
        alt.Chart(frame)
        .mark_bar(color="#72b7b2")
        .encode(
            x=alt.X("lower:Q", title="confidence bin", scale=alt.Scale(domain=[0, 1])),
            x2="upper:Q",
            y=alt.Y("count:Q", title="items"),
            tooltip=["lower", "upper", "count"],
        )
        .properties(height=100)
    )
    top = alt.layer(diagonal, points).properties(title=title, height=260).interactive()
    return alt.vconcat(top, counts)


def estimate_trend(frame: pd.DataFrame, *, color: str, title: str, y_title: str) -> alt.LayerChart:
    """A line per `color` over window_start with its [ci_low, ci_high] band, one colour
    per name on every page."""
    scale = color_scale(frame[color].astype(str).tolist())
    base = alt.Chart(frame).encode(x=alt.X("window_start:T", title=None))
    enc = alt.Color(f"{color}:N", scale=scale, title=None)
    tooltip = [color, "window_start", "value", "ci_low", "ci_high"]
    line = base.mark_line(point=True).encode(
        y=alt.Y("value:Q", title=y_title), color=enc, tooltip=tooltip
    )
    band = base.mark_area(opacity=0.15).encode(y="ci_low:Q", y2="ci_high:Q", color=enc)
    return alt.layer(band, line).properties(title=title, height=260).interactive()  # type: ignore[return-value]


def _status(frame: pd.DataFrame) -> tuple[pd.DataFrame, alt.Color]:
    data = frame.assign(status=[("drifted" if d else "stable") for d in frame["drifted"]])
    color = alt.Color(
        "status:N",
        scale=alt.Scale(domain=["drifted", "stable"], range=[DRIFTED, STABLE]),
        title=None,
    )
    return data, color


DRIFT_TOOLTIP = ["column", "window_start", "method", "value", "threshold", "drifted",
                 "n_reference", "n_current"]  # fmt: skip


def drift_scores(frame: pd.DataFrame, *, title: str = "") -> alt.LayerChart:
    """Drift score per column of one window: drifted ones large and red, each method's
    threshold as a dashed rule. Columns: column, window_start, value, method, threshold,
    drifted, n_reference, n_current."""
    data, status = _status(frame)
    points = (
        alt.Chart(data)
        .mark_point(filled=True)
        .encode(
            x=alt.X("column:N", title=None, sort=None, axis=alt.Axis(labelAngle=-45)),
            y=alt.Y("value:Q", title="score (p-value or distance)"),
            color=status,
            shape=alt.Shape("method:N"),
            size=alt.condition(alt.datum.status == "drifted", alt.value(160), alt.value(60)),
            tooltip=DRIFT_TOOLTIP,
        )
    )
    thresholds = data.drop_duplicates(["method", "threshold"])
    rules = (
        alt.Chart(thresholds)
        .mark_rule(strokeDash=[6, 3], color="#333333")
        .encode(y="threshold:Q", tooltip=["method", "threshold"])
    )
    return alt.layer(rules, points).properties(title=title, height=300).interactive()  # type: ignore[return-value]


def drift_heatmap(frame: pd.DataFrame, *, title: str = "") -> alt.Chart:
    """Column x window: red where drifted, grey where stable; the score in the tooltip."""
    data, status = _status(frame)
    data = data.assign(day=pd.to_datetime(data["window_start"]).dt.strftime("%Y-%m-%d"))
    chart = (
        alt.Chart(data)
        .mark_rect(stroke="white")
        .encode(
            x=alt.X("day:O", title="window"),
            y=alt.Y("column:N", title=None, sort=None),
            color=status,
            tooltip=DRIFT_TOOLTIP,
        )
        .properties(title=title)
    )
    return chart


def estimates_chart(frame: pd.DataFrame, *, title: str = "") -> alt.LayerChart:
    """Each estimator's accuracy with its interval, per key ("fused", "class:<label>"):
    columns key, estimator, value, ci_low, ci_high."""
    scale = color_scale(frame["estimator"].astype(str).tolist())
    base = alt.Chart(frame).encode(
        y=alt.Y("key:N", title=None),
        yOffset=alt.YOffset("estimator:N"),
        color=alt.Color("estimator:N", scale=scale, title=None),
    )
    bars = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("ci_low:Q", title="accuracy"), x2="ci_high:Q"
    )
    points = base.mark_point(filled=True, size=60).encode(
        x="value:Q", tooltip=["key", "estimator", "value", "ci_low", "ci_high", "ess"]
    )
    return alt.layer(bars, points).properties(title=title).interactive()  # type: ignore[return-value]


def error_yield_chart(frame: pd.DataFrame) -> alt.Chart:
    """Share of audited items whose audited label differs from the fused one, per sampling
    strategy (columns strategy, audited, errors, error_share)."""
    scale = color_scale(frame["strategy"].astype(str).tolist())
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("strategy:N", title=None),
            y=alt.Y("error_share:Q", title="errors per audited item", axis=alt.Axis(format="%")),
            color=alt.Color("strategy:N", scale=scale, legend=None),
            tooltip=["strategy", "queued", "audited", "errors", "error_share"],
        )
        .properties(height=240)
    )
    return chart.interactive()
