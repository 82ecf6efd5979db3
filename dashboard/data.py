"""Cached data loaders: the only place the dashboard reads the store."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from auditor.store import Store
from auditor.store.queries import Status, read_status


@st.cache_data(ttl=30, show_spinner=False)
def load_status(db_path: str, lock_timeout_s: float) -> Status | None:
    """The workspace status, or None when the database file does not exist yet."""
    path = Path(db_path)
    if not path.exists():
        return None
    with Store(path, lock_timeout_s=lock_timeout_s).connect() as con:
        return read_status(con)
