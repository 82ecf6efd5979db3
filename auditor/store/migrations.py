"""Forward migrations read from the one schema file, schema.sql.

Each section starts with ``-- migration: N description``; ``apply_migrations`` runs, each
in its own transaction, the sections above the recorded version. Idempotent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources

from auditor.store.connection import Connection

_HEADER = re.compile(r"^-- migration: (\d+) (.+)$", re.MULTILINE)


class SchemaError(RuntimeError):
    """The database's schema is newer than this code, or the schema file is malformed."""


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    sql: str


def load_migrations(text: str | None = None) -> list[Migration]:
    """Parse schema.sql (or the given text) into migrations, checking numbers run 1, 2, ..."""
    if text is None:
        text = resources.files("auditor.store").joinpath("schema.sql").read_text("utf-8")
    headers = list(_HEADER.finditer(text))
    migrations = []
    for index, match in enumerate(headers):
        end = headers[index + 1].start() if index + 1 < len(headers) else len(text)
        migrations.append(Migration(int(match[1]), match[2].strip(), text[match.end() : end]))
    numbers = [m.version for m in migrations]
    if numbers != list(range(1, len(numbers) + 1)):
        raise SchemaError(f"schema.sql migrations must be numbered 1..n in order, got {numbers}")
    return migrations


def current_version(con: Connection) -> int:
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'schema_version'"
    ).fetchall()[0][0]
    if not exists:
        return 0
    return int(con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchall()[0][0])


def apply_migrations(con: Connection, migrations: list[Migration] | None = None) -> list[int]:
    """Apply pending migrations; return the versions applied (empty when up to date)."""
    migrations = load_migrations() if migrations is None else migrations
    version = current_version(con)
    latest = migrations[-1].version if migrations else 0
    if version > latest:
        raise SchemaError(
            f"database schema version {version} is newer than this labelwatch (knows {latest}); "
            "upgrade labelwatch"
        )
    applied = []
    for migration in migrations:
        if migration.version <= version:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(migration.sql)
            con.execute(
                "INSERT INTO schema_version VALUES (?, ?, ?)",
                [migration.version, migration.description, datetime.now(UTC).replace(tzinfo=None)],
            )
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
        applied.append(migration.version)
    return applied
