"""Pure chart builders for the audit queue and jobs pages (Altair, frames in, charts out)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt
import pandas as pd

from dashboard.charts import color_scale


def probabilities_bar(probabilities: Mapping[str, float], labels: Sequence[str]) -> alt.Chart:
    """One bar per label of the subtask (in code order), coloured by label as on every
    page (the scale's domain is the whole label set)."""
    frame = pd.DataFrame(
        {"label": list(labels), "probability": [probabilities.get(n, 0.0) for n in labels]}
    )
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("probability:Q", scale=alt.Scale(domain=[0, 1]), title="fused probability"),
            y=alt.Y("label:N", sort=list(labels), title=None),
            color=alt.Color("label:N", scale=color_scale(labels), legend=None),
            tooltip=["label", alt.Tooltip("probability:Q", format=".3f")],
        )
        .properties(height=28 * max(len(labels), 1))
    )


def contributions_bar(votes: Sequence[Mapping[str, Any]], labels: Sequence[str]) -> alt.Chart:
    """Each LF's contribution to the log-odds of the fused label over the runner-up,
    coloured by the label it voted (votes without a contribution are left out)."""
    rows = [v for v in votes if v.get("contribution") is not None]
    frame = pd.DataFrame(rows, columns=["lf", "label", "confidence", "contribution"])
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("contribution:Q", title="log-odds contribution (fused vs runner-up)"),
            y=alt.Y("lf:N", sort="-x", title=None),
            color=alt.Color("label:N", scale=color_scale(labels), title="vote"),
            tooltip=["lf", "label", "confidence", alt.Tooltip("contribution:Q", format="+.3f")],
        )
        .properties(height=24 * max(len(frame), 1))
    )


def job_durations(runs: pd.DataFrame) -> alt.Chart:
    """Duration of each job run over time, a colour per job, failures as crosses."""
    frame = runs.loc[runs["duration_s"].notna()]
    return (
        alt.Chart(frame)
        .mark_point(filled=True, size=60)
        .encode(
            x=alt.X("started_at:T", title=None),
            y=alt.Y("duration_s:Q", title="duration (s)"),
            color=alt.Color("job:N", scale=color_scale(frame["job"].astype(str).tolist())),
            shape=alt.Shape(
                "status:N",
                scale=alt.Scale(
                    domain=["succeeded", "skipped", "failed", "running"],
                    range=["circle", "square", "cross", "triangle"],
                ),
            ),
            tooltip=["job_run_id", "job", "task", "status", "started_at", "duration_s"],
        )
        .properties(height=260)
        .interactive()
    )
