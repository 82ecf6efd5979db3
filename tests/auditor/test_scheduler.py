"""Schedules from settings and the APScheduler wiring (the scheduler is never started)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from auditor.jobs import Job, JobOutcome
from auditor.jobs.runner import run_job
from auditor.scheduler import build_scheduler, parse_schedule
from auditor.settings import load_settings
from auditor.store import Store
from tests.conftest import rows


def _fields(trigger: CronTrigger) -> dict[str, str]:
    return {field.name: str(field) for field in trigger.fields}


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("interval:15m", 900),
        ("interval:2h", 7200),
        ("interval:30s", 30),
        ("interval:1d", 86400),
        ("  interval:10m  ", 600),
    ],
)
def test_interval_schedules(text: str, seconds: int) -> None:
    trigger = parse_schedule(text)

    assert isinstance(trigger, IntervalTrigger)
    assert trigger.interval == timedelta(seconds=seconds)
    assert trigger.interval_length == seconds


def test_cron_schedule() -> None:
    trigger = parse_schedule("cron:0 6 * * *")

    assert isinstance(trigger, CronTrigger)
    assert str(trigger.timezone) == "UTC"
    fields = _fields(trigger)
    assert (fields["minute"], fields["hour"], fields["second"]) == ("0", "6", "0")
    assert (fields["day"], fields["month"], fields["day_of_week"]) == ("*", "*", "*")


def test_cron_schedule_with_lists_and_weekdays() -> None:
    fields = _fields(parse_schedule("cron:*/20 8-18 * * mon-fri"))  # type: ignore[arg-type]

    assert (fields["minute"], fields["hour"], fields["day_of_week"]) == ("*/20", "8-18", "mon-fri")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("interval:0m", "schedule 'interval:0m': the interval must be positive"),
        ("every day", "schedule 'every day': use 'interval:<n>[s|m|h|d]' or 'cron:<crontab>'"),
        ("interval:15", "schedule 'interval:15': use 'interval:<n>"),
        ("interval:1.5h", "schedule 'interval:1.5h': use 'interval:<n>"),
        ("interval:15w", "schedule 'interval:15w': use 'interval:<n>"),
        ("cron:bad", "schedule 'cron:bad': Wrong number of fields"),
        ("cron:0 25 * * *", "schedule 'cron:0 25 * * *': "),
        ("", "schedule '': use"),
    ],
)
def test_bad_schedules(text: str, message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        parse_schedule(text)


def _ok(store: Store, settings: object, **_: object) -> JobOutcome:
    return JobOutcome(rows_read=1, rows_written=1)


FUSE = Job("fuse", "fuse votes", _ok)
ALERTS = Job("alerts", "raise alerts", _ok)
UNSCHEDULED = Job("lf-report", "no schedule in settings", _ok)


def test_build_scheduler_adds_only_scheduled_jobs(store: Store) -> None:
    settings = load_settings(env={}, overrides={"schedules": {"alerts": "cron:30 7 * * *"}})
    jobs = {job.name: job for job in (FUSE, ALERTS, UNSCHEDULED)}

    scheduler = build_scheduler(store, settings, jobs)

    assert not scheduler.running
    assert scheduler._job_defaults == {  # type: ignore[attr-defined]
        "coalesce": True,
        "max_instances": 1,
        "misfire_grace_time": 300,
    }
    assert str(scheduler.timezone) == "UTC"
    added = {job.id: job for job in scheduler.get_jobs()}
    assert sorted(added) == ["alerts", "fuse"]
    fuse, alerts = added["fuse"], added["alerts"]
    assert fuse.name == "fuse"
    assert isinstance(fuse.trigger, IntervalTrigger)
    assert fuse.trigger.interval == timedelta(minutes=15)  # the default for fuse
    assert isinstance(alerts.trigger, CronTrigger)
    assert (_fields(alerts.trigger)["minute"], _fields(alerts.trigger)["hour"]) == ("30", "7")
    assert fuse.func is run_job
    assert tuple(fuse.args) == (store, settings, FUSE)
    assert tuple(alerts.args) == (store, settings, ALERTS)


def test_build_scheduler_skips_an_empty_schedule(store: Store) -> None:
    settings = load_settings(env={}, overrides={"schedules": {"fuse": ""}})

    scheduler = build_scheduler(store, settings, {"fuse": FUSE, "alerts": ALERTS})

    assert [job.id for job in scheduler.get_jobs()] == ["alerts"]


def test_build_scheduler_with_no_jobs(store: Store) -> None:
    assert build_scheduler(store, load_settings(env={}), {}).get_jobs() == []


def test_build_scheduler_rejects_a_bad_schedule(store: Store) -> None:
    settings = load_settings(env={}, overrides={"schedules": {"fuse": "hourly"}})

    with pytest.raises(ValueError, match="schedule 'hourly'"):
        build_scheduler(store, settings, {"fuse": FUSE})


def test_scheduled_entry_runs_the_job_through_run_job(store: Store) -> None:
    settings = load_settings(env={})
    [entry] = build_scheduler(store, settings, {"fuse": FUSE}).get_jobs()

    result = entry.func(*entry.args, **entry.kwargs)

    assert (result.job, result.status) == ("fuse", "succeeded")
    assert rows(store, "SELECT job, status, rows_read, rows_written FROM job_runs") == [
        ("fuse", "succeeded", 1, 1)
    ]
