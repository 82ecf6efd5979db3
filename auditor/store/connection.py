"""Short-lived DuckDB connections that wait out other processes' file locks.

DuckDB lets one process hold a database file; any other process's connect fails at once
with ``duckdb.IOException: ... Could not set lock``. The scheduler and the dashboard are
separate processes on one file, so every unit of work opens a connection, does its work
and closes it (about 25 ms), retrying a held lock with jittered exponential backoff.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

Connection = duckdb.DuckDBPyConnection


class LockTimeoutError(TimeoutError):
    """The database file stayed locked by another process for longer than allowed."""


def is_lock_error(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.IOException) and "Could not set lock" in str(exc)


@dataclass(frozen=True)
class Store:
    """A DuckDB database file and how to open it.

    path: the database file; ``":memory:"`` is not supported (each connect would be a new
    database). lock_timeout_s: how long connect() keeps retrying a lock held elsewhere.
    """

    path: Path
    lock_timeout_s: float = 30.0
    memory_limit: str | None = "1GB"
    temp_directory: Path | None = None

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """Open a connection (retrying a held lock), yield it, always close it."""
        con = open_with_retry(self.path, timeout_s=self.lock_timeout_s)
        try:
            if self.memory_limit:
                con.execute("SET memory_limit = ?", [self.memory_limit])
            temp = self.temp_directory or self.path.parent / ".duckdb-tmp"
            con.execute("SET temp_directory = ?", [str(temp)])
            con.execute("SET TimeZone = 'UTC'")
            yield con
        finally:
            con.close()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A connection inside one transaction: committed on success, rolled back on error."""
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")


def open_with_retry(
    path: Path,
    *,
    timeout_s: float,
    first_wait_s: float = 0.02,
    max_wait_s: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> Connection:
    """duckdb.connect(path), retrying only the cross-process lock error until timeout_s.

    Waits are exponential from first_wait_s up to max_wait_s, each multiplied by a random
    factor in [0.5, 1.5) so that competing processes do not retry in lockstep.
    """
    rng = rng or random.Random()
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout_s
    wait = first_wait_s
    attempts = 0
    while True:
        attempts += 1
        try:
            return duckdb.connect(str(path))
        except duckdb.IOException as exc:
            if not is_lock_error(exc):
                raise
            if time.monotonic() + wait > deadline:
                raise LockTimeoutError(
                    f"{path} stayed locked by another process for {timeout_s:.0f} s "
                    f"({attempts} attempts): {exc}"
                ) from exc
        sleep(wait * (0.5 + rng.random()))
        wait = min(wait * 2, max_wait_s)
