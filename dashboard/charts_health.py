"""Pure builders of the health pages (overview, labeling functions, agreement): rows and
frames in, frames and Altair charts out. Colours come from `dashboard.charts.color_scale`,
so a subtask, label or LF keeps its colour on every page.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from typing import Any

import altair as alt
import pandas as pd

from auditor.metrics.estimate import proportion
from dashboard.charts import color_scale

NOT_AVAILABLE = "n/a"
LF_COLUMNS = [
    "subtask", "lf", "polarity", "coverage", "coverage_trend", "overlap", "conflict",
    "accuracy_gold", "accuracy_low", "accuracy_high", "gold_votes", "model_accuracy",
    "contribution", "coverage_change", "drifted",
]  # fmt: skip


def window_since(latest: dt.datetime | None, days: int) -> dt.datetime | None:
    """Start of the selected window: `days` daily windows up to and including the newest
    one (`latest` its start); None for all time (days 0) or before any metric exists."""
    if latest is None or days <= 0:
        return None
    return latest - dt.timedelta(days=days - 1)


def _number(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number


def percent(value: Any, low: Any = None, high: Any = None) -> str:
    """'81.9%' or, with an interval, '81.9% (79.2-84.8%)'; 'n/a' for a missing value."""
    v, lo, hi = _number(value), _number(low), _number(high)
    if math.isnan(v):
        return NOT_AVAILABLE
    if math.isnan(lo) or math.isnan(hi):
        return f"{v:.1%}"
    return f"{v:.1%} ({lo * 100:.1f}-{hi:.1%})"


def decimal(value: Any, digits: int = 3) -> str:
    v = _number(value)
    return NOT_AVAILABLE if math.isnan(v) else f"{v:,.{digits}f}"


def details(text: Any) -> dict[str, Any]:
    """The details JSON of a metric row as a dict ({} when missing or malformed)."""
    if isinstance(text, dict):
        return text
    try:
        value = json.loads(text) if text else {}
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def coverage_share(rows: Sequence[dict[str, Any]], subtasks: Sequence[str]) -> float:
    """Share of (item, subtask) pairs that get a label (coverage.items: delivered over
    delivered + uncovered), pooled over the subtasks; NaN without coverage rows."""
    counts = {
        (r["scope"], r["key"]): _number(r["value"])
        for r in rows
        if r["metric"] == "coverage.items" and r["scope"] in subtasks
    }
    delivered = sum(v for (_, key), v in counts.items() if key == "delivered")
    uncovered = sum(v for (_, key), v in counts.items() if key == "uncovered")
    total = delivered + uncovered
    return delivered / total if total else math.nan


def headline_accuracy(
    rows: Sequence[dict[str, Any]], subtask: str
) -> tuple[dict[str, Any] | None, str]:
    """The subtask's fused accuracy estimate and where it comes from: the headline
    estimator of the newest audited round when there is one, else the label-free
    estimate of the newest window. rows: latest_metrics rows of accuracy.*."""
    audited = [
        r
        for r in rows
        if r["scope"] == subtask
        and r["key"] == "fused"
        and r["metric"].startswith("accuracy.audit_")
        and details(r["details"]).get("headline")
    ]
    if audited:
        best = max(audited, key=lambda r: r["window_start"] or dt.datetime.min)
        round_id = details(best["details"]).get("round_id")
        estimator = best["metric"].removeprefix("accuracy.audit_").replace("_", " ")
        return best, f"audit round {round_id} ({estimator})"
    free = [r for r in rows if r["scope"] == subtask and r["metric"] == "accuracy.label_free"]
    return (free[0], "label-free (no audited round yet)") if free else (None, "")


def lf_frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per (subtask, LF) from lf_table rows: window-pooled shares (coverage,
    overlap, conflict, contribution) and gold accuracy with its Wilson interval."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        entry = out.setdefault(
            (r["subtask"], r["lf"]),
            {
                "subtask": r["subtask"],
                "lf": r["lf"],
                "polarity": ", ".join(sorted(r["polarity"] or [])),
                "coverage_trend": list(r["coverage_trend"] or []),
                "model_accuracy": _number(r["model_accuracy"]),
                "coverage_change": _number(r["coverage_change"]),
                "drifted": bool(r["drifted"]),
            },
        )
        metric = r["metric"]
        if metric is None:
            continue
        successes, trials = int(r["successes"] or 0), int(r["trials"] or 0)
        estimate = proportion(successes, trials, what=metric)
        name = metric.removeprefix("lf.")
        entry[name] = estimate.value
        if name == "accuracy_gold":
            entry["accuracy_low"], entry["accuracy_high"] = estimate.low, estimate.high
            entry["gold_votes"] = trials
    frame = pd.DataFrame(list(out.values()))
    return frame.reindex(columns=LF_COLUMNS)


def votes_chart(frame: pd.DataFrame) -> alt.Chart:
    """Stacked bars: an LF's votes per day, coloured by label."""
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("day:T", title=None),
            y=alt.Y("votes:Q", title="votes", stack=True),
            color=alt.Color("label:N", scale=color_scale(frame["label"].astype(str).tolist())),
            tooltip=["day:T", "label:N", "votes:Q"],
        )
        .properties(title="Votes per day by label", height=260)
    )
    return chart.interactive()


def heatmap(
    frame: pd.DataFrame,
    *,
    x: str,
    y: str,
    value: str,
    title: str,
    domain: tuple[float, float] | None = None,
    diverging: bool = False,
    tooltip: Sequence[str] = (),
) -> alt.LayerChart:
    """Rect heatmap with the value written in each cell; domain fixes the colour range
    (diverging: red-blue around 0, else blues)."""
    scale = (
        alt.Scale(scheme="redblue", domain=list(domain))
        if diverging and domain
        else alt.Scale(scheme="redblue" if diverging else "blues")
    )
    base = alt.Chart(frame).encode(
        x=alt.X(f"{x}:N", title=x, sort=None), y=alt.Y(f"{y}:N", title=y, sort=None)
    )
    rect = base.mark_rect().encode(
        color=alt.Color(f"{value}:Q", scale=scale, title=value), tooltip=[x, y, value, *tooltip]
    )
    text = base.mark_text(fontSize=10).encode(text=alt.Text(f"{value}:Q", format=".2f"))
    return alt.LayerChart(layer=[rect, text], title=title)


def confusion_chart(frame: pd.DataFrame) -> alt.LayerChart:
    """The LF's votes (rows) against the truth (columns), counts in the cells."""
    return heatmap(frame, x="gold", y="vote", value="n", title="Votes against gold")


def pair_matrix(frame: pd.DataFrame) -> pd.DataFrame:
    """agreement.lf_pair_kappa rows (key 'lf_a|lf_b') -> both triangles of the LF x LF
    matrix (columns lf_a, lf_b, kappa, agreement, n); the diagonal is left out."""
    rows = []
    for _, r in frame.iterrows():
        a, _, b = str(r["key"]).partition("|")
        info = details(r["details"])
        cell = {
            "kappa": _number(r["value"]),
            "agreement": info.get("agreement"),
            "n": info.get("n"),
        }
        rows += [{"lf_a": a, "lf_b": b, **cell}, {"lf_a": b, "lf_b": a, **cell}]
    return pd.DataFrame(rows, columns=["lf_a", "lf_b", "kappa", "agreement", "n"])


def kappa_heatmap(matrix: pd.DataFrame, title: str) -> alt.LayerChart:
    return heatmap(
        matrix,
        x="lf_a",
        y="lf_b",
        value="kappa",
        title=title,
        domain=(-1.0, 1.0),
        diverging=True,
        tooltip=("agreement", "n"),
    )


def agreement_trend(frame: pd.DataFrame, title: str) -> alt.Chart:
    """Lines over windows: colour = subtask (scope), dash = statistic."""
    chart = (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("window_start:T", title=None),
            y=alt.Y("value:Q", title="value"),
            color=alt.Color("scope:N", scale=color_scale(frame["scope"].astype(str).tolist())),
            strokeDash=alt.StrokeDash("statistic:N"),
            tooltip=["window_start:T", "scope:N", "statistic:N", "value:Q", "n:Q"],
        )
        .properties(title=title, height=260)
    )
    return chart.interactive()


def with_n(frame: pd.DataFrame) -> pd.DataFrame:
    """frame plus n (the count in details) and reason (why a value is missing)."""
    parsed = [details(d) for d in frame["details"]]
    out = frame.copy()
    out["n"] = [p.get("n") for p in parsed]
    out["reason"] = [p.get("reason") for p in parsed]
    return out
