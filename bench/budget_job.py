"""Benchmark: the budget job on N annotation events over 90 days, 40 annotators.

Setup (not timed): a store with one task ("bench", subtask "label"), 100k items, N events
(human labels, audits, reviews, LF development) with DECIMAL costs spread over 90 days,
a budget and three goals, written straight into the tables with DuckDB from Arrow.

Measured, each run in its own child process (peak RSS = the child's own VmHWM):
- duckdb:     the floor: DuckDB's own GROUP BY of the events by day, kind and annotator
              (exact DECIMAL sums of cost and seconds: the aggregation the job reports)
- labelwatch: `run_budget`: read, every measure per day and all time, forecast, goals,
              metric rows and alerts in one transaction
Prints medians, the ratio to the floor, and checks that the job's all-time spend equals
DuckDB's sum to the cent. Usage: python bench/budget_job.py [--events 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
from _peak import print_medians, run_child

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DAYS, ANNOTATORS, ITEMS = 90, 40, 100_000

CHILD = {
    "duckdb": """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
t = time.perf_counter()
con.execute(
    "SELECT CAST(occurred_at AS DATE), kind, annotator, sum(cost), sum(seconds), count(*) "
    "FROM annotation_events GROUP BY ALL").fetchall()
print(__import__("json").dumps({"seconds": time.perf_counter() - t}))
""",
    "labelwatch": """
import json, sys, time
from pathlib import Path
from auditor.jobs.budget import run_budget
from auditor.settings import load_settings
from auditor.store import Store
settings = load_settings(env={}, overrides={"db_path": Path(sys.argv[1])})
t = time.perf_counter()
outcome = run_budget(Store(settings.db_path), settings)
seconds = time.perf_counter() - t
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
job, exact = con.execute(
    "SELECT (SELECT details->>'amount' FROM metrics WHERE metric = 'cost.spend' AND key = 'all' "
    "AND scope = 'task' AND window_start IS NULL), "
    "(SELECT sum(cost)::VARCHAR FROM annotation_events)"
).fetchall()[0]
print(json.dumps({"seconds": seconds, "rows": outcome.rows_written, "reconciled": job == exact}))
""",
}


def build(db: Path, n: int) -> None:
    from auditor.ingest.service import ingest_tasks_file
    from auditor.store import Store
    from auditor.store.migrations import apply_migrations

    store = Store(db)
    with store.connect() as con:
        apply_migrations(con)
    tasks = db.parent / "tasks.toml"
    tasks.write_text(
        '[[task]]\nname = "bench"\n\n[[task.subtask]]\nname = "label"\nlabels = ["a", "b"]\n'
        'manual_cost_per_label = "0.40"\n'
    )
    ingest_tasks_file(store, tasks)
    rng = np.random.default_rng(0)
    kinds = np.array(["human_label", "audit", "review", "lf_development"])
    kind = kinds[rng.choice(4, n, p=[0.7, 0.15, 0.1, 0.05])]
    seconds = np.where(kind == "lf_development", 3600.0, rng.lognormal(np.log(40), 0.5, n))
    cost = np.round(seconds / 3600 * 30, 4)
    at = np.datetime64("2026-07-01") + np.sort(rng.integers(0, DAYS * 86_400, n)).astype(
        "timedelta64[s]"
    )
    events = pa.table(
        {
            "annotator": np.char.add("a", rng.integers(0, ANNOTATORS, n).astype(str)),
            "kind": kind,
            "item_id": rng.integers(1, ITEMS + 1, n),
            "seconds": seconds,
            "cost": [f"{c:.4f}" for c in cost],
            "occurred_at": at.astype("datetime64[us]"),
        }
    )
    items = pa.table(
        {
            "item_id": np.arange(1, ITEMS + 1),
            "external_id": [f"i{i}" for i in range(ITEMS)],
            "created_at": (
                np.datetime64("2026-07-01")
                + np.sort(rng.integers(0, DAYS * 86_400, ITEMS)).astype("timedelta64[s]")
            ).astype("datetime64[us]"),
        }
    )
    with store.transaction() as con:
        con.register("bench_items", items)
        con.execute(
            "INSERT INTO items (item_id, task_id, external_id, created_at) "
            "SELECT item_id, 1, external_id, created_at FROM bench_items"
        )
        con.register("bench_events", events)
        con.execute(
            "INSERT INTO annotation_events (task_id, annotator, item_id, subtask_id, kind, "
            "seconds, cost, currency, occurred_at) SELECT 1, annotator, CASE WHEN kind = "
            "'lf_development' THEN NULL ELSE item_id END, CASE WHEN kind = 'lf_development' "
            "THEN NULL ELSE 1 END, kind, seconds, CAST(cost AS DECIMAL(18, 4)), 'USD', "
            "occurred_at FROM bench_events"
        )
        total = float(con.execute("SELECT sum(cost) FROM annotation_events").fetchall()[0][0])
        con.execute(
            "INSERT INTO budgets (task_id, name, amount, currency, period_start, period_end, "
            "created_at) VALUES (1, 'q3', ?, 'USD', DATE '2026-07-01', DATE '2026-10-31', now())",
            [round(total * 1.1, 2)],
        )
        for kind_, target, params in [
            ("reduce_hours", 0.3, {"baseline_start": "2026-07-01", "baseline_end": "2026-07-14"}),
            ("max_cost_per_correct_label", 0.05, {}),
            ("accuracy_within_budget", 0.9, {}),
        ]:
            con.execute(
                "INSERT INTO goals (task_id, budget_id, kind, target, params, created_at) "
                "VALUES (1, 1, ?, ?, ?, now())",
                [kind_, target, json.dumps(params)],
            )
    print(f"setup: {n:,} events over {DAYS} days, {ANNOTATORS} annotators, {ITEMS:,} items")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        build(db, args.events)
        results: dict[str, list[dict[str, float]]] = {"duckdb": [], "labelwatch": []}
        for _ in range(args.repeat):
            for method in results:
                results[method].append(run_child(CHILD[method], str(db), cwd=ROOT, name=method))
    print(f"\n{args.events:,} events x {DAYS} days; medians of {args.repeat}")
    print_medians(results, floor="duckdb")
    job = results["labelwatch"]
    print(
        f"metric rows written: {int(job[0]['rows']):,}; all-time spend equals DuckDB's "
        f"sum to the cent in every run: {all(r['reconciled'] for r in job)}"
    )


if __name__ == "__main__":
    main()
