"""The overview page, rendered headless with Streamlit's AppTest against a temporary DB."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from auditor.demo.workspace import build_demo
from auditor.settings import load_settings
from auditor.store import Store, apply_migrations
from tests.conftest import rows

APP = Path(__file__).resolve().parents[2] / "dashboard" / "streamlit_app.py"
N_ITEMS = 1500


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """LABELWATCH_DB_PATH pointing at a not-yet-existing DB; no other settings leak in."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("LABELWATCH_"):
            monkeypatch.delenv(name)
    path = tmp_path / "data" / "lw.duckdb"
    monkeypatch.setenv("LABELWATCH_DB_PATH", str(path))
    st.cache_data.clear()
    yield path
    st.cache_data.clear()


def _run() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_no_database_shows_no_data_yet(db: Path) -> None:
    at = _run()

    assert [t.value for t in at.title] == ["labelwatch overview"]
    assert len(at.info) == 1
    assert at.info[0].value.startswith(
        "No data yet. Build the demo workspace with `labelwatch demo`"
    )
    assert len(at.metric) == 0
    assert not db.exists()


def test_empty_database_shows_no_data_yet(db: Path) -> None:
    with Store(db).connect() as con:
        apply_migrations(con)

    at = _run()

    assert len(at.info) == 1
    assert at.info[0].value.startswith("No data yet.")
    assert len(at.metric) == 0


def test_demo_workspace_metrics(db: Path, tmp_path: Path) -> None:
    settings = load_settings(
        env={},
        overrides={
            "db_path": db,
            "users_file": tmp_path / "users.toml",
            "demo_dir": tmp_path / "demo",
        },
    )
    build_demo(settings, n_items=N_ITEMS)
    store = Store(db)
    votes, gold = rows(
        store, "SELECT (SELECT count(*) FROM votes), (SELECT count(*) FROM gold_labels)"
    )[0]

    at = _run()

    assert len(at.info) == 0
    assert {m.label: m.value for m in at.metric} == {
        "Items": "1,500",
        "Labeling functions": "21",
        "Votes": f"{votes:,}",
        "Gold labels": f"{gold:,}",
        "Quarantined rows": "0",
    }
    assert votes > 1000 and gold > 0
    assert [s.value for s in at.subheader] == [
        "Tasks",
        "Open alerts",
        "Last job runs",
        "Recent ingestions",
        "Quarantined rows by reason",
    ]
    tasks = at.dataframe[0].value
    assert list(tasks["task"]) == ["support_tickets"]
    assert list(tasks["items"]) == [N_ITEMS]
    assert list(tasks["lfs"]) == [21]
    ingestions = at.dataframe[1].value
    assert list(ingestions["kind"]) == ["events", "gold", "votes", "lfs", "items"]
    assert [c.value for c in at.caption] == [
        "No open alerts.",
        "No job has run yet: `labelwatch run all` runs the pipeline once.",
        "Nothing quarantined.",
    ]
