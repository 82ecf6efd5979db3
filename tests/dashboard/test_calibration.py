"""The calibration page: reliability diagram, ECE variants, label-free vs audited accuracy."""

from __future__ import annotations

import json

import pytest

from dashboard.charts_quality import reliability_diagram
from tests.dashboard.conftest import Workspace, app, no_exception

PAGE = "app_pages/calibration.py"
VARIANTS = ["ECE (top-label)", "adaptive ECE", "classwise ECE", "debiased L2"]


@pytest.mark.parametrize("role", ["viewer", "auditor", "admin"])
def test_demo_shows_calibration(
    demo_workspace_db: Workspace, monkeypatch: pytest.MonkeyPatch, role: str
) -> None:
    at = no_exception(app(demo_workspace_db, monkeypatch, role=role, page=PAGE))

    assert [t.value for t in at.title] == ["Calibration"]
    assert [s.value for s in at.subheader] == [
        "Latest window by subtask",
        "Reliability diagram",
        "ECE variants over time",
        "Label-free vs audited accuracy",
    ]
    metrics = {m.label: m.value for m in at.metric}
    assert list(metrics) == VARIANTS
    assert all(0 <= float(v) <= 1 for v in metrics.values())
    summary = at.dataframe[0].value
    assert list(summary["subtask"]) == ["topic", "billing_issue", "technical_issue"]
    assert {*VARIANTS, "label-free (posteriors)", "audited (gold)"} <= set(summary.columns)
    history = at.dataframe[1].value
    assert list(history.columns) == ["window_start", "audited (gold)", "label-free (posteriors)"]
    assert len(history) == 30  # the default 30-day window
    charts = at.get("vega_lite_chart")
    assert len(charts) == 3
    assert "vconcat" in json.loads(charts[0].proto.spec)  # the diagram over its bin counts
    assert at.caption[0].value.startswith("Latest window: 2026-10-29 to 2026-11-04;")


def test_subtask_selection_and_all_time(
    demo_workspace_db: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dashboard.session import Selection

    at = app(demo_workspace_db, monkeypatch, role="viewer", page=PAGE)
    at.session_state["selection"] = Selection("support_tickets", "billing_issue", 0)
    at.run()
    no_exception(at)

    assert "Latest window by subtask" not in [s.value for s in at.subheader]
    assert len(at.dataframe[0].value) == 35  # every day of the demo
    assert "billing_issue" in at.caption[-1].value


def test_empty_workspace(empty_workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    at = no_exception(app(empty_workspace, monkeypatch, role="viewer", page=PAGE))

    assert at.info[0].value.startswith("No data yet.")
    assert "`labelwatch demo`" in at.info[0].value
    assert len(at.metric) == 0


def test_reliability_diagram_is_pure() -> None:
    bins: dict[str, list[float | None]] = {
        "lower": [0.0, 0.5],
        "upper": [0.5, 1.0],
        "count": [0, 4],
        "mean_confidence": [None, 0.8],
        "accuracy": [None, 0.75],
    }
    spec = reliability_diagram(bins).to_dict()
    assert len(spec["vconcat"]) == 2


def test_no_metrics_yet(writable_copy: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor.store import Store

    with Store(writable_copy.db).connect() as con:
        con.execute(
            "DELETE FROM metrics WHERE metric LIKE 'calibration.%' OR metric LIKE 'accuracy.%'"
        )
    at = no_exception(app(writable_copy, monkeypatch, role="viewer", page=PAGE))

    assert at.info[0].value.startswith("No calibration metrics for support_tickets")
    assert "`labelwatch run metrics`" in at.info[0].value
