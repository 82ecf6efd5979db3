"""Security of the dashboard: sign-in only for visitors, the login rate limit through the
form, pages by role, and server-side refusal (logged) of writes a role does not allow."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from auditor.store import Store
from auditor.store.dashboard_audit_io import audit_item, next_open_item
from tests.dashboard.conftest import APP, PASSWORD, Workspace, app, no_exception

PAGES = Path(APP).parent / "app_pages"


def _sign_in(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    at.button[0].click().run()
    return no_exception(at)


def _corrections(workspace: Workspace) -> int:
    with Store(workspace.db).connect() as con:
        return int(con.execute("SELECT count(*) FROM corrections").fetchall()[0][0])


def test_visitors_see_only_the_sign_in_form(
    demo_workspace_db: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = no_exception(app(demo_workspace_db, monkeypatch, role=None))

    assert [t.value for t in at.title] == ["labelwatch"]
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    assert [b.label for b in at.button] == ["Sign in"]
    assert len(at.sidebar.selectbox) == 0 and len(at.selectbox) == 0
    assert len(at.metric) == 0 and len(at.dataframe) == 0 and not at.get("vega_lite_chart")
    for page in ("app_pages/overview.py", "app_pages/audit_queue.py", "app_pages/jobs.py"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page)


def test_sign_in_through_the_form(
    demo_workspace_db: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = no_exception(app(demo_workspace_db, monkeypatch, role=None))
    _sign_in(at, "viewer", "wrong-password")
    assert [e.value for e in at.error] == ["unknown user or wrong password"]
    assert "user" not in at.session_state
    _sign_in(at, "nobody", PASSWORD)
    assert [e.value for e in at.error] == ["unknown user or wrong password"]

    _sign_in(at, "viewer", PASSWORD)
    assert at.session_state["user"].username == "viewer"
    assert [t.value for t in at.title] == ["labelwatch overview"]
    assert {m.label for m in at.metric} >= {"Items"}
    assert [s.label for s in at.sidebar.selectbox] == ["Task", "Subtask", "Window"]


def test_login_rate_limit(demo_workspace_db: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    at = no_exception(app(demo_workspace_db, monkeypatch, role=None))
    for _ in range(5):
        _sign_in(at, "admin", "wrong-password")
        assert [e.value for e in at.error] == ["unknown user or wrong password"]
    _sign_in(at, "admin", PASSWORD)
    assert len(at.error) == 1 and at.error[0].value.startswith(
        "too many failed attempts; try again in"
    )
    assert "user" not in at.session_state
    assert [t.value for t in at.title] == ["labelwatch"]


def test_viewer_navigation(demo_workspace_db: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    at = no_exception(app(demo_workspace_db, monkeypatch, role="viewer"))
    assert [t.value for t in at.title] == ["labelwatch overview"]
    for page in ("app_pages/audit_queue.py", "app_pages/jobs.py"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page)


def test_viewer_opening_the_page_script_is_refused(
    demo_workspace_db: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even run without the router, the pages show nothing to a viewer."""
    monkeypatch.setenv("LABELWATCH_DB_PATH", str(demo_workspace_db.db))
    for page, message in (
        ("audit_queue.py", "The audit queue needs the auditor role."),
        ("jobs.py", "The jobs page needs the admin role."),
    ):
        at = AppTest.from_file(str(PAGES / page), default_timeout=60)
        at.session_state["user"] = demo_workspace_db.users["viewer"]
        no_exception(at.run())
        assert [e.value for e in at.error] == [message]
        assert len(at.button) == 0 and len(at.radio) == 0 and len(at.metric) == 0


def _forged_submission() -> None:  # an AppTest script: runs with the session below
    import streamlit as st

    from auditor.auth import PermissionDeniedError
    from dashboard.session import settings
    from dashboard.writes import submit_audit

    try:
        submit_audit(
            settings(),
            task="support_tickets",
            item=st.session_state["item"],
            labels=[("topic", "billing")],
            seconds=5.0,
            note="forged",
            allow_outside_queue=True,
        )
    except PermissionDeniedError as exc:
        st.error(f"refused: {exc}")
    else:
        st.success("written")


def _forge(workspace: Workspace, monkeypatch: pytest.MonkeyPatch, role: str) -> AppTest:
    monkeypatch.setenv("LABELWATCH_DB_PATH", str(workspace.db))
    with Store(workspace.db).connect() as con:
        found = next_open_item(con, task="support_tickets", auditor=role)
        assert found is not None
        item = audit_item(con, found["item_id"])
    assert item is not None
    at = AppTest.from_function(_forged_submission, default_timeout=60)
    at.session_state["user"] = workspace.users[role]
    at.session_state["item"] = item["item"]
    return no_exception(at.run())


def test_viewer_forged_submission_is_refused_and_logged(
    writable_copy: Workspace, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="labelwatch.auth"):
        at = _forge(writable_copy, monkeypatch, "viewer")

    assert [e.value for e in at.error] == ["refused: submit an audit needs the auditor role"]
    assert "refused: viewer (viewer) tried to submit an audit (needs auditor)" in caplog.text
    assert _corrections(writable_copy) == 0


def test_act_refuses_a_viewer(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, demo_workspace_db: Workspace
) -> None:
    import dashboard.session as session
    from auditor.auth import PermissionDeniedError

    monkeypatch.setattr(session, "current_user", lambda: demo_workspace_db.users["viewer"])
    called: list[bool] = []
    with (
        caplog.at_level(logging.WARNING, logger="labelwatch.auth"),
        pytest.raises(PermissionDeniedError),
    ):
        session.act("admin", "run the pipeline", lambda: called.append(True))
    assert called == [] and "tried to run the pipeline" in caplog.text


def test_auditor_submission_lands(
    writable_copy: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _forge(writable_copy, monkeypatch, "auditor")
    assert [s.value for s in at.success] == ["written"]
    with Store(writable_copy.db).connect() as con:
        rows = con.execute("SELECT auditor, label, note FROM corrections").fetchall()
    assert rows == [("auditor", 0, "forged")]


def test_admin_sees_jobs(demo_workspace_db: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    at = no_exception(app(demo_workspace_db, monkeypatch, role="admin", page="app_pages/jobs.py"))
    assert [t.value for t in at.title] == ["Jobs"]
    assert any(b.label == "Run the pipeline now" for b in at.button)
    at.switch_page("app_pages/audit_queue.py")
    no_exception(at.run())
    assert [t.value for t in at.title] == ["Audit queue"]
