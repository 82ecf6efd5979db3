"""Crash safety: a fuse or metrics run killed with SIGKILL at a chosen point leaves no
partial results visible and no stuck lock, and the next run completes.

Each case runs the job in a child process (forked from a `python -c` zygote, through
auditor.jobs.runner.run_job) on a copy of one small demo workspace. The child wraps one
function with a hook that SIGKILLs its own process on the nth call, before or after the
call runs, so every kill point is deterministic: mid-computation (no transaction open),
inside the write transaction (rows inserted, COMMIT not reached), and after COMMIT (before
the run is recorded as finished). The parent then reopens the file and checks it.
"""

from __future__ import annotations

import json
import math
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from auditor.jobs import registered_jobs
from auditor.jobs.runner import run_job
from auditor.settings import Settings, load_settings
from auditor.store import Store
from tests.conftest import demo_workspace

N_ITEMS = 2000
ROOT = Path(__file__).resolve().parents[2]

# The zygote imports what the jobs use (torch, evidently: seconds), then forks one child per
# kill spec read from stdin, one at a time; the child wraps module:name so that its nth
# call SIGKILLs the child, before or after the call runs, and runs the job through run_job.
# The zygote prints one JSON line per child: the signal that ended it, its exit code, its
# lifetime. Forking before any job ran (no DuckDB connection, no torch thread pool yet) is
# safe, and spares each child the imports.
ZYGOTE = """
import importlib, json, os, sys, time
from pathlib import Path
from auditor.jobs import Job
from auditor.jobs.fuse import run_fuse
from auditor.jobs.metrics import run_metrics
from auditor.jobs.runner import run_job
from auditor.settings import load_settings
from auditor.store import Store
import auditor.jobs.drift_frames, evidently.metrics, evidently.legacy.calculations.stattests
JOBS = {"fuse": run_fuse, "metrics": run_metrics}

def child(spec):
    module = importlib.import_module(spec["module"])
    original = getattr(module, spec["name"])
    calls = 0
    def hooked(*args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == spec["nth"] and spec["when"] == "before":
            os.kill(os.getpid(), 9)
        result = original(*args, **kwargs)
        if calls == spec["nth"] and spec["when"] == "after":
            os.kill(os.getpid(), 9)
        return result
    setattr(module, spec["name"], hooked)
    db = Path(spec["db"])
    settings = load_settings(env={}, overrides={"db_path": db})
    run_job(Store(db, lock_timeout_s=10), settings, Job(spec["job"], "", JOBS[spec["job"]]))

print("ready", flush=True)
for line in sys.stdin:
    spec = json.loads(line)
    clock = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            child(spec)
            os._exit(3)  # the hook was never reached
        finally:
            os._exit(4)
    _, status = os.waitpid(pid, 0)
    print(json.dumps({
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "seconds": time.perf_counter() - clock,
    }), flush=True)
"""


@pytest.fixture(scope="module")
def zygote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[subprocess.Popen[str]]:
    """Started first, so that its imports overlap the template's build."""
    log = tmp_path_factory.mktemp("zygote") / "stderr.txt"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-c", ZYGOTE],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    yield process
    if process.poll() is None:
        process.kill()
    process.wait()


@dataclass(frozen=True)
class Template:
    """A demo workspace after one fuse and one metrics run, and what clean runs give."""

    directory: Path
    fused: list[tuple[Any, ...]]  # latest fused (item, subtask, label) of a clean fuse
    metrics: tuple[Any, ...]  # metrics fingerprint after a clean (incremental) metrics run


def settings_for(db: Path) -> Settings:
    return load_settings(env={}, overrides={"db_path": db})


def query(store: Store, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    with store.connect() as con:
        return con.execute(sql, list(params)).fetchall()


LATEST_FUSED = """
SELECT f.item_id, f.subtask_id, f.label FROM fused_labels f
JOIN (SELECT subtask_id, max(fusion_run_id) AS run FROM fusion_runs GROUP BY ALL) l
  ON l.run = f.fusion_run_id ORDER BY 1, 2"""
METRICS_PRINT = """
SELECT count(*), sum(hash(task, metric, scope, key, window_start, window_end, round(value, 9),
                          round(ci_low, 9), round(ci_high, 9))) FROM metrics"""
# (drift p-values differ in the last bits between processes, hence the rounding)
ALERTS_PRINT = "SELECT count(*), sum(hash(metric, scope, key, state, severity)) FROM alerts"


@pytest.fixture(scope="module")
def template(zygote: subprocess.Popen[str], tmp_path_factory: pytest.TempPathFactory) -> Template:
    directory = tmp_path_factory.mktemp("crash-template")
    store, settings = demo_workspace(directory, n_items=N_ITEMS)
    jobs = registered_jobs()
    for name in ("fuse", "metrics"):
        assert run_job(store, settings, jobs[name]).status == "succeeded"
    clean = copy_workspace(directory, tmp_path_factory.mktemp("crash-clean"))
    assert run_job(clean, settings_for(clean.path), jobs["metrics"]).status == "succeeded"
    metrics = tuple(query(clean, METRICS_PRINT)[0])
    assert run_job(clean, settings_for(clean.path), jobs["fuse"]).status == "succeeded"
    return Template(directory, fused=query(clean, LATEST_FUSED), metrics=metrics)


def copy_workspace(source: Path, target: Path) -> Store:
    shutil.copytree(source, target, dirs_exist_ok=True)
    return Store(target / "lw.duckdb", lock_timeout_s=10)


@dataclass(frozen=True)
class Kill:
    """Where a child kills itself: at the nth call of module:function, before or after it
    runs; committed: whether the job's results are committed by then."""

    job: str
    point: str
    target: str
    nth: int
    when: str
    committed: bool


KILLS = [
    Kill("fuse", "mid-computation", "auditor.jobs.fuse:choose_majority_vote", 2, "before", False),
    Kill(
        "fuse", "in txn, 1 of 3 fits in", "auditor.store.fusion_io:_insert_fit", 1, "after", False
    ),
    Kill("fuse", "in txn, before COMMIT", "auditor.store.fusion_io:_insert_fit", 3, "after", False),
    Kill("fuse", "after COMMIT", "auditor.jobs.runner:finish_job_run", 1, "before", True),
    Kill("metrics", "mid-computation", "auditor.jobs.metrics:subtask_rows", 2, "before", False),
    Kill(
        "metrics",
        "in txn, rows replaced",
        "auditor.jobs.metrics:apply_conditions",
        1,
        "before",
        False,
    ),
    Kill("metrics", "after COMMIT", "auditor.jobs.runner:finish_job_run", 1, "before", True),
]


@dataclass(frozen=True)
class Killed:
    store: Store
    before: tuple[Any, ...]  # fusion runs per job run, or the metrics and alerts prints
    signal: int | None  # what ended the child (9: SIGKILL, from its hook)
    exit_code: int | None  # 3: the hook was never reached; 4: the job raised
    seconds: float  # how long the child lived


def snapshot(store: Store, job: str) -> tuple[Any, ...]:
    if job == "fuse":
        return (check_fusion_integrity(store),)
    return (query(store, METRICS_PRINT)[0], query(store, ALERTS_PRINT)[0])


@pytest.fixture(scope="module")
def killed(
    zygote: subprocess.Popen[str], template: Template, tmp_path_factory: pytest.TempPathFactory
) -> list[Killed]:
    """Every kill of KILLS, each on its own copy of the template, one after the other."""
    stores = [copy_workspace(template.directory, tmp_path_factory.mktemp("kill")) for _ in KILLS]
    before = [snapshot(store, kill.job) for store, kill in zip(stores, KILLS, strict=True)]
    assert zygote.stdin and zygote.stdout
    assert zygote.stdout.readline().strip() == "ready"
    for store, kill in zip(stores, KILLS, strict=True):
        module, name = kill.target.split(":")
        spec = {"db": str(store.path), "job": kill.job, "module": module, "name": name}
        zygote.stdin.write(json.dumps({**spec, "nth": kill.nth, "when": kill.when}) + "\n")
    zygote.stdin.close()
    ended = [json.loads(zygote.stdout.readline() or "{}") for _ in KILLS]
    for kill, end in zip(KILLS, ended, strict=True):  # shown with pytest -s
        print(f"killed {kill.job} at {kill.point}: {end}")
    return [
        Killed(store, snap, end.get("signal"), end.get("exit"), end.get("seconds", math.inf))
        for store, snap, end in zip(stores, before, ended, strict=True)
    ]


def reopen_seconds(store: Store) -> float:
    """How long a fresh connection takes after the kill (a stuck lock would time out)."""
    clock = time.perf_counter()
    with Store(store.path, lock_timeout_s=2).connect() as con:
        con.execute("SELECT count(*) FROM job_runs").fetchall()
    return time.perf_counter() - clock


def killed_run(store: Store, job: str) -> tuple[int, str, Any]:
    (row,) = query(
        store,
        "SELECT job_run_id, status, finished_at FROM job_runs WHERE job = ? "
        "ORDER BY job_run_id DESC LIMIT 1",
        [job],
    )
    return row


def check_fusion_integrity(store: Store) -> dict[int | None, int]:
    """Every fusion run is complete; returns fusion runs per job run."""
    incomplete = query(
        store,
        "SELECT r.fusion_run_id, r.n_items, count(f.item_id) FROM fusion_runs r "
        "LEFT JOIN fused_labels f USING (fusion_run_id) GROUP BY ALL "
        "HAVING count(f.item_id) <> r.n_items "
        "OR NOT EXISTS (SELECT 1 FROM lf_estimates e WHERE e.fusion_run_id = r.fusion_run_id)",
    )
    assert incomplete == []
    orphans = query(
        store,
        "SELECT count(*) FROM fused_labels WHERE fusion_run_id NOT IN "
        "(SELECT fusion_run_id FROM fusion_runs)",
    )
    assert orphans == [(0,)]
    return dict(query(store, "SELECT job_run_id, count(*) FROM fusion_runs GROUP BY 1"))


def _ids(kinds: str) -> list[Any]:
    return [
        pytest.param(n, id=f"{kill.point} ({kill.target.split(':')[1]} #{kill.nth} {kill.when})")
        for n, kill in enumerate(KILLS)
        if kill.job == kinds
    ]


@pytest.mark.parametrize("n", _ids("fuse"))
def test_a_killed_fuse_run_leaves_all_or_nothing_and_the_next_run_completes(
    template: Template, killed: list[Killed], n: int
) -> None:
    kill, result = KILLS[n], killed[n]
    store, (before,) = result.store, result.before
    assert result.signal == signal.SIGKILL, result
    subtasks = query(store, "SELECT count(*) FROM subtasks")[0][0]

    assert reopen_seconds(store) < 2.0
    after = check_fusion_integrity(store)
    run_id, status, finished = killed_run(store, "fuse")
    assert status == "running" and finished is None  # left as it was: nothing marks it
    assert after == ({**before, run_id: subtasks} if kill.committed else before)

    fresh = run_job(store, settings_for(store.path), registered_jobs()["fuse"])
    assert fresh.status == "succeeded", fresh.error
    assert check_fusion_integrity(store)[fresh.job_run_id] == subtasks
    assert query(store, LATEST_FUSED) == template.fused


@pytest.mark.parametrize("n", _ids("metrics"))
def test_a_killed_metrics_run_leaves_all_or_nothing_and_the_next_run_completes(
    template: Template, killed: list[Killed], n: int
) -> None:
    kill, result = KILLS[n], killed[n]
    store, (metrics_before, alerts_before) = result.store, result.before
    assert result.signal == signal.SIGKILL, result

    assert reopen_seconds(store) < 2.0
    run_id, status, finished = killed_run(store, "metrics")
    assert status == "running" and finished is None
    tagged = query(store, "SELECT count(*) FROM metrics WHERE job_run_id = ?", [run_id])[0][0]
    if kill.committed:  # complete: what a clean run gives
        assert tuple(query(store, METRICS_PRINT)[0]) == template.metrics
        assert tagged > 0
    else:  # untouched, although the DELETE and INSERT of the metrics had run
        assert query(store, METRICS_PRINT)[0] == metrics_before
        assert query(store, ALERTS_PRINT)[0] == alerts_before
        assert tagged == 0

    fresh = run_job(store, settings_for(store.path), registered_jobs()["metrics"])
    assert fresh.status == "succeeded", fresh.error
    assert tuple(query(store, METRICS_PRINT)[0]) == template.metrics
