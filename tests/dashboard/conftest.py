"""Dashboard test fixtures: a demo workspace after the pipeline, users of each role, and
AppTest runs signed in as one of them (the session's user is set as a login would set it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from auditor.demo.workspace import build_demo
from auditor.jobs import registered_jobs
from auditor.jobs.runner import run_job
from auditor.settings import Settings, load_settings
from auditor.store import Store, apply_migrations
from auditor.users import User, make_user, save_users

APP = Path(__file__).resolve().parents[2] / "dashboard" / "streamlit_app.py"
PASSWORD = "fixture-password-1"  # test fixture only, never a default
DEMO_ITEMS = 1500


@dataclass(frozen=True)
class Workspace:
    db: Path
    users_file: Path
    settings: Settings
    users: dict[str, User]


def _users(path: Path) -> dict[str, User]:
    users = {role: make_user(role, role, PASSWORD) for role in ("viewer", "auditor", "admin")}
    save_users(path, users)
    return users


@pytest.fixture(scope="session")
def demo_workspace_db(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The demo workspace after every pipeline job ran once (do not write to it: copy it
    with `writable_copy` for tests that change data)."""
    root = tmp_path_factory.mktemp("dashboard-demo")
    settings = load_settings(
        env={},
        overrides={
            "db_path": root / "lw.duckdb",
            "users_file": root / "demo-users.toml",
            "demo_dir": root / "demo",
            "scheduler_db": root / "scheduler.sqlite",
        },
    )
    build_demo(settings, n_items=DEMO_ITEMS)
    store = Store(settings.db_path)
    for job in registered_jobs().values():
        assert run_job(store, settings, job).status in ("succeeded", "skipped")
    users_file = root / "users.toml"
    return Workspace(settings.db_path, users_file, settings, _users(users_file))


@pytest.fixture
def writable_copy(demo_workspace_db: Workspace, tmp_path: Path) -> Workspace:
    """A private copy of the demo database for tests that submit or run jobs."""
    db = tmp_path / "lw.duckdb"
    db.write_bytes(demo_workspace_db.db.read_bytes())
    users_file = tmp_path / "users.toml"
    users_file.write_bytes(demo_workspace_db.users_file.read_bytes())
    return Workspace(db, users_file, demo_workspace_db.settings, demo_workspace_db.users)


@pytest.fixture
def empty_workspace(tmp_path: Path) -> Workspace:
    """A migrated database with no data, and the users."""
    db = tmp_path / "empty.duckdb"
    with Store(db).connect() as con:
        apply_migrations(con)
    users_file = tmp_path / "users.toml"
    return Workspace(db, users_file, load_settings(env={}), _users(users_file))


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No LABELWATCH_* setting leaks in; caches start empty."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("LABELWATCH_"):
            monkeypatch.delenv(name)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def app(
    workspace: Workspace,
    monkeypatch: pytest.MonkeyPatch,
    *,
    role: str | None,
    page: str | None = None,
    timeout: float = 60,
) -> AppTest:
    """AppTest of the dashboard on workspace, signed in as the user of `role` (None: not
    signed in), showing `page` (a path like "app_pages/lfs.py"; None: the default)."""
    monkeypatch.setenv("LABELWATCH_DB_PATH", str(workspace.db))
    monkeypatch.setenv("LABELWATCH_USERS_FILE", str(workspace.users_file))
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    if role is not None:
        at.session_state["user"] = workspace.users[role]
    at.run()
    if page is not None:
        at.switch_page(page)
        at.run()
    return at


def no_exception(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at
