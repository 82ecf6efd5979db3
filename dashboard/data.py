"""Cached data loaders: the only place the dashboard reads the store.

Each loader opens one short read connection through the store (retrying a held lock),
reads precomputed rows with bound parameters and returns plain values; results are
cached for `TTL_S` seconds per argument set.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from auditor.store import Store
from auditor.store.audit_queue_io import needs_adjudication
from auditor.store.dashboard_audit_io import (
    audit_item,
    audit_progress,
    next_open_item,
    subtask_labels,
)
from auditor.store.dashboard_health_io import READS as HEALTH_READS
from auditor.store.dashboard_io import read_job_runs, read_metrics, task_subtasks
from auditor.store.dashboard_quality_io import error_yield_by_strategy
from auditor.store.queries import Status, read_status

TTL_S = 30


def _store(db_path: str, lock_timeout_s: float) -> Store | None:
    path = Path(db_path)
    return Store(path, lock_timeout_s=lock_timeout_s) if path.exists() else None


@st.cache_data(ttl=TTL_S, show_spinner=False)
def load_status(db_path: str, lock_timeout_s: float) -> Status | None:
    """The workspace status, or None when the database file does not exist yet."""
    store = _store(db_path, lock_timeout_s)
    if store is None:
        return None
    with store.connect() as con:
        return read_status(con)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def load_tasks(db_path: str, lock_timeout_s: float) -> dict[str, list[str]]:
    """{task: [subtasks]} ({} before any task exists)."""
    store = _store(db_path, lock_timeout_s)
    if store is None:
        return {}
    with store.connect() as con:
        if not con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'subtasks'"
        ).fetchall()[0][0]:
            return {}
        return task_subtasks(con)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def load_metrics(
    db_path: str,
    lock_timeout_s: float,
    task: str,
    metrics: tuple[str, ...],
    scope: str | None = None,
    since: dt.datetime | None = None,
    all_time: bool | None = None,
) -> pd.DataFrame:
    """Metric history rows as a frame (columns: metric, scope, key, window_start,
    window_end, value, ci_low, ci_high, details (JSON text), computed_at)."""
    store = _store(db_path, lock_timeout_s)
    columns = [
        "metric",
        "scope",
        "key",
        "window_start",
        "window_end",
        "value",
        "ci_low",
        "ci_high",
        "details",
        "computed_at",
    ]
    if store is None:
        return pd.DataFrame(columns=columns)
    with store.connect() as con:
        rows = read_metrics(
            con, task=task, metrics=list(metrics), scope=scope, since=since, all_time=all_time
        )
    return pd.DataFrame(rows, columns=columns)


@st.cache_data(ttl=5, show_spinner=False)
def load_job_runs(db_path: str, lock_timeout_s: float, limit: int = 200) -> list[dict[str, Any]]:
    store = _store(db_path, lock_timeout_s)
    if store is None:
        return []
    with store.connect() as con:
        return read_job_runs(con, limit=limit)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def load_error_yield(
    db_path: str,
    lock_timeout_s: float,
    task: str,
    subtask: str | None = None,
    since: dt.datetime | None = None,
) -> pd.DataFrame:
    """Audit queue per sampling strategy (columns: strategy, queued, open, audited, errors,
    disputed, error_share); empty before the first audit round."""
    columns = ["strategy", "queued", "open", "audited", "errors", "disputed", "error_share"]
    store = _store(db_path, lock_timeout_s)
    if store is None:
        return pd.DataFrame(columns=columns)
    with store.connect() as con:
        rows = error_yield_by_strategy(con, task=task, subtask=subtask, since=since)
    return pd.DataFrame(rows, columns=columns)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def load_health(db_path: str, lock_timeout_s: float, read: str, **params: Any) -> Any:
    """One read of auditor.store.dashboard_health_io, named by `read` (a key of its READS:
    latest_window, task_item_count, latest_metrics, open_alerts, coverage_by_day,
    lf_table, lf_votes_by_day, lf_confusion, lf_disagreements) with its keyword params;
    None when the database file does not exist yet."""
    store = _store(db_path, lock_timeout_s)
    if store is None:
        return None
    with store.connect() as con:
        return HEALTH_READS[read](con, **params)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def load_next_audit_item(
    db_path: str, lock_timeout_s: float, task: str, auditor: str, exclude: tuple[int, ...] = ()
) -> dict[str, Any] | None:
    """{item_id, open_items} of the auditor's next open queue item in task, or None
    (auditor.store.dashboard_audit_io.next_open_item)."""
    store = _store(db_path, lock_timeout_s)
    if store is None:
        return None
    with store.connect() as con:
        return next_open_item(con, task=task, auditor=auditor, exclude=list(exclude))


@st.cache_data(ttl=TTL_S, show_spinner=False)
def load_audit_item(db_path: str, lock_timeout_s: float, item_id: int) -> dict[str, Any] | None:
    """One item with its fused labels, probabilities and LF votes per subtask
    (auditor.store.dashboard_audit_io.audit_item)."""
    store = _store(db_path, lock_timeout_s)
    if store is None:
        return None
    with store.connect() as con:
        return audit_item(con, item_id)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def load_audit_progress(
    db_path: str, lock_timeout_s: float, task: str, auditor: str
) -> dict[str, Any] | None:
    """The auditor's progress in task (auditor.store.dashboard_audit_io.audit_progress)."""
    store = _store(db_path, lock_timeout_s)
    if store is None:
        return None
    with store.connect() as con:
        return audit_progress(con, task=task, auditor=auditor)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def load_disputes(
    db_path: str, lock_timeout_s: float, task: str
) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """(items whose auditors disagree and no admin decided, {subtask: label names})."""
    store = _store(db_path, lock_timeout_s)
    if store is None:
        return [], {}
    with store.connect() as con:
        return needs_adjudication(con, task=task), subtask_labels(con, task)


def clear_audit_cache() -> None:
    """Forget the cached audit reads (after a submission or an adjudication)."""
    for loader in (load_next_audit_item, load_audit_item, load_audit_progress, load_disputes):
        loader.clear()
