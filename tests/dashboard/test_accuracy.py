"""The accuracy and audits page: estimates with intervals per subtask and class, audited
counts, error yield by strategy; "No audits yet" before any audit."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pandas as pd
import pytest

from auditor.audit.submissions import Submission
from auditor.jobs import registered_jobs
from auditor.jobs.runner import run_job
from auditor.store import Store
from auditor.store.audit_io import submit_corrections
from auditor.store.dashboard_quality_io import error_yield_by_strategy
from tests.conftest import rows
from tests.dashboard.conftest import Workspace, app, no_exception

PAGE = "app_pages/accuracy.py"
YIELD_COLUMNS = ["strategy", "queued", "open", "audited", "errors", "disputed", "error_share"]


def _audit_everything(workspace: Workspace) -> None:
    """Auditors label every queued item with its true label, then the audit-sample job
    writes the round's estimates (and draws the next round)."""
    settings = dataclasses.replace(workspace.settings, db_path=workspace.db)
    store = Store(workspace.db)
    truth = pd.read_parquet(settings.demo_dir / "truth.parquet")
    truth_of = {(r.item, r.subtask): r.label for r in truth.itertuples()}
    queued = rows(
        store,
        "SELECT i.external_id, s.name FROM audit_queue q JOIN items i USING (item_id) "
        "JOIN subtasks s USING (subtask_id)",
    )
    submissions = [
        Submission(row=n + 1, item=item, label=str(truth_of[(item, subtask)]),
                   auditor="auditor", seconds=30.0, subtask=subtask, task="support_tickets")
        for n, (item, subtask) in enumerate(queued)
        if (item, subtask) in truth_of
    ]  # fmt: skip
    with store.connect() as con:
        submit_corrections(
            con,
            submissions,
            now=datetime.now(UTC).replace(tzinfo=None),
            hourly_rate=settings.audit_hourly_rate,
            currency=settings.currency,
        )
    assert run_job(store, settings, registered_jobs()["audit-sample"]).status == "succeeded"


@pytest.mark.parametrize("role", ["viewer", "auditor", "admin"])
def test_demo_before_audits(
    demo_workspace_db: Workspace, monkeypatch: pytest.MonkeyPatch, role: str
) -> None:
    ((queued,),) = rows(Store(demo_workspace_db.db), "SELECT count(*) FROM audit_queue")
    at = no_exception(app(demo_workspace_db, monkeypatch, role=role, page=PAGE))

    assert [t.value for t in at.title] == ["Accuracy and audits"]
    assert at.info[0].value.startswith("No audits yet.")
    assert "`labelwatch audit sample`" in at.info[0].value
    assert {m.label: m.value for m in at.metric} == {
        "Queued": f"{queued:,}",
        "Audited": "0",
        "Errors found": "0",
        "Open": f"{queued:,}",
    }
    table = at.dataframe[0].value
    assert list(table.columns) == YIELD_COLUMNS
    assert "random" in set(table["strategy"])
    assert len(at.get("vega_lite_chart")) == 0


def test_after_an_audited_round(writable_copy: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    _audit_everything(writable_copy)
    store = Store(writable_copy.db)
    headline = {
        scope: (value, low, high)
        for scope, value, low, high in rows(
            store,
            "SELECT scope, value, ci_low, ci_high FROM metrics WHERE metric = "
            "'accuracy.audit_active_inference' AND key = 'fused'",
        )
    }
    with store.connect() as con:
        expected = error_yield_by_strategy(con, task="support_tickets")

    at = no_exception(app(writable_copy, monkeypatch, role="viewer", page=PAGE))

    assert not at.info
    metrics = {m.label: m.value for m in at.metric}
    for subtask in ("topic", "billing_issue", "technical_issue"):
        assert metrics[f"{subtask} accuracy"] == f"{headline[subtask][0]:.1%}"
    assert metrics["Audited"] == f"{sum(r['audited'] for r in expected):,}"
    assert metrics["Errors found"] == f"{sum(r['errors'] for r in expected):,}"
    assert int(metrics["Errors found"]) > 0
    estimates = at.dataframe[0].value
    assert set(estimates["estimator"]) == {
        "active_inference", "horvitz_thompson", "ppi_plus_plus", "random_share_wilson",
    }  # fmt: skip
    assert "fused" in set(estimates["key"]) and any(estimates["key"].str.startswith("class:"))
    assert estimates.loc[estimates["headline"], "estimator"].eq("active_inference").all()
    errors = at.dataframe[1].value
    assert list(errors.columns) == YIELD_COLUMNS
    assert list(errors["errors"]) == [r["errors"] for r in expected]
    charts = at.get("vega_lite_chart")
    assert len(charts) == 4  # one estimates chart per subtask, and the error yield
    assert "yOffset" in json.dumps(json.loads(charts[0].proto.spec))
    low, high = headline["topic"][1], headline["topic"][2]
    assert f"95% interval {low:.1%} to {high:.1%}" in at.caption[1].value


def test_error_yield_counts_audited_labels_that_differ(writable_copy: Workspace) -> None:
    _audit_everything(writable_copy)
    store = Store(writable_copy.db)
    with store.connect() as con:
        result = {r["strategy"]: r for r in error_yield_by_strategy(con, task="support_tickets")}
        topic = error_yield_by_strategy(con, task="support_tickets", subtask="topic")
    truth = rows(
        store,
        "SELECT q.strategy, count(a.label), count(*) FILTER (WHERE a.label <> q.fused_label) "
        "FROM audit_queue q LEFT JOIN audited_labels a USING (item_id, subtask_id) GROUP BY 1",
    )
    for strategy, audited, errors in truth:
        assert (result[strategy]["audited"], result[strategy]["errors"]) == (audited, errors)
        share = result[strategy]["error_share"]
        assert share == (errors / audited if audited else None)
    assert sum(r["queued"] for r in topic) < sum(r["queued"] for r in result.values())
    with store.connect() as con:
        assert error_yield_by_strategy(con, task="no such task") == []


def test_empty_workspace(empty_workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    at = no_exception(app(empty_workspace, monkeypatch, role="viewer", page=PAGE))

    assert at.info[0].value.startswith("No data yet.")
    assert len(at.metric) == 0
