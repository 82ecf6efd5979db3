"""Benchmark: render time of every dashboard page on N items x 20 LFs x 30 days.

Setup (not timed): the metrics bench's workspace (bench/metrics_job.py `build`: one task
"bench", N items over 30 days, 20 LFs, 1% gold, then the fuse job), plus N/5 annotation
events over the same days, a budget and a goal; then the rules, metrics, budget and
audit-sample jobs through the job runner, two auditors' corrections for 80% of the sampled
queue, the metrics and budget jobs again and the alerts job: so the metrics tables (with
audit estimates), job runs, alerts and the audit queue hold what the pages show.

Measured, in this process through Streamlit's AppTest (the headless runner the page tests
use), signed in as admin (session_state["user"], as tests/dashboard/conftest.py does):
- baseline: a trivial script (a title and a line of text): the floor of one AppTest run
- each page in the router's navigation: switch to it and time `at.run()` (router, sidebar
  selectors and the page), cold = st.cache_data cleared before the run (a first visit, every
  loader queries DuckDB), warm = the same run again (loaders served from the cache)
Prints median and worst per page against the target of 1 s. A page whose file does not
exist yet is replaced by a placeholder (in a temporary copy of the app) and reported as not
measured. Usage: python bench/dashboard_pages.py [--items 1000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
from metrics_job import DAYS, build

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
APP = ROOT / "dashboard" / "streamlit_app.py"
TARGET_S = 1.0
BASELINE = 'import streamlit as st\nst.title("baseline")\nst.write("hello")\n'


def add_budget_data(db: Path, n_events: int) -> None:
    """Annotation events over the bench's 30 days, a budget covering them and a goal."""
    from auditor.store import Store
    from auditor.store.budgets import add_budget, add_goal

    rng = np.random.default_rng(1)
    n_items = _count(db, "items")
    kinds = np.array(["human_label", "audit", "review", "lf_development"])
    kind = kinds[rng.choice(4, n_events, p=[0.7, 0.15, 0.1, 0.05])]
    seconds = np.where(kind == "lf_development", 3600.0, rng.lognormal(np.log(40), 0.5, n_events))
    start = np.datetime64("2026-10-01")
    at = start + np.sort(rng.integers(0, DAYS * 86_400, n_events)).astype("timedelta64[s]")
    events = pa.table(
        {
            "annotator": np.char.add("a", rng.integers(0, 20, n_events).astype(str)),
            "kind": kind,
            "item_id": rng.integers(1, n_items + 1, n_events),
            "seconds": seconds,
            "cost": [f"{c:.4f}" for c in np.round(seconds / 3600 * 30, 4)],
            "occurred_at": at.astype("datetime64[us]"),
        }
    )
    with Store(db).transaction() as con:
        con.register("bench_events", events)
        con.execute(
            "INSERT INTO annotation_events (task_id, annotator, item_id, subtask_id, kind, "
            "seconds, cost, currency, occurred_at) SELECT 1, annotator, CASE WHEN kind = "
            "'lf_development' THEN NULL ELSE item_id END, CASE WHEN kind = 'lf_development' "
            "THEN NULL ELSE 1 END, kind, seconds, CAST(cost AS DECIMAL(18, 4)), 'USD', "
            "occurred_at FROM bench_events"
        )
        total = Decimal(
            str(con.execute("SELECT sum(cost) FROM annotation_events").fetchall()[0][0])
        )
        budget_id = add_budget(
            con,
            task="bench",
            name="q4",
            amount=(total * Decimal("1.5")).quantize(Decimal("0.01")),
            currency="USD",
            period_start=dt.date(2026, 10, 1),
            period_end=dt.date(2026, 12, 31),
            changed_by="bench",
        )
        add_goal(con, task="bench", kind="accuracy_within_budget", target=0.9, budget_id=budget_id)
    print(f"setup: {n_events:,} annotation events, budget q4 of {total * Decimal('1.5'):,.2f} USD")


def _count(db: Path, table: str) -> int:
    from auditor.store import Store

    queries = {"items": "SELECT count(*) FROM items", "metrics": "SELECT count(*) FROM metrics"}
    with Store(db).connect() as con:
        return int(con.execute(queries[table]).fetchall()[0][0])


def run_jobs(db: Path) -> None:
    """The pipeline after fuse; audits submitted for most of the sampled queue, then the
    metrics and budget jobs again so that the audit estimates and audit costs show."""
    from auditor.jobs import registered_jobs
    from auditor.jobs.runner import run_job
    from auditor.settings import load_settings
    from auditor.store import Store

    settings = load_settings(env={}, overrides={"db_path": db})
    store = Store(db)
    jobs = registered_jobs()
    for name in ("rules", "metrics", "budget", "audit-sample", "audits", "metrics", "budget"):
        clock = time.perf_counter()
        status = (
            submit_audits(store)
            if name == "audits"
            else run_job(store, settings, jobs[name]).status
        )
        print(f"setup: {name} {status} in {time.perf_counter() - clock:.1f} s")
    run_job(store, settings, jobs["alerts"])
    print(f"setup: {_count(db, 'metrics'):,} metric rows")


def submit_audits(store: object) -> str:
    """Two auditors label 80% of the open queue: the fused label 85% of the time."""
    from auditor.audit.submissions import Submission
    from auditor.store import Store
    from auditor.store.audit_io import submit_corrections

    assert isinstance(store, Store)
    labels = ["a", "b", "c"]
    with store.connect() as con:
        queue = con.execute(
            "SELECT i.external_id, q.fused_label FROM audit_queue q JOIN items i USING (item_id) "
            "WHERE q.state = 'open' ORDER BY q.item_id"
        ).fetchall()
        rng = np.random.default_rng(2)
        rows = [
            Submission(
                row=0,
                item=str(external_id),
                label=labels[fused if rng.random() < 0.85 else (fused + 1) % 3],
                auditor=f"auditor{index % 2}",
                seconds=float(rng.uniform(20, 90)),
                subtask="label",
                task="bench",
            )
            for index, (external_id, fused) in enumerate(queue)
            if rng.random() < 0.8
        ]
        report = submit_corrections(
            con, rows, now=dt.datetime(2026, 10, 31, 12), hourly_rate=30.0, currency="USD"
        )
    return f"{report.corrections} corrections of {len(queue)} queued"


def router_pages(app: Path) -> list[tuple[str, str]]:
    """(path, title) of every page the router lists for admin, read from its source."""
    tree = ast.parse(app.read_text())
    pages: list[tuple[str, str]] = []
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id in ("READ_PAGES", "AUDITOR_PAGES", "ADMIN_PAGES")
        ):
            pages += [(spec[0], spec[1]) for spec in ast.literal_eval(node.value)]
    return pages


def app_with_placeholders(tmp: Path, pages: list[tuple[str, str]]) -> tuple[Path, set[str]]:
    """The app itself, or a copy with a placeholder for each page file that is missing."""
    missing = {path for path, _ in pages if not (APP.parent / path).exists()}
    if not missing:
        return APP, missing
    copy = tmp / "dashboard"
    shutil.copytree(APP.parent, copy)
    for path in missing:
        (copy / path).write_text('import streamlit as st\nst.title("placeholder")\n')
    return copy / APP.name, missing


def time_run(at: object) -> float:
    clock = time.perf_counter()
    at.run()  # type: ignore[attr-defined]
    return time.perf_counter() - clock


def measure_page(app: Path, page: str | None, user: object, repeat: int) -> dict[str, object]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    cold: list[float] = []
    warm: list[float] = []
    errors: list[str] = []
    titles: set[str] = set()
    for _ in range(repeat):
        at = AppTest.from_file(str(app), default_timeout=120)
        if user is not None:
            at.session_state["user"] = user
        at.run()  # not timed: AppTest's own first-run set-up, and the default page
        if page is not None:
            at.switch_page(page)
        st.cache_data.clear()
        cold.append(time_run(at))
        warm.append(time_run(at))
        errors += [str(e.value)[:200] for e in at.exception]
        titles |= {t.value for t in at.title}
    return {"cold": cold, "warm": warm, "errors": errors, "titles": sorted(titles)}


def quiet_streamlit() -> None:
    """No "missing ScriptRunContext" / "No runtime found" warning per cache clear and
    AppTest outside a server: Streamlit resets its loggers' levels, so disable them all."""
    import logging

    logging.disable(logging.WARNING)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from auditor.users import make_user, save_users

    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        db = tmp / "bench.duckdb"
        clock = time.perf_counter()
        build(db, args.items)
        add_budget_data(db, max(args.items // 5, 1000))
        run_jobs(db)
        print(f"setup: {time.perf_counter() - clock:.0f} s in all")
        # the bench signs in by session state; the password is random and never used
        admin = make_user("admin", "admin", secrets.token_urlsafe(16))
        save_users(tmp / "users.toml", {"admin": admin})
        os.environ["LABELWATCH_DB_PATH"] = str(db)
        os.environ["LABELWATCH_USERS_FILE"] = str(tmp / "users.toml")
        pages = router_pages(APP)
        app, missing = app_with_placeholders(tmp, pages)
        baseline_script = tmp / "baseline.py"
        baseline_script.write_text(BASELINE)
        quiet_streamlit()
        rows = [
            ("floor: trivial script", measure_page(baseline_script, None, None, args.repeat)),
            ("floor: Sign in (router)", measure_page(app, None, None, args.repeat)),
        ]
        for path, title in pages:
            if path not in missing:
                rows.append((title, measure_page(app, path, admin, args.repeat)))
    print(
        f"\n{args.items:,} items x 20 LFs x {DAYS} days; AppTest run as admin, {args.repeat} "
        f"runs per page; target {TARGET_S:.0f} s"
    )
    print(
        f"{'page':<28}{'cold med':>9}{'cold max':>9}{'warm med':>9}{'warm max':>9}"
        f"{'x floor':>8}  verdict"
    )
    floor = statistics.median(rows[0][1]["cold"])  # type: ignore[arg-type]
    for title, result in rows:
        cold, warm = result["cold"], result["warm"]
        assert isinstance(cold, list) and isinstance(warm, list)
        worst = max(cold)
        verdict = (
            "error: " + result["errors"][0]
            if result["errors"]
            # type: ignore[index]
            else ("ok" if worst < TARGET_S else "over target")
        )
        print(
            f"{title:<28}{statistics.median(cold):>9.3f}{worst:>9.3f}"
            f"{statistics.median(warm):>9.3f}{max(warm):>9.3f}"
            f"{statistics.median(cold) / floor:>8.1f}  {verdict}"
        )
        print(f"{'':<28}titles shown: {', '.join(result['titles']) or '-'}")  # type: ignore[arg-type]
    for path in sorted(missing):
        print(f"not measured (no {path} yet)")


if __name__ == "__main__":
    main()
