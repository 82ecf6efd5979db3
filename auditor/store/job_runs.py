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
    inputs: str | None = None,
    attempt: int = 1,
) -> int:
    """A 'running' row; inputs: the job's input fingerprint (auditor.store.job_inputs)."""
    return int(
        con.execute(
            "INSERT INTO job_runs (job, task, trigger_time, started_at, status, inputs, attempt) "
            "VALUES (?, ?, ?, ?, 'running', ?, ?) RETURNING job_run_id",
            [job, task, trigger_time, started_at, inputs, attempt],
        ).fetchall()[0][0]
    )


def record_skipped_run(
    con: Connection,
    *,
    job: str,
    task: str | None,
    at: datetime,
    reason: str,
    trigger_time: datetime | None = None,
    inputs: str | None = None,
) -> int:
    """A finished 'skipped' row with its reason (the job did not run)."""
    return int(
        con.execute(
            "INSERT INTO job_runs (job, task, trigger_time, started_at, finished_at, status, "
            "error, duration_s, rows_read, rows_written, inputs, attempt) "
            "VALUES (?, ?, ?, ?, ?, 'skipped', ?, 0, 0, 0, ?, 1) RETURNING job_run_id",
            [job, task, trigger_time, at, at, reason, inputs],
        ).fetchall()[0][0]
    )


def mark_abandoned_runs(con: Connection, *, now: datetime) -> int:
    """Runs left 'running' by a process that died (SIGKILL, power loss) become 'failed'
    with the reason; called when a scheduler starts, before any job runs."""
    rows = con.execute(
        "UPDATE job_runs SET status = 'failed', finished_at = ?, "
        "error = 'abandoned: the process running it ended before it finished' "
        "WHERE status = 'running' RETURNING job_run_id",
        [now],
    ).fetchall()
    return len(rows)


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
