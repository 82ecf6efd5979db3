"""Jobs (admins): scheduler liveness, job run history, failures with their error and
traceback, and a button that runs the pipeline now (dashboard.writes.run_pipeline, the
admin role checked on the server).

The history shows the selected task's runs and the runs for every task (task empty),
within the selected window back from the newest run.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from auditor.auth import PermissionDeniedError
from auditor.heartbeat import liveness
from auditor.jobs import Job
from auditor.jobs.runner import JobRunResult
from dashboard.charts_audit import job_durations
from dashboard.data import load_job_runs
from dashboard.session import current_user, selection, settings
from dashboard.writes import run_pipeline

HISTORY_COLUMNS = [
    "job_run_id",
    "job",
    "task",
    "status",
    "attempt",
    "started_at",
    "duration_s",
    "rows_read",
    "rows_written",
    "error",
]
MAX_FAILURES = 20

config = settings()
user = current_user()
st.title("Jobs")
if user is None or not user.can("admin"):  # the router hides the page; refuse anyway
    st.error("The jobs page needs the admin role.")
    st.stop()
chosen = selection()

st.subheader("Scheduler")
beat = liveness(config)
live = st.columns(3)
live[0].metric("Scheduler", "alive" if beat["alive"] else "not running")
age = beat["age_s"]
live[1].metric("Last heartbeat", "never" if age == float("inf") else f"{age:.0f} s ago")
live[2].metric("Running now", str(beat["running"] or "-"))
if not beat["alive"]:
    st.warning(
        f"No fresh scheduler heartbeat (state: {beat['state']}). Start it with "
        "`labelwatch scheduler` (or the docker compose service); until then jobs run only "
        "when started here or with `labelwatch run all`."
    )

st.subheader("Run the pipeline now")
if st.button("Run the pipeline now", type="primary"):
    bar = st.progress(0.0, text="starting")
    done: list[JobRunResult] = []

    def report(step: int, total: int, job: Job, result: JobRunResult | None) -> None:
        if result is None:
            bar.progress((step - 1) / total, text=f"[{step}/{total}] {job.name} ...")
        else:
            done.append(result)
            bar.progress(step / total, text=f"[{step}/{total}] {job.name} {result.status}")

    try:
        results = run_pipeline(config, progress=report)
    except PermissionDeniedError as exc:
        st.error(f"Refused: {exc}.")
    else:
        st.cache_data.clear()  # every table may have changed
        failed = [r for r in results if r.status == "failed"]
        summary = pd.DataFrame(
            [
                {
                    "job": r.job,
                    "status": r.status,
                    "duration_s": round(r.duration_s, 2),
                    "rows_written": r.outcome.rows_written if r.outcome else None,
                    "error": r.error,
                }
                for r in results
            ],
            columns=["job", "status", "duration_s", "rows_written", "error"],
        )
        (st.error if failed else st.success)(
            f"Pipeline ran {len(results)} job(s): "
            + (f"{len(failed)} failed." if failed else "none failed.")
        )
        st.dataframe(summary, hide_index=True)
else:
    st.caption("Runs every job once in pipeline order, as `labelwatch run all` does.")

runs = pd.DataFrame(
    load_job_runs(str(config.db_path), config.lock_timeout_s, 200),
    columns=[*HISTORY_COLUMNS, "trigger_time", "finished_at", "traceback"],
)
st.subheader("Run history")
if runs.empty:
    st.info(
        "No job has run yet: press Run the pipeline now, run `labelwatch run all`, or start "
        "the scheduler (`labelwatch scheduler`)."
    )
    st.stop()
if chosen.task is not None:
    runs = runs[runs["task"].isna() | (runs["task"] == chosen.task)]
if chosen.window_days and not runs.empty:
    newest = pd.to_datetime(runs["started_at"]).max()
    runs = runs[pd.to_datetime(runs["started_at"]) >= newest - dt.timedelta(chosen.window_days)]
failures = runs[runs["status"] == "failed"]
cols = st.columns(4)
cols[0].metric("Runs shown", f"{len(runs):,}")
cols[1].metric("Failed", f"{len(failures):,}")
cols[2].metric("Jobs", f"{runs['job'].nunique():,}")
cols[3].metric(
    "Newest run", "-" if runs.empty else str(pd.to_datetime(runs["started_at"]).max())[:19]
)
if not runs.empty:
    st.altair_chart(job_durations(runs))
st.dataframe(
    runs[HISTORY_COLUMNS],
    hide_index=True,
    column_config={"duration_s": st.column_config.NumberColumn("duration_s", format="%.2f")},
)

st.subheader("Failures")
if failures.empty:
    st.caption("No failed run in this window.")
for _, run in failures.head(MAX_FAILURES).iterrows():
    with st.expander(f"#{run['job_run_id']} {run['job']} failed at {str(run['started_at'])[:19]}"):
        st.code(str(run["error"] or "(no error message)"), language="text")
        if run["traceback"]:
            st.code(str(run["traceback"]), language="python")
