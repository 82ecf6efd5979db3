"""The labelwatch command line: parse, call, print. The composition root of the service."""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path

from auditor import cli_output as out
from auditor.audit.submissions import SubmissionError
from auditor.cli_audit import add_audit_parser, cmd_audit
from auditor.cli_backup import cmd_backup, cmd_init_from_backup
from auditor.cli_budget import BudgetInputError, add_budget_parser, cmd_budget
from auditor.cli_common import emit, open_store
from auditor.cli_report import add_report_parser, cmd_report
from auditor.demo.workspace import DemoExistsError, build_demo
from auditor.heartbeat import liveness
from auditor.ingest import formats
from auditor.ingest.readers import UnreadableInputError
from auditor.ingest.service import FILE_KINDS, ingest_bundle, ingest_file, ingest_tasks_file
from auditor.ingest.task_definitions import TaskDefinitionError
from auditor.jobs import PIPELINE, registered_jobs
from auditor.jobs.runner import run_job
from auditor.logs import configure_logging
from auditor.rules.definitions import RulesError
from auditor.settings import Settings, SettingsError, load_settings
from auditor.store import LockTimeoutError, SchemaError, Store, apply_migrations
from auditor.store.alerts_io import list_alerts
from auditor.store.backup import BackupError
from auditor.store.loading import UnknownTaskError
from auditor.store.queries import quarantine_rows, read_status
from auditor.users import ROLES, UserError, load_users, make_user, save_users

USER_ERRORS = (
    RulesError,
    BudgetInputError,
    SubmissionError,
    UnreadableInputError,
    UnknownTaskError,
    TaskDefinitionError,
    SettingsError,
    DemoExistsError,
    SchemaError,
    UserError,
    LockTimeoutError,
    BackupError,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labelwatch", description=__doc__)
    parser.add_argument("--config", type=Path, help="TOML settings file")
    parser.add_argument("--db", type=Path, help="DuckDB file (default from settings)")
    sub = parser.add_subparsers(dest="command", required=True)

    init = sub.add_parser("init", help="create or migrate the database (idempotent)")
    init.add_argument("--from-backup", type=Path, metavar="PATH", help="restore a backup file")
    init.add_argument("--force", action="store_true", help="restore over a database with data")
    init.add_argument("--json", action="store_true")
    backup = sub.add_parser("backup", help="write a consistent copy of the database")
    backup.add_argument("path", type=Path, help="new file, or a folder (timestamped file in it)")
    backup.add_argument("--json", action="store_true")

    ingest = sub.add_parser("ingest", help="load data; bad rows are quarantined with reasons")
    kinds = ingest.add_subparsers(dest="kind", required=True)
    tasks = kinds.add_parser("tasks", help="task definitions (TOML): subtasks and label sets")
    tasks.add_argument("file", type=Path)
    tasks.add_argument("--json", action="store_true")
    for kind in FILE_KINDS:
        p = kinds.add_parser(kind, help=f"{kind} from CSV, Parquet or JSON lines")
        p.add_argument("file", type=Path)
        p.add_argument("--task", required=True)
        p.add_argument("--json", action="store_true")
        if kind == "votes":
            p.add_argument(
                "--register",
                action="store_true",
                help="create unknown items and labeling functions (and say so)",
            )
    wrench = kinds.add_parser("wrench", help="a WRENCH dataset folder")
    wrench.add_argument("directory", type=Path)
    wrench.add_argument("--task", required=True)
    matrix = kinds.add_parser("matrix", help="a Snorkel-style label matrix L.npy (-1 = abstain)")
    matrix.add_argument("file", type=Path)
    matrix.add_argument("--task", required=True)
    matrix.add_argument("--labels", type=Path, help="y.npy with true labels (-1 = unknown)")
    matrix.add_argument("--cardinality", type=int)
    crowd = kinds.add_parser("crowd", help="a crowdsourcing answer.csv (question, worker, answer)")
    crowd.add_argument("file", type=Path)
    crowd.add_argument("--truth", type=Path)
    crowd.add_argument("--task", help="task name (default: the file's folder name)")
    for p in (wrench, matrix, crowd):
        p.add_argument("--json", action="store_true")

    demo = sub.add_parser("demo", help="build the demo workspace")
    demo.add_argument("--items", type=int, default=20_000)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--force", action="store_true", help="delete and rebuild the database")
    demo.add_argument(
        "--if-missing", action="store_true", help="do nothing when the database already exists"
    )
    demo.add_argument("--json", action="store_true")

    run = sub.add_parser("run", help="run a job (or all, in pipeline order) once")
    run.add_argument("job", nargs="?", help="job name or 'all'; omit to list jobs")
    run.add_argument("--json", action="store_true")

    sub.add_parser("scheduler", help="run the jobs on their schedules until stopped")
    health = sub.add_parser("health", help="exit 0 while the scheduler heartbeat is fresh")
    health.add_argument("--json", action="store_true")
    dashboard = sub.add_parser("dashboard", help="start the Streamlit dashboard")
    dashboard.add_argument("--port", type=int)
    serve = sub.add_parser("serve", help="scheduler and dashboard together (Ctrl-C stops)")
    serve.add_argument("--port", type=int)

    export = sub.add_parser("export", help="export the latest fused labels")
    export.add_argument("what", choices=["labels"])
    export.add_argument("--format", choices=["parquet", "csv", "wrench"], default="parquet")
    export.add_argument("--out", type=Path, required=True, help="file (folder for wrench)")
    export.add_argument("--task")
    export.add_argument("--subtask")
    export.add_argument("--min-confidence", type=float, default=0.0)
    export.add_argument("--json", action="store_true")

    status = sub.add_parser("status", help="table counts, last runs, open alerts")
    status.add_argument("--json", action="store_true")
    quarantine = sub.add_parser("quarantine", help="rows ingestion refused, with reasons")
    quarantine.add_argument("--ingestion", type=int)
    quarantine.add_argument("--limit", type=int, default=50)
    quarantine.add_argument("--json", action="store_true")

    alerts = sub.add_parser("alerts", help="alerts the metrics job raised (newest first)")
    alerts.add_argument("--state", choices=["open", "acknowledged", "resolved"])
    alerts.add_argument("--limit", type=int, default=50)
    alerts.add_argument("--json", action="store_true")

    add_audit_parser(sub)
    add_report_parser(sub)
    add_budget_parser(sub)

    users = sub.add_parser("users", help="manage dashboard users")
    users_sub = users.add_subparsers(dest="action", required=True)
    add = users_sub.add_parser("add", help="add or reset a user (password read from stdin)")
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, required=True)
    users_sub.add_parser("list")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        overrides = {"db_path": args.db} if args.db else {}
        settings = load_settings(args.config, overrides=overrides)
        configure_logging(settings.log_format)
        return COMMANDS[args.command](args, settings)
    except USER_ERRORS as exc:
        print(f"labelwatch: error: {exc}", file=sys.stderr)
        return 2


def cmd_init(args: argparse.Namespace, settings: Settings) -> int:
    if args.from_backup is not None or args.force:
        return cmd_init_from_backup(args, settings)
    store = Store(settings.db_path, lock_timeout_s=settings.lock_timeout_s)
    with store.connect() as con:
        applied = apply_migrations(con)
        version = read_status(con).schema_version
    emit(
        args,
        {"db": str(settings.db_path), "applied": applied, "schema_version": version},
        f"{settings.db_path}: schema version {version}"
        + (f" (applied {applied})" if applied else " (up to date)"),
    )
    return 0


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings)
    if args.kind == "tasks":
        report = ingest_tasks_file(store, args.file)
        emit(args, asdict(report), out.tasks_report(args.file, report))
        return 0
    if args.kind in FILE_KINDS:
        ingest_report = ingest_file(
            store,
            args.file,
            kind=args.kind,
            task=args.task,
            chunk_rows=settings.ingest_chunk_rows,
            register=getattr(args, "register", False),
            currency=settings.currency,
        )
        emit(args, asdict(ingest_report), out.ingest_report(ingest_report, args.task))
        return 0
    if args.kind == "wrench":
        bundle = formats.read_wrench(args.directory, task=args.task)
    elif args.kind == "matrix":
        bundle = formats.read_matrix(
            args.file, task=args.task, labels_path=args.labels, cardinality=args.cardinality
        )
    else:
        bundle = formats.read_crowd(
            args.file, task=args.task or args.file.resolve().parent.name, truth_path=args.truth
        )
    result = ingest_bundle(store, bundle, chunk_rows=settings.ingest_chunk_rows)
    emit(
        args,
        asdict(result),
        "\n".join(
            [out.tasks_report(Path(bundle.task.name), result.tasks)]
            + [out.ingest_report(r, bundle.task.name) for r in result.reports]
        ),
    )
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    if args.if_missing and settings.db_path.exists():
        logins = settings.demo_dir / "LOGINS.txt"
        print(f"{settings.db_path} exists; keeping it (`labelwatch demo --force` rebuilds).")
        if logins.is_file():
            print(f"Demo logins are in {logins}:\n" + logins.read_text("utf-8"))
        return 0
    report = build_demo(settings, n_items=args.items, seed=args.seed, force=args.force)
    emit(args, asdict(report), out.demo_report(report, settings))
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    jobs = registered_jobs()
    if args.job is None:
        print(out.job_list(jobs, PIPELINE))
        return 0
    if args.job != "all" and args.job not in jobs:
        known = ", ".join(jobs) or "none yet"
        print(
            f"labelwatch: unknown job {args.job!r} (implemented: {known}; planned: "
            f"{', '.join(PIPELINE)})",
            file=sys.stderr,
        )
        return 2
    store = open_store(settings)
    selected = list(jobs.values()) if args.job == "all" else [jobs[args.job]]
    if not selected:
        print("No jobs are implemented yet; nothing to run. " + out.job_list(jobs, PIPELINE))
    results = []
    if not args.json:  # the progress lines say what the per-run log records would
        logging.getLogger("labelwatch.jobs").setLevel(logging.WARNING)
    live = not args.json and sys.stdout.isatty()  # a "running" line, overwritten when done
    for step, job in enumerate(selected, 1):
        if live:
            print(f"[{step}/{len(selected)}] {job.name} ...", end="\r", flush=True)
        result = run_job(store, settings, job)
        results.append(result)
        if not args.json:
            counts = (
                f"read {result.outcome.rows_read:,}, wrote {result.outcome.rows_written:,}"
                if result.outcome and result.status == "succeeded"
                else ""
            )
            print(
                f"[{step}/{len(selected)}] {result.job:14s} {result.status:9s} "
                f"{result.duration_s:7.2f} s  {counts}{result.error or ''}",
                flush=True,
            )
    if args.json:
        print(json.dumps([asdict(r) for r in results], default=str, indent=2))
    return 1 if any(r.status == "failed" for r in results) else 0


def cmd_scheduler(args: argparse.Namespace, settings: Settings) -> int:
    from auditor.scheduler import run_scheduler

    run_scheduler(open_store(settings), settings)
    return 0


def cmd_dashboard(args: argparse.Namespace, settings: Settings) -> int:
    import subprocess

    from auditor.service import dashboard_command

    open_store(settings)
    return subprocess.call(dashboard_command(settings, port=args.port))


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from auditor.service import serve

    open_store(settings)
    return serve(settings, port=args.port, config=args.config)


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from auditor.export import export_labels

    report = export_labels(
        open_store(settings),
        args.out,
        fmt=args.format,
        task=args.task,
        subtask=args.subtask,
        min_confidence=args.min_confidence,
    )
    emit(
        args,
        asdict(report),
        f"wrote {report.rows} labels ({report.auditor_rows} from "
        f"auditors) to {report.path} as {report.format}",
    )
    return 0


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.db_path.exists():
        print(f"{settings.db_path} does not exist yet: run `labelwatch init` or `labelwatch demo`.")
        return 0
    with open_store(settings, migrate=False).connect() as con:
        status = read_status(con)
    status = replace(status, scheduler=liveness(settings))
    emit(args, asdict(status), out.status_text(status, settings.db_path))
    return 0


def cmd_health(args: argparse.Namespace, settings: Settings) -> int:
    """Exit 0 while the scheduler's heartbeat is fresh (container health check), else 1."""
    state = liveness(settings)
    emit(
        args,
        state,
        f"scheduler {'alive' if state['alive'] else 'not alive'}: {state['state']}, "
        f"heartbeat age {state['age_s']:.0f} s (max {settings.heartbeat_max_age_s:.0f} s)",
    )
    return 0 if state["alive"] else 1


def cmd_quarantine(args: argparse.Namespace, settings: Settings) -> int:
    with open_store(settings).connect() as con:
        rows = quarantine_rows(con, ingestion_id=args.ingestion, limit=args.limit)
    emit(args, rows, out.quarantine_text(rows))
    return 0


def cmd_alerts(args: argparse.Namespace, settings: Settings) -> int:
    with open_store(settings).connect() as con:
        rows = list_alerts(con, state=args.state, limit=args.limit)
    emit(args, rows, out.alerts_text(rows))
    return 0


def cmd_users(args: argparse.Namespace, settings: Settings) -> int:
    users = load_users(settings.users_file)
    if args.action == "list":
        for user in users.values():
            print(f"{user.username}\t{user.role}")
        return 0
    password = sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else getpass.getpass()
    users[args.username] = make_user(args.username, args.role, password)
    save_users(settings.users_file, users)
    print(f"user {args.username} ({args.role}) saved to {settings.users_file}")
    return 0


COMMANDS = {
    "init": cmd_init,
    "backup": cmd_backup,
    "ingest": cmd_ingest,
    "demo": cmd_demo,
    "run": cmd_run,
    "scheduler": cmd_scheduler,
    "health": cmd_health,
    "dashboard": cmd_dashboard,
    "serve": cmd_serve,
    "status": cmd_status,
    "export": cmd_export,
    "quarantine": cmd_quarantine,
    "alerts": cmd_alerts,
    "audit": cmd_audit,
    "report": cmd_report,
    "budget": cmd_budget,
    "users": cmd_users,
}


if __name__ == "__main__":
    raise SystemExit(main())
