"""APScheduler 3.x wiring: triggers from settings, the jobs from the registry.

Only wiring lives here; what a job does lives in auditor.jobs. Schedules are strings:
``interval:15m`` (s, m, h, d) or ``cron:<5 crontab fields>``.
"""

from __future__ import annotations

import logging
import re
import signal
from types import FrameType

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from auditor.jobs import Job, registered_jobs
from auditor.jobs.runner import run_job
from auditor.settings import Settings
from auditor.store import Store

log = logging.getLogger("labelwatch.scheduler")
_INTERVAL = re.compile(r"^interval:(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


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


def build_scheduler(
    store: Store, settings: Settings, jobs: dict[str, Job] | None = None
) -> BlockingScheduler:
    """A BlockingScheduler with one entry per registered job that has a schedule."""
    jobs = registered_jobs() if jobs is None else jobs
    scheduler = BlockingScheduler(
        timezone="UTC",
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )
    for name, job in jobs.items():
        schedule = settings.schedules.get(name)
        if not schedule:
            log.info("job %s has no schedule; it runs only with `labelwatch run`", name)
            continue
        scheduler.add_job(
            run_job,
            parse_schedule(schedule),
            args=[store, settings, job],
            id=name,
            name=name,
            replace_existing=True,
        )
    return scheduler


def run_scheduler(store: Store, settings: Settings) -> None:
    """Run until SIGTERM or SIGINT; the running job finishes before the process exits."""
    scheduler = build_scheduler(store, settings)

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: stopping after the running job", signum)
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    names = [job.id for job in scheduler.get_jobs()]
    log.info("scheduler started with jobs: %s", ", ".join(names) or "none implemented yet")
    scheduler.start()
