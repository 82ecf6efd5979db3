"""Benchmark: the metrics job on N items x 20 LFs over 30 daily windows.

Setup (not timed): a store with one task ("bench", subtask "label", 3 classes), N items
spread over 30 days with two JSON attributes, 20 LFs voting on ~40% of items each (one
LF's coverage collapses on day 22, a class-prior shift on day 25), 1% of items with gold,
written straight into the tables with DuckDB from Arrow; then the fuse job.

Measured, each run in its own child process (peak RSS = the child's own VmHWM, see bench/_peak.py):
- duckdb:     the floor: DuckDB's own GROUP BY of the votes joined to their items by
              window, LF and label (the counting the LF-health family needs)
- labelwatch: `run_metrics(full=True)`, every window and family, with the seconds per
              stage (read = SQL counting and reads, lf, agreement, calibration, drift
              including Evidently's import, write = metrics + alerts in one transaction)
Prints medians and the job's time as a ratio to the floor. Usage:
python bench/metrics_job.py [--items 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
from _peak import print_medians, run_child

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
N_LFS, K, DAYS, COVERAGE = 20, 3, 30, 0.4

CHILD = {
    "duckdb": """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
t = time.perf_counter()
con.execute(
    "SELECT (epoch_us(i.created_at) - ?) // ? AS w, v.lf_id, v.label, count(*) FROM votes v "
    "JOIN items i USING (item_id) GROUP BY ALL", [0, 86_400_000_000]).fetchall()
print(__import__("json").dumps({"seconds": time.perf_counter() - t}))
""",
    "labelwatch": """
import json, sys, time
from pathlib import Path
from auditor.jobs.metrics import run_metrics
from auditor.settings import load_settings
from auditor.store import Store
settings = load_settings(env={}, overrides={"db_path": Path(sys.argv[1])})
timings = {}
t = time.perf_counter()
outcome = run_metrics(Store(settings.db_path), settings, full=True, timings=timings)
seconds = time.perf_counter() - t
print(json.dumps({"seconds": seconds, "rows": outcome.rows_written, **timings}))
""",
}


def build(db: Path, n: int) -> None:
    from auditor.ingest.service import ingest_tasks_file
    from auditor.jobs.fuse import run_fuse
    from auditor.settings import load_settings
    from auditor.store import Store
    from auditor.store.migrations import apply_migrations

    store = Store(db)
    with store.connect() as con:
        apply_migrations(con)
    tasks = db.parent / "tasks.toml"
    tasks.write_text(
        '[[task]]\nname = "bench"\n\n[[task.subtask]]\nname = "label"\nlabels = ["a", "b", "c"]\n'
    )
    ingest_tasks_file(store, tasks)
    rng = np.random.default_rng(0)
    day = np.sort(rng.integers(0, DAYS, n))
    created = np.datetime64("2026-10-01") + (day * 86_400 + rng.integers(0, 86_400, n)).astype(
        "timedelta64[s]"
    )
    prior = np.where((day >= 25)[:, None], [0.3, 0.3, 0.4], [0.5, 0.3, 0.2])
    y = (rng.random(n)[:, None] > prior.cumsum(axis=1)).sum(axis=1)
    channel = np.array(["email", "chat", "phone"])[rng.integers(0, 3, n)]
    attributes = [
        json.dumps({"channel": c, "length": int(v)})
        for c, v in zip(channel, rng.integers(10, 400, n), strict=True)
    ]
    items = pa.table(
        {
            "item_id": np.arange(1, n + 1),
            "external_id": [f"i{i}" for i in range(n)],
            "created_at": created.astype("datetime64[us]"),
            "attributes": attributes,
        }
    )
    rows, lfs, labels = [], [], []
    for j in range(N_LFS):
        coverage = np.where((j == 0) & (day >= 22), COVERAGE * 0.05, COVERAGE)
        fires = np.flatnonzero(rng.random(n) < coverage)
        right = rng.random(fires.size) < rng.uniform(0.6, 0.9)
        vote = np.where(right, y[fires], (y[fires] + rng.integers(1, K, fires.size)) % K)
        rows.append(fires + 1)
        lfs.append(np.full(fires.size, j + 1))
        labels.append(vote)
    votes = pa.table(
        {
            "item_id": np.concatenate(rows),
            "lf_id": np.concatenate(lfs).astype(np.int32),
            "label": np.concatenate(labels).astype(np.int16),
        }
    )
    gold_items = np.flatnonzero(rng.random(n) < 0.01)
    gold = pa.table({"item_id": gold_items + 1, "label": y[gold_items].astype(np.int16)})
    with store.transaction() as con:
        con.register("bench_items", items)
        con.execute(
            "INSERT INTO items (item_id, task_id, external_id, created_at, attributes) "
            "SELECT item_id, 1, external_id, created_at, CAST(attributes AS JSON) FROM bench_items"
        )
        con.execute(
            "INSERT INTO labeling_functions (lf_id, task_id, subtask_id, name, created_at) "
            "SELECT i, 1, 1, 'lf_' || lpad(i::VARCHAR, 2, '0'), now() FROM range(1, ?) t(i)",
            [N_LFS + 1],
        )
        con.register("bench_votes", votes)
        con.execute(
            "INSERT INTO votes (item_id, lf_id, subtask_id, label, voted_at) "
            "SELECT item_id, lf_id, 1, label, now() FROM bench_votes"
        )
        con.register("bench_gold", gold)
        con.execute(
            "INSERT INTO gold_labels (item_id, subtask_id, label, source, submitted_at) "
            "SELECT item_id, 1, label, 'import', now() FROM bench_gold"
        )
    settings = load_settings(env={}, overrides={"db_path": db})
    clock = time.perf_counter()
    run_fuse(store, settings)
    fuse_s = time.perf_counter() - clock
    print(f"setup: {n:,} items, {votes.num_rows:,} votes; fuse job {fuse_s:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        build(db, args.items)
        results: dict[str, list[dict[str, float]]] = {"duckdb": [], "labelwatch": []}
        for _ in range(args.repeat):
            for method in results:
                results[method].append(run_child(CHILD[method], str(db), cwd=ROOT, name=method))
    print(f"\n{args.items:,} items x {N_LFS} LFs x {DAYS} daily windows; medians of {args.repeat}")
    print_medians(results, floor="duckdb")
    stages = ["read", "lf", "agreement", "calibration", "drift", "write"]
    print("\nlabelwatch seconds by stage (median):")
    for stage in stages:
        values = [r.get(stage, 0.0) for r in results["labelwatch"]]
        print(f"  {stage:<12}{statistics.median(values):>8.2f}")
    print(f"  metric rows written: {int(results['labelwatch'][0]['rows']):,}")


if __name__ == "__main__":
    main()
