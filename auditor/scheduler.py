"""APScheduler 3.x service: schedules from settings, the pipeline per task, a heartbeat.

Schedules are strings: ``interval:15m`` (s, m, h, d) or ``cron:<5 crontab fields>``.
The jobs live in an SQLAlchemy job store on their own SQLite file (settings.scheduler_db),
never on the DuckDB file: that store would hold the DuckDB lock for the scheduler's life.
Entries are referenced by name ("auditor.scheduler:scheduled_step", [job]); the process
that runs them holds the store, settings and job registry in a module-level runtime.

One worker thread runs the jobs, one at a time (one writer: DuckDB transactions never
conflict). A trigger runs its job for every task in turn, skipping a task whose inputs
are unchanged since the job's last success, retrying failures with backoff
(`auditor.jobs.runner.run_with_retries`). SIGTERM / SIGINT stop it gracefully: no new
run starts, the running one finishes (its results are one transaction either way), the
heartbeat says "stopped".
"""

from __future__ import annotations

import logging
import re
import signal
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from auditor.heartbeat import heartbeat_path, write_heartbeat
from auditor.jobs import Job, registered_jobs
from auditor.jobs.runner import run_with_retries
from auditor.settings import Settings
from auditor.store import Store, apply_migrations
from auditor.store.job_runs import mark_abandoned_runs

log = logging.getLogger("labelwatch.scheduler")
_INTERVAL = re.compile(r"^interval:(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
PER_TASK_EXCEPT = ("ingest-watch", "alerts")  # these look at every task at once
STEP = "auditor.scheduler:scheduled_step"


def parse_schedule(text: str) -> BaseTrigger:
    """A trigger from 'interval:15m' or 'cron:0 6 * * *'; ValueError names the bad text."""
    match = _INTERVAL.match(text.strip())
    if match:
        amount = int(match[1])
        if amount <= 0:
            raise ValueError(f"schedule {text!r}: the interval must be positive")
        return IntervalTrigger(**{_UNITS[match[2]]: amount})
    if text.startswith("cron:"):
        try:
            return CronTrigger.from_crontab(text[len("cron:") :].strip(), timezone="UTC")
        except ValueError as exc:
            raise ValueError(f"schedule {text!r}: {exc}") from exc
    raise ValueError(f"schedule {text!r}: use 'interval:<n>[s|m|h|d]' or 'cron:<crontab>'")


@dataclass
class Runtime:
    """What scheduled_step needs in the scheduler's process."""

    store: Store
    settings: Settings
    jobs: dict[str, Job]
    stop: threading.Event = field(default_factory=threading.Event)
    trigger_times: dict[str, datetime] = field(default_factory=dict)
    running: str | None = None
    started_at: datetime = field(default_factory=lambda: _now())

    def beat(self, state: str = "running") -> None:
        write_heartbeat(
            heartbeat_path(self.settings),
            {"state": state, "running": self.running, "started_at": self.started_at},
        )


_RUNTIME: Runtime | None = None


def scheduled_step(job_name: str) -> None:
    """One trigger of one job: run it for each task (or once, for the task-wide jobs)."""
    rt = _RUNTIME
    if rt is None:
        raise RuntimeError("scheduled_step runs only inside run_scheduler")
    job = rt.jobs[job_name]
    trigger_time = rt.trigger_times.pop(job_name, None)
    tasks: list[str | None] = [None]
    if job_name not in PER_TASK_EXCEPT:
        with rt.store.connect() as con:
            tasks = [
                name for (name,) in con.execute("SELECT name FROM tasks ORDER BY name").fetchall()
            ]
    for task in tasks:
        if rt.stop.is_set():
            log.info("stopping: %s not run for the remaining tasks", job_name)
            return
        rt.running = f"{job_name}/{task or 'all'}"
        rt.beat()
        try:
            run_with_retries(
                rt.store, rt.settings, job, task=task, trigger_time=trigger_time, stop=rt.stop
            )
        finally:
            rt.running = None
            rt.beat("stopping" if rt.stop.is_set() else "running")


def build_scheduler(
    store: Store, settings: Settings, jobs: dict[str, Job] | None = None
) -> tuple[BackgroundScheduler, Runtime]:
    """A paused-ready BackgroundScheduler with one entry per scheduled job, and its
    runtime. Bad schedules raise ValueError before anything starts."""
    jobs = registered_jobs() if jobs is None else jobs
    wanted = {}
    for name in jobs:
        schedule = settings.schedules.get(name)
        if not schedule:
            log.info("job %s has no schedule; it runs only with `labelwatch run`", name)
            continue
        wanted[name] = parse_schedule(schedule)
    settings.scheduler_db.parent.mkdir(parents=True, exist_ok=True)
    scheduler = BackgroundScheduler(
        timezone="UTC",
        jobstores={
            "default": SQLAlchemyJobStore(url=f"sqlite:///{settings.scheduler_db.resolve()}"),
            "memory": MemoryJobStore(),
        },
        executors={"default": ThreadPoolExecutor(1), "heartbeat": ThreadPoolExecutor(1)},
        job_defaults=JOB_DEFAULTS,
    )
    runtime = Runtime(store, settings, dict(jobs))
    scheduler.add_listener(lambda event: _remember_trigger(runtime, event), EVENT_JOB_SUBMITTED)
    scheduler.start(paused=True)  # the job store is readable only once started
    for entry in scheduler.get_jobs(jobstore="default"):
        if entry.id not in wanted:
            log.info("removing job %s: it has no schedule any more", entry.id)
            entry.remove()
    for name, trigger in wanted.items():
        scheduler.add_job(
            STEP,
            trigger,
            args=[name],
            id=name,
            name=name,
            replace_existing=True,
            jobstore="default",
        )
    scheduler.add_job(
        runtime.beat,
        "interval",
        seconds=settings.heartbeat_interval_s,
        id="heartbeat",
        jobstore="memory",
        executor="heartbeat",
    )
    return scheduler, runtime


def run_scheduler(
    store: Store,
    settings: Settings,
    *,
    jobs: dict[str, Job] | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Run until SIGTERM / SIGINT (or `stop` is set); the running job finishes first."""
    global _RUNTIME
    with store.connect() as con:
        apply_migrations(con)
        abandoned = mark_abandoned_runs(con, now=_now())
    if abandoned:
        log.warning("marked %d runs left 'running' by an earlier process as failed", abandoned)
    from auditor.jobs.rules import validate_rules_files

    log.info("rules files valid: %d", validate_rules_files(store, settings))
    scheduler, runtime = build_scheduler(store, settings, jobs)
    if stop is not None:
        runtime.stop = stop
    _RUNTIME = runtime
    if threading.current_thread() is threading.main_thread():

        def on_signal(signum: int, _frame: Any) -> None:
            log.info("signal %s: stopping after the running job", signum)
            runtime.stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    names = sorted(j.id for j in scheduler.get_jobs(jobstore="default"))
    log.info("scheduler started", extra={"jobs": names, "job_store": str(settings.scheduler_db)})
    runtime.beat()
    scheduler.resume()
    try:
        while not runtime.stop.wait(0.5):
            pass
    finally:
        runtime.beat("stopping")
        scheduler.shutdown(wait=True)
        runtime.beat("stopped")
        _RUNTIME = None
        log.info("scheduler stopped")


def _remember_trigger(runtime: Runtime, event: JobSubmissionEvent) -> None:
    if event.scheduled_run_times:
        runtime.trigger_times[event.job_id] = (
            event.scheduled_run_times[-1].astimezone(UTC).replace(tzinfo=None)
        )


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
