"""job_runs rows: one per job execution, written as the job starts and when it ends."""

from __future__ import annotations

from datetime import datetime

from auditor.store.connection import Connection


def start_job_run(
    con: Connection,
    *,
    job: str,
    task: str | None,
    started_at: datetime,
    trigger_time: datetime | None = None,
) -> int:
    return int(
        con.execute(
            "INSERT INTO job_runs (job, task, trigger_time, started_at, status) "
            "VALUES (?, ?, ?, ?, 'running') RETURNING job_run_id",
            [job, task, trigger_time, started_at],
        ).fetchall()[0][0]
    )


def finish_job_run(
    con: Connection,
    job_run_id: int,
    *,
    status: str,
    finished_at: datetime,
    duration_s: float,
    rows_read: int | None = None,
    rows_written: int | None = None,
    error: str | None = None,
    traceback: str | None = None,
) -> None:
    con.execute(
        "UPDATE job_runs SET status = ?, finished_at = ?, duration_s = ?, rows_read = ?, "
        "rows_written = ?, error = ?, traceback = ? WHERE job_run_id = ?",
        [status, finished_at, duration_s, rows_read, rows_written, error, traceback, job_run_id],
    )
