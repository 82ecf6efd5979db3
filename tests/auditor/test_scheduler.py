"""Schedules from settings, the APScheduler wiring, retries, skips and the live service."""

from __future__ import annotations

import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from auditor.cli import main
from auditor.heartbeat import liveness
from auditor.jobs import Job, JobOutcome
from auditor.scheduler import STEP, build_scheduler, parse_schedule, run_scheduler, scheduled_step
from auditor.settings import Settings, load_settings
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


def scheduler_settings(tmp_path: Path, **overrides: object) -> Settings:
    return load_settings(
        env={},
        overrides={
            "db_path": tmp_path / "lw.duckdb",
            "scheduler_db": tmp_path / "scheduler.sqlite",
            **overrides,
        },
    )


def test_build_scheduler_keeps_its_jobs_in_their_own_sqlite_file(
    store: Store, tmp_path: Path
) -> None:
    settings = scheduler_settings(tmp_path, schedules={"alerts": "cron:30 7 * * *"})
    jobs = {job.name: job for job in (FUSE, ALERTS, UNSCHEDULED)}
    scheduler, runtime = build_scheduler(store, settings, jobs)
    try:
        assert scheduler._job_defaults == {  # type: ignore[attr-defined]
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": 300,
        }
        assert str(scheduler.timezone) == "UTC"
        stored = {job.id: job for job in scheduler.get_jobs(jobstore="default")}
        assert sorted(stored) == ["alerts", "fuse"]
        fuse, alerts = stored["fuse"], stored["alerts"]
        assert isinstance(fuse.trigger, IntervalTrigger)
        assert fuse.trigger.interval == timedelta(minutes=15)  # the default for fuse
        assert isinstance(alerts.trigger, CronTrigger)
        assert (_fields(alerts.trigger)["minute"], _fields(alerts.trigger)["hour"]) == ("30", "7")
        assert fuse.func_ref == STEP and list(fuse.args) == ["fuse"]
        assert [j.id for j in scheduler.get_jobs(jobstore="memory")] == ["heartbeat"]
        assert runtime.jobs == jobs
    finally:
        scheduler.shutdown(wait=False)
    tables = sqlite3.connect(settings.scheduler_db).execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'"
    )
    assert [name for (name,) in tables] == ["apscheduler_jobs"]
    assert settings.scheduler_db != settings.db_path


def test_a_job_whose_schedule_was_removed_leaves_the_persistent_store(
    store: Store, tmp_path: Path
) -> None:
    settings = scheduler_settings(tmp_path)
    first, _ = build_scheduler(store, settings, {"fuse": FUSE, "alerts": ALERTS})
    first.shutdown(wait=False)
    again = scheduler_settings(tmp_path, schedules={"fuse": ""})
    second, _ = build_scheduler(store, again, {"fuse": FUSE, "alerts": ALERTS})
    try:
        assert [j.id for j in second.get_jobs(jobstore="default")] == ["alerts"]
    finally:
        second.shutdown(wait=False)


def test_build_scheduler_rejects_a_bad_schedule(store: Store, tmp_path: Path) -> None:
    settings = scheduler_settings(tmp_path, schedules={"fuse": "hourly"})
    with pytest.raises(ValueError, match="schedule 'hourly'"):
        build_scheduler(store, settings, {"fuse": FUSE})


def test_scheduled_step_needs_the_runtime() -> None:
    with pytest.raises(RuntimeError, match="only inside run_scheduler"):
        scheduled_step("fuse")


def test_run_scheduler_runs_each_task_then_stops_on_the_event(
    tickets: Store, tmp_path: Path
) -> None:
    calls: list[str | None] = []

    def record(
        store: Store, settings: object, *, task: str | None = None, **_: object
    ) -> JobOutcome:
        calls.append(task)
        return JobOutcome(rows_read=1)

    settings = scheduler_settings(
        tmp_path, db_path=tickets.path, schedules={"fuse": "interval:1s"}, heartbeat_interval_s=0.2
    )
    stop = threading.Event()
    with tickets.connect() as con:  # a run a killed process left 'running'
        con.execute(
            "INSERT INTO job_runs (job, started_at, status) VALUES ('metrics', now(), 'running')"
        )
    thread = threading.Thread(
        target=run_scheduler,
        args=(tickets, settings),
        kwargs={"jobs": {"fuse": Job("fuse", "records", record)}, "stop": stop},
    )
    thread.start()
    deadline = time.monotonic() + 15
    while not calls and time.monotonic() < deadline:
        time.sleep(0.1)
    assert liveness(settings)["alive"]
    stop.set()
    thread.join(15)
    assert not thread.is_alive()
    assert calls and set(calls) == {"tickets"}  # per task, never task-wide
    assert liveness(settings)["state"] == "stopped" and not liveness(settings)["alive"]
    statuses = rows(tickets, "SELECT job, status, error FROM job_runs ORDER BY job_run_id")
    assert statuses[0] == (
        "metrics",
        "failed",
        "abandoned: the process running it ended before it finished",
    )
    assert {s for _, s, _ in statuses[1:]} <= {"succeeded", "skipped"}


SLOW_SCHEDULER = """
import sys, time
from pathlib import Path
from auditor.jobs import Job, JobOutcome
from auditor.scheduler import run_scheduler
from auditor.settings import load_settings
from auditor.store import Store

def slow(store, settings, *, job_run_id=None, task=None):
    time.sleep(2.0)  # SIGTERM arrives in here
    with store.transaction() as con:
        con.execute("INSERT INTO metrics (computed_at, metric, scope, key, job_run_id) "
                    "VALUES (now(), 'slow.done', 'task', 'all', ?)", [job_run_id])
    return JobOutcome(rows_written=1)

db = Path(sys.argv[1])
settings = load_settings(env={}, overrides={
    "db_path": db, "scheduler_db": db.parent / "scheduler.sqlite",
    "schedules": {"fuse": "interval:1s"}, "heartbeat_interval_s": 0.5})
run_scheduler(Store(db), settings, jobs={"fuse": Job("fuse", "slow", slow)})
"""


def test_sigterm_lets_the_running_job_finish_then_exits_cleanly(
    tickets: Store, tmp_path: Path
) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", SLOW_SCHEDULER, str(tickets.path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if rows(tickets, "SELECT count(*) FROM job_runs WHERE status = 'running'")[0][0]:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the scheduled job never started")
        child.send_signal(signal.SIGTERM)
        assert child.wait(20) == 0
    finally:
        if child.poll() is None:
            child.kill()
    runs = rows(tickets, "SELECT job_run_id, status FROM job_runs ORDER BY job_run_id")
    assert runs and all(status == "succeeded" for _, status in runs)  # none left running
    done = rows(tickets, "SELECT job_run_id FROM metrics WHERE metric = 'slow.done'")
    assert sorted(r for (r,) in done) == [r for r, _ in runs]  # every run wrote, once
    settings = scheduler_settings(tmp_path, db_path=tickets.path)
    assert liveness(settings)["state"] == "stopped"


def test_a_bad_rules_file_stops_the_scheduler_at_start(
    tickets: Store,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "tickets.toml").write_text('[[allowed]]\nparent = "nosuch"\n', "utf-8")
    monkeypatch.setenv("LABELWATCH_RULES_DIR", str(rules))
    monkeypatch.setenv("LABELWATCH_SCHEDULER_DB", str(tmp_path / "s.sqlite"))
    assert main(["--db", str(tickets.path), "scheduler"]) == 2
    assert "tickets.toml" in capsys.readouterr().err
