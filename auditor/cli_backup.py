"""`labelwatch backup PATH` and `labelwatch init --from-backup PATH [--force]`.

The logic is in auditor.store.backup; these handlers take (args, settings), print and
return the exit status (a BackupError is reported by cli.main as a user error).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict

from auditor.cli_common import emit
from auditor.settings import Settings
from auditor.store import Store
from auditor.store.backup import backup_database, restore_backup


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    store = Store(
        settings.db_path,
        lock_timeout_s=settings.lock_timeout_s,
        memory_limit=settings.duckdb_memory_limit,
    )
    report = backup_database(store, args.path)
    emit(
        args,
        asdict(report),
        f"backed up {report.source} (schema version {report.schema_version}, "
        f"{sum(report.tables.values())} rows, {report.bytes} bytes) to {report.path}",
    )
    return 0


def cmd_init_from_backup(args: argparse.Namespace, settings: Settings) -> int:
    """`init --from-backup PATH`: restore into settings.db_path, then migrate."""
    if args.from_backup is None:
        print("labelwatch: error: --force only applies with --from-backup", file=sys.stderr)
        return 2
    report = restore_backup(
        args.from_backup,
        settings.db_path,
        force=args.force,
        lock_timeout_s=settings.lock_timeout_s,
        memory_limit=settings.duckdb_memory_limit,
    )
    migrated = f", migrated {report.applied}" if report.applied else ""
    emit(
        args,
        asdict(report),
        f"{report.db}: restored from {report.backup} (schema version "
        f"{report.backup_schema_version}{migrated}; {sum(report.tables.values())} rows)",
    )
    return 0
