"""Backups of the DuckDB store: a checkpointed copy of the database file, and its restore.

Why a checkpointed file copy and not ``EXPORT DATABASE``:

- Consistency comes from DuckDB's file lock. ``backup_database`` holds one connection for
  the whole backup, so no other process can open the file (their connects fail with
  "Could not set lock" and retry, see connection.py). ``CHECKPOINT`` folds the write-ahead
  log into the main file; from then until the connection closes nothing can change it, and
  the main file alone is the complete database. The file's size and mtime are compared
  before and after the copy, and a WAL that appears meanwhile (a writer in this same
  process, which the lock does not exclude) fails the backup instead of keeping a torn copy.
- The copy is the database itself, byte for byte: sequences keep their positions (DuckDB
  has no ``setval``), constraints, indexes and the view come back without a re-import, and
  a restore is "copy, check, migrate, rename". An export would re-create the schema from
  DuckDB's generated DDL and re-load every table from Parquet (slower, with the lock held
  longer), and ``EXPORT``/``IMPORT DATABASE`` take their folder only as a SQL string
  literal, never a bound parameter (the project binds every value).
- The cost: a backup is a DuckDB file of the storage format of the DuckDB that wrote it
  (newer DuckDB versions read older files), and it includes free blocks.

Every backup is checked after the copy: the copy is opened and every table read in full
(DuckDB verifies each block's checksum as it reads), and its row counts must equal those
read from the source under the lock. A restore reads the backup the same way before it
takes its place.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from auditor.store.connection import Connection, Store
from auditor.store.migrations import apply_migrations, current_version


class BackupError(RuntimeError):
    """A backup could not be written or restored; nothing was left half-written."""


@dataclass(frozen=True)
class TableChecksum:
    """rows: count(*); checksum: the sum over rows of DuckDB's hash of the whole row (order
    independent, repeated rows count each time)."""

    rows: int
    checksum: int


@dataclass(frozen=True)
class BackupReport:
    source: str
    path: str
    schema_version: int
    bytes: int
    tables: dict[str, int]
    duration_s: float


@dataclass(frozen=True)
class RestoreReport:
    backup: str
    db: str
    backup_schema_version: int
    applied: list[int]
    schema_version: int
    replaced_existing: bool
    tables: dict[str, int]
    duration_s: float


def table_names(con: Connection) -> list[str]:
    """The user tables of the open database (main schema), sorted."""
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() "
        "WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal "
        "ORDER BY table_name"
    ).fetchall()
    return [str(row[0]) for row in rows]


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def table_row_counts(con: Connection) -> dict[str, int]:
    counts = {}
    for table in table_names(con):
        # identifier from the catalog, quoted; no value is composed into the SQL
        sql = "SELECT count(*) FROM " + _quoted(table)  # noqa: S608
        counts[table] = int(con.execute(sql).fetchall()[0][0])
    return counts


def table_checksums(con: Connection) -> dict[str, TableChecksum]:
    """Row count and content checksum of every table; reads every column of every row."""
    sums = {}
    for table in table_names(con):
        # identifier from the catalog, quoted; `t` is the row as a struct
        sql = (
            "SELECT count(*), coalesce(sum(hash(t)::HUGEINT), 0) FROM "  # noqa: S608
            + _quoted(table)
            + " AS t"
        )
        rows, checksum = con.execute(sql).fetchall()[0]
        sums[table] = TableChecksum(int(rows), int(checksum))
    return sums


def default_backup_name(now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"labelwatch-{stamp}.duckdb"


def backup_database(store: Store, path: Path) -> BackupReport:
    """Write a consistent copy of store's database to path (a folder: a timestamped file
    in it). Refuses an existing file; writes a temporary file next to it, checks it, then
    renames it into place, so a failed backup leaves nothing."""
    started = time.monotonic()
    if not store.path.is_file():
        raise BackupError(f"no database at {store.path}: nothing to back up")
    target = path / default_backup_name() if path.is_dir() else path
    if target.exists():
        raise BackupError(f"{target} exists; choose a new backup path")
    target.parent.mkdir(parents=True, exist_ok=True)
    with _scratch_file(target, "backup") as partial:
        with store.connect() as con:
            if not _has_schema_version(con):
                raise BackupError(f"{store.path} is not a labelwatch database")
            version = current_version(con)
            expected = table_row_counts(con)
            _copy_checkpointed(con, store.path, partial)
        copy = Store(partial, lock_timeout_s=store.lock_timeout_s, memory_limit=store.memory_limit)
        try:
            with copy.connect() as check:
                found = {name: s.rows for name, s in table_checksums(check).items()}
        except duckdb.Error as exc:
            raise BackupError(f"the copy of {store.path} does not read back: {exc}") from exc
        if found != expected:
            raise BackupError(
                f"the copy of {store.path} differs from the database: {expected} != {found}"
            )
        _durable_replace(partial, target)
    return BackupReport(
        source=str(store.path),
        path=str(target),
        schema_version=version,
        bytes=target.stat().st_size,
        tables=expected,
        duration_s=time.monotonic() - started,
    )


def restore_backup(
    backup: Path,
    db_path: Path,
    *,
    force: bool = False,
    lock_timeout_s: float = 30.0,
    memory_limit: str | None = "1GB",
) -> RestoreReport:
    """Restore a file written by backup_database to db_path and migrate it to the latest
    schema.

    Refuses a db_path that holds rows (or cannot be read as a database) unless force. The
    backup is copied to a temporary file next to db_path, read in full, migrated and
    checkpointed there, and only then renamed over db_path: a missing, corrupt or newer
    backup raises BackupError (SchemaError for a newer schema) and leaves db_path as it
    was. Stop the scheduler and the dashboard first: a process that holds a connection
    across the rename keeps writing to the replaced file.
    """
    started = time.monotonic()
    if not backup.exists():
        raise BackupError(f"no backup at {backup}")
    if not backup.is_file():
        raise BackupError(f"{backup} is not a file (expected one written by `labelwatch backup`)")
    replacing = db_path.exists()
    if replacing and not force:
        _refuse_nonempty(db_path, lock_timeout_s=lock_timeout_s)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with _scratch_file(db_path, "restore") as partial:
        shutil.copyfile(backup, partial)
        store = Store(partial, lock_timeout_s=lock_timeout_s, memory_limit=memory_limit)
        try:
            with store.connect() as con:
                if not _has_schema_version(con):
                    raise BackupError(f"{backup} is not a labelwatch database")
                before = current_version(con)
                table_checksums(con)  # reads every block: a damaged backup fails here
                applied = apply_migrations(con)
                version = current_version(con)
                tables = table_row_counts(con)
                con.execute("CHECKPOINT")
        except duckdb.Error as exc:
            raise BackupError(f"{backup} is not a readable DuckDB database: {exc}") from exc
        _remove_wal(db_path)  # a stale log of the replaced file must not replay onto this one
        _durable_replace(partial, db_path)
    return RestoreReport(
        backup=str(backup),
        db=str(db_path),
        backup_schema_version=before,
        applied=applied,
        schema_version=version,
        replaced_existing=replacing,
        tables=tables,
        duration_s=time.monotonic() - started,
    )


def _refuse_nonempty(db_path: Path, *, lock_timeout_s: float) -> None:
    """Raise BackupError unless db_path is empty: no bytes, or no rows in any table
    besides schema_version (a freshly initialised database may be replaced)."""
    if db_path.is_file() and db_path.stat().st_size == 0:
        return
    try:
        with Store(db_path, lock_timeout_s=lock_timeout_s, memory_limit=None).connect() as con:
            counts = table_row_counts(con)
    except duckdb.Error as exc:
        raise BackupError(
            f"{db_path} exists and cannot be read as a database ({exc}); pass --force to replace it"
        ) from exc
    rows = sum(n for table, n in counts.items() if table != "schema_version")
    if rows:
        raise BackupError(
            f"{db_path} already holds a database with {rows} rows; "
            "pass --force to replace it with the backup"
        )


def _has_schema_version(con: Connection) -> bool:
    return "schema_version" in table_names(con)


def _copy_checkpointed(con: Connection, db_path: Path, partial: Path) -> None:
    """Copy db_path to partial while con (and so the file lock) is held."""
    con.execute("CHECKPOINT")
    wal = _wal(db_path)
    before = db_path.stat()
    if wal.exists() and wal.stat().st_size:
        raise BackupError(f"{wal} is not empty after CHECKPOINT: a writer is active; retry")
    shutil.copyfile(db_path, partial)
    after = db_path.stat()
    changed = (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns)
    if changed or (wal.exists() and wal.stat().st_size):
        raise BackupError(f"{db_path} changed during the copy (a writer in this process); retry")


@contextmanager
def _scratch_file(beside: Path, purpose: str) -> Iterator[Path]:
    """A fresh temporary path in beside's folder; it and its WAL are removed on exit
    unless it was renamed away."""
    scratch = beside.parent / f".{beside.name}.{purpose}-{uuid.uuid4().hex[:12]}"
    try:
        yield scratch
    finally:
        scratch.unlink(missing_ok=True)
        _remove_wal(scratch)


def _wal(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".wal")


def _remove_wal(db_path: Path) -> None:
    _wal(db_path).unlink(missing_ok=True)


def _durable_replace(source: Path, target: Path) -> None:
    """fsync source, rename it over target (atomic on one file system), fsync the folder."""
    with open(source, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(source, target)
    try:
        folder = os.open(target.parent, os.O_RDONLY)
    except OSError:  # some platforms cannot open a folder; the rename itself is done
        return
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
