"""ingest-watch: dropped files are ingested through the validated path, then moved."""

from __future__ import annotations

import os
import time
from pathlib import Path

from auditor.jobs.ingest_watch import pending_files, run_ingest_watch
from auditor.settings import load_settings
from auditor.store import Store
from tests.conftest import rows


def drop(root: Path, task: str, kind: str, name: str, text: str, *, age_s: float = 10) -> Path:
    path = root / task / kind / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    past = time.time() - age_s
    os.utime(path, (past, past))
    return path


def test_files_are_ingested_and_moved_with_failures_explained(
    tickets: Store, tmp_path: Path
) -> None:
    root = tmp_path / "inbox"
    drop(
        root, "tickets", "votes", "a.csv", "item,lf,label\nt1,kw_bill,billing\nt9,kw_bill,billing\n"
    )
    drop(root, "nosuch", "votes", "b.csv", "item,lf,label\nt1,kw_bill,billing\n", age_s=5)
    drop(root, "tickets", "pictures", "c.csv", "x\n1\n", age_s=4)
    drop(root, "tickets", "votes", "d.csv.part", "still being written")
    drop(root, "tickets", "votes", "e.csv", "item,lf,label\nt2,kw_tech,technical\n", age_s=0)
    settings = load_settings(env={}, overrides={"db_path": tickets.path, "watch_dir": str(root)})

    outcome = run_ingest_watch(tickets, settings)

    assert (outcome.rows_read, outcome.rows_written) == (2, 1)
    assert rows(tickets, "SELECT count(*) FROM votes") == [(1,)]
    assert rows(tickets, "SELECT reason FROM quarantine") == [("unknown item t9",)]
    processed = list((root / "processed" / "tickets" / "votes").iterdir())
    assert [p.name.split("-", 1)[1] for p in processed] == ["a.csv"]
    failed = sorted(p.name.split("-", 1)[1] for p in (root / "failed").rglob("*") if p.is_file())
    assert failed == ["b.csv", "b.csv.reason.txt", "c.csv", "c.csv.reason.txt"]
    reason = next((root / "failed" / "nosuch").rglob("*.reason.txt")).read_text()
    assert "nosuch" in reason
    # the partial file and the one written a moment ago wait for the next run
    assert sorted(p.name for _, _, p in pending_files(root, settle_s=0)) == ["e.csv"]
    assert (root / "tickets" / "votes" / "d.csv.part").exists()


def test_off_without_a_folder(tickets: Store, tmp_path: Path) -> None:
    settings = load_settings(env={}, overrides={"db_path": tickets.path})
    assert run_ingest_watch(tickets, settings).skipped_reason == "watch_dir is not set"
    missing = load_settings(env={}, overrides={"watch_dir": str(tmp_path / "none")})
    assert "does not exist" in str(run_ingest_watch(tickets, missing).skipped_reason)
