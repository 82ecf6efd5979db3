"""The agreement page: LF pair kappa heatmaps, agreement trends, human inter-annotator
agreement and cross-subtask consistency, for each role and the empty workspace."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from auditor.store import Store
from tests.dashboard.conftest import Workspace, app, no_exception

PAGE = "app_pages/agreement.py"
SECTIONS = [
    "Labeling functions: pairwise Cohen's kappa (all time)",
    "Fleiss' kappa and Krippendorff's alpha",
    "Human inter-annotator agreement (all time)",
    "Cross-subtask consistency",
]


def chart_titles(at: AppTest) -> list[str]:
    titles = []
    for chart in at.get("vega_lite_chart"):
        title = json.loads(chart.proto.spec).get("title", "")
        titles.append(title if isinstance(title, str) else title.get("text", ""))
    return titles


def test_empty_workspace_shows_no_data_yet(
    empty_workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = no_exception(app(empty_workspace, monkeypatch, role="viewer", page=PAGE))

    assert [t.value for t in at.title] == ["Agreement"]
    assert at.info[0].value.startswith("No data yet.")
    assert not at.get("vega_lite_chart")


def test_without_metrics_says_how_to_compute_them(
    writable_copy: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(writable_copy.db).connect() as con:
        con.execute("DELETE FROM metrics")

    at = no_exception(app(writable_copy, monkeypatch, role="viewer", page=PAGE))

    assert at.info[0].value.startswith("No agreement metrics yet. Run `labelwatch run metrics`")


@pytest.mark.parametrize("role", ["viewer", "auditor", "admin"])
def test_demo_workspace_sections(
    demo_workspace_db: Workspace, monkeypatch: pytest.MonkeyPatch, role: str
) -> None:
    at = no_exception(app(demo_workspace_db, monkeypatch, role=role, page=PAGE))

    assert [s.value for s in at.subheader] == SECTIONS
    titles = chart_titles(at)
    assert [t for t in titles if t.endswith("LF x LF kappa")] == [
        "topic: LF x LF kappa",
        "billing_issue: LF x LF kappa",
        "technical_issue: LF x LF kappa",
    ]
    assert "Among gold annotators" in titles
    assert "Consistency with the parent subtask" in titles
    human = at.dataframe[0].value
    assert list(human.columns) == [
        "scope", "who", "statistic", "value", "ci_low", "ci_high", "n", "reason"
    ]  # fmt: skip
    assert set(human["who"]) == {"gold annotators"}
    assert {"fleiss_kappa", "krippendorff_alpha", "percent_agreement"} == set(human["statistic"])
    consistency = at.dataframe[-1].value
    assert list(consistency.columns) == ["subtask", "parent", "items", "newest"]
    assert set(consistency["subtask"]) == {"billing_issue", "technical_issue"}
    assert set(consistency["parent"]) == {"topic"}


def test_subtask_selection_shows_its_heatmap_only(
    demo_workspace_db: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app(demo_workspace_db, monkeypatch, role="viewer", page=PAGE)

    next(s for s in at.selectbox if s.label == "Subtask").select("topic").run()

    no_exception(at)
    titles = chart_titles(at)
    assert [t for t in titles if t.endswith("LF x LF kappa")] == ["topic: LF x LF kappa"]
    assert "Consistency with the parent subtask" not in titles
    assert any("consistency applies to child subtasks" in c.value for c in at.caption)
