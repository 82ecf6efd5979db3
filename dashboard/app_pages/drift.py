"""Drift: per-LF, fused-class and attribute drift scores by window (Evidently), with the
method and threshold of each column and the drifted ones highlighted."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.charts_quality import drift_heatmap, drift_scores, in_window, parse_details
from dashboard.data import load_metrics
from dashboard.session import selection, stop_without_task

GROUPS = {
    "drift.lf_votes": "LF votes",
    "drift.lf_coverage": "LF coverage",
    "drift.fused_class": "fused classes",
    "drift.attribute": "attribute",
}
DETAILS = ["method", "threshold", "drifted", "score_is_p_value", "n_reference", "n_current",
           "current_from", "reason"]  # fmt: skip

settings = st.session_state["settings"]
chosen = selection()
st.title("Drift")
task = stop_without_task(chosen.task)

rows = load_metrics(
    str(settings.db_path),
    settings.lock_timeout_s,
    task,
    tuple(GROUPS),
    scope=chosen.subtask,
    all_time=False,
)
rows = in_window(rows, chosen.window_days)
if rows.empty:
    st.info(
        f"No drift results for {task} in this window yet: `labelwatch run metrics` "
        f"computes drift once the data reach past the first {settings.drift_reference_days} "
        "days (the reference), or widen the window."
    )
    st.stop()

frame = parse_details(rows, DETAILS)
frame["drifted"] = frame["drifted"].fillna(False).astype(bool)
frame["group"] = frame["metric"].map(GROUPS)
prefix = "" if chosen.subtask else frame["scope"] + " / "
frame["column"] = prefix + frame["group"] + ": " + frame["key"]
frame = frame.sort_values(["scope", "metric", "key", "window_start"], kind="stable")
newest = frame["window_start"].max()
latest = frame[frame["window_start"] == newest]

cards = st.columns(4)
cards[0].metric("Columns checked", f"{len(latest):,}")
cards[1].metric("Drifted", f"{int(latest['drifted'].sum()):,}")
cards[2].metric(
    "LFs drifted",
    f"{latest[latest['metric'].str.startswith('drift.lf_')]['key'][latest['drifted']].nunique():,}",
)
cards[3].metric("Latest window", str(newest)[:10])
current_from = latest["current_from"].dropna()
st.caption(
    f"Reference: the first {settings.drift_reference_days} days of data; current: the "
    f"{settings.drift_current_days} days up to each window"
    + (f" (latest: from {str(current_from.iloc[0])[:10]})" if len(current_from) else "")
    + ". Evidently picks the method per column: for p-value tests (z, chisquare, ks) a "
    "score below the threshold is drift; for distances (jensenshannon, wasserstein) a "
    "score at or above it is."
)

drifted = latest[latest["drifted"]]
if len(drifted):
    st.warning(
        f"{len(drifted)} column(s) drifted in the latest window: "
        + ", ".join(drifted["column"].head(8))
        + (" ..." if len(drifted) > 8 else "")
    )
else:
    st.success("No column drifted in the latest window.")

st.subheader("Scores in the latest window")
chart_columns = ["column", "window_start", "value", "method", "threshold", "drifted",
                 "n_reference", "n_current"]  # fmt: skip
st.altair_chart(drift_scores(latest[chart_columns]), width="stretch")
if frame["window_start"].nunique() > 1:
    st.subheader("Drift by window")
    st.altair_chart(drift_heatmap(frame[chart_columns]), width="stretch")

st.subheader("Per column")
table = frame.sort_values(["window_start", "drifted"], ascending=[False, False], kind="stable")
table = table.assign(window=pd.to_datetime(table["window_start"]).dt.date)[
    ["window", "scope", "group", "key", "method", "value", "threshold", "drifted",
     "n_reference", "n_current", "reason"]
].rename(columns={"scope": "subtask", "key": "column", "value": "score"})  # fmt: skip


def _highlight(row: pd.Series) -> list[str]:
    return ["background-color: #fbe3e4" if row["drifted"] else ""] * len(row)


st.dataframe(
    table.head(500).style.apply(_highlight, axis=1),
    hide_index=True,
    column_config={"drifted": st.column_config.CheckboxColumn("drifted")},
)
