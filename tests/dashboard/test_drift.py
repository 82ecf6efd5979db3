"""The drift page: scores per LF, fused class and attribute with method, threshold and the
drifted ones highlighted."""

from __future__ import annotations

import json

import pytest

from auditor.store import Store
from dashboard.session import Selection
from tests.conftest import rows
from tests.dashboard.conftest import Workspace, app, no_exception

PAGE = "app_pages/drift.py"


@pytest.mark.parametrize("role", ["viewer", "auditor", "admin"])
def test_demo_shows_drift(
    demo_workspace_db: Workspace, monkeypatch: pytest.MonkeyPatch, role: str
) -> None:
    ((drifted, total),) = rows(
        Store(demo_workspace_db.db),
        "SELECT count(*) FILTER (WHERE details->>'drifted' = 'true'), count(*) FROM metrics "
        "WHERE metric LIKE 'drift.%'",
    )
    at = no_exception(app(demo_workspace_db, monkeypatch, role=role, page=PAGE))

    assert [t.value for t in at.title] == ["Drift"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Columns checked"] == str(total)
    assert metrics["Drifted"] == str(drifted)
    assert metrics["Latest window"] == "2026-11-04"
    assert drifted > 0  # the demo injects drift
    assert at.warning[0].value.startswith(f"{drifted} column(s) drifted in the latest window")
    assert "Evidently picks the method per column" in at.caption[0].value
    table = at.dataframe[0].value
    assert list(table.columns) == [
        "window", "subtask", "group", "column", "method", "score", "threshold", "drifted",
        "n_reference", "n_current", "reason",
    ]  # fmt: skip
    assert len(table) == total
    assert set(table["group"]) == {"LF votes", "LF coverage", "fused classes", "attribute"}
    assert table["drifted"].iloc[:drifted].all()  # drifted first
    assert {"chisquare", "z"} <= set(table["method"])
    assert set(table["threshold"]) <= {0.05, 0.1}
    (chart,) = at.get("vega_lite_chart")
    spec = json.dumps(json.loads(chart.proto.spec))
    assert "threshold" in spec and "drifted" in spec


def test_one_subtask(demo_workspace_db: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(demo_workspace_db, monkeypatch, role="viewer", page=PAGE)
    at.session_state["selection"] = Selection("support_tickets", "billing_issue", 30)
    at.run()
    no_exception(at)

    table = at.dataframe[0].value
    assert set(table["subtask"]) == {"billing_issue"}
    assert {m.label: m.value for m in at.metric}["Columns checked"] == str(len(table))


def test_empty_workspace(empty_workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    at = no_exception(app(empty_workspace, monkeypatch, role="viewer", page=PAGE))

    assert at.info[0].value.startswith("No data yet.")
    assert len(at.metric) == 0


def test_no_drift_yet(writable_copy: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    with Store(writable_copy.db).connect() as con:
        con.execute("DELETE FROM metrics WHERE metric LIKE 'drift.%'")
    at = no_exception(app(writable_copy, monkeypatch, role="viewer", page=PAGE))

    assert at.info[0].value.startswith("No drift results for support_tickets")
    assert "`labelwatch run metrics`" in at.info[0].value
