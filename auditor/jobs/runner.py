"""Run a job once and record it in job_runs: running, then succeeded, skipped or failed.

`run_job` records one attempt; `run_with_retries` retries a failing job with exponential
backoff and, once the retries are spent, raises a `job.failed` alert (resolved by the
next success). With skip_unchanged, a job whose input fingerprint equals its last
succeeded run's is recorded as skipped with that reason instead of running.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import traceback as tb
from dataclasses import dataclass
from datetime import UTC, datetime

from auditor.jobs import Job, JobOutcome
from auditor.metrics.alert_rules import Condition
from auditor.settings import Settings
from auditor.store import Store
from auditor.store.alerts_io import apply_conditions
from auditor.store.connection import Connection
from auditor.store.job_inputs import input_fingerprint, last_succeeded_inputs
from auditor.store.job_runs import finish_job_run, record_skipped_run, start_job_run

log = logging.getLogger("labelwatch.jobs")


@dataclass(frozen=True)
class JobRunResult:
    job: str
    job_run_id: int
    status: str
    duration_s: float
    outcome: JobOutcome | None
    error: str | None
    task: str | None = None
    attempt: int = 1


def run_job(
    store: Store,
    settings: Settings,
    job: Job,
    *,
    task: str | None = None,
    trigger_time: datetime | None = None,
    skip_unchanged: bool = False,
    attempt: int = 1,
) -> JobRunResult:
    """Run job (for one task, when given), recording its run. A failing job is recorded,
    not raised, so that the others go on."""
    started = _now()
    with store.connect() as con:
        inputs = _fingerprint(con, job.name, task, settings) if task is not None else None
        if skip_unchanged and inputs is not None:
            last = last_succeeded_inputs(con, job.name, task)
            if last is not None and last[1] == inputs:
                reason = f"inputs unchanged since run {last[0]}"
                run_id = record_skipped_run(
                    con,
                    job=job.name,
                    task=task,
                    at=started,
                    reason=reason,
                    trigger_time=trigger_time,
                    inputs=inputs,
                )
                _log(job.name, task, "skipped", 0.0, None, reason, attempt)
                return JobRunResult(job.name, run_id, "skipped", 0.0, None, reason, task, attempt)
        run_id = start_job_run(
            con,
            job=job.name,
            task=task,
            started_at=started,
            trigger_time=trigger_time,
            inputs=inputs,
            attempt=attempt,
        )
    clock = time.perf_counter()
    outcome: JobOutcome | None = None
    error = trace = None
    try:
        if task is None:
            outcome = job.run(store, settings, job_run_id=run_id)
        else:
            outcome = job.run(store, settings, job_run_id=run_id, task=task)
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
    _log(job.name, task, status, duration, outcome, error, attempt)
    return JobRunResult(job.name, run_id, status, duration, outcome, error, task, attempt)


def _fingerprint(con: Connection, job: str, task: str, settings: Settings) -> str | None:
    """The job's input fingerprint; None (run it anyway) when it cannot be computed."""
    try:
        return input_fingerprint(con, job, task, rules_file=settings.rules_dir / f"{task}.toml")
    except Exception:  # a fingerprint must never stop a job; the run says what it can
        log.exception("could not compute the inputs of %s for %s; running it", job, task)
        return None


def run_with_retries(
    store: Store,
    settings: Settings,
    job: Job,
    *,
    task: str | None = None,
    trigger_time: datetime | None = None,
    skip_unchanged: bool = True,
    stop: threading.Event | None = None,
) -> JobRunResult:
    """Run job, retrying a failure settings.job_retries times after waits of
    job_retry_backoff_s x 2^(attempt - 1) (+-25% jitter); a set `stop` ends the waiting.
    The final outcome raises or resolves the job's `job.failed` alert."""
    attempt = 1
    while True:
        result = run_job(
            store,
            settings,
            job,
            task=task,
            trigger_time=trigger_time,
            skip_unchanged=skip_unchanged,
            attempt=attempt,
        )
        if result.status != "failed" or attempt > settings.job_retries:
            break
        wait = settings.job_retry_backoff_s * 2 ** (attempt - 1) * random.uniform(0.75, 1.25)
        log.warning("job %s (%s) failed; retry %d in %.1f s", job.name, task, attempt, wait)
        if stop is not None and stop.wait(wait):
            break
        if stop is None:
            time.sleep(wait)
        attempt += 1
    _failure_alert(store, job.name, task, result)
    return result


def _failure_alert(store: Store, job: str, task: str | None, result: JobRunResult) -> None:
    if result.status == "skipped" and result.outcome is None:
        return  # skipped unchanged: says nothing about the job's health
    identity = ("job.failed", "scheduler", f"{job}/{task or 'all'}")
    conditions = []
    if result.status == "failed":
        conditions.append(
            Condition(
                "critical",
                *identity,
                f"job {job} (task {task or 'all'}) failed after {result.attempt} attempts: "
                f"{result.error} (job_runs {result.job_run_id})",
            )
        )
    with store.transaction() as con:
        apply_conditions(con, conditions, evaluated={identity}, now=_now(), task=task)


def _log(
    job: str,
    task: str | None,
    status: str,
    duration: float,
    outcome: JobOutcome | None,
    error: str | None,
    attempt: int,
) -> None:
    log.info(
        "job %s %s",
        job,
        status,
        extra={
            "job": job,
            "task": task,
            "status": status,
            "duration_s": round(duration, 3),
            "rows_read": outcome.rows_read if outcome else None,
            "rows_written": outcome.rows_written if outcome else None,
            "error": error,
            "attempt": attempt,
        },
    )


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
