"""The scheduler and the dashboard are separate processes on one DuckDB file: while a writer
runs jobs back to back, auditors submit corrections and readers load the dashboard's data,
each through short connections that retry a held lock (auditor.store.connection).

Processes, all started together and released at once for DURATION_S seconds:
- the scheduler (run_scheduler, in the writer process), fuse, rules, metrics, budget and
  audit-sample each on a 1 s interval; corrections change fuse's inputs, so it reruns;
- two auditor processes (what `labelwatch audit submit` does: submit_corrections on a
  connection of its own), each submitting one correction at a time with a unique note;
- a dashboard process: two auditor threads and two reader threads in one process (as
  Streamlit sessions are), readers calling dashboard.data.load_status without its cache;
- a reader process calling read_status (what `labelwatch status` shows).

Every operation's latency (connect wait included) is measured; the writer also times every
lock wait of its connections (open_with_retry). The test asserts that every correction
lands exactly once, no reader or auditor sees an error, no job fails, and no operation
waits more than MAX_WAIT_S.
"""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from auditor.jobs import registered_jobs
from auditor.jobs.runner import run_job
from auditor.store import Store
from tests.conftest import demo_workspace

N_ITEMS = 2000
DURATION_S = 10.0
MAX_WAIT_S = 5.0
# pause between one auditor's or reader's operations; at 0.05 s the dashboard process's four
# threads keep the file locked nearly all the time and the other processes wait up to 10 s
THINK_S = 0.5
ROOT = Path(__file__).resolve().parents[2]

# argv: db, out json, duration, writer (0/1), auditor threads, reader threads, name, items
# json. Prints "ready" after its imports, runs DURATION seconds from the "go" line on stdin,
# then writes {"ops": [[kind, seconds, error or null, note or null], ...], "waits": [...]}.
WORKER = """
import json, sys, threading, time, traceback
from datetime import UTC, datetime
from pathlib import Path
db, out, duration = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
writer, auditors, readers, name = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), sys.argv[7]
targets, think = json.loads(sys.argv[8]), float(sys.argv[9])
import auditor.store.connection as connection
from auditor.audit.submissions import Submission
from auditor.settings import load_settings
from auditor.store import Store
from auditor.store.audit_io import submit_corrections
from auditor.store.queries import read_status
settings = load_settings(env={}, overrides={"db_path": db})
store = Store(db, lock_timeout_s=30)
ops, waits, lock = [], [], threading.Lock()
if writer:
    from auditor.jobs import registered_jobs
    from auditor.jobs.runner import run_job
    jobs = registered_jobs()
    original = connection.open_with_retry
    def timed(*args, **kwargs):
        clock = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            waits.append(time.perf_counter() - clock)
    connection.open_with_retry = timed
if readers and not writer and auditors:
    from dashboard.data import load_status
    def read():
        assert load_status.__wrapped__(str(db), 30.0) is not None
else:
    def read():
        with store.connect() as con:
            read_status(con)

def record(kind, clock, error=None, note=None):
    with lock:
        ops.append([kind, time.perf_counter() - clock, error, note])

def run_writer(deadline):
    # the real scheduler, every pipeline job each second (skipped when inputs are unchanged)
    from dataclasses import replace
    from auditor.scheduler import run_scheduler
    stop = threading.Event()
    pipeline = ("fuse", "rules", "metrics", "budget", "audit-sample")
    live = replace(settings, scheduler_db=db.parent / "scheduler.sqlite", job_retries=0,
                   heartbeat_interval_s=1.0, rules_dir=db.parent / "rules",
                   schedules={job: "interval:1s" for job in pipeline})
    thread = threading.Thread(target=run_scheduler, args=(store, live), kwargs={"stop": stop})
    thread.start()
    while time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join()

def run_auditor(deadline, n):
    who = f"{name}-a{n}"
    for i, (item, subtask) in enumerate(targets[n::max(auditors, 1)] * 10):
        if time.monotonic() >= deadline:
            return
        note = f"{who}-{i}"
        row = Submission(0, item, "0", who, 12.0, subtask=subtask, note=note)
        clock = time.perf_counter()
        try:
            with store.connect() as con:
                submit_corrections(
                    con, [row], allow_outside_queue=True, now=datetime.now(UTC),
                    hourly_rate=settings.audit_hourly_rate, currency=settings.currency)
            record("submit", clock, None, note)
        except Exception:
            record("submit", clock, traceback.format_exc(limit=3), note)
        time.sleep(think)

def run_reader(deadline):
    while time.monotonic() < deadline:
        clock = time.perf_counter()
        try:
            read()
            record("read", clock)
        except Exception:
            record("read", clock, traceback.format_exc(limit=3))
        time.sleep(think)

print("ready", flush=True)
sys.stdin.readline()
deadline = time.monotonic() + duration
threads = [threading.Thread(target=run_writer, args=(deadline,))] if writer else []
threads += [threading.Thread(target=run_auditor, args=(deadline, n)) for n in range(auditors)]
threads += [threading.Thread(target=run_reader, args=(deadline,)) for _ in range(readers)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
out.write_text(json.dumps({"ops": ops, "waits": waits}))
"""


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, list[list[str]]]:
    """A demo workspace after fuse and audit-sample; the (item, subtask) of its queue."""
    store, settings = demo_workspace(tmp_path_factory.mktemp("concurrency"), n_items=N_ITEMS)
    jobs = registered_jobs()
    for name in ("fuse", "audit-sample"):
        assert run_job(store, settings, jobs[name]).status == "succeeded"
    with store.connect() as con:
        queue = con.execute(
            "SELECT i.external_id, s.name FROM audit_queue q JOIN items i USING (item_id) "
            "JOIN subtasks s USING (subtask_id) WHERE q.state = 'open' ORDER BY ALL"
        ).fetchall()
    assert len(queue) >= 40
    return store, [list(row) for row in queue]


def summary(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
    return (
        f"n={len(ordered)} p50={statistics.median(ordered):.3f} p95={p95:.3f} max={ordered[-1]:.3f}"
    )


def test_jobs_auditors_and_readers_share_the_file_without_errors_or_long_waits(
    workspace: tuple[Store, list[list[str]]], tmp_path: Path
) -> None:
    store, queue = workspace
    with store.connect() as con:
        before = con.execute("SELECT max(job_run_id) FROM job_runs").fetchall()[0][0]
    # (name, writer, auditor threads, reader threads)
    roles = [("writer", 1, 0, 0), ("cli1", 0, 1, 0), ("cli2", 0, 1, 0), ("dash", 0, 2, 2)]
    roles.append(("status", 0, 0, 1))
    children = []
    for n, (name, writer, auditors, readers) in enumerate(roles):
        targets = queue[n::3] if auditors else []  # the auditors' items overlap in part
        argv = [str(store.path), str(tmp_path / f"{name}.json"), str(DURATION_S)]
        argv += [str(writer), str(auditors), str(readers), name, json.dumps(targets), str(THINK_S)]
        children.append(
            subprocess.Popen(
                [sys.executable, "-c", WORKER, *argv],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=(tmp_path / f"{name}.stderr").open("w"),
                text=True,
            )
        )
    for child in children:
        assert child.stdout and child.stdout.readline().strip() == "ready"
    started = time.perf_counter()
    for child in children:
        assert child.stdin
        child.stdin.write("go\n")
        child.stdin.flush()
    for child in children:
        child.wait(timeout=DURATION_S + 60)
    elapsed = time.perf_counter() - started
    stderr = {name: (tmp_path / f"{name}.stderr").read_text()[-2000:] for name, *_ in roles}
    assert [child.returncode for child in children] == [0] * len(roles), stderr

    results = {name: json.loads((tmp_path / f"{name}.json").read_text()) for name, *_ in roles}
    ops: list[list[Any]] = [op for result in results.values() for op in result["ops"]]
    by_kind: dict[str, list[float]] = {}
    for name, result in results.items():
        for kind, seconds, _, _ in result["ops"]:
            by_kind.setdefault(kind.split(":")[0], []).append(seconds)
            by_kind.setdefault(f"{name} {kind}", []).append(seconds)
    waits = results["writer"]["waits"]
    report = {kind: summary(values) for kind, values in sorted(by_kind.items())}
    report["writer lock wait"] = summary(waits)
    print(json.dumps({"elapsed_s": elapsed, **report}, indent=1))
    errors = [op for op in ops if op[2] is not None]
    assert errors == []

    submitted = sorted(op[3] for op in ops if op[0] == "submit")
    with store.connect() as con:
        landed = con.execute(
            "SELECT note, count(*) FROM corrections WHERE regexp_matches(note, ?) GROUP BY note "
            "ORDER BY note",
            [r"^\w+-a\d+-\d+$"],
        ).fetchall()
    assert landed == [(note, 1) for note in submitted]

    assert len(by_kind["submit"]) >= 20 and len(by_kind["read"]) >= 20
    with store.connect() as con:
        runs = con.execute(
            "SELECT job, status, count(*) FROM job_runs WHERE job_run_id > ? GROUP BY ALL",
            [before],
        ).fetchall()
    print("scheduled runs:", sorted(runs))
    assert {status for _, status, _ in runs} <= {"succeeded", "skipped"}
    assert {job for job, status, _ in runs if status == "succeeded"} >= {"fuse", "metrics"}
    assert max(by_kind["submit"]) < MAX_WAIT_S
    assert max(by_kind["read"]) < MAX_WAIT_S
    assert max(waits) < MAX_WAIT_S
