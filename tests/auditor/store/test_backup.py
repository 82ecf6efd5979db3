"""Backups on real temporary DuckDB files: copy, restore, refusals, damage, a held lock."""

from __future__ import annotations

import multiprocessing as mp
import time
from multiprocessing.synchronize import Event
from pathlib import Path

import duckdb
import pytest

from auditor import cli
from auditor.store import SchemaError, Store, apply_migrations
from auditor.store.backup import (
    BackupError,
    backup_database,
    restore_backup,
    table_checksums,
    table_names,
)
from auditor.store.migrations import load_migrations
from tests.conftest import demo_workspace, ingest, rows, write

LATEST = load_migrations()[-1].version
VOTES_CSV = (
    "item,lf,subtask,label,confidence\n"
    "t1,kw_bill,topic,billing,0.9\n"
    "t2,kw_tech,topic,technical,\n"
    "t3,kw_bill,topic,billing,0.5\n"
    "t1,refund_re,billing_issue,refund,1.0\n"
    "t3,refund_re,billing_issue,invoice,0.25\n"
)


@pytest.fixture
def filled(tickets: Store, tmp_path: Path) -> Store:
    """The tickets store with votes (and so ingestions, a change log, sequences in use)."""
    ingest(tickets, write(tmp_path, "votes.csv", VOTES_CSV), kind="votes")
    assert rows(tickets, "SELECT count(*) FROM votes") == [(5,)]
    return tickets


def checksums(path: Path) -> dict[str, tuple[int, int]]:
    with Store(path).connect() as con:
        return {t: (s.rows, s.checksum) for t, s in table_checksums(con).items()}


def migrated(path: Path) -> Store:
    """A migrated store with no rows besides schema_version."""
    result = Store(path, lock_timeout_s=10)
    with result.connect() as con:
        apply_migrations(con)
    return result


def leftovers(folder: Path) -> list[str]:
    """Temporary files of a backup or restore that must not survive it."""
    names = [p.name for p in folder.iterdir()] if folder.is_dir() else []
    return sorted(n for n in names if ".backup-" in n or ".restore-" in n)


def test_a_backup_restores_every_table_row_for_row(filled: Store, tmp_path: Path) -> None:
    original = checksums(filled.path)
    assert original["votes"][0] == 5 and original["items"][0] == 6

    report = backup_database(filled, tmp_path / "backups" / "b1.duckdb")
    assert report.tables == {t: n for t, (n, _) in original.items()}
    assert report.schema_version == LATEST and Path(report.path).stat().st_size == report.bytes

    restored = restore_backup(Path(report.path), tmp_path / "new" / "lw.duckdb")
    assert restored.applied == [] and restored.schema_version == LATEST
    assert not restored.replaced_existing
    assert checksums(tmp_path / "new" / "lw.duckdb") == original
    assert leftovers(tmp_path / "backups") == [] and leftovers(tmp_path / "new") == []


def test_the_restored_database_keeps_its_sequences_and_constraints(
    filled: Store, tmp_path: Path
) -> None:
    backup = Path(backup_database(filled, tmp_path / "b.duckdb").path)
    target = tmp_path / "new.duckdb"
    restore_backup(backup, target)
    with Store(target).connect() as con:
        top = con.execute("SELECT max(item_id) FROM items").fetchall()[0][0]
        task_id = con.execute("SELECT task_id FROM tasks").fetchall()[0][0]
        new_id = con.execute(
            "INSERT INTO items (task_id, external_id, created_at) VALUES (?, 'fresh', now()) "
            "RETURNING item_id",
            [task_id],
        ).fetchall()[0][0]
        assert new_id > top  # the sequence continues where the source stopped
        with pytest.raises(duckdb.ConstraintException):
            con.execute(
                "INSERT INTO items (task_id, external_id, created_at) VALUES (?, 't1', now())",
                [task_id],
            )


def test_a_folder_as_backup_path_gets_a_timestamped_file(filled: Store, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    report = backup_database(filled, folder)
    assert Path(report.path).parent == folder
    assert Path(report.path).name.startswith("labelwatch-") and report.path.endswith(".duckdb")


def test_a_backup_never_overwrites_a_file_and_needs_a_database(
    filled: Store, tmp_path: Path
) -> None:
    existing = write(tmp_path, "taken.duckdb", "keep me")
    with pytest.raises(BackupError, match="exists"):
        backup_database(filled, existing)
    assert existing.read_text() == "keep me"
    with pytest.raises(BackupError, match="no database"):
        backup_database(Store(tmp_path / "absent.duckdb"), tmp_path / "b.duckdb")
    assert not (tmp_path / "b.duckdb").exists() and not (tmp_path / "absent.duckdb").exists()


def test_restore_refuses_a_database_with_data_unless_forced(filled: Store, tmp_path: Path) -> None:
    backup = Path(backup_database(filled, tmp_path / "b.duckdb").path)
    other = migrated(tmp_path / "other.duckdb")
    with other.connect() as con:
        con.execute("INSERT INTO tasks (name, created_at) VALUES ('mine', now())")
    before = checksums(other.path)

    with pytest.raises(BackupError, match="--force"):
        restore_backup(backup, other.path)
    assert checksums(other.path) == before and leftovers(tmp_path) == []

    report = restore_backup(backup, other.path, force=True)
    assert report.replaced_existing
    assert checksums(other.path) == checksums(filled.path)


def test_restore_may_replace_a_freshly_initialised_database(filled: Store, tmp_path: Path) -> None:
    backup = Path(backup_database(filled, tmp_path / "b.duckdb").path)
    empty = migrated(tmp_path / "empty.duckdb")  # schema only, no rows
    restore_backup(backup, empty.path)
    assert checksums(empty.path) == checksums(filled.path)


@pytest.mark.parametrize("damage", ["missing", "folder", "garbage", "truncated", "not_labelwatch"])
def test_a_bad_backup_is_a_clear_error_and_leaves_no_file(
    filled: Store, tmp_path: Path, damage: str
) -> None:
    bad = tmp_path / "bad.duckdb"
    if damage == "folder":
        bad.mkdir()
    elif damage == "garbage":
        bad.write_bytes(b"not a database" * 1000)
    elif damage == "truncated":
        good = Path(backup_database(filled, tmp_path / "good.duckdb").path).read_bytes()
        bad.write_bytes(good[: len(good) // 3])
    elif damage == "not_labelwatch":
        with duckdb.connect(str(bad)) as con:
            con.execute("CREATE TABLE t AS SELECT 1 AS x")
    target_dir = tmp_path / "target"
    target = target_dir / "lw.duckdb"
    with pytest.raises(BackupError) as caught:
        restore_backup(bad, target)
    message = str(caught.value)
    assert str(bad) in message
    assert {
        "missing": "no backup at",
        "folder": "is not a file",
        "garbage": "not a readable DuckDB database",
        "truncated": "not a readable DuckDB database",
        "not_labelwatch": "not a labelwatch database",
    }[damage] in message
    assert not target.exists() and not target.with_name("lw.duckdb.wal").exists()
    assert leftovers(target_dir) == []


def test_an_older_backup_is_migrated_on_restore(tmp_path: Path) -> None:
    migrations = load_migrations()
    old = Store(tmp_path / "old.duckdb")
    with old.connect() as con:
        apply_migrations(con, migrations[:2])
        con.execute("INSERT INTO tasks (name, created_at) VALUES ('legacy', now())")
    backup = Path(backup_database(old, tmp_path / "old-backup.duckdb").path)
    report = restore_backup(backup, tmp_path / "new.duckdb")
    assert report.backup_schema_version == 2
    assert report.applied == list(range(3, LATEST + 1)) and report.schema_version == LATEST
    assert rows(Store(tmp_path / "new.duckdb"), "SELECT name FROM tasks") == [("legacy",)]


def test_a_backup_newer_than_the_code_is_refused_and_leaves_no_file(
    filled: Store, tmp_path: Path
) -> None:
    with filled.connect() as con:
        con.execute("INSERT INTO schema_version VALUES (?, 'from the future', now())", [999])
    backup = Path(backup_database(filled, tmp_path / "b.duckdb").path)
    with pytest.raises(SchemaError, match="newer"):
        restore_backup(backup, tmp_path / "t" / "lw.duckdb")
    assert not (tmp_path / "t" / "lw.duckdb").exists() and leftovers(tmp_path / "t") == []


def _hold_lock(path: str, seconds: float, ready: Event) -> None:
    con = duckdb.connect(path)
    ready.set()
    time.sleep(seconds)
    con.close()


def test_a_backup_waits_for_a_connection_held_by_another_process(
    filled: Store, tmp_path: Path
) -> None:
    ctx = mp.get_context("spawn")
    ready = ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(str(filled.path), 1.0, ready))
    holder.start()
    assert ready.wait(30)
    started = time.monotonic()
    report = backup_database(Store(filled.path, lock_timeout_s=20), tmp_path / "b.duckdb")
    waited = time.monotonic() - started
    holder.join(30)
    assert holder.exitcode == 0
    assert waited > 0.3  # it really waited for the other process's lock
    assert sum(report.tables.values()) > 0
    assert checksums(Path(report.path)) == checksums(filled.path)


def test_the_cli_backs_up_and_restores(
    filled: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--db", str(filled.path)]
    assert cli.main([*db, "backup", str(tmp_path / "cli.duckdb")]) == 0
    assert "backed up" in capsys.readouterr().out

    target = ["--db", str(tmp_path / "restored.duckdb")]
    assert cli.main([*target, "init", "--from-backup", str(tmp_path / "cli.duckdb")]) == 0
    assert "restored from" in capsys.readouterr().out
    assert checksums(tmp_path / "restored.duckdb") == checksums(filled.path)

    assert cli.main([*target, "init", "--from-backup", str(tmp_path / "cli.duckdb")]) == 2
    assert "--force" in capsys.readouterr().err
    assert (
        cli.main([*target, "init", "--from-backup", str(tmp_path / "cli.duckdb"), "--force"]) == 0
    )
    assert cli.main([*target, "init", "--force"]) == 2
    assert "only applies with --from-backup" in capsys.readouterr().err
    assert cli.main([*target, "init", "--from-backup", str(tmp_path / "nope.duckdb")]) == 2
    assert "no backup at" in capsys.readouterr().err


def test_table_names_lists_every_schema_table(filled: Store) -> None:
    with filled.connect() as con:
        names = table_names(con)
    assert {"schema_version", "items", "votes", "job_runs"} <= set(names)


def test_the_demo_workspace_round_trips(tmp_path: Path) -> None:
    store, _ = demo_workspace(tmp_path / "demo", n_items=300)
    original = checksums(store.path)
    assert sum(1 for n, _ in original.values() if n) >= 8  # many tables hold rows
    backup = Path(backup_database(store, tmp_path / "demo.backup").path)
    restore_backup(backup, tmp_path / "restored" / "lw.duckdb")
    assert checksums(tmp_path / "restored" / "lw.duckdb") == original
