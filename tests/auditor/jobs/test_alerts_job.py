"""The alerts job: a scheduled job that stopped completing raises job.stale, then resolves."""

from __future__ import annotations

import datetime as dt

from auditor.jobs.alerts import run_alerts, schedule_period
from auditor.settings import load_settings
from auditor.store import Store
from tests.conftest import rows


def test_schedule_periods() -> None:
    assert schedule_period("interval:15m") == dt.timedelta(minutes=15)
    assert schedule_period("cron:0 6 * * *") == dt.timedelta(days=1)


def test_stale_job_alert_opens_and_resolves(store: Store) -> None:
    settings = load_settings(env={}, overrides={"schedules": {"fuse": "interval:1h"}})
    old = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(hours=4)
    with store.connect() as con:
        con.execute(
            "INSERT INTO job_runs (job, started_at, finished_at, status) "
            "VALUES ('fuse', ?, ?, 'succeeded')",
            [old, old],
        )
    run_alerts(store, settings)
    alerts = rows(store, "SELECT metric, key, state, message FROM alerts WHERE key = 'fuse'")
    assert [a[:3] for a in alerts] == [("job.stale", "fuse", "open")]
    assert "has not completed since" in alerts[0][3]
    with store.connect() as con:
        con.execute(
            "INSERT INTO job_runs (job, started_at, finished_at, status) "
            "VALUES ('fuse', now(), now(), 'skipped')"
        )
    run_alerts(store, settings)
    assert rows(store, "SELECT state FROM alerts WHERE key = 'fuse'") == [("resolved",)]
