"""The audit queue page: the next item with its fused labels and votes, the decomposed
label choice, submission into the store, skip, progress, and admins' adjudication."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from streamlit.testing.v1 import AppTest

from auditor.audit.submissions import Submission
from auditor.store import Store
from auditor.store.audit_io import list_queue, submit_corrections
from auditor.store.dashboard_audit_io import audit_item, audit_progress, next_open_item
from tests.dashboard.conftest import Workspace, app, no_exception

PAGE = "app_pages/audit_queue.py"
TASK = "support_tickets"


def _rows(workspace: Workspace, sql: str, params: list[object] | None = None) -> list[tuple]:
    with Store(workspace.db).connect() as con:
        return con.execute(sql, params or []).fetchall()


def _next(workspace: Workspace, auditor: str = "auditor") -> dict:
    with Store(workspace.db).connect() as con:
        found = next_open_item(con, task=TASK, auditor=auditor)
        assert found is not None
        item = audit_item(con, found["item_id"])
    assert item is not None
    return item


def _open(workspace: Workspace, monkeypatch: pytest.MonkeyPatch, role: str) -> AppTest:
    return app(workspace, monkeypatch, role=role, page=PAGE)


def _radio(at: AppTest, subtask: str):
    return next(r for r in at.radio if r.label == f"Corrected {subtask}")


def test_store_reads_match_the_cli_queue(demo_workspace_db: Workspace) -> None:
    with Store(demo_workspace_db.db).connect() as con:
        found = next_open_item(con, task=TASK, auditor="auditor")
        assert found is not None and found["open_items"] > 100
        item = audit_item(con, found["item_id"])
        queue = [
            e for e in list_queue(con, task=TASK, limit=1000) if e["item_id"] == found["item_id"]
        ]
        progress = audit_progress(con, task=TASK, auditor="auditor")
    assert item is not None and queue
    assert [s["subtask"] for s in item["subtasks"]] == ["topic", "billing_issue", "technical_issue"]
    by_subtask = {s["subtask"]: s for s in item["subtasks"]}
    for entry in queue:  # the same fused label, probabilities and contributions as the CLI
        mine = by_subtask[entry["subtask"]]
        assert mine["fused_label"] == entry["fused_label"]
        assert mine["probabilities"] == entry["probabilities"]
        assert [(v["lf"], v["contribution"]) for v in mine["votes"]] == [
            (v["lf"], v["contribution"]) for v in entry["votes"]
        ]
        assert mine["entry"]["round_id"] == entry["round_id"]
    assert progress["round_id"] == 1 and progress["audited_total"] == 0
    assert progress["round_open_items"] == found["open_items"]


def test_auditor_sees_the_next_item(
    demo_workspace_db: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = _next(demo_workspace_db)
    started = time.perf_counter()
    at = no_exception(_open(demo_workspace_db, monkeypatch, "auditor"))
    elapsed = time.perf_counter() - started

    assert [t.value for t in at.title] == ["Audit queue"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Audited by you (this round)"] == "0"
    assert metrics["Audited by you (total)"] == "0"
    assert int(metrics["Open items in round"]) > 100
    fused = [m.value for m in at.metric if m.label == "Fused label"]
    assert fused[0] == item["subtasks"][0]["fused_label"]
    assert any(item["item"] in m.value for m in at.markdown)
    assert [t.value for t in at.text] == [item["text"]]
    topic = _radio(at, "topic")
    assert topic.options == ["billing", "technical", "account", "shipping", "other"]
    assert topic.value == item["subtasks"][0]["fused_label"]
    assert {"lf", "vote", "confidence", "contribution"} <= set(at.dataframe[0].value.columns)
    assert len(at.get("vega_lite_chart")) >= 1
    assert [b.label for b in at.main.button] == ["Submit", "Skip"]
    assert "audit_shown" in at.session_state
    print(f"audit queue render (first run, incl. navigation): {elapsed:.2f} s")


def test_stage_two_follows_stage_one(
    demo_workspace_db: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = no_exception(_open(demo_workspace_db, monkeypatch, "auditor"))

    _radio(at, "topic").set_value("billing").run()
    labels = [r.label for r in at.radio]
    assert "Corrected billing_issue" in labels and "Corrected technical_issue" not in labels
    assert _radio(at, "billing_issue").options == ["refund", "double_charge", "invoice"]
    _radio(at, "topic").set_value("technical").run()
    labels = [r.label for r in at.radio]
    assert "Corrected technical_issue" in labels and "Corrected billing_issue" not in labels
    _radio(at, "topic").set_value("shipping").run()
    assert [r.label for r in at.radio] == ["Corrected topic"]


def test_submission_lands_in_the_store(
    writable_copy: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = _next(writable_copy)
    at = no_exception(_open(writable_copy, monkeypatch, "auditor"))
    at.session_state["audit_shown"] = (item["item_id"], time.time() - 42)
    _radio(at, "topic").set_value("billing").run()
    _radio(at, "billing_issue").set_value("invoice").run()
    at.text_input(key=f"audit_note_{item['item_id']}").input("looks like an invoice").run()
    at.main.button[0].click().run()
    no_exception(at)

    rows = _rows(
        writable_copy,
        "SELECT s.name, c.label, c.auditor, c.seconds, c.note, c.round_id FROM corrections c "
        "JOIN subtasks s USING (subtask_id) ORDER BY s.subtask_id",
    )
    assert [(r[0], r[1], r[2], r[4]) for r in rows] == [
        ("topic", 0, "auditor", "looks like an invoice"),
        ("billing_issue", 2, "auditor", "looks like an invoice"),
    ]
    assert sum(r[3] for r in rows) == pytest.approx(42, abs=5)
    events = _rows(
        writable_copy, "SELECT count(*), sum(seconds) FROM annotation_events WHERE kind = 'audit'"
    )
    assert events[0][0] == 2 and events[0][1] == pytest.approx(42, abs=5)
    assert any(s.value.startswith(f"Recorded 2 label(s) for {item['item']}") for s in at.success)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Audited by you (total)"] == "1"
    assert metrics["Audited by you (this round)"] == ("1" if any(r[5] for r in rows) else "0")
    assert item["item"] not in [m.value for m in at.markdown]  # the next item is shown


def test_skip_moves_on_without_writing(
    writable_copy: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = _next(writable_copy)
    at = no_exception(_open(writable_copy, monkeypatch, "auditor"))
    at.main.button[1].click().run()

    assert at.session_state["audit_skipped"] == [item["item_id"]]
    assert not any(m.value == f"**{item['item']}**" for m in at.markdown)
    assert _rows(writable_copy, "SELECT count(*) FROM corrections") == [(0,)]


def _dispute(workspace: Workspace) -> dict:
    item = _next(workspace)
    with Store(workspace.db).connect() as con:
        for auditor, label in (("auditor", "billing"), ("second", "account")):
            submit_corrections(
                con,
                [Submission(0, item["item"], label, auditor, 10.0, subtask="topic", task=TASK)],
                allow_outside_queue=True,
                now=datetime.now(UTC),
                hourly_rate=30.0,
                currency="USD",
            )
    return item


def test_admin_adjudicates_a_dispute(
    writable_copy: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = _dispute(writable_copy)
    at = no_exception(_open(writable_copy, monkeypatch, "admin"))

    assert [t.label for t in at.tabs] == ["Queue", "Adjudication"]
    assert any(c.value == "auditor: billing  ·  second: account" for c in at.caption)
    decision = next(r for r in at.radio if r.key == f"adj_label_{item['item']}_topic")
    decision.set_value("account").run()
    next(b for b in at.button if b.key == f"adj_go_{item['item']}_topic").click().run()
    no_exception(at)

    assert _rows(writable_copy, "SELECT label, admin FROM adjudications") == [(2, "admin")]
    assert any(i.value.startswith("No disputes") for i in at.info)


def test_auditor_has_no_adjudication(
    writable_copy: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    _dispute(writable_copy)
    at = no_exception(_open(writable_copy, monkeypatch, "auditor"))
    assert len(at.tabs) == 0
    assert not any(r.key and r.key.startswith("adj_") for r in at.radio)


def test_empty_workspace(empty_workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    at = no_exception(_open(empty_workspace, monkeypatch, "auditor"))
    assert [i.value for i in at.info] and at.info[0].value.startswith("No data yet.")
    assert len(at.main.button) == 0


def test_no_round_yet(writable_copy: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    with Store(writable_copy.db).connect() as con:
        con.execute("DELETE FROM audit_queue")
        con.execute("DELETE FROM audit_rounds")
    at = no_exception(_open(writable_copy, monkeypatch, "auditor"))
    assert any("`labelwatch audit sample`" in i.value for i in at.info)
    assert [b.label for b in at.button if b.label in ("Submit", "Skip")] == []
