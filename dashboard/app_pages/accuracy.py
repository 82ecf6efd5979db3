"""Accuracy and audits: each estimator's accuracy with its interval per subtask and fused
class (the newest audited round), audited counts, and the error yield of each sampling
strategy (audit_queue joined with audited_labels)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.charts_quality import error_yield_chart, estimates_chart, parse_details, window_since
from dashboard.data import load_error_yield, load_metrics, load_tasks
from dashboard.session import selection, stop_without_task

NO_AUDITS = (
    "No audits yet. Draw an audit round with `labelwatch audit sample`, correct the queued "
    "items on the Audit queue page (or `labelwatch audit submit FILE`), then run "
    "`labelwatch audit sample` again: it writes the round's estimates before it draws the next."
)
DETAILS = ["estimator", "headline", "ess", "round_id", "audited", "sampled", "N", "reason"]

settings = st.session_state["settings"]
chosen = selection()
db, timeout = str(settings.db_path), settings.lock_timeout_s
st.title("Accuracy and audits")
task = stop_without_task(chosen.task)

rows = load_metrics(db, timeout, task, ("accuracy.audit_*",), scope=chosen.subtask)
rows = rows[rows["window_start"].notna()]
since = window_since(rows, chosen.window_days)
if since is not None:
    rows = rows[pd.to_datetime(rows["window_start"]) >= since]
queue = load_error_yield(db, timeout, task, chosen.subtask, since)

if rows.empty:
    st.info(NO_AUDITS)
    if queue.empty:
        st.stop()
else:
    frame = parse_details(rows, DETAILS)
    newest_round = frame["round_id"].max()
    frame = frame[frame["round_id"] == newest_round]
    order = load_tasks(db, timeout).get(task, [])
    subtasks = [s for s in order if s in set(frame["scope"])]
    headline = frame[(frame["key"] == "fused") & (frame["headline"] == True)]  # noqa: E712
    headline = headline.set_index("scope")
    round_at = str(frame["window_start"].max())[:16]
    st.caption(f"Round {int(newest_round)}, drawn {round_at}. Headline: active inference.")
    cards = st.columns(max(1, len(subtasks)))
    for card, name in zip(cards, subtasks, strict=False):
        if name not in headline.index:
            card.metric(f"{name} accuracy", "n/a")
            continue
        row = headline.loc[name]
        interval = (
            f"95% interval {row['ci_low']:.1%} to {row['ci_high']:.1%}"
            if pd.notna(row["ci_low"])
            else "no interval"
        )
        card.metric(
            f"{name} accuracy",
            "n/a" if pd.isna(row["value"]) else f"{row['value']:.1%}",
            help=f"{row['estimator']}; {interval}",
        )
        card.caption(
            f"{int(row['audited'])} of {int(row['sampled'])} sampled items audited; {interval}"
        )

    st.subheader("Estimates with intervals")
    frame["estimator"] = frame["metric"].str.removeprefix("accuracy.audit_")
    for name in subtasks:
        mine = frame[frame["scope"] == name]
        chart = mine[["key", "estimator", "value", "ci_low", "ci_high", "ess"]]
        st.altair_chart(estimates_chart(chart, title=name), width="stretch")
    table = frame[["scope", "key", "estimator", "value", "ci_low", "ci_high", "ess", "headline",
                   "reason"]].rename(columns={"scope": "subtask", "value": "accuracy"})  # fmt: skip
    st.dataframe(table, hide_index=True)

st.subheader("Error yield by sampling strategy")
if queue.empty:
    st.caption("No audit round in this window.")
else:
    audited = int(queue["audited"].sum())
    cols = st.columns(4)
    cols[0].metric("Queued", f"{int(queue['queued'].sum()):,}")
    cols[1].metric("Audited", f"{audited:,}")
    cols[2].metric("Errors found", f"{int(queue['errors'].sum()):,}")
    cols[3].metric("Open", f"{int(queue['open'].sum()):,}")
    if audited:
        st.altair_chart(error_yield_chart(queue[queue["audited"] > 0]), width="stretch")
    st.dataframe(
        queue,
        hide_index=True,
        column_config={
            "error_share": st.column_config.NumberColumn("error share", format="percent")
        },
    )
    st.caption(
        "An error is an audited item whose audited label differs from the fused label it was "
        "queued with; a disputed item counts once an admin adjudicates it."
    )
