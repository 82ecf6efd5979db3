"""Session state: settings, the logged-in user, the shared task/subtask/window selection.

The role checks of write paths live in `auditor.auth.require` (server side); `act` is
how pages call a write: it checks the role first, whatever the page showed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import streamlit as st

from auditor.auth import Authenticator, require
from auditor.settings import Settings, load_settings
from auditor.users import User

T = TypeVar("T")
WINDOWS = {"7 days": 7, "30 days": 30, "90 days": 90, "all time": 0}


def settings() -> Settings:
    if "settings" not in st.session_state:
        st.session_state["settings"] = load_settings()
    value: Settings = st.session_state["settings"]
    return value


@st.cache_resource(show_spinner=False)
def authenticator(users_file: str) -> Authenticator:
    """One per server process, so that the login rate limit spans all sessions."""
    from pathlib import Path

    return Authenticator(Path(users_file))


def current_user() -> User | None:
    user = st.session_state.get("user")
    return user if isinstance(user, User) else None


def act(role: str, action: str, call: Callable[[], T]) -> T:
    """Run a write for the current user after the server-side role check
    (PermissionDeniedError, logged, for anyone without the role)."""
    require(current_user(), role, action=action)
    return call()


@dataclass(frozen=True)
class Selection:
    """The task, subtask (None = all) and window (days back from the newest data; 0 =
    all time) every page shows."""

    task: str | None
    subtask: str | None
    window_days: int


def selection() -> Selection:
    value = st.session_state.get("selection")
    return value if isinstance(value, Selection) else Selection(None, None, 30)


def sidebar_selection(tasks: dict[str, list[str]]) -> Selection:
    """Render the shared selectors in the sidebar; remember the choice across pages."""
    current = selection()
    if not tasks:
        st.session_state["selection"] = Selection(None, None, current.window_days)
        return selection()
    names = sorted(tasks)
    task = st.sidebar.selectbox(
        "Task", names, index=names.index(current.task) if current.task in names else 0
    )
    options = ["all subtasks", *tasks[task]]
    chosen = current.subtask if current.subtask in tasks[task] else "all subtasks"
    subtask = st.sidebar.selectbox("Subtask", options, index=options.index(chosen))
    labels = list(WINDOWS)
    days = [WINDOWS[k] for k in labels]
    window = st.sidebar.selectbox(
        "Window",
        labels,
        index=days.index(current.window_days) if current.window_days in days else 1,
    )
    picked = Selection(task, None if subtask == "all subtasks" else subtask, WINDOWS[window])
    st.session_state["selection"] = picked
    return picked


NO_DATA = (
    "No data yet. Build the demo workspace with `labelwatch demo`, or define a task with "
    "`labelwatch ingest tasks tasks.toml` and load items, LFs and votes with "
    "`labelwatch ingest items|lfs|votes FILE --task NAME`."
)


def stop_without_task(task: str | None) -> str:
    """The selected task; without one, the 'No data yet' explanation and st.stop()."""
    if task is None:
        st.info(NO_DATA)
        st.stop()
    return task
