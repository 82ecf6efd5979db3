"""Jobs: functions of (store, settings) that a CLI runs once and the scheduler on a trigger.

PIPELINE is the order `labelwatch run all` and the scheduler follow; `registered_jobs()`
returns them (imported lazily: fuse imports torch).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from auditor.settings import Settings
from auditor.store import Store

PIPELINE = ("ingest-watch", "fuse", "rules", "metrics", "budget", "audit-sample", "alerts")


@dataclass(frozen=True)
class JobOutcome:
    """What a job reports: rows it read and wrote, or why it skipped."""

    rows_read: int = 0
    rows_written: int = 0
    skipped_reason: str | None = None


class JobFunction(Protocol):
    """A job: reads and writes through the store; job_run_id tags the rows it writes;
    task, when given, limits it to that task (the scheduler runs the pipeline per task)."""

    def __call__(
        self,
        store: Store,
        settings: Settings,
        *,
        job_run_id: int | None = None,
        task: str | None = None,
    ) -> JobOutcome: ...


@dataclass(frozen=True)
class Job:
    name: str
    description: str
    run: JobFunction


def registered_jobs() -> dict[str, Job]:
    """Every job, in pipeline order."""
    from auditor.jobs.alerts import run_alerts
    from auditor.jobs.audit_sample import run_audit_sample
    from auditor.jobs.budget import run_budget
    from auditor.jobs.fuse import run_fuse  # imports torch: only when jobs are wanted
    from auditor.jobs.ingest_watch import run_ingest_watch
    from auditor.jobs.metrics import run_metrics
    from auditor.jobs.rules import run_rules

    jobs: list[Job] = [
        Job(
            "ingest-watch",
            "ingest files dropped into watch_dir/<task>/<kind>/, then move them",
            run_ingest_watch,
        ),
        Job("fuse", "fit the label model per subtask; write fused labels", run_fuse),
        Job(
            "rules",
            "check subtask-boundary rules; write violations and rules.violations metrics",
            run_rules,
        ),
        Job(
            "metrics",
            "LF health, agreement, calibration, drift and accuracy per window; alerts",
            run_metrics,
        ),
        Job(
            "budget",
            "effort, spend, savings, burn-down and goal status per task; budget alerts",
            run_budget,
        ),
        Job(
            "audit-sample",
            "draw an audit round: uncertainty-targeted items plus a uniform share",
            run_audit_sample,
        ),
        Job("alerts", "raise job.stale for scheduled jobs that stopped completing", run_alerts),
    ]
    order = {name: i for i, name in enumerate(PIPELINE)}
    return {job.name: job for job in sorted(jobs, key=lambda j: order.get(j.name, len(order)))}
