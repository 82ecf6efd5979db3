from __future__ import annotations

from pathlib import Path

import pytest

from auditor.store import SchemaError, Store, apply_migrations
from auditor.store.migrations import Migration, current_version, load_migrations

EXPECTED_TABLES = {
    "schema_version",
    "budget_history",
    "tasks",
    "subtasks",
    "label_sets",
    "items",
    "labeling_functions",
    "votes",
    "gold_labels",
    "corrections",
    "annotation_events",
    "budgets",
    "goals",
    "fusion_runs",
    "fused_labels",
    "metrics",
    "alerts",
    "job_runs",
    "ingestions",
    "quarantine",
    "change_log",
    "lf_estimates",
    "audit_rounds",
    "audit_population",
    "audit_queue",
    "adjudications",
    "rule_violations",
}
LATEST = len(load_migrations())


def tables(store: Store) -> set[str]:
    with store.connect() as con:
        return {
            name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        }


def test_init_from_an_empty_file_then_again_changes_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path / "new" / "lw.duckdb")
    with store.connect() as con:
        assert apply_migrations(con) == list(range(1, LATEST + 1))
        assert apply_migrations(con) == []
        assert current_version(con) == LATEST
        versions = con.execute("SELECT version, description FROM schema_version ORDER BY 1")
        assert versions.fetchall()[:2] == [
            (1, "initial schema"),
            (2, "label-model estimates per LF and fused-run provenance"),
        ]
    assert tables(store) == EXPECTED_TABLES


def test_a_new_migration_applies_forward_only(tmp_path: Path) -> None:
    store = Store(tmp_path / "lw.duckdb")
    migrations = [
        *load_migrations(),
        Migration(LATEST + 1, "add notes", "CREATE TABLE notes (x INT);"),
    ]
    with store.connect() as con:
        assert apply_migrations(con, migrations[:1]) == [1]
        assert apply_migrations(con, migrations) == list(range(2, LATEST + 2))
        assert current_version(con) == LATEST + 1
    assert "notes" in tables(store)


def test_a_failing_migration_rolls_back_and_keeps_the_old_version(tmp_path: Path) -> None:
    store = Store(tmp_path / "lw.duckdb")
    broken = Migration(LATEST + 1, "broken", "CREATE TABLE half (x INT); CREATE TABLE oops (;")
    with store.connect() as con:
        apply_migrations(con)
        with pytest.raises(Exception, match="syntax error"):
            apply_migrations(con, [*load_migrations(), broken])
        assert current_version(con) == LATEST
    assert "half" not in tables(store)


def test_a_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    store = Store(tmp_path / "lw.duckdb")
    with store.connect() as con:
        apply_migrations(con)
        con.execute("INSERT INTO schema_version VALUES (99, 'future', now())")
        with pytest.raises(SchemaError, match="version 99 is newer"):
            apply_migrations(con)


def test_schema_sections_must_be_numbered_in_order() -> None:
    text = "-- migration: 1 a\nCREATE TABLE a (x INT);\n-- migration: 3 c\nSELECT 1;\n"
    with pytest.raises(SchemaError, match=r"numbered 1..n"):
        load_migrations(text)
    assert [m.version for m in load_migrations()] == list(range(1, LATEST + 1))
