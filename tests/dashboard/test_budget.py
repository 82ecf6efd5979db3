"""The budget page: burn-down with the projection band (the demo overruns), unit costs,
hours by kind and annotator, savings with assumptions, goal status."""

from __future__ import annotations

import json

import pytest

from auditor.store import Store
from dashboard.session import Selection
from tests.conftest import rows
from tests.dashboard.conftest import Workspace, app, no_exception

PAGE = "app_pages/budget.py"


@pytest.mark.parametrize("role", ["viewer", "auditor", "admin"])
def test_demo_shows_the_overrun(
    demo_workspace_db: Workspace, monkeypatch: pytest.MonkeyPatch, role: str
) -> None:
    store = Store(demo_workspace_db.db)
    ((projected, low, high, details),) = rows(
        store,
        "SELECT value, ci_low, ci_high, details FROM metrics "
        "WHERE metric = 'budget.projected_spend'",
    )
    budget = float(json.loads(details)["budget"])
    assert json.loads(details)["overrun"] and projected > budget
    ((spent,),) = rows(store, "SELECT sum(cost) FROM annotation_events")

    at = no_exception(app(demo_workspace_db, monkeypatch, role=role, page=PAGE))

    assert [t.value for t in at.title] == ["Budget"]
    assert [s.value for s in at.subheader] == [
        "Burn-down: Q4 annotation",
        "Cost per label",
        "Hours by kind and annotator (since 2026-10-06)",
        "Savings",
        "Goals",
    ]
    (error,) = at.error
    assert error.value.startswith("Budget Q4 annotation is projected to overrun:")
    assert f"{projected:,.2f} USD" in error.value and f"against {budget:,.2f}" in error.value
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Spent"] == f"{float(spent):,.2f} USD"
    assert metrics["Projected by 2026-11-29"] == f"{projected:,.2f} USD"
    assert f"95% interval {low:,.2f} to {high:,.2f}" in [c.value for c in at.caption][1]
    assert metrics["Cost per correct label"] == "n/a"  # no audited accuracy yet
    assert "no audited accuracy for any labeled subtask" in [c.value for c in at.caption]
    assert metrics["Cost per human label"].endswith(" USD")
    assert metrics["Savings"].startswith("-")  # the demo's LF development costs more
    (assumptions,) = [m.value for m in at.main.markdown if m.value.startswith("Assumptions:")]
    assert "USD per label" in assumptions
    hours = at.dataframe[0].value
    assert list(hours.columns) == ["group", "name", "hours"]
    assert set(hours["group"]) == {"kind", "annotator"}
    goals = at.dataframe[1].value
    assert list(goals.columns) == ["goal", "status", "reason", "measured", "target"]
    assert set(goals["status"]) <= {"on track", "at risk", "off track"}
    assert len(goals) == 3 and goals["reason"].str.len().gt(0).all()
    charts = at.get("vega_lite_chart")
    assert len(charts) == 3
    burn = json.dumps(json.loads(charts[0].proto.spec))
    assert '"y2"' in burn and "projected" in burn  # the projection band


def test_all_time_hours_match_the_events(
    demo_workspace_db: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    kinds = dict(
        rows(
            Store(demo_workspace_db.db),
            "SELECT kind, sum(seconds) / 3600 FROM annotation_events GROUP BY kind",
        )
    )
    at = app(demo_workspace_db, monkeypatch, role="viewer", page=PAGE)
    at.session_state["selection"] = Selection("support_tickets", None, 0)
    at.run()
    no_exception(at)

    assert "Hours by kind and annotator (all time)" in [s.value for s in at.subheader]
    hours = at.dataframe[0].value
    by_kind = hours[hours["group"] == "kind"].set_index("name")["hours"].to_dict()
    assert by_kind == pytest.approx(kinds)


def test_empty_workspace(empty_workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    at = no_exception(app(empty_workspace, monkeypatch, role="viewer", page=PAGE))

    assert at.info[0].value.startswith("No data yet.")
    assert len(at.metric) == 0


def test_no_budget_metrics_yet(writable_copy: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    with Store(writable_copy.db).connect() as con:
        con.execute(
            "DELETE FROM metrics WHERE metric LIKE 'budget.%' OR metric LIKE 'cost.%' "
            "OR metric LIKE 'effort.%' OR metric LIKE 'savings.%' OR metric = 'goal.status'"
        )
    at = no_exception(app(writable_copy, monkeypatch, role="viewer", page=PAGE))

    assert at.info[0].value.startswith("No budget metrics for support_tickets yet")
    assert "`labelwatch run budget`" in at.info[0].value
