"""Shared fixtures: a real temporary DuckDB file, migrated, and a small decomposed task."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from auditor.demo.workspace import build_demo
from auditor.ingest.service import ingest_file, ingest_tasks_file
from auditor.settings import Settings, load_settings
from auditor.store import Store, apply_migrations
from auditor.store.loading import IngestReport

TICKETS_TOML = """
[[task]]
name = "tickets"
[[task.subtask]]
name = "topic"
labels = ["billing", "technical", "other"]
manual_cost_per_label = "0.40"
[[task.subtask]]
name = "billing_issue"
parent = "topic"
parent_label = "billing"
labels = ["refund", "invoice"]
"""

ITEMS_CSV = "item,split,created_at,channel\n" + "".join(
    f"t{i},train,2026-10-{i:02d}T08:00:00,email\n" for i in range(1, 7)
)
LFS_CSV = (
    "lf,subtask,kind\nkw_bill,topic,pattern\nkw_tech,topic,heuristic\n"
    "refund_re,billing_issue,pattern\n"
)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """A migrated, empty store on a temporary DuckDB file."""
    result = Store(tmp_path / "lw.duckdb", lock_timeout_s=10)
    with result.connect() as con:
        apply_migrations(con)
    return result


@pytest.fixture
def tickets(store: Store, tmp_path: Path) -> Store:
    """The store with task 'tickets' (topic -> billing_issue under billing), items t1..t6
    and LFs kw_bill, kw_tech (topic) and refund_re (billing_issue)."""
    ingest_tasks_file(store, write(tmp_path, "tasks.toml", TICKETS_TOML))
    ingest(store, write(tmp_path, "items.csv", ITEMS_CSV), kind="items")
    ingest(store, write(tmp_path, "lfs.csv", LFS_CSV), kind="lfs")
    return store


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, "utf-8")
    return path


def ingest(
    store: Store, path: Path, *, kind: str, task: str = "tickets", **options: Any
) -> IngestReport:
    return ingest_file(
        store, path, kind=kind, task=task, chunk_rows=options.pop("chunk_rows", 1000), **options
    )


def rows(store: Store, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    with store.connect() as con:
        return con.execute(sql, list(params)).fetchall()


def demo_workspace(directory: Path, *, n_items: int) -> tuple[Store, Settings]:
    """The demo workspace built into directory (database, users file, demo files)."""
    settings = load_settings(
        env={},
        overrides={
            "db_path": directory / "lw.duckdb",
            "users_file": directory / "users.toml",
            "demo_dir": directory / "demo",
        },
    )
    build_demo(settings, n_items=n_items)
    return Store(settings.db_path), settings
