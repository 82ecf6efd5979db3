"""Overview: what the workspace holds, recent ingestions and quarantine, jobs and alerts."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.data import load_status

settings = st.session_state["settings"]
st.title("labelwatch overview")
status = load_status(str(settings.db_path), settings.lock_timeout_s)

if status is None or status.schema_version == 0 or not status.counts.get("items"):
    st.info(
        "No data yet. Build the demo workspace with `labelwatch demo`, or define a task with "
        "`labelwatch ingest tasks tasks.toml` and load items and votes with "
        "`labelwatch ingest items|lfs|votes FILE --task NAME`."
    )
    st.stop()

counts = status.counts
cols = st.columns(5)
cols[0].metric("Items", f"{counts['items']:,}")
cols[1].metric("Labeling functions", f"{counts['labeling_functions']:,}")
cols[2].metric("Votes", f"{counts['votes']:,}")
cols[3].metric("Gold labels", f"{counts['gold_labels']:,}")
cols[4].metric("Quarantined rows", f"{counts['quarantine']:,}")

st.subheader("Tasks")
tasks = pd.DataFrame(status.tasks)
st.dataframe(
    tasks,
    hide_index=True,
    column_config={
        "coverage": st.column_config.ProgressColumn(
            "coverage", min_value=0.0, max_value=1.0, format="percent"
        )
    },
)

left, right = st.columns(2)
with left:
    st.subheader("Open alerts")
    if status.open_alerts:
        st.dataframe(pd.DataFrame(status.open_alerts), hide_index=True)
    else:
        st.caption("No open alerts.")
    st.subheader("Last job runs")
    if status.last_job_runs:
        st.dataframe(pd.DataFrame(status.last_job_runs), hide_index=True)
    else:
        st.caption("No job has run yet: `labelwatch run all` runs the pipeline once.")
with right:
    st.subheader("Recent ingestions")
    st.dataframe(pd.DataFrame(status.recent_ingestions), hide_index=True)
    st.subheader("Quarantined rows by reason")
    if status.quarantine_reasons:
        st.dataframe(pd.DataFrame(status.quarantine_reasons), hide_index=True)
    else:
        st.caption("Nothing quarantined.")
