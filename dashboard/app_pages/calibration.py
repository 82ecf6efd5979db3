"""Calibration: reliability diagram with bin counts, ECE variants with intervals over time,
label-free against audited accuracy; per subtask of the shared selection."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from dashboard.charts_quality import as_float, estimate_trend, in_window, reliability_diagram
from dashboard.data import load_metrics, load_tasks
from dashboard.session import selection, stop_without_task

VARIANTS = {
    "calibration.ece": "ECE (top-label)",
    "calibration.adaptive_ece": "adaptive ECE",
    "calibration.classwise_ece": "classwise ECE",
    "calibration.l2_debiased": "debiased L2",
}
CHART_COLUMNS = ["window_start", "value", "ci_low", "ci_high"]
ACCURACY = {"accuracy.label_free": "label-free (posteriors)", "accuracy.audited": "audited (gold)"}

settings = st.session_state["settings"]
chosen = selection()
st.title("Calibration")
task = stop_without_task(chosen.task)

rows = load_metrics(
    str(settings.db_path),
    settings.lock_timeout_s,
    task,
    (*VARIANTS, *ACCURACY),
    scope=chosen.subtask,
    all_time=False,
)
rows = in_window(rows[rows["key"] == "fused"], chosen.window_days)
if rows.empty:
    st.info(
        f"No calibration metrics for {task} in this window yet: run "
        "`labelwatch run metrics` (after `labelwatch run fuse`), or widen the window."
    )
    st.stop()


def _fmt(value: object) -> str:
    number = as_float(value)
    return "n/a" if number is None else f"{number:.3f}"


def _interval(row: pd.Series) -> str | None:
    if pd.isna(row["ci_low"]) or pd.isna(row["ci_high"]):
        return None
    return f"95% interval {row['ci_low']:.3f} to {row['ci_high']:.3f}"


def render_subtask(subtask: str, frame: pd.DataFrame) -> None:
    newest = frame["window_start"].max()
    latest = frame[frame["window_start"] == newest].set_index("metric")
    ece = latest.loc["calibration.ece"] if "calibration.ece" in latest.index else None
    details = json.loads(ece["details"]) if ece is not None and ece["details"] else {}
    cards = st.columns(len(VARIANTS))
    for card, (metric, label) in zip(cards, VARIANTS.items(), strict=True):
        row = latest.loc[metric] if metric in latest.index else None
        card.metric(
            label,
            _fmt(None if row is None else row["value"]),
            help=None if row is None else _interval(row),
        )
    span = details.get("span_start", str(newest)[:10])
    st.caption(
        f"Latest window: {str(span)[:10]} to {str(newest)[:10]}; "
        f"{details.get('n', 0)} items with a gold or audited label, "
        f"{details.get('unlabelled', 0)} without."
    )
    if not details.get("n"):
        st.info(
            "No gold or audited labels in this window, so calibration is undefined: import "
            "gold (`labelwatch ingest gold`) or audit a sample (`labelwatch audit sample`)."
        )
    left, right = st.columns(2)
    with left:
        st.subheader("Reliability diagram")
        if details.get("bins"):
            st.altair_chart(reliability_diagram(details["bins"]), width="stretch")
        else:
            st.caption("No reliability bins for the latest window.")
    with right:
        st.subheader("ECE variants over time")
        variants = frame[frame["metric"].isin(list(VARIANTS))].copy()
        variants["variant"] = variants["metric"].map(VARIANTS)
        variants = variants[[*CHART_COLUMNS, "variant"]]
        st.altair_chart(
            estimate_trend(variants, color="variant", title="", y_title="calibration error"),
            width="stretch",
        )
    st.subheader("Label-free vs audited accuracy")
    accuracy = frame[frame["metric"].isin(list(ACCURACY))].copy()
    accuracy["source"] = accuracy["metric"].map(ACCURACY)
    accuracy = accuracy[[*CHART_COLUMNS, "source"]]
    if accuracy["value"].notna().any():
        st.altair_chart(
            estimate_trend(accuracy, color="source", title="", y_title="accuracy"), width="stretch"
        )
    table = (
        accuracy.pivot_table(index="window_start", columns="source", values="value")
        .sort_index(ascending=False)
        .reset_index()
    )
    table["window_start"] = pd.to_datetime(table["window_start"]).dt.date
    st.dataframe(table, hide_index=True)
    st.caption(
        "Label-free accuracy is the mean top posterior over all fused items; audited "
        "accuracy compares the fused labels with gold and audited labels. A gap between "
        f"them in {subtask} means the posteriors are over- or under-confident."
    )


order = load_tasks(str(settings.db_path), settings.lock_timeout_s).get(task, [])
subtasks = [s for s in order if s in set(rows["scope"])]
if len(subtasks) > 1:
    newest = rows[rows["window_start"] == rows["window_start"].max()]
    summary = newest.pivot_table(index="scope", columns="metric", values="value")
    summary = summary.reindex(index=subtasks, columns=[*VARIANTS, *ACCURACY])
    summary = summary.rename(columns={**VARIANTS, **ACCURACY})
    st.subheader("Latest window by subtask")
    st.dataframe(summary.rename_axis("subtask").reset_index(), hide_index=True)
    shown = st.segmented_control(
        "Subtask", subtasks, default=subtasks[0], key="calibration_subtask"
    )
    shown = shown if shown in subtasks else subtasks[0]
else:
    shown = subtasks[0]
render_subtask(shown, rows[rows["scope"] == shown])
