"""run_job: one job_runs row per run, ending succeeded, skipped or failed."""

from __future__ import annotations

import itertools
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from auditor.jobs import Job, JobOutcome
from auditor.jobs.runner import run_job, run_with_retries
from auditor.settings import Settings, load_settings
from auditor.store import Store
from tests.conftest import ingest, rows, write

COLUMNS = (
    "job, task, trigger_time, status, rows_read, rows_written, error, traceback, duration_s, "
    "started_at, finished_at"
)


@pytest.fixture
def settings() -> Settings:
    return load_settings(env={})


def _runs(store: Store) -> list[dict[str, Any]]:
    names = [c.strip() for c in COLUMNS.split(",")]
    return [
        dict(zip(names, row, strict=True))
        for row in rows(store, f"SELECT {COLUMNS} FROM job_runs ORDER BY job_run_id")
    ]


def test_succeeding_job(store: Store, settings: Settings) -> None:
    seen: list[tuple[Store, Settings, int | None]] = []

    def fuse(s: Store, c: Settings, *, job_run_id: int | None = None) -> JobOutcome:
        seen.append((s, c, job_run_id))
        # While the job runs, its row is already there, marked running.
        assert rows(s, "SELECT job, status, finished_at FROM job_runs") == [
            ("fuse", "running", None)
        ]
        time.sleep(0.05)
        return JobOutcome(rows_read=120, rows_written=40)

    result = run_job(store, settings, Job("fuse", "fuse votes", fuse))

    assert seen == [(store, settings, result.job_run_id)]  # rows it writes can name the run
    assert (result.job, result.status, result.error) == ("fuse", "succeeded", None)
    assert result.outcome == JobOutcome(rows_read=120, rows_written=40)
    [run] = _runs(store)
    assert rows(store, "SELECT job_run_id FROM job_runs") == [(result.job_run_id,)]
    assert (run["job"], run["task"], run["trigger_time"]) == ("fuse", None, None)
    assert (run["status"], run["rows_read"], run["rows_written"]) == ("succeeded", 120, 40)
    assert (run["error"], run["traceback"]) == (None, None)
    assert run["duration_s"] == pytest.approx(result.duration_s)
    assert 0.05 <= run["duration_s"] < 5
    assert run["started_at"] <= run["finished_at"]


def test_skipping_job(store: Store, settings: Settings) -> None:
    job = Job(
        "rules", "r", lambda s, c, **_: JobOutcome(rows_read=7, skipped_reason="no fused labels")
    )

    result = run_job(store, settings, job, task="tickets")

    assert (result.status, result.error) == ("skipped", "no fused labels")
    [run] = _runs(store)
    assert (run["job"], run["task"], run["status"]) == ("rules", "tickets", "skipped")
    assert (run["rows_read"], run["rows_written"]) == (7, 0)
    assert (run["error"], run["traceback"]) == ("no fused labels", None)
    assert run["duration_s"] >= 0


def test_failing_job_is_recorded_not_raised(store: Store, settings: Settings) -> None:
    def metrics(s: Store, c: Settings, **_: object) -> JobOutcome:
        raise ZeroDivisionError("no gold labels to divide by")

    result = run_job(store, settings, Job("metrics", "m", metrics))

    assert (result.status, result.outcome) == ("failed", None)
    assert result.error == "ZeroDivisionError: no gold labels to divide by"
    [run] = _runs(store)
    assert run["status"] == "failed"
    assert (run["rows_read"], run["rows_written"]) == (None, None)
    assert run["error"] == "ZeroDivisionError: no gold labels to divide by"
    assert run["traceback"].startswith("Traceback (most recent call last):")
    assert "in metrics" in run["traceback"]
    assert run["traceback"].rstrip().endswith("ZeroDivisionError: no gold labels to divide by")
    assert run["duration_s"] >= 0
    assert run["finished_at"] is not None


def test_trigger_time_is_recorded(store: Store, settings: Settings) -> None:
    trigger = datetime(2026, 10, 5, 6, 0, 0)

    run_job(
        store,
        settings,
        Job("audit-sample", "a", lambda s, c, **_: JobOutcome()),
        trigger_time=trigger,
    )

    assert [r["trigger_time"] for r in _runs(store)] == [trigger]


def test_runs_accumulate_one_row_each(store: Store, settings: Settings) -> None:
    calls = iter([JobOutcome(rows_written=1), JobOutcome(skipped_reason="nothing new")])

    def flaky(s: Store, c: Settings, **_: object) -> JobOutcome:
        outcome = next(calls, None)
        if outcome is None:
            raise RuntimeError("third time unlucky")
        return outcome

    job = Job("fuse", "f", flaky)
    results = [run_job(store, settings, job) for _ in range(3)]

    assert [r.status for r in results] == ["succeeded", "skipped", "failed"]
    assert len({r.job_run_id for r in results}) == 3
    assert [(r["status"], r["rows_written"], r["error"]) for r in _runs(store)] == [
        ("succeeded", 1, None),
        ("skipped", 0, "nothing new"),
        ("failed", None, "RuntimeError: third time unlucky"),
    ]


def test_keyboard_interrupt_is_not_swallowed(store: Store, settings: Settings) -> None:
    def interrupted(s: Store, c: Settings, **_: object) -> JobOutcome:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_job(store, settings, Job("fuse", "f", interrupted))
    assert [r["job"] for r in _runs(store)] == ["fuse"]


def test_a_failing_job_is_retried_with_backoff_then_alerts_and_recovers(
    tickets: Store, tmp_path: Path
) -> None:
    settings = load_settings(
        env={}, overrides={"db_path": tickets.path, "job_retries": 2, "job_retry_backoff_s": 0.05}
    )
    attempts: list[float] = []

    def flaky(store: Store, settings: object, **_: object) -> JobOutcome:
        attempts.append(time.monotonic())
        raise RuntimeError("upstream is down")

    result = run_with_retries(tickets, settings, Job("fuse", "flaky", flaky), task="tickets")
    assert (result.status, result.attempt) == ("failed", 3)
    waits = [b - a for a, b in itertools.pairwise(attempts)]
    assert waits[0] >= 0.05 * 0.75 and waits[1] >= 0.10 * 0.75  # exponential backoff
    assert rows(tickets, "SELECT attempt, status FROM job_runs ORDER BY job_run_id") == [
        (1, "failed"),
        (2, "failed"),
        (3, "failed"),
    ]
    (alert,) = rows(tickets, "SELECT severity, metric, key, state, message FROM alerts")
    assert alert[:4] == ("critical", "job.failed", "fuse/tickets", "open")
    assert "failed after 3 attempts: RuntimeError: upstream is down" in alert[4]
    fixed = run_with_retries(
        tickets, settings, Job("fuse", "ok", lambda *a, **k: JobOutcome()), task="tickets"
    )
    assert fixed.status == "succeeded"
    assert rows(tickets, "SELECT state FROM alerts") == [("resolved",)]


def test_unchanged_inputs_skip_with_the_reason_and_new_votes_run_again(
    tickets: Store, tmp_path: Path
) -> None:
    settings = load_settings(env={}, overrides={"db_path": tickets.path})
    job = Job("fuse", "counts", lambda *a, **k: JobOutcome(rows_read=1))
    first = run_job(tickets, settings, job, task="tickets", skip_unchanged=True)
    second = run_job(tickets, settings, job, task="tickets", skip_unchanged=True)
    assert (first.status, second.status) == ("succeeded", "skipped")
    assert second.error == f"inputs unchanged since run {first.job_run_id}"
    ingest(tickets, write(tmp_path, "v.csv", "item,lf,label\nt1,kw_bill,billing\n"), kind="votes")
    third = run_job(tickets, settings, job, task="tickets", skip_unchanged=True)
    assert third.status == "succeeded"
    recorded = rows(tickets, "SELECT status, inputs IS NOT NULL FROM job_runs ORDER BY 1")
    assert recorded == [("skipped", True), ("succeeded", True), ("succeeded", True)]
    unchanged_but_forced = run_job(tickets, settings, job, task="tickets")
    assert unchanged_but_forced.status == "succeeded"  # `labelwatch run` always runs
