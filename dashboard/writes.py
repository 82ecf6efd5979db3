"""Every write the dashboard makes, each behind `dashboard.session.act` (the server-side
role check, logged when refused) and each calling the same auditor function as the CLI.

Names that go into the store (auditor, admin) are the signed-in user's, taken after the
role check, never from the page. Each write opens one connection for its own
transaction and closes it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from auditor import jobs as job_registry
from auditor.audit.submissions import Submission
from auditor.jobs import Job
from auditor.jobs.runner import JobRunResult, run_job
from auditor.settings import Settings
from auditor.store import Store, apply_migrations
from auditor.store.audit_io import SubmitReport, adjudicate, submit_corrections
from auditor.users import User
from dashboard.session import act, current_user

Progress = Callable[[int, int, Job, JobRunResult | None], None]


def _user() -> User:
    user = current_user()
    if user is None:  # act has checked the role: unreachable, but never write anonymously
        raise RuntimeError("no signed-in user")
    return user


def _store(config: Settings) -> Store:
    return Store(
        config.db_path,
        lock_timeout_s=config.lock_timeout_s,
        memory_limit=config.duckdb_memory_limit,
    )


def submit_audit(
    config: Settings,
    *,
    task: str,
    item: str,
    labels: Sequence[tuple[str, str]],
    seconds: float,
    note: str | None = None,
    allow_outside_queue: bool = False,
) -> SubmitReport:
    """Record the signed-in auditor's labels ((subtask, label name) pairs) for one item,
    through `audit_io.submit_corrections` (as `labelwatch audit submit`); the time is
    split evenly over the labels. Needs the auditor role."""

    def call() -> SubmitReport:
        auditor = _user().username
        share = seconds / max(len(labels), 1)
        rows = [
            Submission(0, item, label, auditor, share, subtask=subtask, note=note, task=task)
            for subtask, label in labels
        ]
        with _store(config).connect() as con:
            return submit_corrections(
                con,
                rows,
                allow_outside_queue=allow_outside_queue,
                now=datetime.now(UTC),
                hourly_rate=config.audit_hourly_rate,
                currency=config.currency,
            )

    return act("auditor", "submit an audit", call)


def adjudicate_dispute(
    config: Settings, *, task: str, item: str, subtask: str, label: str, note: str | None = None
) -> dict[str, Any]:
    """Record the signed-in admin's decision through `audit_io.adjudicate` (as
    `labelwatch audit adjudicate`). Needs the admin role."""

    def call() -> dict[str, Any]:
        with _store(config).connect() as con:
            return adjudicate(
                con,
                item,
                subtask,
                label,
                admin=_user().username,
                note=note,
                now=datetime.now(UTC),
                task=task,
            )

    return act("admin", "adjudicate a dispute", call)


def run_pipeline(config: Settings, *, progress: Progress | None = None) -> list[JobRunResult]:
    """Run every registered job once, in pipeline order (as `labelwatch run all`), each
    recorded in job_runs; progress(step, total, job, result) is called before each job
    (result None) and after it. A failing job is recorded and the next one runs. Needs
    the admin role."""

    def call() -> list[JobRunResult]:
        store = _store(config)
        with store.connect() as con:
            apply_migrations(con)
        selected = list(job_registry.registered_jobs().values())
        results = []
        for step, job in enumerate(selected, 1):
            if progress is not None:
                progress(step, len(selected), job, None)
            result = run_job(store, config, job)
            results.append(result)
            if progress is not None:
                progress(step, len(selected), job, result)
        return results

    return act("admin", "run the pipeline", call)
