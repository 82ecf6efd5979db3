"""What every CLI module shares: opening the store from settings, printing results."""

from __future__ import annotations

import argparse
import json
from typing import Any

from auditor.settings import Settings
from auditor.store import Store, apply_migrations


def open_store(settings: Settings, *, migrate: bool = True) -> Store:
    """The store of settings.db_path, migrated to the latest schema unless migrate=False."""
    store = Store(
        settings.db_path,
        lock_timeout_s=settings.lock_timeout_s,
        memory_limit=settings.duckdb_memory_limit,
    )
    if migrate:
        with store.connect() as con:
            apply_migrations(con)
    return store


def emit(args: argparse.Namespace, payload: Any, text: str) -> None:
    """JSON of payload with --json, else text."""
    if getattr(args, "json", False):
        print(json.dumps(payload, default=str, indent=2))
    else:
        print(text)
