"""Labeling functions: health per LF over the selected window, and one LF in detail."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts_health as ch
from dashboard.data import load_health, load_tasks
from dashboard.session import selection, settings

config = settings()
db, lock = str(config.db_path), config.lock_timeout_s
st.title("Labeling functions")
tasks = load_tasks(db, lock)
chosen = selection()
if chosen.task not in tasks:
    st.info(
        "No data yet. Build the demo workspace with `labelwatch demo`, or load labeling "
        "functions and votes with `labelwatch ingest lfs|votes FILE --task NAME`."
    )
    st.stop()
task = chosen.task
latest = load_health(db, lock, "latest_window", task=task, prefix="lf.")
since = ch.window_since(latest, chosen.window_days)
rows = load_health(db, lock, "lf_table", task=task, scope=chosen.subtask, since=since)
if latest is None or not rows:
    st.info(
        "No LF metrics yet. Run `labelwatch run metrics` (or `labelwatch run all`) to compute "
        "coverage, overlap, conflict and accuracy per labeling function."
    )
    st.stop()

frame = ch.lf_frame(rows)
span = f"the {chosen.window_days} days up to {latest:%Y-%m-%d}" if since else "all time"
st.caption(
    f"{len(frame)} labeling functions of **{task}**, pooled over {span}. Accuracy on gold "
    "with its Wilson 95% interval; model accuracy is the label model's estimate (all time); "
    "contribution is the share of items where the LF's vote decided the fused label."
)
pct = "percent"
st.dataframe(
    frame,
    hide_index=True,
    column_config={
        "lf": st.column_config.TextColumn("LF", pinned=True),
        "coverage": st.column_config.NumberColumn("coverage", format=pct),
        "coverage_trend": st.column_config.LineChartColumn(
            "coverage per window", y_min=0.0, y_max=1.0
        ),
        "overlap": st.column_config.NumberColumn("overlap", format=pct),
        "conflict": st.column_config.NumberColumn("conflict", format=pct),
        "accuracy_gold": st.column_config.NumberColumn("accuracy on gold", format=pct),
        "accuracy_low": st.column_config.NumberColumn("low", format=pct),
        "accuracy_high": st.column_config.NumberColumn("high", format=pct),
        "gold_votes": st.column_config.NumberColumn("votes with gold"),
        "model_accuracy": st.column_config.NumberColumn("model accuracy", format=pct),
        "contribution": st.column_config.NumberColumn("contribution", format=pct),
        "coverage_change": st.column_config.NumberColumn("coverage change", format=pct),
        "drifted": st.column_config.CheckboxColumn("drift"),
    },
)

st.subheader("One labeling function")
choices = [(r.subtask, r.lf) for r in frame.itertuples()]
subtask, lf = st.selectbox(
    "Labeling function",
    choices,
    format_func=lambda c: c[1] if chosen.subtask else f"{c[1]} ({c[0]})",
)
params = {"task": task, "subtask": subtask, "lf": lf, "since": since}
votes = pd.DataFrame(load_health(db, lock, "lf_votes_by_day", **params))
confusion = pd.DataFrame(load_health(db, lock, "lf_confusion", **params))
left, right = st.columns(2)
with left:
    if len(votes):
        st.altair_chart(ch.votes_chart(votes), width="stretch")
    else:
        st.caption(f"{lf} cast no votes on {subtask} in this window.")
with right:
    if len(confusion):
        st.altair_chart(ch.confusion_chart(confusion), width="stretch")
    else:
        st.caption(
            f"No gold or audited labels on the items {lf} voted on: import gold "
            "(`labelwatch ingest gold FILE`) or audit (`labelwatch audit sample`)."
        )
st.markdown(f"**Items where {lf} disagreed with the fused label** (the 50 most confident)")
disagreements = pd.DataFrame(load_health(db, lock, "lf_disagreements", **params, limit=50))
if len(disagreements):
    st.dataframe(
        disagreements,
        hide_index=True,
        column_config={
            "fused_confidence": st.column_config.NumberColumn("fused confidence", format=pct)
        },
    )
else:
    st.caption(f"{lf} agreed with every fused label in this window (or nothing is fused yet).")
