"""Run a job once and record it in job_runs: running, then succeeded, skipped or failed."""

from __future__ import annotations

import time
import traceback as tb
from dataclasses import dataclass
from datetime import UTC, datetime

from auditor.jobs import Job, JobOutcome
from auditor.settings import Settings
from auditor.store import Store
from auditor.store.job_runs import finish_job_run, start_job_run


@dataclass(frozen=True)
class JobRunResult:
    job: str
    job_run_id: int
    status: str
    duration_s: float
    outcome: JobOutcome | None
    error: str | None


def run_job(
    store: Store,
    settings: Settings,
    job: Job,
    *,
    task: str | None = None,
    trigger_time: datetime | None = None,
) -> JobRunResult:
    """Run job, recording its run. A failing job is recorded, not raised, so others go on."""
    started = _now()
    with store.connect() as con:
        run_id = start_job_run(
            con, job=job.name, task=task, started_at=started, trigger_time=trigger_time
        )
    clock = time.perf_counter()
    outcome: JobOutcome | None = None
    error = trace = None
    try:
        outcome = job.run(store, settings, job_run_id=run_id)
        status = "skipped" if outcome.skipped_reason else "succeeded"
        error = outcome.skipped_reason
    except Exception as exc:  # recorded with its traceback; the scheduler keeps going
        status, error, trace = "failed", f"{type(exc).__name__}: {exc}", tb.format_exc()
    duration = time.perf_counter() - clock
    with store.connect() as con:
        finish_job_run(
            con,
            run_id,
            status=status,
            finished_at=_now(),
            duration_s=duration,
            rows_read=outcome.rows_read if outcome else None,
            rows_written=outcome.rows_written if outcome else None,
            error=error,
            traceback=trace,
        )
    return JobRunResult(job.name, run_id, status, duration, outcome, error)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
