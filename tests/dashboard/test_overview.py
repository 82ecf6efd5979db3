"""The overview page: sign-in required; KPI cards, open alerts and trends of the demo
workspace; the "No data yet." empty state."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from auditor.store import Store
from tests.conftest import rows
from tests.dashboard.conftest import DEMO_ITEMS, Workspace, app, no_exception

PAGE = "app_pages/overview.py"


def chart_titles(at: AppTest) -> list[str]:
    titles = []
    for chart in at.get("vega_lite_chart"):
        title = json.loads(chart.proto.spec).get("title", "")
        titles.append(title if isinstance(title, str) else title.get("text", ""))
    return titles


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_unauthenticated_visitor_sees_only_the_sign_in_form(
    demo_workspace_db: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = no_exception(app(demo_workspace_db, monkeypatch, role=None))

    assert [t.value for t in at.title] == ["labelwatch"]
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    assert len(at.metric) == 0 and len(at.dataframe) == 0 and not at.get("vega_lite_chart")


def test_empty_workspace_shows_no_data_yet(
    empty_workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = no_exception(app(empty_workspace, monkeypatch, role="viewer", page=PAGE))

    assert [t.value for t in at.title] == ["labelwatch overview"]
    assert len(at.info) == 1
    assert at.info[0].value.startswith(
        "No data yet. Build the demo workspace with `labelwatch demo`"
    )
    assert len(at.metric) == 0


@pytest.mark.parametrize("role", ["viewer", "auditor", "admin"])
def test_demo_workspace_kpis_alerts_and_trends(
    demo_workspace_db: Workspace, monkeypatch: pytest.MonkeyPatch, role: str
) -> None:
    store = Store(demo_workspace_db.db)
    open_alerts = rows(store, "SELECT count(*) FROM alerts WHERE state = 'open'")[0][0]
    spent = rows(store, "SELECT value FROM metrics WHERE metric = 'budget.spent'")[0][0]

    at = no_exception(app(demo_workspace_db, monkeypatch, role=role, page=PAGE))

    shown = metrics(at)
    assert shown["Items"] == f"{DEMO_ITEMS:,}"
    assert shown["Coverage"].endswith("%")
    assert shown["Open alerts"] == f"{open_alerts:,}" and open_alerts > 0
    assert shown["Budget spent (Q4 annotation)"] == f"{spent:,.2f} USD"
    assert shown["Projected spend"].endswith(" USD")
    assert shown["Savings"].endswith(" USD")
    for subtask in ("topic", "billing_issue", "technical_issue"):
        accuracy = shown[f"Fused accuracy · {subtask}"]
        assert accuracy.endswith("%") and "(" not in accuracy
        assert float(shown[f"ECE · {subtask}"]) > 0
    intervals = [c.value for c in at.caption if c.value.startswith("95% interval ")]
    assert len(intervals) == 3 and all(c.endswith("%") and "-" in c for c in intervals)
    assert "label-free (no audited round yet)" in [c.value for c in at.caption]
    assert [s.value for s in at.subheader] == ["Fused labels by subtask", "Open alerts", "Trends"]
    alerts = at.dataframe[0].value
    assert list(alerts.columns) == [
        "severity", "metric", "scope", "key", "message", "first_seen", "last_seen"
    ]  # fmt: skip
    assert len(alerts) == open_alerts and alerts["severity"].iloc[0] == "critical"
    assert chart_titles(at) == ["Coverage per day", "Label-free accuracy", "ECE (calibration.ece)"]


def test_subtask_selection_narrows_cards_and_alerts(
    demo_workspace_db: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(demo_workspace_db.db)
    expected = rows(
        store,
        "SELECT count(*) FROM alerts WHERE state = 'open' AND scope IN (?, ?)",
        ["support_tickets/billing_issue", "support_tickets/task"],
    )[0][0]
    at = app(demo_workspace_db, monkeypatch, role="viewer", page=PAGE)

    next(s for s in at.selectbox if s.label == "Subtask").select("billing_issue").run()

    no_exception(at)
    shown = metrics(at)
    assert shown["Open alerts"] == f"{expected:,}"
    assert [k for k in shown if k.startswith("Fused accuracy")] == [
        "Fused accuracy · billing_issue"
    ]
    assert set(at.dataframe[0].value["scope"]) <= {
        "support_tickets/billing_issue",
        "support_tickets/task",
    }
