"""The alerts job: watch the pipeline itself. A scheduled job that has not completed
(succeeded or skipped) within 3 of its intervals (a day for cron schedules) raises a
`job.stale` warning; it resolves once the job completes again. Failures after retries
raise `job.failed` in the runner; the data alerts come from the jobs that compute them.
"""

from __future__ import annotations

import datetime as dt
import re

from auditor.jobs import JobOutcome
from auditor.metrics.alert_rules import Condition
from auditor.settings import Settings
from auditor.store import Store
from auditor.store.alerts_io import apply_conditions

_INTERVAL = re.compile(r"^interval:(\d+)([smhd])$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
STALE_FACTOR = 3


def schedule_period(text: str) -> dt.timedelta:
    """The expected time between runs: the interval, or a day for a cron schedule."""
    match = _INTERVAL.match(text.strip())
    if match:
        return dt.timedelta(seconds=int(match[1]) * _SECONDS[match[2]])
    return dt.timedelta(days=1)


def run_alerts(
    store: Store, settings: Settings, *, job_run_id: int | None = None, task: str | None = None
) -> JobOutcome:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    watched = {
        name: schedule_period(text)
        for name, text in settings.schedules.items()
        if text and name != "alerts"
    }
    with store.connect() as con:
        first_run = con.execute("SELECT min(started_at) FROM job_runs").fetchall()[0][0]
        last = dict(
            con.execute(
                "SELECT job, max(finished_at) FROM job_runs WHERE status IN "
                "('succeeded', 'skipped') GROUP BY job"
            ).fetchall()
        )
    conditions, evaluated = [], set()
    for name, period in watched.items():
        identity = ("job.stale", "scheduler", name)
        evaluated.add(identity)
        since = last.get(name) or first_run
        if since is None or now - since <= STALE_FACTOR * period:
            continue
        conditions.append(
            Condition(
                "warning",
                *identity,
                f"job {name} has not completed since {since:%Y-%m-%d %H:%M} UTC "
                f"(expected every {period}); see `labelwatch status`",
            )
        )
    with store.transaction() as con:
        changes = apply_conditions(con, conditions, evaluated=evaluated, now=now)
    return JobOutcome(rows_read=len(watched), rows_written=len(changes.new) + changes.resolved)
