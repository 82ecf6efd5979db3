"""Pure chart builders (Altair): frames in, charts out; one palette for classes and LFs.

Colours come from `color_scale(domain)`, which always maps the same name to the same
colour (the sorted domain indexes a fixed palette), so a class or an LF keeps its colour
on every page.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import pandas as pd

PALETTE = (
    "#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#eeca3b", "#b279a2",
    "#ff9da6", "#9d755d", "#bab0ac", "#2f4b7c", "#a05195", "#d45087", "#665191",
)  # fmt: skip


def color_scale(domain: Sequence[str]) -> alt.Scale:
    names = sorted({str(d) for d in domain})
    return alt.Scale(domain=names, range=[PALETTE[i % len(PALETTE)] for i in range(len(names))])


def trend(
    frame: pd.DataFrame,
    *,
    x: str = "window_start",
    y: str = "value",
    color: str | None = "key",
    title: str = "",
    band: bool = True,
    y_title: str | None = None,
) -> alt.LayerChart:
    """Line per `color` over x, with the [ci_low, ci_high] band when the frame has it."""
    base = alt.Chart(frame).encode(x=alt.X(f"{x}:T", title=None))
    encode: dict[str, Any] = {"y": alt.Y(f"{y}:Q", title=y_title or y)}
    if color:
        encode["color"] = alt.Color(
            f"{color}:N", scale=color_scale(frame[color].astype(str).tolist())
        )
    line = base.mark_line(point=True).encode(**encode, tooltip=list(frame.columns[:8]))
    layers: list[alt.Chart] = [line]
    if band and {"ci_low", "ci_high"} <= set(frame.columns) and frame["ci_low"].notna().any():
        area = base.mark_area(opacity=0.2).encode(
            y="ci_low:Q", y2="ci_high:Q", **({"color": encode["color"]} if color else {})
        )
        layers.insert(0, area)
    chart = alt.layer(*layers).properties(title=title, height=260)
    return chart.interactive()  # type: ignore[return-value]
