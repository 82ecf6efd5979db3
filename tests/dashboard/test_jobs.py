"""The jobs page (admins): scheduler liveness, run history, failures, run the pipeline."""

from __future__ import annotations

import time
from typing import Any

import pytest

import auditor.jobs as job_registry
from auditor.jobs import Job, JobOutcome
from auditor.store import Store
from tests.dashboard.conftest import Workspace, app, no_exception

PAGE = "app_pages/jobs.py"


def _failing(
    store: Any, settings: Any, *, job_run_id: int | None = None, task: str | None = None
) -> JobOutcome:
    raise RuntimeError("boom: the test job fails")


def _rows(workspace: Workspace, sql: str) -> list[tuple]:
    with Store(workspace.db).connect() as con:
        return con.execute(sql).fetchall()


def test_history_and_liveness(
    demo_workspace_db: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = time.perf_counter()
    at = no_exception(app(demo_workspace_db, monkeypatch, role="admin", page=PAGE))
    elapsed = time.perf_counter() - started

    assert [t.value for t in at.title] == ["Jobs"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Scheduler"] == "not running"
    assert metrics["Last heartbeat"] == "never"
    assert metrics["Runs shown"] == "7" and metrics["Failed"] == "0" and metrics["Jobs"] == "7"
    assert any("`labelwatch scheduler`" in w.value for w in at.warning)
    history = at.dataframe[0].value
    assert list(history.columns)[:4] == ["job_run_id", "job", "task", "status"]
    assert set(history["job"]) == {
        "ingest-watch",
        "fuse",
        "rules",
        "metrics",
        "budget",
        "audit-sample",
        "alerts",
    }
    assert len(at.get("vega_lite_chart")) == 1
    assert "No failed run in this window." in [c.value for c in at.caption]
    assert [b.label for b in at.button if b.label.startswith("Run")] == ["Run the pipeline now"]
    print(f"jobs render (first run, incl. navigation): {elapsed:.2f} s")


def test_run_the_pipeline_now(writable_copy: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    real = job_registry.registered_jobs()
    jobs = {
        "rules": real["rules"],
        "broken": Job("broken", "always fails", _failing),
        "alerts": real["alerts"],
    }
    monkeypatch.setattr(job_registry, "registered_jobs", lambda: jobs)
    before = _rows(writable_copy, "SELECT count(*) FROM job_runs")[0][0]
    at = no_exception(app(writable_copy, monkeypatch, role="admin", page=PAGE))
    next(b for b in at.button if b.label == "Run the pipeline now").click().run()
    no_exception(at)

    runs = _rows(
        writable_copy,
        f"SELECT job, status, error FROM job_runs ORDER BY job_run_id OFFSET {before}",
    )
    assert [(j, s) for j, s, _ in runs] == [
        ("rules", "succeeded"),
        ("broken", "failed"),
        ("alerts", "succeeded"),
    ]
    assert "boom" in runs[1][2]
    assert [e.value for e in at.error] == ["Pipeline ran 3 job(s): 1 failed."]
    summary = at.dataframe[0].value
    assert list(summary["job"]) == ["rules", "broken", "alerts"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Failed"] == "1"
    failures = [e for e in at.expander if "broken failed" in e.label]
    assert len(failures) == 1
    codes = [c.value for c in failures[0].code]
    assert any("boom: the test job fails" in c for c in codes)
    assert any("Traceback" in c for c in codes)


def test_empty_workspace(empty_workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    at = no_exception(app(empty_workspace, monkeypatch, role="admin", page=PAGE))
    assert any(i.value.startswith("No job has run yet") for i in at.info)
    assert len(at.dataframe) == 0


@pytest.mark.parametrize("role", ["viewer", "auditor"])
def test_only_admins_get_the_page(
    demo_workspace_db: Workspace, monkeypatch: pytest.MonkeyPatch, role: str
) -> None:
    at = no_exception(app(demo_workspace_db, monkeypatch, role=role))
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGE)
    assert not any(b.label == "Run the pipeline now" for b in at.button)
