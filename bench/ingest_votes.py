"""Benchmark: validated ingest of N vote rows vs DuckDB's own scan and plain load.

Generates a synthetic workspace (items x LFs at a given coverage, 3 classes), writes the
votes as Parquet (and CSV with --csv), and measures in separate child processes, so that
peak RSS is the child's own:

- duckdb scan:  SELECT count(*), sum(label) FROM read_parquet(file)   (the floor)
- duckdb load:  CREATE TABLE v AS SELECT * FROM read_parquet(file)     (no validation)
- labelwatch:   `ingest votes` (chunked, every row checked, staged, merged in one
                transaction, duplicates detected), into a store that holds the items/LFs

Prints median wall time, rows/s and peak RSS per method, and each method's time as a ratio
to the duckdb load baseline. Usage: python bench/ingest_votes.py [--rows 10000000]
[--repeat 3] [--csv]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from _peak import SNIPPET, peak_mib

ROOT = Path(__file__).resolve().parents[1]
N_LFS = 20
COVERAGE = 0.5

CHILD = {
    "baseline": """
import duckdb
""",
    "scan": """
import duckdb, sys
con = duckdb.connect()
sql = "SELECT count(*), sum(label::INT) FROM read_parquet(?)"
print(con.execute(sql, [sys.argv[1]]).fetchall())
""",
    "load": """
import duckdb, sys
con = duckdb.connect(sys.argv[2])
con.execute("CREATE OR REPLACE TABLE v AS SELECT * FROM read_parquet(?)", [sys.argv[1]])
""",
    "load_csv": """
import duckdb, sys
con = duckdb.connect(sys.argv[2])
con.execute("CREATE OR REPLACE TABLE v AS SELECT * FROM read_csv(?)", [sys.argv[1]])
""",
    "labelwatch": """
import sys
from pathlib import Path
from auditor.ingest.service import ingest_file
from auditor.store import Store
from auditor.settings import load_settings
settings = load_settings(env={}, overrides={"duckdb_memory_limit": sys.argv[3]})
store = Store(Path(sys.argv[2]), lock_timeout_s=60, memory_limit=settings.duckdb_memory_limit)
report = ingest_file(store, Path(sys.argv[1]), kind="votes", task="bench",
                     chunk_rows=settings.ingest_chunk_rows)
assert report.quarantined == 0 and report.accepted > 0, report
print(report.inserted, report.updated, report.unchanged)
""",
}


def data_files(directory: Path) -> dict[str, Path]:
    names = {
        "votes": "votes.parquet",
        "votes_csv": "votes.csv",
        "items": "items.parquet",
        "lfs": "lfs.csv",
        "tasks": "tasks.toml",
    }
    return {key: directory / name for key, name in names.items()}


def make_data(directory: Path, n_rows: int, *, csv: bool) -> dict[str, Path]:
    """Items, LFs and ~n_rows votes (each LF votes on COVERAGE of the items)."""
    rng = np.random.default_rng(0)
    n_items = int(np.ceil(n_rows / (N_LFS * COVERAGE)))
    item_ids = np.char.add("i", np.arange(n_items).astype(str))
    fires = rng.random((n_items, N_LFS)) < COVERAGE
    rows, cols = np.nonzero(fires)
    rows, cols = rows[:n_rows], cols[:n_rows]
    labels = rng.integers(0, 3, size=len(rows))
    votes = pa.table(
        {
            "item": pa.array(item_ids[rows]),
            "lf": pa.array(np.char.add("lf_", cols.astype(str))),
            "label": pa.array(labels.astype(np.int16)),
            "confidence": pa.array(np.round(rng.random(len(rows)), 3)),
        }
    )
    files = data_files(directory)
    pq.write_table(votes, files["votes"])
    if csv:
        pa_csv.write_csv(votes, files["votes_csv"])
    pq.write_table(pa.table({"item": pa.array(item_ids)}), files["items"])
    files["lfs"].write_text("lf\n" + "".join(f"lf_{j}\n" for j in range(N_LFS)))
    files["tasks"].write_text(
        '[[task]]\nname = "bench"\n[[task.subtask]]\nname = "label"\nlabels = ["a", "b", "c"]\n'
    )
    return files


def prepare_store(db: Path, files: dict[str, Path]) -> None:
    """A store holding the task, items and LFs (run in a child: see main)."""
    from auditor.ingest.service import ingest_file, ingest_tasks_file
    from auditor.store import Store, apply_migrations

    db.unlink(missing_ok=True)
    store = Store(db, lock_timeout_s=60)
    with store.connect() as con:
        apply_migrations(con)
    ingest_tasks_file(store, files["tasks"])
    for kind in ("items", "lfs"):
        ingest_file(store, files[kind], kind=kind, task="bench", chunk_rows=1_000_000)


def run_child(method: str, source: Path, db: Path, memory_limit: str) -> tuple[float, float]:
    """(seconds, peak RSS in MiB) of one child process running method (its own VmHWM:
    see bench/_peak.py)."""
    code = CHILD["load_csv" if method == "load" and source.suffix == ".csv" else method]
    started = time.perf_counter()
    with tempfile.TemporaryFile() as log:
        child = subprocess.Popen(
            [sys.executable, "-c", code + SNIPPET, str(source), str(db), memory_limit],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        _, status, _usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        output = log.read().decode()
        if child.returncode != 0:
            raise RuntimeError(f"{method} failed:\n{output}")
    return seconds, peak_mib(output)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--csv", action="store_true", help="also ingest the same rows as CSV")
    parser.add_argument("--memory-limit", default="1GB", help="DuckDB memory_limit for labelwatch")
    parser.add_argument("--step", choices=["generate", "prepare"], help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step == "generate":
        make_data(args.dir, args.rows, csv=args.csv)
        return
    if args.step == "prepare":
        prepare_store(args.db, data_files(args.dir))
        return
    results = []
    with tempfile.TemporaryDirectory(prefix="lw-bench-") as tmp:
        directory = Path(tmp)
        clock = time.perf_counter()
        # Children do the heavy setup: a forked child's peak RSS starts at its parent's RSS,
        # so the parent must stay small for the measured children's figures to be their own.
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--step",
                "generate",
                "--dir",
                str(directory),
                "--rows",
                str(args.rows),
            ]
            + (["--csv"] if args.csv else []),
            check=True,
        )
        files = data_files(directory)
        print(
            f"generated {args.rows:,} votes in {time.perf_counter() - clock:.1f} s "
            f"(parquet {files['votes'].stat().st_size / 2**20:.0f} MiB)",
            flush=True,
        )
        sources = [files["votes"]] + ([files["votes_csv"]] if args.csv else [])
        base = run_child("baseline", files["votes"], directory / "unused.duckdb", "")[1]
        print(f"a child that only imports duckdb peaks at {base:.0f} MiB", flush=True)
        for source in sources:
            methods = (["scan"] if source.suffix == ".parquet" else []) + ["load", "labelwatch"]
            for method in methods:
                times, peaks = [], []
                for _ in range(args.repeat):
                    db = directory / f"{method}.duckdb"
                    if method == "labelwatch":
                        subprocess.run(
                            [
                                sys.executable,
                                __file__,
                                "--step",
                                "prepare",
                                "--dir",
                                str(directory),
                                "--db",
                                str(db),
                            ],
                            check=True,
                            cwd=ROOT,
                        )
                    else:
                        db.unlink(missing_ok=True)
                    seconds, peak = run_child(method, source, db, args.memory_limit)
                    times.append(seconds)
                    peaks.append(peak)
                results.append(
                    {
                        "source": source.suffix.lstrip("."),
                        "method": method,
                        "median_s": statistics.median(times),
                        "runs_s": times,
                        "peak_rss_mib": max(peaks),
                    }
                )
                print(json.dumps(results[-1]), flush=True)
    print_table(results, args.rows)
    print(f"labelwatch ran with DuckDB memory_limit={args.memory_limit} and the default chunk size")


def print_table(results: list[dict], n_rows: int) -> None:
    print(
        f"\n{n_rows:,} vote rows, {N_LFS} LFs, 3 classes; median of runs; "
        "ratio = time / duckdb load of the same file"
    )
    print(
        f"{'source':8s} {'method':12s} {'median s':>9s} {'rows/s':>12s} {'peak RSS MiB':>13s} "
        f"{'ratio':>6s}"
    )
    for row in results:
        base = next(
            r["median_s"] for r in results if r["source"] == row["source"] and r["method"] == "load"
        )
        peak = f"{row['peak_rss_mib']:.0f}"
        print(
            f"{row['source']:8s} {row['method']:12s} {row['median_s']:9.2f} "
            f"{n_rows / row['median_s']:12,.0f} {peak:>13s} {row['median_s'] / base:6.2f}"
        )


if __name__ == "__main__":
    main()
