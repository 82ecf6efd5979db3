"""The labelwatch CLI, called in-process: exit codes, what it prints, what it stores."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from auditor import cli
from auditor.jobs import PIPELINE, Job, JobOutcome
from auditor.settings import Settings
from auditor.store import Store
from auditor.store.migrations import load_migrations
from auditor.users import load_users, verify_password
from tests.conftest import ITEMS_CSV, LFS_CSV, TICKETS_TOML, rows, write

LATEST = load_migrations()[-1].version

VOTES_CSV = (
    "item,lf,subtask,label\n"
    "t1,kw_bill,topic,billing\n"  # row 1: ok
    "t2,kw_tech,topic,technical\n"  # row 2: ok
    "t3,kw_bill,topic,nonsense\n"  # row 3: label not in the label set
    "t4,nope,topic,billing\n"  # row 4: unknown labeling function
    "t9,kw_bill,topic,billing\n"  # row 5: unknown item
    "t1,kw_bill,topic,other\n"  # row 6: duplicate of row 1
)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path as the working directory, with no LABELWATCH_* settings leaking in."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("LABELWATCH_"):
            monkeypatch.delenv(name)
    return tmp_path


@pytest.fixture
def db(workdir: Path) -> Path:
    return workdir / "lw.duckdb"


def lw(db: Path, *args: str) -> int:
    return cli.main(["--db", str(db), *args])


def _tickets(db: Path, workdir: Path, capsys: pytest.CaptureFixture[str]) -> Store:
    """Task 'tickets' with items t1..t6 and LFs kw_bill, kw_tech, refund_re via the CLI."""
    assert lw(db, "ingest", "tasks", str(write(workdir, "tasks.toml", TICKETS_TOML))) == 0
    assert (
        lw(db, "ingest", "items", str(write(workdir, "items.csv", ITEMS_CSV)), "--task", "tickets")
        == 0
    )
    assert (
        lw(db, "ingest", "lfs", str(write(workdir, "lfs.csv", LFS_CSV)), "--task", "tickets") == 0
    )
    capsys.readouterr()
    return Store(db)


# --- init -----------------------------------------------------------------------------------


def test_init_twice(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert lw(db, "init") == 0
    first = capsys.readouterr().out
    assert first.strip() == f"{db}: schema version {LATEST} (applied {list(range(1, LATEST + 1))})"

    assert lw(db, "init") == 0
    assert capsys.readouterr().out.strip() == f"{db}: schema version {LATEST} (up to date)"

    assert lw(db, "init", "--json") == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload == {"db": str(db), "applied": [], "schema_version": LATEST}


def test_init_json_on_a_new_database(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert lw(db, "init", "--json") == 0
    assert json.loads(capsys.readouterr().out) == {
        "db": str(db),
        "applied": list(range(1, LATEST + 1)),
        "schema_version": LATEST,
    }
    assert db.is_file()


# --- ingest ---------------------------------------------------------------------------------


def test_ingest_tasks_reports_what_it_created(
    db: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(workdir, "tasks.toml", TICKETS_TOML)

    assert lw(db, "ingest", "tasks", str(path)) == 0
    assert capsys.readouterr().out.strip() == (
        f"tasks from {path}: 1 task(s), 2 subtask(s), 5 label(s) added"
    )
    assert lw(db, "ingest", "tasks", str(path), "--json") == 0
    assert json.loads(capsys.readouterr().out) == {
        "tasks_created": 0,
        "subtasks_created": 0,
        "labels_added": 0,
    }


def test_ingest_items_and_lfs_quarantine_bad_rows(
    db: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert lw(db, "ingest", "tasks", str(write(workdir, "tasks.toml", TICKETS_TOML))) == 0
    items = write(workdir, "items.csv", "item,split\nt1,train\nt2,test\n,train\n")
    lfs = write(
        workdir, "lfs.csv", "lf,subtask,kind\nkw_bill,topic,pattern\nkw_x,topic,magic\nz,nope,\n"
    )
    capsys.readouterr()

    assert lw(db, "ingest", "items", str(items), "--task", "tickets") == 0
    out = capsys.readouterr().out
    assert f"items from {items} into task 'tickets': read 3 rows" in out
    assert "accepted 2 (inserted 2, updated 0, unchanged 0)" in out
    assert "quarantined 1:" in out
    assert re.search(r"^\s+1  missing required field item$", out, re.MULTILINE)

    assert lw(db, "ingest", "lfs", str(lfs), "--task", "tickets", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["kind"], report["rows_read"], report["inserted"]) == ("lfs", 3, 1)
    assert report["quarantined"] == 2
    assert report["quarantine_reasons"] == {"kind not an allowed value": 1, "unknown subtask": 1}
    assert rows(Store(db), "SELECT name, kind FROM labeling_functions") == [("kw_bill", "pattern")]


def test_ingest_votes_mixed_rows(
    db: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = _tickets(db, workdir, capsys)
    votes = write(workdir, "votes.csv", VOTES_CSV)

    assert lw(db, "ingest", "votes", str(votes), "--task", "tickets") == 0
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert lines[0] == f"votes from {votes} into task 'tickets': read 6 rows"
    assert lines[1] == "  accepted 2 (inserted 2, updated 0, unchanged 0)"
    assert lines[2] == "  quarantined 4:"
    assert sorted(line.strip() for line in lines[3:7]) == [
        "1  duplicate key in file",
        "1  label not in the subtask's label set",
        "1  unknown item",
        "1  unknown labeling function",
    ]
    ingestion_id = rows(store, "SELECT max(ingestion_id) FROM ingestions")[0][0]
    assert lines[7] == f"  details: labelwatch quarantine --ingestion {ingestion_id}"
    assert rows(
        store,
        "SELECT i.external_id, f.name, v.label FROM votes v JOIN items i USING (item_id) "
        "JOIN labeling_functions f USING (lf_id) ORDER BY 1",
    ) == [("t1", "kw_bill", 0), ("t2", "kw_tech", 1)]

    # Same file again: nothing new, the same four rows quarantined again.
    assert lw(db, "ingest", "votes", str(votes), "--task", "tickets", "--json") == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert again["quarantined"] == 4


def test_quarantine_json_lists_rows_with_reason_and_raw(
    db: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _tickets(db, workdir, capsys)
    votes = write(workdir, "votes.csv", VOTES_CSV)
    assert lw(db, "ingest", "votes", str(votes), "--task", "tickets") == 0
    capsys.readouterr()

    assert lw(db, "quarantine", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    by_row = {r["row_number"]: r for r in listed}
    assert sorted(by_row) == [3, 4, 5, 6]
    assert {r["kind"] for r in listed} == {"votes"}
    assert {r["source_file"] for r in listed} == {str(votes)}
    assert by_row[3]["reason"] == "label nonsense is not in the label set of subtask topic"
    assert by_row[4]["reason"] == "unknown labeling function nope"
    assert by_row[5]["reason"] == "unknown item t9"
    assert by_row[6]["reason"] == (
        "duplicate key (item, lf and subtask) in this file: first at row 1"
    )
    assert json.loads(by_row[5]["raw"]) == {
        "item": "t9",
        "lf": "kw_bill",
        "subtask": "topic",
        "label": "billing",
    }
    assert json.loads(by_row[6]["raw"])["label"] == "other"

    assert lw(db, "quarantine", "--limit", "1") == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0].endswith(
        "row 6: duplicate key (item, lf and subtask) in this file: first at row 1"
    )
    assert len(text.strip().splitlines()) == 2


def test_quarantine_empty(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert lw(db, "quarantine") == 0
    assert capsys.readouterr().out.strip() == "No quarantined rows."


def test_ingest_votes_missing_label_column(
    db: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = _tickets(db, workdir, capsys)
    votes = write(workdir, "votes.csv", "item,lf\nt1,kw_bill\n")

    assert lw(db, "ingest", "votes", str(votes), "--task", "tickets") == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("labelwatch: error: ")
    assert "missing required column(s) label for votes; found item, lf" in captured.err
    assert rows(store, "SELECT count(*) FROM ingestions WHERE kind = 'votes'") == [(0,)]


def test_ingest_unknown_extension(
    db: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _tickets(db, workdir, capsys)
    path = write(workdir, "votes.xlsx", "item,lf,label\n")

    assert lw(db, "ingest", "votes", str(path), "--task", "tickets") == 2
    err = capsys.readouterr().err
    assert f"{path}: unknown format '.xlsx'" in err


def test_ingest_missing_file(db: Path, workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert lw(db, "ingest", "items", str(workdir / "nope.csv"), "--task", "tickets") == 2
    assert f"{workdir / 'nope.csv'}: no such file" in capsys.readouterr().err


def test_ingest_unknown_task(db: Path, workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    items = write(workdir, "items.csv", "item\nx1\n")

    assert lw(db, "ingest", "items", str(items), "--task", "ghost") == 2
    err = capsys.readouterr().err
    assert "unknown task 'ghost'" in err
    assert "labelwatch ingest tasks FILE.toml" in err


def test_ingest_invalid_task_definition(
    db: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        workdir,
        "tasks.toml",
        '[[task]]\nname = "t"\n[[task.subtask]]\nname = "s"\nlabels = ["only"]\n',
    )

    assert lw(db, "ingest", "tasks", str(path)) == 2
    assert (
        "task 't', subtask 's': labels must be a list of at least two names"
        in capsys.readouterr().err
    )


def test_ingest_votes_register(db: Path, workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = _tickets(db, workdir, capsys)
    votes = write(
        workdir,
        "votes.csv",
        "item,lf,subtask,label\nt1,kw_bill,topic,billing\nn1,new_lf,topic,other\n"
        "n2,new_lf,topic,technical\n",
    )

    assert lw(db, "ingest", "votes", str(votes), "--task", "tickets", "--register") == 0
    out = capsys.readouterr().out
    assert "accepted 3 (inserted 3, updated 0, unchanged 0)" in out
    assert "registered 2 new items (--register)" in out
    assert "registered 1 new labeling functions (--register)" in out
    assert "quarantined" not in out
    assert rows(store, "SELECT external_id FROM items WHERE external_id LIKE 'n%' ORDER BY 1") == [
        ("n1",),
        ("n2",),
    ]
    assert rows(
        store,
        "SELECT f.name, s.name FROM labeling_functions f JOIN subtasks s USING (subtask_id) "
        "WHERE f.name = 'new_lf'",
    ) == [("new_lf", "topic")]


def test_ingest_votes_without_register_quarantines_unknowns(
    db: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _tickets(db, workdir, capsys)
    votes = write(workdir, "votes.csv", "item,lf,subtask,label\nn1,new_lf,topic,other\n")

    assert lw(db, "ingest", "votes", str(votes), "--task", "tickets", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["inserted"] == 0
    assert report["quarantine_reasons"] == {"unknown item": 1}
    assert report["registered"] == {}


def test_ingest_matrix(db: Path, workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    np.save(workdir / "L.npy", np.array([[0, -1], [1, 1], [-1, 2]], dtype=np.int64))
    np.save(workdir / "y.npy", np.array([0, -1, 2], dtype=np.int64))

    assert (
        lw(
            db,
            "ingest",
            "matrix",
            "L.npy",
            "--task",
            "mat",
            "--labels",
            "y.npy",
            "--cardinality",
            "4",
            "--json",
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert result["tasks"] == {"tasks_created": 1, "subtasks_created": 1, "labels_added": 4}
    assert [(r["kind"], r["inserted"], r["quarantined"]) for r in result["reports"]] == [
        ("items", 3, 0),
        ("lfs", 2, 0),
        ("votes", 4, 0),
        ("gold", 2, 0),
    ]
    assert rows(Store(db), "SELECT count(*) FROM gold_labels WHERE source = 'benchmark'") == [(2,)]


def test_ingest_crowd_task_defaults_to_folder_name(
    db: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = workdir / "bluebirds"
    folder.mkdir()
    answers = write(folder, "answer.csv", "question,worker,answer\nq1,a,1\nq1,b,0\nq2,a,1\n")
    truth = write(folder, "truth.csv", "question,truth\nq1,1\nq2,1\n")

    assert lw(db, "ingest", "crowd", str(answers), "--truth", str(truth)) == 0
    out = capsys.readouterr().out
    assert "tasks from bluebirds: 1 task(s), 1 subtask(s), 2 label(s) added" in out
    assert f"votes from {answers} into task 'bluebirds': read 3 rows" in out
    assert f"gold from {truth} into task 'bluebirds': read 2 rows" in out
    store = Store(db)
    assert rows(store, "SELECT name FROM tasks") == [("bluebirds",)]
    assert rows(store, "SELECT name, kind FROM labeling_functions ORDER BY 1") == [
        ("worker_a", "human"),
        ("worker_b", "human"),
    ]
    assert rows(store, "SELECT count(*) FROM votes") == [(3,)]


def test_ingest_wrench_missing_label_json(
    db: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "ds").mkdir()

    assert lw(db, "ingest", "wrench", "ds", "--task", "ds") == 2
    assert "ds: no label.json, so not a WRENCH dataset" in capsys.readouterr().err


# --- status ---------------------------------------------------------------------------------


def test_status_on_a_missing_database(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert lw(db, "status") == 0
    assert capsys.readouterr().out.strip() == (
        f"{db} does not exist yet: run `labelwatch init` or `labelwatch demo`."
    )
    assert not db.exists()


def test_status_json_counts(db: Path, workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _tickets(db, workdir, capsys)
    assert (
        lw(db, "ingest", "votes", str(write(workdir, "v.csv", VOTES_CSV)), "--task", "tickets") == 0
    )
    capsys.readouterr()

    assert lw(db, "status", "--json") == 0
    status = json.loads(capsys.readouterr().out)
    assert status["schema_version"] == LATEST
    counts = status["counts"]
    assert {k: counts[k] for k in ("tasks", "subtasks", "items", "labeling_functions")} == {
        "tasks": 1,
        "subtasks": 2,
        "items": 6,
        "labeling_functions": 3,
    }
    assert (counts["votes"], counts["ingestions"], counts["quarantine"]) == (2, 3, 4)
    [task] = status["tasks"]
    assert (task["task"], task["items"], task["covered_items"], task["lfs"]) == ("tickets", 6, 2, 3)
    assert task["coverage"] == pytest.approx(2 / 6)
    assert [i["kind"] for i in status["recent_ingestions"]] == ["votes", "lfs", "items"]

    assert lw(db, "status") == 0
    text = capsys.readouterr().out
    assert text.startswith(f"{db}: schema version {LATEST}")
    assert re.search(r"^  items\s+6$", text, re.MULTILINE)
    assert re.search(r"^  quarantine\s+4$", text, re.MULTILINE)
    assert "Quarantined rows by reason:" in text


# --- run ------------------------------------------------------------------------------------


def _fake_jobs(monkeypatch: pytest.MonkeyPatch, jobs: list[Job]) -> None:
    monkeypatch.setattr(cli, "registered_jobs", lambda: {job.name: job for job in jobs})


def test_run_lists_the_pipeline(
    db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_jobs(monkeypatch, [Job("fuse", "fuse the votes", lambda s, c, **_: JobOutcome())])

    assert lw(db, "run") == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "Pipeline (in order):"
    assert [line.split()[0] for line in lines[1:]] == list(PIPELINE)
    assert lines[1 + PIPELINE.index("fuse")].split(None, 1)[1] == "fuse the votes"
    assert lines[1].endswith("(not implemented yet)")
    assert not db.exists()


def test_run_all_with_no_jobs(
    db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_jobs(monkeypatch, [])

    assert lw(db, "run", "all") == 0
    out = capsys.readouterr().out
    assert out.startswith("No jobs are implemented yet; nothing to run.")
    assert rows(Store(db), "SELECT count(*) FROM job_runs") == [(0,)]


def test_run_all_runs_jobs_and_records_them(
    db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(store: Store, settings: Settings, **_: object) -> JobOutcome:
        raise RuntimeError("disk on fire")

    _fake_jobs(
        monkeypatch,
        [
            Job("fuse", "f", lambda s, c, **_: JobOutcome(rows_read=3, rows_written=2)),
            Job("rules", "r", lambda s, c, **_: JobOutcome(skipped_reason="no fused labels")),
            Job("metrics", "m", boom),
        ],
    )

    assert lw(db, "run", "all") == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[:3] for line in lines] == [
        ["[1/3]", "fuse", "succeeded"],
        ["[2/3]", "rules", "skipped"],
        ["[3/3]", "metrics", "failed"],
    ]
    assert "read 3, wrote 2" in lines[0]  # the counts of a succeeded step
    assert lines[1].endswith("no fused labels")
    assert lines[2].endswith("RuntimeError: disk on fire")
    assert rows(Store(db), "SELECT job, status, rows_written FROM job_runs ORDER BY 1") == [
        ("fuse", "succeeded", 2),
        ("metrics", "failed", None),
        ("rules", "skipped", 0),
    ]


def test_run_one_job_json(
    db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_jobs(
        monkeypatch,
        [
            Job("fuse", "f", lambda s, c, **_: JobOutcome(rows_read=5, rows_written=4)),
            Job("rules", "r", lambda s, c, **_: JobOutcome()),
        ],
    )

    assert lw(db, "run", "fuse", "--json") == 0
    [result] = json.loads(capsys.readouterr().out)
    assert (result["job"], result["status"], result["error"]) == ("fuse", "succeeded", None)
    assert result["outcome"] == {"rows_read": 5, "rows_written": 4, "skipped_reason": None}
    assert rows(Store(db), "SELECT job FROM job_runs") == [("fuse",)]


def test_run_unknown_job(
    db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_jobs(monkeypatch, [])

    assert lw(db, "run", "nosuchjob") == 2
    err = capsys.readouterr().err
    assert err.strip() == (
        f"labelwatch: unknown job 'nosuchjob' (implemented: none yet; planned: "
        f"{', '.join(PIPELINE)})"
    )
    assert not db.exists()


# --- users ----------------------------------------------------------------------------------


def test_users_add_and_list(
    workdir: Path, db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    users_file = workdir / "labelwatch-data" / "users.toml"
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery\n"))

    assert lw(db, "users", "add", "alice", "--role", "auditor") == 0
    assert capsys.readouterr().out.strip() == (
        f"user alice (auditor) saved to {Path('labelwatch-data/users.toml')}"
    )
    monkeypatch.setattr("sys.stdin", io.StringIO("another password\n"))
    assert lw(db, "users", "add", "bob", "--role", "viewer") == 0
    capsys.readouterr()

    assert lw(db, "users", "list") == 0
    assert capsys.readouterr().out.splitlines() == ["alice\tauditor", "bob\tviewer"]
    users = load_users(users_file)
    assert verify_password(users["alice"], "correct horse battery")
    assert not verify_password(users["alice"], "another password")
    assert "correct horse battery" not in users_file.read_text("utf-8")


def test_users_add_short_password(
    db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))

    assert lw(db, "users", "add", "alice", "--role", "admin") == 2
    assert "passwords need at least 8 characters" in capsys.readouterr().err


def test_users_add_bad_role_is_an_argparse_error(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        lw(db, "users", "add", "alice", "--role", "root")
    assert exc.value.code == 2
    assert "invalid choice: 'root'" in capsys.readouterr().err


def test_users_list_empty(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert lw(db, "users", "list") == 0
    assert capsys.readouterr().out == ""


# --- demo -----------------------------------------------------------------------------------


def test_demo_then_again_then_if_missing(
    db: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert lw(db, "demo", "--items", "1500") == 0
    out = capsys.readouterr().out
    logins = re.findall(r"^  (admin|auditor|viewer)\s+(\w+)\s+(\S+)$", out, re.MULTILINE)
    assert [(user, role) for user, role, _ in logins] == [
        ("admin", "admin"),
        ("auditor", "auditor"),
        ("viewer", "viewer"),
    ]
    assert "items from" in out and "read 1500 rows" in out
    users = load_users(workdir / "labelwatch-data" / "users.toml")
    for user, _, password in logins:
        assert verify_password(users[user], password)
    assert rows(Store(db), "SELECT count(*) FROM items") == [(1500,)]

    assert lw(db, "demo", "--items", "1500") == 2
    assert "already exists; `labelwatch demo --force` deletes and rebuilds it" in (
        capsys.readouterr().err
    )

    assert lw(db, "demo", "--if-missing") == 0
    kept = capsys.readouterr().out
    assert kept.startswith(f"{db} exists; keeping it")
    for _, _, password in logins:
        assert password in kept
    assert rows(Store(db), "SELECT count(*) FROM items") == [(1500,)]


def test_drift_summary_names_what_the_monitors_should_find() -> None:
    from datetime import date

    from auditor.cli_output import drift_summary

    drift = {
        "collapsed_lf": "kw",
        "collapse_date": date(2026, 10, 23),
        "shifted_class": "ship",
        "prior_before": {"ship": 0.12},
        "prior_after": {"ship": 0.24},
        "shift_date": date(2026, 10, 26),
        "worse_than_chance_lf": "bad",
    }
    assert drift_summary(drift) == (
        "injected: LF 'kw' coverage collapses from 2026-10-23; class 'ship' prior shifts "
        "(0.12 -> 0.24) from 2026-10-26; LF 'bad' is worse than chance"
    )
    assert drift_summary({}) == "no injected drift"


def test_alerts_lists_newest_first_and_filters_by_state(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert lw(db, "alerts") == 0
    assert capsys.readouterr().out.strip() == "No alerts."
    with Store(db).transaction() as con:
        for metric, state, seen in [
            ("calibration.ece", "open", "2026-11-02 10:00"),
            ("lf.coverage_change", "resolved", "2026-11-03 10:00"),
        ]:
            con.execute(
                "INSERT INTO alerts (severity, metric, scope, key, message, first_seen, "
                "last_seen, state) VALUES ('warning', ?, 'tickets/topic', 'fused', 'msg', ?, ?, ?)",
                [metric, seen, seen, state],
            )
    assert lw(db, "alerts") == 0
    text = capsys.readouterr().out
    assert text.index("lf.coverage_change") < text.index("calibration.ece")
    assert lw(db, "alerts", "--state", "open", "--json") == 0
    [alert] = json.loads(capsys.readouterr().out)
    assert (alert["metric"], alert["state"]) == ("calibration.ece", "open")
