"""Cross-process locking: short connections retry DuckDB's file lock with jittered backoff."""

from __future__ import annotations

import multiprocessing as mp
import random
import time
from pathlib import Path

import duckdb
import pytest

from auditor.store import LockTimeoutError, Store, apply_migrations
from auditor.store.connection import open_with_retry


def _hold_lock(path: str, seconds: float, ready: mp.synchronize.Event) -> None:  # type: ignore[name-defined]
    con = duckdb.connect(path)
    ready.set()
    time.sleep(seconds)
    con.close()


def _append_rows(path: str, worker: int, n: int) -> None:
    store = Store(Path(path), lock_timeout_s=60)
    for i in range(n):
        with store.transaction() as con:
            con.execute("INSERT INTO log VALUES (?, ?)", [worker, i])


@pytest.fixture
def ctx() -> mp.context.SpawnContext:
    return mp.get_context("spawn")


def test_connect_waits_for_a_lock_held_by_another_process(tmp_path: Path, ctx) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "lw.duckdb"
    ready = ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(str(path), 1.0, ready))
    holder.start()
    assert ready.wait(30)
    started = time.monotonic()
    with Store(path, lock_timeout_s=20).connect() as con:
        waited = time.monotonic() - started
        assert con.execute("SELECT 42").fetchall() == [(42,)]
    holder.join()
    assert waited > 0.3  # it really had to wait for the other process


def test_a_lock_held_too_long_raises_a_clear_timeout(tmp_path: Path, ctx) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "lw.duckdb"
    ready = ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(str(path), 3.0, ready))
    holder.start()
    assert ready.wait(30)
    locked = Store(path, lock_timeout_s=0.3)
    with pytest.raises(LockTimeoutError, match="stayed locked by another"), locked.connect():
        pass
    holder.join()


def test_two_processes_writing_concurrently_lose_nothing(tmp_path: Path, ctx) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "lw.duckdb"
    with Store(path).connect() as con:
        apply_migrations(con)
        con.execute("CREATE TABLE log (worker INT, i INT)")
    workers = [ctx.Process(target=_append_rows, args=(str(path), w, 40)) for w in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    with Store(path).connect() as con:
        counts = con.execute("SELECT worker, count(DISTINCT i) FROM log GROUP BY 1 ORDER BY 1")
        assert counts.fetchall() == [(0, 40), (1, 40)]


def test_backoff_doubles_up_to_the_cap_with_jitter(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    attempts = {"n": 0}
    real_connect = duckdb.connect

    def flaky(path: str):  # type: ignore[no-untyped-def]
        attempts["n"] += 1
        if attempts["n"] <= 5:
            raise duckdb.IOException('IO Error: Could not set lock on file "x": Conflicting lock')
        return real_connect(path)

    monkeypatch.setattr(duckdb, "connect", flaky)
    waits: list[float] = []
    rng = random.Random(0)
    con = open_with_retry(
        tmp_path / "x.duckdb",
        timeout_s=60,
        first_wait_s=0.1,
        max_wait_s=0.4,
        sleep=waits.append,
        rng=rng,
    )
    con.close()
    check = random.Random(0)
    expected = [base * (0.5 + check.random()) for base in (0.1, 0.2, 0.4, 0.4, 0.4)]
    assert waits == pytest.approx(expected)


def test_other_io_errors_are_not_retried(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def broken(path: str):  # type: ignore[no-untyped-def]
        raise duckdb.IOException("IO Error: disk full")

    monkeypatch.setattr(duckdb, "connect", broken)
    waits: list[float] = []
    with pytest.raises(duckdb.IOException, match="disk full"):
        open_with_retry(tmp_path / "x.duckdb", timeout_s=60, sleep=waits.append)
    assert waits == []


def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    store = Store(tmp_path / "lw.duckdb")
    with store.connect() as con:
        con.execute("CREATE TABLE t (x INT)")
    with pytest.raises(RuntimeError), store.transaction() as con:
        con.execute("INSERT INTO t VALUES (1)")
        raise RuntimeError("boom")
    with store.connect() as con:
        assert con.execute("SELECT count(*) FROM t").fetchall() == [(0,)]
