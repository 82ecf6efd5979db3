"""The labeling-functions page: the LF table pooled over the window, with sparklines, and
the drill-down into one LF (votes over time, confusion against gold, disagreements)."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from auditor.store import Store
from tests.conftest import rows
from tests.dashboard.conftest import Workspace, app, no_exception

PAGE = "app_pages/lfs.py"
COLUMNS = [
    "subtask", "lf", "polarity", "coverage", "coverage_trend", "overlap", "conflict",
    "accuracy_gold", "accuracy_low", "accuracy_high", "gold_votes", "model_accuracy",
    "contribution", "coverage_change", "drifted",
]  # fmt: skip


def chart_titles(at: AppTest) -> list[str]:
    titles = []
    for chart in at.get("vega_lite_chart"):
        title = json.loads(chart.proto.spec).get("title", "")
        titles.append(title if isinstance(title, str) else title.get("text", ""))
    return titles


def pick(at: AppTest, label: str, value: object) -> AppTest:
    next(s for s in at.selectbox if s.label == label).set_value(value).run()
    return no_exception(at)


def test_empty_workspace_shows_no_data_yet(
    empty_workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = no_exception(app(empty_workspace, monkeypatch, role="viewer", page=PAGE))

    assert [t.value for t in at.title] == ["Labeling functions"]
    assert at.info[0].value.startswith("No data yet.")
    assert len(at.dataframe) == 0


def test_without_metrics_says_how_to_compute_them(
    writable_copy: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(writable_copy.db).connect() as con:
        con.execute("DELETE FROM metrics")

    at = no_exception(app(writable_copy, monkeypatch, role="viewer", page=PAGE))

    assert at.info[0].value.startswith("No LF metrics yet. Run `labelwatch run metrics`")
    assert len(at.dataframe) == 0


@pytest.mark.parametrize("role", ["viewer", "auditor", "admin"])
def test_lf_table_for_every_role(
    demo_workspace_db: Workspace, monkeypatch: pytest.MonkeyPatch, role: str
) -> None:
    n_lfs = rows(Store(demo_workspace_db.db), "SELECT count(*) FROM labeling_functions")[0][0]

    at = no_exception(app(demo_workspace_db, monkeypatch, role=role, page=PAGE))

    table = at.dataframe[0].value
    assert list(table.columns) == COLUMNS
    assert len(table) == n_lfs == 21
    assert {len(t) for t in table["coverage_trend"]} == {30}  # one point per day, 30 days
    assert table["coverage"].between(0, 1).all()
    judged = table[table["gold_votes"] > 0]
    assert len(judged) and (judged["accuracy_low"] <= judged["accuracy_gold"]).all()
    assert (judged["accuracy_gold"] <= judged["accuracy_high"] + 1e-9).all()
    assert table.loc[table["lf"] == "email_subject_tag", "drifted"].item()


def test_all_time_values_pool_the_windows(
    demo_workspace_db: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(demo_workspace_db.db)
    (expected,) = rows(
        store,
        "SELECT sum(CAST(details->>'successes' AS BIGINT)) / sum(CAST(details->>'trials' AS "
        "BIGINT)) FROM metrics WHERE metric = 'lf.coverage' AND key = ? AND scope = ? "
        "AND window_start IS NOT NULL",
        ["kw_refund", "topic"],
    )[0]
    at = app(demo_workspace_db, monkeypatch, role="viewer", page=PAGE)

    pick(at, "Window", "all time")
    pick(at, "Subtask", "topic")

    table = at.dataframe[0].value
    assert set(table["subtask"]) == {"topic"}
    row = table[table["lf"] == "kw_refund"].iloc[0]
    assert row["coverage"] == pytest.approx(expected)
    assert row["polarity"] == "billing"
    assert len(row["coverage_trend"]) == 35


def test_drill_down_into_one_lf(
    demo_workspace_db: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app(demo_workspace_db, monkeypatch, role="viewer", page=PAGE)
    pick(at, "Subtask", "topic")

    pick(at, "Labeling function", ("topic", "kw_refund"))

    assert [s.value for s in at.subheader] == ["One labeling function"]
    assert chart_titles(at) == ["Votes per day by label", "Votes against gold"]
    disagreements = at.dataframe[1].value
    assert list(disagreements.columns) == [
        "item", "vote", "fused", "fused_confidence", "truth", "voted_at"
    ]  # fmt: skip
    assert 0 < len(disagreements) <= 50
    assert (disagreements["vote"] == "billing").all()
    assert (disagreements["fused"] != "billing").all()
    assert disagreements["fused_confidence"].is_monotonic_decreasing
